package middleware

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestParseUTM(t *testing.T) {
	many := make([]string, 0, 30)
	for i := range 30 {
		many = append(many, "utm_k"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+"=v")
	}
	tests := []struct {
		name  string
		query string
		want  map[string]string
	}{
		{name: "empty", query: "", want: nil},
		{name: "no utm", query: "page=2&sort=asc", want: nil},
		{name: "basic", query: "utm_campaign=summer_sale&utm_source=newsletter&page=2",
			want: map[string]string{"campaign": "summer_sale", "source": "newsletter"}},
		{name: "names without regard to case", query: "UTM_Campaign=spring%20sale&Utm_MEDIUM=email",
			want: map[string]string{"campaign": "spring sale", "medium": "email"}},
		{name: "plus is a space", query: "utm_campaign=spring+sale", want: map[string]string{"campaign": "spring sale"}},
		{name: "decoded exactly once", query: "utm_campaign=a%2526b", want: map[string]string{"campaign": "a%26b"}},
		{name: "escaped name", query: "%75tm_campaign=x", want: map[string]string{"campaign": "x"}},
		{name: "malformed escape dropped", query: "utm_campaign=50%&utm_source=ok", want: map[string]string{"source": "ok"}},
		{name: "malformed escape in name dropped", query: "utm_%zz=1", want: nil},
		{name: "invalid utf-8 dropped", query: "utm_campaign=%ff%fe&utm_term=caf%C3%A9", want: map[string]string{"term": "café"}},
		{name: "control characters dropped", query: "utm_campaign=a%0Ab&utm_source=a%00&utm_medium=%7F", want: nil},
		{name: "empty values dropped", query: "utm_campaign=&utm_source&utm_medium=%20%20", want: nil},
		{name: "bare prefix dropped", query: "utm_=x&utm=y", want: nil},
		{name: "odd names dropped", query: "utm_a%20b=1&utm_%3Cscript%3E=2&utm_ok.name-1=3", want: map[string]string{"ok.name-1": "3"}},
		{name: "first of repeated names wins", query: "utm_source=a&UTM_SOURCE=b", want: map[string]string{"source": "a"}},
		{name: "semicolon is part of the value", query: "utm_source=a;b", want: map[string]string{"source": "a;b"}},
		{name: "html kept as text", query: "utm_content=%3Cscript%3Ealert(1)%3C%2Fscript%3E", want: map[string]string{"content": "<script>alert(1)</script>"}},
		{name: "trimmed", query: "utm_source=%20x%20", want: map[string]string{"source": "x"}},
		{name: "value capped at 256 bytes", query: "utm_source=" + strings.Repeat("a", 1000),
			want: map[string]string{"source": strings.Repeat("a", MaxUTMValueBytes)}},
		{name: "cap keeps whole characters", query: "utm_source=" + "a" + strings.Repeat("%C3%A9", 200),
			want: map[string]string{"source": "a" + strings.Repeat("é", 127)}},
		{name: "value at the cap kept whole", query: "utm_source=" + strings.Repeat("a", MaxUTMValueBytes),
			want: map[string]string{"source": strings.Repeat("a", MaxUTMValueBytes)}},
		{name: "value of whole characters at the cap kept whole", query: "utm_source=" + strings.Repeat("%C3%A9", MaxUTMValueBytes/2),
			want: map[string]string{"source": strings.Repeat("é", MaxUTMValueBytes/2)}},
		{name: "value a byte over the cap cut", query: "utm_source=" + strings.Repeat("a", MaxUTMValueBytes+1),
			want: map[string]string{"source": strings.Repeat("a", MaxUTMValueBytes)}},
		{name: "value a byte over the cap cut before a character", query: "utm_source=" + "a" + strings.Repeat("%C3%A9", MaxUTMValueBytes/2),
			want: map[string]string{"source": "a" + strings.Repeat("é", MaxUTMValueBytes/2-1)}},
		{name: "value cut inside a 4-byte character", query: "utm_source=" + strings.Repeat("a", MaxUTMValueBytes-2) + "%F0%9F%98%80",
			want: map[string]string{"source": strings.Repeat("a", MaxUTMValueBytes-2)}},
		{name: "name of 64 bytes kept", query: "utm_" + strings.Repeat("n", 64) + "=x", want: map[string]string{strings.Repeat("n", 64): "x"}},
		{name: "name capped", query: "utm_" + strings.Repeat("n", 65) + "=x", want: nil},
		{name: "name of 65 bytes dropped, others kept", query: "utm_" + strings.Repeat("n", 65) + "=x&utm_source=y", want: map[string]string{"source": "y"}},
		{name: "20 keys kept", query: strings.Join(many[:MaxUTMKeys], "&"), want: firstKeys(MaxUTMKeys)},
		{name: "the 21st key dropped", query: strings.Join(many[:MaxUTMKeys+1], "&"), want: firstKeys(MaxUTMKeys)},
		{name: "at most 20 keys", query: strings.Join(many, "&"), want: func() map[string]string {
			m := map[string]string{}
			for i := range 20 {
				m["k"+string(rune('a'+i))] = "v"
			}
			return m
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, parseUTM(tt.query))
		})
	}
}

// firstKeys is what parseUTM keeps of TestParseUTM's many keys: the first n, ka, kb, ... all
// "v".
func firstKeys(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m["k"+string(rune('a'+i))] = "v"
	}
	return m
}

func TestEncodeUTMRoundTrip(t *testing.T) {
	m := map[string]string{"campaign": "a&b=c%d é", "source": "news+letter", "x.y-z": "1"}
	enc := encodeUTM(m)
	assert.Equal(t, m, parseUTM(enc))
	assert.Empty(t, encodeUTM(nil))
}

func TestParseUTMAllocatesNothingWithoutUTM(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = parseUTM("page=2&sort=asc&q=%E2%9C%93&utm=1")
	})
	assert.Zero(t, allocs)
}

func FuzzParseUTM(f *testing.F) {
	for _, seed := range []string{
		"", "utm_campaign=summer_sale&utm_source=newsletter", "UTM_Campaign=a%2526b", "utm_x=%ff",
		"utm_a=%", "%75tm_b=1", "utm_c=" + strings.Repeat("é", 200), "utm_=1&&&==&utm_d",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		m := parseUTM(query)
		if len(m) > MaxUTMKeys {
			t.Fatalf("%d keys", len(m))
		}
		for k, v := range m {
			if !validUTMName(k) || k != strings.ToLower(k) {
				t.Fatalf("bad name %q", k)
			}
			if v == "" || len(v) > MaxUTMValueBytes || !utf8.ValidString(v) || strings.TrimSpace(v) != v {
				t.Fatalf("bad value %q", v)
			}
			for i := 0; i < len(v); i++ {
				if v[i] < 0x20 || v[i] == 0x7f {
					t.Fatalf("control character in %q", v)
				}
			}
		}
		// What the session keeps reads back the same.
		if back := parseUTM(encodeUTM(m)); len(m) > 0 && !assert.ObjectsAreEqual(m, back) {
			t.Fatalf("round trip: %v != %v", m, back)
		}
	})
}
