package middleware

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionSavedWhenChangedOrDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A 30 s visit is refreshed at most once a second.
		s := newSite(t, Options{VisitTimeout: 30 * time.Second})
		v := newVisitor(t)
		saved := func(path string) bool {
			t.Helper()
			resp, _ := v.get(s.h, path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			return len(setCookies(t, resp, DefaultSessionName)) == 1
		}
		assert.True(t, saved("/flow?utm_campaign=a"), "a new visit")
		assert.False(t, saved("/flow"), "unchanged and just saved")
		assert.False(t, saved("/flow?utm_campaign=a"), "the same campaign again")
		assert.True(t, saved("/flow?utm_campaign=b"), "a new campaign")
		time.Sleep(time.Second - time.Nanosecond)
		assert.False(t, saved("/flow"), "not due yet, just before a second")
		time.Sleep(time.Nanosecond)
		assert.True(t, saved("/flow"), "due for a refresh of the visit's expiry")
		assert.False(t, saved("/flow"), "and just refreshed")
		_, rep := v.get(s.h, "/flow")
		assert.Equal(t, map[string]string{"campaign": "b"}, rep.Campaign.UTM)
	})
}

// With the default 30 minute visit, an unchanged session is saved again once a minute: the
// visit slides without a cookie being encrypted and signed on every page.
func TestSessionRefreshedOnceAMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		v := newVisitor(t)
		start := time.Now()
		var saves []time.Duration
		for i := range 60 * 5 { // a page every second for 5 minutes, the first from a campaign
			path := "/flow"
			if i == 0 {
				path += "?utm_campaign=summer_sale"
			}
			resp, rep := v.get(s.h, path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			if sc := setCookies(t, resp, DefaultSessionName); len(sc) == 1 {
				saves = append(saves, time.Since(start))
				assert.Equal(t, int(DefaultVisitTimeout/time.Second), sc[0].MaxAge)
			}
			assert.Empty(t, rep.Errors)
			time.Sleep(time.Second)
		}
		assert.Equal(t, []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute}, saves,
			"the new visit, then once a minute")
	})
}

// A visit ends after VisitTimeout without a personalized request, and each personalized
// request (saving the session at most once a 30th of the timeout) pushes the end back.
func TestVisitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 10 * time.Minute
		s := newSite(t, Options{VisitTimeout: timeout})
		v := newVisitor(t)
		v.header = http.Header{"Referer": {"https://news.example.org/"}}
		resp, _ := v.get(s.h, "/flow?utm_campaign=summer_sale")
		landing := setCookies(t, resp, DefaultSessionName)
		require.Len(t, landing, 1)
		v.header = http.Header{}
		campaign := func() Campaign {
			t.Helper()
			_, rep := v.get(s.h, "/flow")
			return rep.Campaign
		}

		// The visit slides: a page just before each timeout keeps it going.
		for i := range 3 {
			time.Sleep(timeout - time.Second)
			c := campaign()
			assert.Equal(t, map[string]string{"campaign": "summer_sale"}, c.UTM, "page %d", i)
			assert.Equal(t, "https://news.example.org/", c.LandingReferrer, "page %d", i)
		}

		// A whole timeout without a page: the browser forgets the cookie, and a new visit starts.
		time.Sleep(timeout)
		assert.Equal(t, Campaign{}, campaign(), "the visit ended")

		// A stale cookie sent again (a browser that kept it) is not accepted either: the store
		// checks the cookie's own timestamp.
		req := httptest.NewRequest(http.MethodGet, siteURL+"/flow", nil)
		req.Header.Set("User-Agent", browserUA)
		req.AddCookie(&http.Cookie{Name: DefaultSessionName, Value: landing[0].Value})
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		var rep pageReport
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep))
		assert.Empty(t, rep.Campaign.UTM, "a cookie older than the timeout starts a new visit")
		assert.Contains(t, s.logs.String(), "session not decoded")
	})
}

