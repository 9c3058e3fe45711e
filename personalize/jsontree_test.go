package personalize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeTreeStd is decodeTree as encoding/json does it, the referee treeParser must match
// value for value and error for error: the tree its Decoder makes with UseNumber, from
// exactly what its Unmarshal accepts into an any (one value, JSON whitespace around it, no
// number beyond float64's range). Nothing is trimmed first: a body is what it is.
func decodeTreeStd(raw []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty body", ErrMalformedResponse)
		}
		return nil, fmt.Errorf("%w: body is not JSON: %s", ErrMalformedResponse, excerpt(raw))
	}
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, fmt.Errorf("%w: body is not one JSON value: %s", ErrMalformedResponse, excerpt(raw))
	}
	if json.Unmarshal(raw, new(any)) != nil { // a number beyond float64's range
		return nil, fmt.Errorf("%w: body is not JSON: %s", ErrMalformedResponse, excerpt(raw))
	}
	if decodedCost(v) > maxDecodedBytes {
		return nil, fmt.Errorf("%w: the answer decodes to more than %d bytes", ErrResponseTooLarge, maxDecodedBytes)
	}
	return v, nil
}

// decodedCost is the memory estimate of maxDecodedBytes, for a tree encoding/json made.
func decodedCost(v any) int {
	switch v := v.(type) {
	case map[string]any:
		n := containerCost
		for k, e := range v {
			n += elementCost + len(k) + decodedCost(e)
		}
		return n
	case []any:
		n := containerCost
		for _, e := range v {
			n += elementCost + decodedCost(e)
		}
		return n
	case string:
		return len(v)
	case json.Number:
		return len(v)
	}
	return 0
}

// requireSameTree fails when decodeTree and encoding/json disagree on raw.
func requireSameTree(t *testing.T, raw []byte) {
	t.Helper()
	want, wantErr := decodeTreeStd(raw)
	got, gotErr := decodeTree(raw)
	if wantErr != nil || gotErr != nil {
		require.Error(t, gotErr, "encoding/json: %v; input %q", wantErr, raw)
		require.Error(t, wantErr, "decodeTree: %v; input %q", gotErr, raw)
		require.Equal(t, wantErr.Error(), gotErr.Error(), "input %q", raw)
		return
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("input %q: encoding/json %#v, decodeTree %#v", raw, want, got)
	}
}

// treeSeeds are inputs at every edge of JSON's grammar and of encoding/json's decoding.
var treeSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1`, `-1.5e+10`, `1E5`, `1e-5`, `0.0`, `123456789012345678901234567890`,
	`1e999`, `true`, `false`, `null`, ` {"a" : [1 , 2,{"b":null}] } `, "\t\n\r[1]\r\n",
	`{"a":1,"a":2}`, `{"A":1,"a":2}`, `[[[[[]]]]]`, `{"":""}`,
	`"plain"`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u0041\u00e9\u20ac"`, `"\ud83d\ude00"`,
	`"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"\u0000"`,
	"\"caf\xc3\xa9\"", "\"bad \xff utf8\"", "\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\"", "\"tr\xc3\"",
	"\"\x7f\"", `"\uDEAD"`, `"\uD83D\uDE00"`,
	// Invalid.
	``, ` `, `{`, `}`, `[`, `]`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{'a':1}`,
	`[1 2]`, `{"a":1 "b":2}`, `01`, `-`, `--1`, `+1`, `.5`, `1.`, `1.e5`, `1e`, `1e+`, `0x10`,
	`tru`, `truex`, `nul`, `nulll`, `True`, `NaN`, `Infinity`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`,
	`"\'"`, "\"a\nb\"", "\"\x00\"", `{} {}`, `1 2`, `[1]]`, `{}x`, `1x`, "\xef\xbb\xbf{}",
	"{}\u00a0", "\u00a0[]", "{}\u00a0x", `[1,2]x`, `"a"b`, `{"a":1}}`, `[`, `[1,`, `{"a":`, `{"a"`,
	`[1e]`, `[-]`, `[01]`, `[1.]`, `["a"1]`, `{"a":1,"b"}`, `{,}`, `[,]`, `[,1]`,
	// Whitespace that is not JSON's, and numbers beyond float64's range (issue 13).
	"\v{}", "{}\v", "\f[]", "[]\f", "\u0085{}", "{}\u0085", "\u00a0\u00a0", "[1,\v2]",
	`1e400`, `-1e400`, `[1e309]`, `{"a":1E+400}`, `1e-400`, `1e308`, `1e700A`, `[1e400] x`, `[1e400,]`, strings.Repeat("9", 400), "0." + strings.Repeat("9", 400),
}

func TestDecodeTreeMatchesEncodingJSON(t *testing.T) {
	for _, s := range treeSeeds {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			requireSameTree(t, []byte(s))
		})
	}
}

func TestDecodeTreeDepth(t *testing.T) {
	for _, tt := range []struct {
		name  string
		depth int
	}{{"at the limit", maxTreeDepth}, {"over the limit", maxTreeDepth + 1}} {
		t.Run(tt.name, func(t *testing.T) {
			arrays := strings.Repeat("[", tt.depth) + strings.Repeat("]", tt.depth)
			requireSameTree(t, []byte(arrays))
			objects := strings.Repeat(`{"a":`, tt.depth) + "1" + strings.Repeat("}", tt.depth)
			requireSameTree(t, []byte(objects))
		})
	}
}

