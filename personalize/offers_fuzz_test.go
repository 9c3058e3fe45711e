package personalize

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// offersOfTree reads the offers of an answer as they were read before answers were
// scanned, from the tree encoding/json makes (decodeTreeStd), one map per offer. Where several
// keys equal without regard to case hold arrays, the smallest (in byte order) is tried first,
// as offersIn does (the maps they came from had no order).
func offersOfTree(v any) []map[string]any {
	switch v := v.(type) {
	case []any:
		return objectsOf(v)
	case map[string]any:
		if isErrorObject(v) {
			return nil
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range v {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range containerKeys {
			for _, key := range keys {
				if arr, ok := v[key].([]any); ok && strings.EqualFold(key, k) {
					if offers := objectsOf(arr); len(offers) > 0 {
						return offers
					}
				}
			}
		}
		for _, key := range keys {
			if arr, ok := v[key].([]any); ok {
				if offers := objectsOf(arr); len(offers) > 0 {
					return offers
				}
			}
		}
		if len(v) > 0 {
			return []map[string]any{v}
		}
	}
	return nil
}

func objectsOf(arr []any) []map[string]any {
	var offers []map[string]any
	for _, el := range arr {
		if m, ok := el.(map[string]any); ok && len(m) > 0 {
			if len(offers) == maxOffers {
				break
			}
			offers = append(offers, m)
		}
	}
	return offers
}

// emptyTree is Result.Empty of a tree.
func emptyTree(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case string:
		return v == ""
	}
	return false
}

// requireSameOffers fails when the offers read from raw (checkAnswer, offersIn) differ from
// the offers of encoding/json's tree: their number, fields, well-known fields and what Get and
// Text return for each key, as sent and in upper case.
func requireSameOffers(t *testing.T, raw []byte) {
	t.Helper()
	tree, wantErr := decodeTreeStd(raw)
	a, err := checkAnswer(raw)
	if wantErr != nil {
		require.Error(t, err, "input %q", raw)
		require.Equal(t, wantErr.Error(), err.Error(), "input %q", raw)
		require.Empty(t, (&Result{Raw: raw}).Offers(), "input %q", raw)
		return
	}
	require.NoError(t, err, "input %q", raw)
	m, isObject := tree.(map[string]any)
	require.Equal(t, isObject && isErrorObject(m), a.errorObject, "error object; input %q", raw)
	require.Equal(t, emptyTree(tree), a.empty, "empty; input %q", raw)
	require.Equal(t, emptyTree(tree), (&Result{Raw: raw}).Empty(), "input %q", raw)

	want := offersOfTree(tree)
	got := offersIn(a)
	require.Equal(t, len(want), len(got), "offers; input %q", raw)
	for i, fields := range want {
		o, ref := got[i], NewOffer(fields)
		if !reflect.DeepEqual(fields, o.Fields()) {
			t.Fatalf("input %q, offer %d: fields %#v, want %#v", raw, i, o.Fields(), fields)
		}
		require.Equal(t, ref.known, o.known, "well-known fields; input %q, offer %d", raw, i)
		for k := range fields {
			for _, key := range []string{k, strings.ToUpper(k), strings.ToLower(k), k + "x"} {
				wantV, wantOK := ref.Get(key)
				gotV, gotOK := o.Get(key)
				require.Equal(t, wantOK, gotOK, "Get(%q); input %q", key, raw)
				if !wantOK {
					// A key the offer does not have (NewOffer's Get answers fields[""] then).
					require.Nil(t, gotV, "Get(%q); input %q", key, raw)
					require.Empty(t, o.Text(key), "Text(%q); input %q", key, raw)
					continue
				}
				if !reflect.DeepEqual(wantV, gotV) {
					t.Fatalf("input %q, offer %d: Get(%q) = %#v, want %#v", raw, i, key, gotV, wantV)
				}
				require.Equal(t, ref.Text(key), o.Text(key), "Text(%q); input %q", key, raw)
			}
		}
	}
	// A result of the client's (checked) and one made of the bytes alone read the same.
	require.Equal(t, got, (&Result{Raw: raw}).Offers(), "input %q", raw)
	require.Equal(t, got, (&Result{Raw: raw, tree: a}).Offers(), "input %q", raw)
}

// offerSeeds are answers of every shape offers are read from, with the edges of their keys
// and values: duplicates (the last wins), keys in other cases, escapes, scalars of every kind.
var offerSeeds = []string{
	`[{"name":"a"},{"name":"b","trackingUrl":"https://t/1"}]`,
	`{"offers":[{"name":"a"}],"items":[{"name":"i"}]}`, `{"Offers":[{"name":"A"}],"offers":[{"name":"a"}]}`,
	`{"OFFERS":[1],"data":[{"name":"d"}]}`, `{"zzz":[{"name":"z"}],"aaa":[{}],"m":{"x":1}}`,
	`{"name":"Solo","trackingUrl":"https://t/1"}`, `{"status":500,"message":"boom"}`, `{"status":"404","code":1}`,
	`{"status":399,"message":"x"}`, `{"status":500}`, `{"st\u0061tus":500,"message":"x"}`, `{"status":500,"status":200,"message":"x"}`,
	`{"status":"\u0035\u0030\u0030","developerMessage":null}`, `{"status":5e2,"message":"x"}`, `{"status":-500,"message":"x"}`,
	`{"status":true,"message":"x"}`, `[{"status":500,"message":"not the top"}]`,
	`[{"name":"first","name":"last"}]`, `[{"name":"kept","name":""}]`, `[{"Name":"b","name":"a","NAME":"c"}]`,
	`[{"name":"","title":"t"}]`, `[{"title":"t","name":"n"}]`, `[{"n\u0061me":"escaped key"}]`,
	`[{"name":"esc \" \\ \n \u00e9 \ud83d\ude00"}]`, "[{\"name\":\"bad \xff utf8\"}]",
	`[{"name":12.50},{"name":true},{"name":false},{"name":null},{"name":[1]},{"name":{"a":1}}]`,
	`[{"description":"d","desc":"x","text":"t","body":"b"}]`, `[{"imageURLForTesting":"t.png","imageUrl":"real.png"}]`,
	`[{"url":"/u","link":"/l","href":"/h"},{"destination":"/d","destinationUrl":"/du"}]`,
	`[{"trackingurlfortesting":"a","TRACKING_URL":"b"}]`, `[{"x":1},{},[],{"name":"after"}]`,
	`[[{"name":"too deep"}]]`, `{}`, `[]`, `null`, `""`, `"offer"`, `0`, `true`, `[1,2]`, ` [ { "name" : "spaced" } ] `,
	`{"offers":[],"items":[{}],"zz":[{"name":"z"}]}`, `{"a":{"b":[{"name":"nested"}]}}`,
	`{"data":[{"name":"x"}],"Data":[{"name":"y"}]}`, `[{"":"","name":"k"}]`,
	`[{"name":"a"}] x`, `{"name":`, `not json`, `[1e400]`,
	`[{"a":"price","b":{"price":"nested"},"c":["price"],"price":"real"}]`, `[{"b":{"name":"nested"}}]`,
	`[{"na\u006de":"escaped","x":1},{"NAME":"b","Name":"a","NAME":"c"}]`, `[{"\"name\"":"quoted","name":"plain"}]`,
}

func TestOffersMatchTheTreeOfEncodingJSON(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	require.NoError(t, err)
	for _, s := range append(slices.Clone(offerSeeds), string(seed), strings.Repeat(`[{"name":"x"},`, 150)+`{}`+strings.Repeat("]", 150)) {
		requireSameOffers(t, []byte(s))
	}
	many := "[" + strings.Repeat(`{"name":"x"},`, 150) + `{"name":"last"}]`
	requireSameOffers(t, []byte(many))
	require.Len(t, (&Result{Raw: []byte(many)}).Offers(), maxOffers)
}

// FuzzOffers: the offers read from an answer are the offers of the tree encoding/json decodes
// it to (offersOfTree), field for field; the answer is refused exactly when encoding/json
// refuses it.
func FuzzOffers(f *testing.F) {
	for _, s := range offerSeeds {
		f.Add([]byte(s))
	}
	for _, s := range treeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		requireSameOffers(t, raw)
	})
}