// A session that cannot be decoded starts a new visit, and the request's campaign is kept in
// the new session: the next page still has it.
func TestUndecodableSessionIsReplaced(t *testing.T) {
	ours := securecookie.New(testKeys[0], testKeys[1]).SetSerializer(stringCodec{})
	valid, err := ours.Encode(DefaultSessionName, map[any]any{"utm": "utm_campaign=old"})
	require.NoError(t, err)
	foreign, err := securecookie.New(bytes.Repeat([]byte("o"), 64), nil).Encode(DefaultSessionName, map[any]any{"utm": "utm_campaign=old"})
	require.NoError(t, err)
	tests := []struct{ name, cookie string }{
		{name: "garbage", cookie: "garbage!!"},
		{name: "tampered", cookie: valid[:len(valid)-2] + "xx"},
		{name: "other keys", cookie: foreign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, Options{})
				v := newVisitor(t)
				v.setCookie(DefaultSessionName, tt.cookie)
				v.header = http.Header{"Referer": {"https://mail.example.org/"}}
				resp, rep := v.get(s.h, "/flow?utm_campaign=spring&utm_source=mail")
				require.Equal(t, http.StatusOK, resp.StatusCode)
				want := map[string]string{"campaign": "spring", "source": "mail"}
				assert.Equal(t, want, rep.Campaign.UTM)
				sc := setCookies(t, resp, DefaultSessionName)
				require.Len(t, sc, 1, "a new session replaces the one that could not be read")
				assert.NotEqual(t, tt.cookie, sc[0].Value)

				v.header = http.Header{}
				_, next := v.get(s.h, "/flow")
				assert.Equal(t, want, next.Campaign.UTM, "the new session holds the request's campaign")
				assert.Equal(t, "https://mail.example.org/", next.Campaign.LandingReferrer, "and it is a new visit")
				cs := calls(s)
				require.Len(t, cs, 2)
				for i, c := range cs {
					assert.Equal(t, "spring", utmOf(t, c)["campaign"], "call %d", i)
				}
				assert.Contains(t, s.logs.String(), "session not decoded")
			})
		})
	}
}

// SessionKeys are pairs of an authentication key and an encryption key: the first pair makes
// new cookies, every pair reads old ones, and a key is only ever used in its own role.
func TestSessionKeyRotation(t *testing.T) {
	var (
		auth1 = bytes.Repeat([]byte("A"), 64)
		enc1  = bytes.Repeat([]byte("e"), 32)
		auth2 = bytes.Repeat([]byte("B"), 32) // 32 bytes, so it could be (mis)used as an AES key
		enc2  = bytes.Repeat([]byte("f"), 32)
	)
	keys := [][]byte{auth1, enc1, auth2, enc2}
	codec := func(hash, block []byte) *securecookie.SecureCookie {
		return securecookie.New(hash, block).SetSerializer(stringCodec{})
	}
	tests := []struct {
		name        string
		hash, block []byte
		read        bool
	}{
		{name: "the new pair", hash: auth1, block: enc1, read: true},
		{name: "the old pair", hash: auth2, block: enc2, read: true},
		{name: "encrypted with an authentication key", hash: auth1, block: auth2},
		{name: "encrypted with its own authentication key", hash: auth2, block: auth2},
		{name: "signed with an encryption key", hash: enc1, block: enc2},
		{name: "signed with the other encryption key", hash: enc2, block: enc1},
		{name: "keys of two pairs", hash: auth2, block: enc1},
		{name: "not encrypted", hash: auth1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, Options{SessionKeys: keys})
				cookie, err := codec(tt.hash, tt.block).Encode(DefaultSessionName, map[any]any{
					"utm": "utm_campaign=rotated", "saved": strconv.FormatInt(time.Now().Unix(), 10),
				})
				require.NoError(t, err)
				v := newVisitor(t)
				v.setCookie(DefaultSessionName, cookie)
				resp, rep := v.get(s.h, "/flow")
				require.Equal(t, http.StatusOK, resp.StatusCode)
				sc := setCookies(t, resp, DefaultSessionName)
				if tt.read {
					assert.Equal(t, map[string]string{"campaign": "rotated"}, rep.Campaign.UTM, "the cookie is read")
					assert.Empty(t, sc, "and still fresh: not saved again")
				} else {
					assert.Empty(t, rep.Campaign.UTM, "the cookie is not read")
					require.Len(t, sc, 1, "a new visit")
				}

				// New cookies are made with the first pair only.
				_, rep = v.get(s.h, "/flow?utm_campaign=new")
				require.Equal(t, map[string]string{"campaign": "new"}, rep.Campaign.UTM)
				var newest *http.Cookie
				for _, c := range v.jar.Cookies(must(url.Parse(siteURL))) {
					if c.Name == DefaultSessionName {
						newest = c
					}
				}
				require.NotNil(t, newest)
				var values map[any]any
				assert.NoError(t, codec(auth1, enc1).Decode(DefaultSessionName, newest.Value, &values))
				assert.Equal(t, "utm_campaign=new", values["utm"])
				assert.Error(t, codec(auth2, enc2).Decode(DefaultSessionName, newest.Value, &values))
			})
		})
	}
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
		{name: "at the length cap", referer: longReferrer(maxReferrerBytes), want: longReferrer(maxReferrerBytes)},
		{name: "a byte over the cap", referer: longReferrer(maxReferrerBytes + 1), want: ""},
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

