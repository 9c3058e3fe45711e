package personalizeredis

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/go-personalize/sdk/personalize"
)

func TestEntryEncoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		e       personalize.CachedDecision
		expires int64
	}{
		{"typical", decision("home_page_banner"), 1_767_225_660_123},
		{"zero Stored, empty body", personalize.CachedDecision{FriendlyID: "f", StatusCode: 200}, 1},
		{"empty friendly ID", personalize.CachedDecision{StatusCode: 999, Raw: []byte("{}"), Stored: time.UnixMilli(-1)}, -5},
		{"extremes", personalize.CachedDecision{FriendlyID: string(make([]byte, 300)), StatusCode: 100, Raw: []byte{0, 0xff}, Stored: time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)}, math.MinInt64},
		{"year 1", personalize.CachedDecision{StatusCode: 200, Stored: time.Date(1, 1, 1, 0, 0, 0, 1e6, time.UTC)}, math.MaxInt64},
	} {
		b := encodeEntry(nil, tc.e, tc.expires)
		if len(b) != encodedSize(tc.e, tc.expires) {
			t.Errorf("%s: encodedSize %d, encoded %d bytes", tc.name, encodedSize(tc.e, tc.expires), len(b))
		}
		got, ok := decodeEntry(b)
		if !ok || got.expires != tc.expires || !sameDecision(got.decision, tc.e) || got.decision.Stored.IsZero() != tc.e.Stored.IsZero() {
			t.Errorf("%s: decoded %+v, %v; want %+v expiring at %d", tc.name, got, ok, tc.e, tc.expires)
		}
	}

	// The layout, byte for byte: a change of it needs a new version.
	e := personalize.CachedDecision{FriendlyID: "ab", StatusCode: 200, Raw: []byte(`{}`), Stored: time.UnixMilli(1)}
	want := []byte{entryVersion, 2, 4, 0x90, 0x03, 2, 'a', 'b', '{', '}'}
	if got := encodeEntry(nil, e, 2); !bytes.Equal(got, want) {
		t.Errorf("encoding: % x, want % x", got, want)
	}
}

func TestDecodeEntryRefuses(t *testing.T) {
	t.Parallel()
	good := encodeEntry(nil, decision("home_page_banner"), 1_767_225_660_123)
	for name, b := range map[string][]byte{
		"nil":            nil,
		"version 0":      append([]byte{0}, good[1:]...),
		"version 2":      append([]byte{2}, good[1:]...),
		"version only":   {entryVersion},
		"cut in stored":  {entryVersion, 0x80},
		"no status":      good[:1+6+6],
		"status 0":       {entryVersion, 0, 0, 0, 0},
		"status 1000":    {entryVersion, 0, 0, 0xd0, 0x0f, 0},
		"negative":       {entryVersion, 0, 0, 0x8f, 0x03, 0}, // -200
		"id too long":    {entryVersion, 0, 0, 0x90, 0x03, 3, 'a', 'b'},
		"id length huge": {entryVersion, 0, 0, 0x90, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"overflow":       {entryVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"year 10000":     encodeEntry(nil, personalize.CachedDecision{StatusCode: 200, Stored: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, 0),
		"before year 1":  encodeEntry(nil, personalize.CachedDecision{StatusCode: 200, Stored: time.Time{}.Add(-time.Millisecond)}, 0),
	} {
		if e, ok := decodeEntry(b); ok {
			t.Errorf("%s: decoded % x as %+v", name, b, e)
		}
	}
}

// FuzzDecodeEntry: any stored value decodes or is refused, never a panic; what decodes
// encodes back to a value that decodes the same.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(nil, decision("home_page_banner"), 1_767_225_660_123))
	f.Add(encodeEntry(nil, personalize.CachedDecision{StatusCode: 204}, 0))
	f.Add([]byte{entryVersion, 0x80})
	f.Add([]byte(`{"title":"Summer sale"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := decodeEntry(b)
		if !ok {
			return
		}
		if e.decision.StatusCode < 100 || e.decision.StatusCode > 999 || len(e.decision.FriendlyID)+len(e.decision.Raw) >= len(b) {
			t.Fatalf("decoded % x as %+v", b, e)
		}
		again, ok := decodeEntry(encodeEntry(nil, e.decision, e.expires))
		if !ok || again.expires != e.expires || !sameDecision(again.decision, e.decision) {
			t.Fatalf("% x: decoded %+v, re-encoded and decoded %+v, %v", b, e, again, ok)
		}
	})
}

// FuzzEntryRoundTrip: whatever the store is given comes back the same.
func FuzzEntryRoundTrip(f *testing.F) {
	f.Add("home_page_banner", 200, []byte(`{"title":"Summer sale"}`), int64(1_767_225_600_123), int64(1_767_225_660_123))
	f.Add("", 999, []byte{}, minStored, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, id string, status int, raw []byte, stored, expires int64) {
		if status < 100 || status > 999 || stored < minStored || stored > maxStored {
			return // refused by the decoder: not an HTTP status, a time beyond years 1 to 9999
		}
		e := personalize.CachedDecision{FriendlyID: id, StatusCode: status, Raw: raw, Stored: time.UnixMilli(stored)}
		b := encodeEntry(nil, e, expires)
		if len(b) != encodedSize(e, expires) {
			t.Fatalf("encodedSize %d, encoded %d", encodedSize(e, expires), len(b))
		}
		got, ok := decodeEntry(b)
		if !ok || got.expires != expires || !sameDecision(got.decision, e) {
			t.Fatalf("%+v expiring at %d: decoded %+v, %v", e, expires, got, ok)
		}
	})
}
