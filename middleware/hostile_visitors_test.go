package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
)

// A long User-Agent costs the server nothing: it is not run through the crawler detection's
// regular expressions (13 ms at 4 KB, 250 ms at 60 KB), it is taken for a script, and the
// API never sees it. (BenchmarkLongUserAgent shows the cost.)
func TestALongUserAgentIsAScriptAndNotInspected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		for _, n := range []int{maxInspectedAgent + 1, 9 << 10, 60 << 10} {
			ua := browserUA + strings.Repeat(" x", (n-len(browserUA))/2+1)
			req := httptest.NewRequest(http.MethodGet, "/flow", nil)
			req.Header.Set("User-Agent", ua)
			rec := httptest.NewRecorder()
			s.h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Empty(t, setCookies(t, rec.Result(), bidName(t)), "%d bytes: treated as a script, no browser", n)
		}
		assert.Zero(t, s.sb.CallCount(""), "no flow was called for them")
		_, cached := s.mw.crawlers.m[browserUA+" x"]
		assert.False(t, cached, "and none went through the detector")

		// An agent at the bound is a browser's, inspected as usual.
		ua := browserUA + strings.Repeat("x", maxInspectedAgent-len(browserUA))
		req := httptest.NewRequest(http.MethodGet, "/flow", nil)
		req.Header.Set("User-Agent", ua)
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		assert.Len(t, setCookies(t, rec.Result(), bidName(t)), 1, "a %d-byte agent is personalized", len(ua))
	})
}

// BenchmarkLongUserAgent: what a request with a 60 KB User-Agent costs the middleware, beside
// one with a browser's.
func BenchmarkLongUserAgent(b *testing.B) {
	for _, bc := range []struct {
		name string
		ua   string
	}{{"browser", browserUA}, {"60KB", browserUA + strings.Repeat(" x", 30<<10)}} {
		b.Run(bc.name, func(b *testing.B) {
			m := &Middleware{cfg: config{}}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("User-Agent", bc.ua)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				m.crawlers.m = nil // every request a new agent: the cache helps no attacker
				_ = m.isBot(req)
			}
		})
	}
}

// A response that sets a visitor's cookie is that visitor's alone, whether or not a flow ran:
// shared caches must not store it (Cache-Control private or no-store, and Vary: Cookie).
func TestEveryResponseWithAVisitorsCookieIsPrivate(t *testing.T) {
	for _, tt := range []struct {
		name    string
		path    string
		handler http.HandlerFunc
	}{
		{"an event only (a browser ID is created)", "/", func(w http.ResponseWriter, r *http.Request) {
			_ = personalize.Track(r.Context(), "ADD_TO_CART", nil)
			_, _ = io.WriteString(w, "page")
		}},
		{"a landing with UTM on a page without flows (the session)", "/?utm_campaign=summer_sale", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "page")
		}},
		{"a cookie the handler sets (a sign-in)", "/", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "member", Value: "ada", Path: "/"})
			_, _ = io.WriteString(w, "signed in")
		}},
		{"a handler's public Cache-Control and its cookie", "/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=300")
			http.SetCookie(w, &http.Cookie{Name: "member", Value: "ada", Path: "/"})
			_, _ = io.WriteString(w, "signed in")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, Options{})
				h := s.mw.Handler(tt.handler)
				req := httptest.NewRequest(http.MethodGet, tt.path, nil)
				req.Header.Set("User-Agent", browserUA)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				require.NotEmpty(t, rec.Header().Values("Set-Cookie"))
				cc := rec.Header().Get("Cache-Control")
				assert.True(t, hasDirective([]string{cc}, "private") || hasDirective([]string{cc}, "no-store"), "Cache-Control %q", cc)
				assert.False(t, hasDirective([]string{cc}, "public"), "Cache-Control %q", cc)
				assert.True(t, varies(rec.Header(), "Cookie"))
			})
		})
	}

	t.Run("a response without cookies keeps its own headers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSite(t, Options{})
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/static", nil)
			s.h.ServeHTTP(rec, req)
			assert.Empty(t, rec.Header().Get("Cache-Control"))
			assert.Empty(t, rec.Header().Values("Vary"))
		})
	})
}

// Twenty UTM values of 256 non-ASCII bytes make a session too long for a cookie: the visit
// keeps its most telling parameters and drops the rest, and the session is saved.
func TestAHugeCampaignKeepsWhatFitsTheCookie(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		q := url.Values{}
		full := func(k string) string { return k + strings.Repeat("é", (MaxUTMValueBytes-len(k))/2) } // 255-256 bytes
		for _, k := range []string{"campaign", "source", "medium", "term", "content"} {
			q.Set("utm_"+k, full(k))
		}
		for i := range MaxUTMKeys - 5 {
			q.Set("utm_extra"+string(rune('a'+i)), full("x"))
		}
		v := newVisitor(t)
		resp, _ := v.get(s.h, "/flow?"+q.Encode())
		require.Equal(t, http.StatusOK, resp.StatusCode)
		sessions := setCookies(t, resp, DefaultSessionName)
		require.Len(t, sessions, 1, "the session is saved")
		assert.LessOrEqual(t, len(sessions[0].String()), 4096, "and fits a cookie")
		assert.Empty(t, s.warnings(), "without a warning")

		// The next page, without UTM parameters, is still in the campaign.
		_, rep := v.get(s.h, "/flow")
		campaign := rep.Campaign.UTM
		assert.Equal(t, full("campaign"), campaign["campaign"], "the campaign is kept, whole")
		assert.NotContains(t, campaign, "extraa", "what does not fit is dropped, the least telling first")
		assert.Less(t, len(campaign), MaxUTMKeys)
	})
}

// HEAD requests get no personalization: their answer has no body, so no flow is called, no
// browser created and no cookie set.
func TestHEADRequestsAreNotPersonalized(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		req := httptest.NewRequest(http.MethodHead, "/flow?utm_campaign=summer_sale", nil)
		req.Header.Set("User-Agent", browserUA)
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Header().Values("Set-Cookie"))
		assert.Zero(t, s.sb.CallCount(""))
		assert.Empty(t, s.sb.Browsers())
		assert.Equal(t, "HEAD request", BlockedHEAD.String())
	})
}
