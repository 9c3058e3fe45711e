package middleware

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionSavedWhenChangedOrDue(t *testing.T) {
	// A 30 s visit is refreshed at most once a second.
	s := newSite(t, Options{VisitTimeout: 30 * time.Second})
	v := newVisitor(t)
	saved := func(path string) bool {
		t.Helper()
		resp, _ := v.get(s.ts.URL + path)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return len(setCookies(t, resp, DefaultSessionName)) == 1
	}
	assert.True(t, saved("/flow?utm_campaign=a"), "a new visit")
	assert.False(t, saved("/flow"), "unchanged and just saved")
	assert.False(t, saved("/flow?utm_campaign=a"), "the same campaign again")
	assert.True(t, saved("/flow?utm_campaign=b"), "a new campaign")
	time.Sleep(1100 * time.Millisecond)
	assert.True(t, saved("/flow"), "due for a refresh of the visit's expiry")
	_, rep := v.get(s.ts.URL + "/flow")
	assert.Equal(t, map[string]string{"campaign": "b"}, rep.Campaign.UTM)
}

func TestLandingReferrer(t *testing.T) {
	tests := []struct {
		name    string
		referer string
		want    string
	}{
		{name: "other site", referer: "https://news.example.org/a?b=c", want: "https://news.example.org/a?b=c"},
		{name: "same site", referer: "http://shop.example.com/cart", want: ""},
		{name: "same site other case", referer: "http://SHOP.example.com/cart", want: ""},
		{name: "not http", referer: "android-app://com.google.android.gm/", want: ""},
		{name: "relative", referer: "/cart", want: ""},
		{name: "garbage", referer: "http://%zz", want: ""},
		{name: "too long", referer: "https://a.example/" + string(make([]byte, 2000)), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, "http://shop.example.com/", nil)
			require.NoError(t, err)
			r.Header.Set("Referer", tt.referer)
			assert.Equal(t, tt.want, landingReferrer(r))
		})
	}
}

func TestStringCodec(t *testing.T) {
	var c stringCodec
	in := map[any]any{"utm": "utm_campaign=a%26b&utm_source=x", "landing_referrer": "https://e.example/?q=1&r=2", "saved": "1700000000", "": "empty key"}
	b, err := c.Serialize(in)
	require.NoError(t, err)
	var out map[any]any
	require.NoError(t, c.Deserialize(b, &out))
	assert.Equal(t, in, out)

	tests := []struct {
		name string
		src  any
	}{
		{name: "not a map", src: "x"},
		{name: "int key", src: map[any]any{1: "x"}},
		{name: "int value", src: map[any]any{"x": 1}},
	}
	for _, tt := range tests {
		t.Run("serialize "+tt.name, func(t *testing.T) {
			_, err := c.Serialize(tt.src)
			assert.Error(t, err)
		})
	}
	for _, bad := range []string{"novalue", "a=%zz", "%zz=a"} {
		t.Run("deserialize "+bad, func(t *testing.T) {
			var out map[any]any
			assert.Error(t, c.Deserialize([]byte(bad), &out))
		})
	}
	var wrong map[string]string
	assert.Error(t, c.Deserialize([]byte("a=b"), &wrong))
}

func FuzzStringCodec(f *testing.F) {
	f.Add("utm=utm_campaign%3Dsummer&saved=1700000000")
	f.Add("a=b&a=c&&=")
	f.Fuzz(func(t *testing.T, src string) {
		var c stringCodec
		var out map[any]any
		if err := c.Deserialize([]byte(src), &out); err != nil {
			return
		}
		if len(out) > maxSessionValues {
			t.Fatalf("%d values", len(out))
		}
		b, err := c.Serialize(out)
		if err != nil {
			t.Fatal(err)
		}
		var again map[any]any
		if err := c.Deserialize(b, &again); err != nil || !assert.ObjectsAreEqual(out, again) {
			t.Fatalf("round trip: %v %v != %v", err, out, again)
		}
	})
}