// longReferrer is a referrer from another site, n bytes long.
func longReferrer(n int) string {
	const prefix = "https://news.example.org/?q="
	return prefix + strings.Repeat("r", n-len(prefix))
}

// The landing referrer kept in the session: up to maxReferrerBytes, read back on the next
// page; longer is not kept.
func TestLandingReferrerLengthInTheSession(t *testing.T) {
	for _, tt := range []struct {
		name    string
		referer string
		want    string
	}{
		{name: "at the cap", referer: longReferrer(maxReferrerBytes), want: longReferrer(maxReferrerBytes)},
		{name: "over the cap", referer: longReferrer(maxReferrerBytes + 1), want: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, Options{})
				v := newVisitor(t)
				v.header = http.Header{"Referer": {tt.referer}}
				_, rep := v.get(s.h, "/flow?utm_campaign=x")
				assert.Equal(t, tt.want, rep.Campaign.LandingReferrer, "the landing page")
				v.header = http.Header{"Referer": {siteURL + "/flow"}}
				_, rep = v.get(s.h, "/flow")
				assert.Equal(t, tt.want, rep.Campaign.LandingReferrer, "the next page, from the session")
			})
		})
	}
}

// A referrer longer than the cap that is already in a session (another store, an older
// version) is not handed out.
func TestStoredReferrerOverTheCapIsIgnored(t *testing.T) {
	ours := securecookie.New(testKeys[0], testKeys[1]).SetSerializer(stringCodec{})
	for _, tt := range []struct {
		name   string
		stored string
		want   string
	}{
		{name: "at the cap", stored: longReferrer(maxReferrerBytes), want: longReferrer(maxReferrerBytes)},
		{name: "over the cap", stored: longReferrer(maxReferrerBytes + 1), want: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, Options{})
				cookie, err := ours.Encode(DefaultSessionName, map[any]any{
					"utm": "utm_campaign=x", sessionReferrer: tt.stored, "saved": strconv.FormatInt(time.Now().Unix(), 10),
				})
				require.NoError(t, err)
				v := newVisitor(t)
				v.setCookie(DefaultSessionName, cookie)
				_, rep := v.get(s.h, "/flow")
				assert.Equal(t, map[string]string{"campaign": "x"}, rep.Campaign.UTM, "the session is read")
				assert.Equal(t, tt.want, rep.Campaign.LandingReferrer)
			})
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

// countingCodec is the default store's codec, counting its calls.
type countingCodec struct {
	stringCodec
	serialized, deserialized *atomic.Int64
}