func TestDecodeTreeDepthIsRestoredAfterEmptyContainers(t *testing.T) {
	siblings := "[" + strings.Repeat("{},[],", maxTreeDepth) + "{}]"
	v, err := decodeTree([]byte(siblings))
	require.NoError(t, err, "10,000 empty siblings are one level deep, not 10,000")
	assert.Len(t, v, 2*maxTreeDepth+1)
	requireSameTree(t, []byte(siblings))
}

// An answer under the size cap may still decode to far more memory than its size (tens of
// thousands of small offers): it is refused.
func TestDecodeTreeBoundsTheMemoryAnAnswerTakes(t *testing.T) {
	offers := "[" + strings.Repeat(`{"name":"x","n":1},`, 30000) + `{"name":"x"}]`
	require.Less(t, len(offers), 1<<20, "under the default size cap")
	_, err := decodeTree([]byte(offers))
	require.ErrorIs(t, err, ErrResponseTooLarge)
	assert.Contains(t, err.Error(), "decodes to more than")
	requireSameTree(t, []byte(offers))

	big := `{"text":"` + strings.Repeat("a", 1<<20) + `"}`
	_, err = decodeTree([]byte(big))
	assert.NoError(t, err, "one long string is its own size")
}

func TestDecodeTreeKeepsStringsAndNumbers(t *testing.T) {
	v, err := decodeTree([]byte(`{"flag":"false","n":1.50,"big":12345678901234567890}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"flag": "false", "n": json.Number("1.50"), "big": json.Number("12345678901234567890")}, v)
}

// stringSpecials are what a string's scan stops at: escapes, control characters, multi-byte
// and invalid UTF-8, DEL (not a control character in JSON), the closing quote.
var stringSpecials = []string{
	`\"`, `\\`, `\/`, `\n`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\x`, `\`, "\x00", "\x01", "\n", "\x1f", "\x7f",
	" ", "~", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80",
	"\xef\xbf\xbd", "\xc0\xaf", "\xf4\x90\x80\x80", `"`,
}

// stringsAtEveryAlignment are strings holding each of stringSpecials after 0 to 17 plain
// bytes and before 0 to 9 others, so that it falls at every position of a word the scan
// reads at a time and at the end of the input, with or without a closing quote.
func stringsAtEveryAlignment() []string {
	var out []string
	for _, sp := range stringSpecials {
		for before := 0; before <= 17; before++ {
			for after := 0; after <= 9; after++ {
				s := `"` + strings.Repeat("a", before) + sp + strings.Repeat("b", after)
				out = append(out, s+`"`, s)
			}
		}
	}
	// A second one after the first, once the string is being decoded.
	for _, sp := range stringSpecials {
		for _, sp2 := range []string{`\t`, "\x01", "\xff", "\xc3\xa9", "\xe2\x82"} {
			for between := 0; between <= 9; between++ {
				out = append(out, `"`+sp+strings.Repeat("d", between)+sp2+`e"`)
			}
		}
	}
	for n := 0; n <= 17; n++ {
		out = append(out, `"`+strings.Repeat("c", n)+`"`, `"`+strings.Repeat("c", n))
	}
	return out
}

// Strings decode as encoding/json decodes them wherever their escapes, control characters
// and UTF-8 fall, as values, as keys and as an offer's fields.
func TestDecodeTreeStringsAtEveryAlignment(t *testing.T) {
	for _, s := range stringsAtEveryAlignment() {
		requireSameTree(t, []byte(s))
		requireSameTree(t, []byte(`[`+s+`]`))
		requireSameTree(t, []byte(`{`+s+`:1}`))
		requireSameTree(t, []byte(`{"k":`+s+`}`))
		requireSameOffers(t, []byte(`[{"name":`+s+`,`+s+`:`+s+`}]`))
		requireSameOffers(t, []byte(`{"x":1,"offers":[{"nAme":2,`+s+`:true}]}`))
	}
}

// FuzzDecodeTree: decodeTree accepts exactly what encoding/json's Decoder accepts, and
// yields the same tree.
func FuzzDecodeTree(f *testing.F) {
	for _, s := range treeSeeds {
		f.Add([]byte(s))
	}
	for _, sp := range stringSpecials {
		f.Add([]byte(`["` + strings.Repeat("a", 5) + sp + `bc"]`))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		requireSameTree(t, raw)
	})
}

// BenchmarkDecodeTree decodes Sitecore's documented 4-offer answer with decodeTree and with
// encoding/json's Decoder, as decodeTree did before.
func BenchmarkDecodeTree(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	require.NoError(b, err)
	for _, impl := range []struct {
		name   string
		decode func([]byte) (any, error)
	}{{"parser", decodeTree}, {"encoding-json", decodeTreeStd}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := impl.decode(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// specialBytes finds the first byte a string's scan stops at, whatever byte it is and
// wherever it falls in the word, with any bytes after it.
func TestSpecialBytesFindsTheFirstByteToStopAt(t *testing.T) {
	stops := func(c byte) bool { return c == '"' || c == '\\' || c < ' ' || c >= utf8.RuneSelf }
	for c := range 256 {
		for pos := range 8 {
			for _, after := range []byte{'a', 0, '"', 0xff} {
				w := []byte("abcdefgh")
				w[pos] = byte(c)
				for j := pos + 1; j < 8; j++ {
					w[j] = after
				}
				m := specialBytes(load64(string(w), 0))
				first := 8
				for j, b := range w {
					if stops(b) {
						first = j
						break
					}
				}
				if m == 0 {
					require.Equal(t, 8, first, "%q", w)
				} else {
					require.Equal(t, first, bits.TrailingZeros64(m)/8, "%q", w)
				}
			}
		}
	}
}
