package personalize

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// jsonStringSeeds are strings at every edge of JSON's string escaping.
var jsonStringSeeds = []string{"", "plain", `"quoted" \back\slash`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x01\x1f\x7f",
	"café €", "\u2028\u2029", "\xff", "a\xc3", "\xed\xa0\x80", "\U0001F600", "/path?x=1&y=2"}

// FuzzAppendJSONString: appendJSONString writes what json.Marshal writes for a string.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendJSONString([]byte("x"), s))[1:], "%q", s)
	})
}

// FuzzAppendBase: an event without guest and ext is appended as json.Marshal encodes it.
func FuzzAppendBase(f *testing.F) {
	for _, s := range jsonStringSeeds {
		f.Add("VIEW", s, "/p", s, int64(1767225600123456789))
	}
	f.Add("VIEW", "", "/", "", int64(0))
	f.Fuzz(func(t *testing.T, typ, page, pos, referrer string, nanos int64) {
		at := time.Unix(0, nanos).In(time.FixedZone("x", 3600))
		b := eventBody{Type: typ, BrowserID: "a38b230c-11eb-4cf9-8d5d-274e9f344925", ClientKey: "key", Channel: "WEB",
			Language: "EN", Currency: "EUR", Page: page, PointOfSale: pos, Referrer: referrer}
		got := string(b.appendBase(nil, at))
		b.RequestedAt = eventTime(at)
		want, err := json.Marshal(&b)
		require.NoError(t, err)
		require.Equal(t, string(want), got)
	})
}