func (c countingCodec) Serialize(src any) ([]byte, error) {
	c.serialized.Add(1)
	return c.stringCodec.Serialize(src)
}

func (c countingCodec) Deserialize(src []byte, dst any) error {
	c.deserialized.Add(1)
	return c.stringCodec.Deserialize(src, dst)
}

// countCodec makes the site's default session store count its codec's calls.
func countCodec(t *testing.T, s *site) (serialized, deserialized *atomic.Int64) {
	t.Helper()
	serialized, deserialized = new(atomic.Int64), new(atomic.Int64)
	cs, ok := s.mw.cfg.store.(*sessions.CookieStore)
	require.True(t, ok, "the default store")
	for _, codec := range cs.Codecs {
		codec.(*securecookie.SecureCookie).SetSerializer(countingCodec{serialized: serialized, deserialized: deserialized})
	}
	return serialized, deserialized
}

// TestNoSessionForAVisitWithNothingToKeep: a personalized page of a visit with no campaign and
// no referrer from another site gets no session cookie, and its session is neither encoded
// nor decoded; a landing from a campaign gets one, and a session cookie that holds nothing to
// keep is deleted.
func TestNoSessionForAVisitWithNothingToKeep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		serialized, deserialized := countCodec(t, s)
		v := newVisitor(t)
		v.header = http.Header{"Referer": {siteURL + "/offers"}} // the site's own page
		for _, path := range []string{"/flow", "/flow?x=1", "/static"} {
			resp, rep := v.get(s.h, path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Empty(t, setCookies(t, resp, DefaultSessionName), path)
			assert.Equal(t, Campaign{}, rep.Campaign, path)
		}
		require.Len(t, calls(s), 2, "the flows were called")
		assert.Zero(t, serialized.Load(), "no session encoded")
		assert.Zero(t, deserialized.Load(), "no session decoded")

		resp, rep := v.get(s.h, "/flow?utm_campaign=summer_sale")
		require.Len(t, setCookies(t, resp, DefaultSessionName), 1, "a landing from a campaign")
		assert.Equal(t, map[string]string{"campaign": "summer_sale"}, rep.Campaign.UTM)
		assert.EqualValues(t, 1, serialized.Load())
		_, rep = v.get(s.h, "/flow")
		assert.Equal(t, map[string]string{"campaign": "summer_sale"}, rep.Campaign.UTM, "the next page has it")
		assert.EqualValues(t, 1, deserialized.Load())

		// A referrer from another site is kept too, without a campaign.
		other := newVisitor(t)
		other.header = http.Header{"Referer": {"https://news.example.org/"}}
		resp, rep = other.get(s.h, "/flow")
		require.Len(t, setCookies(t, resp, DefaultSessionName), 1, "a landing from another site")
		assert.Equal(t, "https://news.example.org/", rep.Campaign.LandingReferrer)
	})
}

// TestSessionCookieWithNothingToKeepIsDeleted: a session cookie that decodes to nothing to
// keep (an empty session an older version saved) or cannot be decoded, on a page without a
// campaign, is deleted rather than saved again.
func TestSessionCookieWithNothingToKeepIsDeleted(t *testing.T) {
	empty, err := securecookie.New(testKeys[0], testKeys[1]).SetSerializer(stringCodec{}).
		Encode(DefaultSessionName, map[any]any{sessionSaved: "1"})
	require.NoError(t, err)
	for name, cookie := range map[string]string{"empty": empty, "garbage": "garbage!!"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, Options{})
				v := newVisitor(t)
				v.setCookie(DefaultSessionName, cookie)
				resp, _ := v.get(s.h, "/flow")
				sc := setCookies(t, resp, DefaultSessionName)
				require.Len(t, sc, 1)
				assert.Negative(t, sc[0].MaxAge, "deleted")
				resp, _ = v.get(s.h, "/flow")
				assert.Empty(t, setCookies(t, resp, DefaultSessionName), "and gone")
			})
		})
	}
}
