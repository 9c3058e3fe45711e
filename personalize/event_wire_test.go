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

// FuzzAppendEventTime: appendEventTime writes what eventTime formats, whatever the instant.
func FuzzAppendEventTime(f *testing.F) {
	for _, n := range []int64{0, 1767225600123456789, -1, 253402300799999999999 / 1000, -62135596800000000000 / 1000} {
		f.Add(n, 0)
	}
	f.Add(int64(1767225600123456789), 3600)
	f.Add(int64(-1767225600123456789), -7200)
	f.Fuzz(func(t *testing.T, nanos int64, offset int) {
		at := time.Unix(0, nanos).In(time.FixedZone("x", offset%86400))
		require.Equal(t, eventTime(at), string(appendEventTime(nil, at)))
		far := time.Unix(nanos/1000, 0) // seconds, so years beyond 9999 and before 0 come too
		require.Equal(t, eventTime(far), string(appendEventTime(nil, far)))
	})
}

// A returning visitor's VIEW costs one allocation, its payload: the client's language is
// upper-cased once, at New, not per event (strings.ToUpper of "en" allocated on every page).
func TestEncodeViewAllocatesOnlyItsPayload(t *testing.T) {
	for _, tc := range []struct {
		opts []Option
		want string
	}{{nil, "EN"}, {[]Option{WithLanguage("de")}, "DE"}} {
		c, err := New("abBah8aelipaPeebae7roox2tiexoSee", append(tc.opts, WithPointOfSale("site/ie"))...)
		require.NoError(t, err)
		ev := Event{Type: EventView, BrowserID: "a38b230c-11eb-4cf9-8d5d-274e9f344925", Page: "/products"}
		var raw []byte
		allocs := testing.AllocsPerRun(100, func() {
			e := ev
			raw, err = c.encodeEvent(&e, time.Now())
		})
		require.NoError(t, err)
		require.Contains(t, string(raw), `"language":"`+tc.want+`"`)
		require.Equal(t, 1.0, allocs)
	}
}
