package middleware

import (
	"cmp"
	"context"
	"crypto/tls"
	"io"
	"log"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/browserid"
	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

func TestFirstVisitThenReturning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		v := newVisitor(t)

		resp, rep := v.get(s.h, "/flow")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		bids := setCookies(t, resp, bidName(t))
		require.Len(t, bids, 1, "exactly one browser ID cookie")
		c := bids[0]
		assert.True(t, browserid.Valid(c.Value))
		assert.Equal(t, "/", c.Path)
		assert.Equal(t, 730*24*3600, c.MaxAge)
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.False(t, c.Secure, "plain HTTP request")
		assert.False(t, c.HttpOnly, "the browser SDK must read it")
		assert.Empty(t, c.Domain)
		require.Equal(t, []string{c.Value}, s.sb.Browsers(), "one browser created")
		assert.Equal(t, c.Value, rep.BrowserID, "the new ID is visible in the same request")
		assert.Contains(t, rep.Results, "home")
		assert.Equal(t, "private, no-store", resp.Header.Get("Cache-Control"))
		assert.Equal(t, []string{"Cookie"}, resp.Header.Values("Vary"))

		for i := range 10 {
			resp, rep := v.get(s.h, "/flow")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, c.Value, rep.BrowserID, "visit %d", i)
			renewed := setCookies(t, resp, bidName(t))
			require.Len(t, renewed, 1, "the cookie is renewed when a flow runs")
			assert.Equal(t, c.Value, renewed[0].Value)
		}
		assert.Len(t, s.sb.Browsers(), 1, "returning visits create no browser")
		cs := calls(s)
		require.Len(t, cs, 11)
		for _, call := range cs {
			assert.Equal(t, c.Value, call.Request.BrowserID)
			assert.Contains(t, string(call.Body), `"browserId":"`+c.Value+`"`)
		}
	})
}

func TestPageWithoutFlowCreatesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		v := newVisitor(t)
		for range 3 {
			resp, _ := v.get(s.h, "/static")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Empty(t, resp.Header.Values("Set-Cookie"))
			assert.Empty(t, resp.Header.Get("Cache-Control"))
			assert.Empty(t, resp.Header.Get("Vary"))
		}
		assert.Empty(t, s.sb.Browsers())
		assert.Empty(t, calls(s))
	})
}

func TestBlockedVisitors(t *testing.T) {
	noConsent := func(*http.Request) bool { return false }
	tests := []struct {
		name    string
		opts    Options
		ua      string
		header  http.Header
		reason  BlockReason
		created bool // the switch is on: the visitor is personalized after all
	}{
		{name: "googlebot", ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", reason: BlockedBot},
		{name: "no user agent (httptest.NewRequest's)", ua: "", created: true},
		{name: "curl", ua: "curl/8.5.0", reason: BlockedBot},
		{name: "custom bot detector", ua: browserUA, opts: Options{IsBot: func(r *http.Request) bool { return r.Header.Get("X-Bot") != "" }}, header: http.Header{"X-Bot": {"1"}}, reason: BlockedBot},
		{name: "bots personalized", ua: "curl/8.5.0", opts: Options{PersonalizeBots: true}, created: true},
		{name: "sec-purpose prefetch", ua: browserUA, header: http.Header{"Sec-Purpose": {"prefetch"}}, reason: BlockedPrefetch},
		{name: "sec-purpose anonymous prefetch", ua: browserUA, header: http.Header{"Sec-Purpose": {"prefetch;anonymous-client-ip"}}, reason: BlockedPrefetch},
		{name: "purpose prefetch", ua: browserUA, header: http.Header{"Purpose": {"prefetch"}}, reason: BlockedPrefetch},
		{name: "x-moz prefetch", ua: browserUA, header: http.Header{"X-Moz": {"prefetch"}}, reason: BlockedPrefetch},
		{name: "safari preview", ua: browserUA, header: http.Header{"X-Purpose": {"preview"}}, reason: BlockedPrefetch},
		{name: "prefetch personalized", ua: browserUA, opts: Options{PersonalizePrefetch: true}, header: http.Header{"Sec-Purpose": {"prefetch"}}, created: true},
		{name: "prerender is a navigation", ua: browserUA, header: http.Header{"Sec-Purpose": {"prefetch;prerender"}}, created: true},
		{name: "mobile navigation with purpose prefetch", ua: browserUA, header: http.Header{"Purpose": {"prefetch"}, "Sec-Ch-Ua-Mobile": {"?1"}}, created: true},
		{name: "no consent", ua: browserUA, opts: Options{Consent: noConsent}, reason: BlockedNoConsent},
		{name: "consent given", ua: browserUA, opts: Options{Consent: func(r *http.Request) bool { return true }}, created: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, tt.opts)
				v := newVisitor(t)
				v.ua = tt.ua
				v.header = tt.header
				resp, rep := v.get(s.h, "/flow?f=home&f=banner")
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, tt.reason, rep.Blocked)
				if tt.created {
					assert.Len(t, setCookies(t, resp, bidName(t)), 1)
					assert.Len(t, s.sb.Browsers(), 1)
					assert.Len(t, calls(s), 2)
					return
				}
				require.NotEqual(t, NotBlocked, tt.reason)
				assert.Empty(t, resp.Header.Values("Set-Cookie"), "no cookie at all, session included")
				assert.Empty(t, s.sb.Browsers())
				assert.Empty(t, calls(s))
				assert.Empty(t, rep.BrowserID)
				require.Len(t, rep.Errors, 2)
				for _, e := range rep.Errors {
					assert.Contains(t, e, "no visitor")
					assert.Contains(t, e, tt.reason.String())
				}
				assert.Equal(t, "private, no-store", resp.Header.Get("Cache-Control"), "the default content is not cached either")
			})
		})
	}
}

func TestNoConsentKnownIdentity(t *testing.T) {
	tests := []struct {
		name  string
		allow bool
		calls int
	}{
		{name: "email flows allowed", allow: true, calls: 1},
		{name: "email flows not allowed", allow: false, calls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, Options{
					Consent:                            func(*http.Request) bool { return false },
					AllowKnownIdentitiesWithoutConsent: tt.allow,
				})
				v := newVisitor(t)
				resp, rep := v.get(s.h, "/email?utm_campaign=spring")
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Empty(t, resp.Header.Values("Set-Cookie"))
				assert.Empty(t, s.sb.Browsers())
				cs := calls(s)
				require.Len(t, cs, tt.calls)
				if tt.calls > 0 {
					assert.Equal(t, "guest@example.com", cs[0].Request.Email)
					assert.Empty(t, cs[0].Request.BrowserID)
					assert.Equal(t, "spring", utmOf(t, cs[0])["campaign"], "the request's own UTM still goes along")
					assert.Contains(t, rep.Results, "home")
				}
			})
		})
	}
}

func TestCampaignKeptForTheVisit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		v := newVisitor(t)
		v.header = http.Header{"Referer": {"https://news.example.org/issue/42"}}

		_, rep := v.get(s.h, "/flow?utm_campaign=summer_sale&utm_source=newsletter")
		assert.Equal(t, map[string]string{"campaign": "summer_sale", "source": "newsletter"}, rep.UTM)
		v.header = http.Header{"Referer": {siteURL + "/flow"}}
		_, rep2 := v.get(s.h, "/flow")
		_, rep3 := v.get(s.h, "/flow")

		for i, rep := range []pageReport{rep, rep2, rep3} {
			assert.Equal(t, "summer_sale", rep.Campaign.UTM["campaign"], "page %d", i)
			assert.Equal(t, "https://news.example.org/issue/42", rep.Campaign.LandingReferrer, "page %d", i)
		}
		assert.Empty(t, rep2.UTM, "the request's own UTM is its query's")

		cs := calls(s)
		require.Len(t, cs, 3)
		for i, c := range cs {
			utm := utmOf(t, c)
			assert.Equal(t, "summer_sale", utm["campaign"], "call %d", i)
			assert.Equal(t, "newsletter", utm["source"], "call %d", i)
		}

		// A new campaign replaces the whole set.
		v.get(s.h, "/flow?utm_campaign=winter")
		_, rep4 := v.get(s.h, "/flow")
		assert.Equal(t, map[string]string{"campaign": "winter"}, rep4.Campaign.UTM)
	})
}

func TestLandingWithoutFlowKeepsCampaign(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		v := newVisitor(t)
		resp, _ := v.get(s.h, "/static?utm_campaign=summer_sale")
		require.Len(t, setCookies(t, resp, DefaultSessionName), 1, "the session is saved before the body")
		assert.Empty(t, setCookies(t, resp, bidName(t)), "no browser ID without a flow")
		assert.Empty(t, s.sb.Browsers())

		v.get(s.h, "/flow")
		cs := calls(s)
		require.Len(t, cs, 1)
		assert.Equal(t, "summer_sale", utmOf(t, cs[0])["campaign"])
	})
}

func TestSessionCookieAttributes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{VisitTimeout: 10 * time.Minute})
		v := newVisitor(t)
		resp, _ := v.get(s.h, "/flow?utm_campaign=x")
		sc := setCookies(t, resp, DefaultSessionName)
		require.Len(t, sc, 1)
		assert.True(t, sc[0].HttpOnly)
		assert.Equal(t, http.SameSiteLaxMode, sc[0].SameSite)
		assert.Equal(t, 600, sc[0].MaxAge)
		assert.Equal(t, "/", sc[0].Path)
	})
}

func TestTwoInstancesShareTheVisit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, srv := memSandbox(t)
		one := newSiteWith(t, sb, srv, Options{SessionKeys: testKeys})
		two := newSiteWith(t, sb, srv, Options{SessionKeys: testKeys})
		// One cookie jar for both "servers", as a load balancer in front of them would see it.
		v := newVisitor(t)
		first, rep := v.get(one.h, "/flow?utm_campaign=summer_sale")
		id := rep.BrowserID
		require.True(t, browserid.Valid(id))
		require.Len(t, setCookies(t, first, bidName(t)), 1)

		servers := []*site{two, one, two, one, two}
		for i, s := range servers {
			_, rep := v.get(s.h, "/flow")
			assert.Equal(t, id, rep.BrowserID, "request %d", i)
			assert.Equal(t, "summer_sale", rep.Campaign.UTM["campaign"], "request %d", i)
		}
		assert.Len(t, sb.Browsers(), 1)
		cs := sb.Calls()
		require.Len(t, cs, 6)
		for i, c := range cs {
			assert.Equal(t, id, c.Request.BrowserID, "call %d", i)
			assert.Equal(t, "summer_sale", utmOf(t, c)["campaign"], "call %d", i)
		}
	})
}

func TestInstancesWithOtherKeysStartANewVisit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, srv := memSandbox(t)
		one := newSiteWith(t, sb, srv, Options{SessionKeys: testKeys})
		other := newSiteWith(t, sb, srv, Options{SessionKeys: [][]byte{[]byte(strings.Repeat("x", 32))}})
		v := newVisitor(t)
		v.get(one.h, "/flow?utm_campaign=summer_sale")
		resp, rep := v.get(other.h, "/flow")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Empty(t, rep.Campaign.UTM, "a session it cannot read is a new visit")
		assert.NotEmpty(t, rep.BrowserID, "the browser ID cookie needs no key")
	})
}

func TestParallelFlowsCreateOneBrowser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		v := newVisitor(t)
		resp, rep := v.get(s.h, "/parallel?f=a&f=b&f=c&f=home&f=banner")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Len(t, rep.Results, 5, "errors: %v", rep.Errors)
		require.Len(t, s.sb.Browsers(), 1)
		id := s.sb.Browsers()[0]
		cs := calls(s)
		require.Len(t, cs, 5, "one call per flow")
		for _, c := range cs {
			assert.Equal(t, id, c.Request.BrowserID)
		}
		assert.Len(t, setCookies(t, resp, bidName(t)), 1)
	})
}

func TestMintLocally(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{BrowserIDs: MintLocally})
		v := newVisitor(t)
		resp, rep := v.get(s.h, "/flow")
		bids := setCookies(t, resp, bidName(t))
		require.Len(t, bids, 1)
		assert.Empty(t, s.sb.Browsers(), "no browser/create.json call")
		assert.Equal(t, byte('4'), bids[0].Value[14], "UUID version 4")
		assert.Equal(t, bids[0].Value, rep.BrowserID)
		require.Len(t, calls(s), 1)
		assert.Equal(t, bids[0].Value, calls(s)[0].Request.BrowserID)
	})
}

func TestBrowserCreationFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		s.sb.SetFault(sandbox.Fault{Status: http.StatusServiceUnavailable})
		v := newVisitor(t)
		resp, rep := v.get(s.h, "/flow")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Empty(t, setCookies(t, resp, bidName(t)))
		assert.Empty(t, rep.BrowserID)
		assert.Contains(t, rep.Errors, "home", "the slot renders its default")
	})
}

func TestCookieAfterHeadersWereSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		v := newVisitor(t)
		resp, rep := v.get(s.h, "/flush-first")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Empty(t, setCookies(t, resp, bidName(t)))
		assert.Contains(t, rep.Results, "home", "the page keeps working")
		assert.NotEmpty(t, rep.BrowserID)
		assert.Contains(t, s.logs.String(), "response headers already sent")
	})
}

// A prefetch starts creating the browser ID, then the handler flushes: the flush waits for the
// ID, so that the cookie goes out with the headers.
func TestPrefetchThenFlushWaitsForTheID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The creation answers only once the handler is flushing: a latch, not a latency,
		// since a goroutine waiting on a mutex (sync.Once) would keep a fake clock from moving.
		flushing := make(chan struct{})
		sb := sandbox.New(sandbox.WithFlows(sandboxFlows()...))
		srv := memnet.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == sandbox.PathBrowserCreate {
				select {
				case <-flushing:
				case <-r.Context().Done():
					return
				}
			}
			sb.ServeHTTP(w, r)
		}))
		t.Cleanup(sb.Close)
		s := newSiteWith(t, sb, srv, Options{})
		h := s.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			personalize.Prefetch(r.Context(), "home")
			w.Header().Set("Content-Type", "application/json")
			assert.Empty(t, BrowserID(r.Context()), "no ID yet when the flush starts")
			close(flushing)
			_ = http.NewResponseController(w).Flush()
			rep := newReport()
			rep.add("home", personalize.Flow)(r)
			rep.write(w, r)
		}))
		v := newVisitor(t)
		resp, rep := v.get(h, "/")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, rep.Results, "home")
		bids := setCookies(t, resp, bidName(t))
		require.Len(t, bids, 1)
		assert.Equal(t, rep.BrowserID, bids[0].Value)
		assert.Len(t, s.sb.Browsers(), 1)
		assert.Equal(t, "private, no-store", resp.Header.Get("Cache-Control"))
		assert.NotContains(t, s.logs.String(), "response headers already sent")
	})
}

func TestLegacyCookieMigration(t *testing.T) {
	const legacy = "BID_" + sandbox.DefaultClientKey
	// The deletion must name the cookie as it was set (Path=/, the same Domain), or the browser
	// keeps it.
	for _, domain := range []string{"", "example.com"} {
		t.Run("domain "+cmp.Or(domain, "host-only"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, Options{LegacyCookieNames: []string{legacy}, CookieDomain: domain})
				id := "0f8fad5b-d9cb-469f-a165-70867728950e"
				get := func(path string) *http.Response {
					req := httptest.NewRequest(http.MethodGet, siteURL+path, nil)
					req.Header.Set("User-Agent", browserUA)
					req.Header.Set("Cookie", legacy+"="+id)
					rec := httptest.NewRecorder()
					s.h.ServeHTTP(rec, req)
					return rec.Result()
				}

				resp := get("/static")
				assert.Empty(t, resp.Header.Values("Set-Cookie"), "migrated only when personalization runs")

				resp = get("/flow")
				bids := setCookies(t, resp, bidName(t))
				require.Len(t, bids, 1)
				assert.Equal(t, id, bids[0].Value)
				old := setCookies(t, resp, legacy)
				require.Len(t, old, 1)
				assert.Equal(t, -1, old[0].MaxAge, "deleted with Max-Age=0")
				assert.Equal(t, "/", old[0].Path, "deleted where it was set: Path=/")
				assert.Equal(t, domain, old[0].Domain, "and with the cookies' Domain")
				assert.Equal(t, bids[0].Domain, old[0].Domain)
				assert.Empty(t, s.sb.Browsers())
				require.Len(t, calls(s), 1)
				assert.Equal(t, id, calls(s)[0].Request.BrowserID)
			})
		})
	}
}

func TestSecureAttribute(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		tls    bool
		header http.Header
		want   bool
	}{
		{name: "plain http", want: false},
		{name: "tls", tls: true, want: true},
		{name: "forwarded https not trusted", header: http.Header{"X-Forwarded-Proto": {"https"}}, want: false},
		{name: "forwarded https, one proxy", opts: Options{TrustedProxies: 1}, header: http.Header{"X-Forwarded-Proto": {"HTTPS"}}, want: true},
		{name: "forwarded http, one proxy", opts: Options{TrustedProxies: 1}, header: http.Header{"X-Forwarded-Proto": {"http"}}, want: false},
		{name: "the visitor's own https before the proxy's http", opts: Options{TrustedProxies: 1}, header: http.Header{"X-Forwarded-Proto": {"https, http"}}, want: false},
		{name: "a CDN's https before the load balancer's http", opts: Options{TrustedProxies: 2}, header: http.Header{"X-Forwarded-Proto": {"https, http"}}, want: true},
		{name: "a spoofed https before two proxies", opts: Options{TrustedProxies: 2}, header: http.Header{"X-Forwarded-Proto": {"https", "http, http"}}, want: false},
		{name: "fewer values than proxies", opts: Options{TrustedProxies: 3}, header: http.Header{"X-Forwarded-Proto": {"https"}}, want: true},
		{name: "always", opts: Options{Secure: SecureAlways}, want: true},
		{name: "never on tls", opts: Options{Secure: SecureNever}, tls: true, want: false},
		{name: "never behind a trusted https proxy", opts: Options{Secure: SecureNever, TrustedProxies: 1}, header: http.Header{"X-Forwarded-Proto": {"https"}}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, srv := memSandbox(t)
				tt.opts.SessionKeys = testKeys
				tt.opts.BrowserIDs = MintLocally
				mw, err := New(newClient(t, srv), tt.opts)
				require.NoError(t, err)
				req := httptest.NewRequest(http.MethodGet, "/flow?utm_source=x", nil)
				req.Header.Set("User-Agent", browserUA)
				maps.Copy(req.Header, tt.header)
				if tt.tls {
					req.TLS = &tls.ConnectionState{}
				}
				// SecureCookies, for the site's own cookies, says what the middleware does.
				assert.Equal(t, tt.want, mw.SecureCookies(req), "SecureCookies")
				rec := httptest.NewRecorder()
				mw.Handler(testRoutes()).ServeHTTP(rec, req)
				resp := rec.Result()
				for _, name := range []string{bidName(t), DefaultSessionName} {
					cs := setCookies(t, resp, name)
					require.Len(t, cs, 1, name)
					assert.Equal(t, tt.want, cs[0].Secure, name)
				}
				// The browser ID cookie as Engage and the Cloud SDK set it (SameSite=None;
				// Secure) whenever it can be Secure: renewing theirs never downgrades it.
				// The session cookie, the server's alone, stays Lax.
				wantSameSite := http.SameSiteLaxMode
				if tt.want {
					wantSameSite = http.SameSiteNoneMode
				}
				assert.Equal(t, wantSameSite, setCookies(t, resp, bidName(t))[0].SameSite, "browser ID cookie")
				assert.Equal(t, http.SameSiteLaxMode, setCookies(t, resp, DefaultSessionName)[0].SameSite, "session cookie")
			})
		})
	}
}

func TestCookieOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{
			CookieName:   "visitor_id",
			CookieDomain: "example.com",
			CookieMaxAge: 365 * 24 * time.Hour,
			SameSite:     http.SameSiteStrictMode,
			HTTPOnly:     true,
			BrowserIDs:   MintLocally,
		})
		req := httptest.NewRequest(http.MethodGet, "/flow", nil)
		req.Header.Set("User-Agent", browserUA)
		rec := httptest.NewRecorder()
		s.mw.Handler(testRoutes()).ServeHTTP(rec, req)
		cs := setCookies(t, rec.Result(), "visitor_id")
		require.Len(t, cs, 1)
		assert.Equal(t, "example.com", cs[0].Domain)
		assert.Equal(t, 365*24*3600, cs[0].MaxAge)
		assert.Equal(t, http.SameSiteStrictMode, cs[0].SameSite)
		assert.True(t, cs[0].HttpOnly)
	})
}

func TestCacheHeaders(t *testing.T) {
	tests := []struct {
		name        string
		handlerCC   string
		handlerVary []string
		opts        Options
		flow        bool
		wantCC      string
		wantVary    []string
	}{
		{name: "no flow", flow: false, wantCC: "", wantVary: nil},
		{name: "flow", flow: true, wantCC: "private, no-store", wantVary: []string{"Cookie"}},
		{name: "handler's own cache control", flow: true, handlerCC: "no-cache, max-age=60", wantCC: "private, no-cache, max-age=60", wantVary: []string{"Cookie"}},
		{name: "handler's public cache control, with the visitor's cookie", flow: true, handlerCC: "public, max-age=60", wantCC: "private, max-age=60", wantVary: []string{"Cookie"}},
		{name: "handler's private cache control", flow: true, handlerCC: "private, max-age=60", wantCC: "private, max-age=60", wantVary: []string{"Cookie"}},
		{name: "vary already has cookie", flow: true, handlerVary: []string{"Accept-Encoding, cookie"}, wantCC: "private, no-store", wantVary: []string{"Accept-Encoding, cookie"}},
		{name: "vary other field", flow: true, handlerVary: []string{"Accept-Encoding"}, wantCC: "private, no-store", wantVary: []string{"Accept-Encoding", "Cookie"}},
		{name: "configured", flow: true, opts: Options{CacheControl: "no-store, no-cache, must-revalidate"}, wantCC: "no-store, no-cache, must-revalidate", wantVary: []string{"Cookie"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, srv := memSandbox(t)
				tt.opts.SessionKeys = testKeys
				mw, err := New(newClient(t, srv), tt.opts)
				require.NoError(t, err)
				h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.flow {
						_, _ = personalize.Flow(r.Context(), "home")
					}
					if tt.handlerCC != "" {
						w.Header().Set("Cache-Control", tt.handlerCC)
					}
					for _, v := range tt.handlerVary {
						w.Header().Add("Vary", v)
					}
					w.WriteHeader(http.StatusTeapot)
				}))
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.Header.Set("User-Agent", browserUA)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				assert.Equal(t, http.StatusTeapot, rec.Code)
				assert.Equal(t, tt.wantCC, rec.Header().Get("Cache-Control"))
				assert.Equal(t, tt.wantVary, rec.Header().Values("Vary"))
			})
		})
	}
}

func TestHandlerThatWritesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, srv := memSandbox(t)
		mw, err := New(newClient(t, srv), Options{SessionKeys: testKeys})
		require.NoError(t, err)
		h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = personalize.Flow(r.Context(), "home")
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("User-Agent", browserUA)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Len(t, setCookies(t, rec.Result(), bidName(t)), 1)
		assert.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
	})
}

// The middleware's writer keeps what the server's writer offers: http.ResponseController
// reaches it, it is a Flusher, and a 103 Early Hints goes out with the handler's headers of the
// moment without using up the final ones, which carry the cookie.
func TestResponseWriterPassThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, sbSrv := memSandbox(t)
		mw, err := New(newClient(t, sbSrv), Options{SessionKeys: testKeys, BrowserIDs: MintLocally})
		require.NoError(t, err)
		var (
			mu       sync.Mutex
			deadline error
			flusher  bool
			early    []textproto.MIMEHeader
			gotHello = make(chan struct{})
		)
		h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = personalize.Flow(r.Context(), "home")
			rc := http.NewResponseController(w)
			mu.Lock()
			deadline = rc.SetWriteDeadline(time.Now().Add(time.Minute))
			_, flusher = w.(http.Flusher)
			mu.Unlock()
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = w.Write([]byte("hello"))
			_ = rc.Flush()
			// The flush sent the headers and "hello": the client reads them while the
			// handler still runs (were they buffered, the bubble would deadlock here).
			select {
			case <-gotHello:
			case <-r.Context().Done():
			}
			_, _ = w.Write([]byte(", world"))
		}))
		// A real http.Server (over in-memory connections), whose writer has deadlines and
		// sends 1xx responses.
		site := memnet.Serve(t, h)
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			if code == http.StatusEarlyHints {
				early = append(early, header)
			}
			return nil
		}}
		req := must(http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, site.URL, nil))
		req.Header.Set("User-Agent", browserUA)
		resp, err := site.Client.Do(req)
		require.NoError(t, err)
		hello := make([]byte, len("hello"))
		_, err = io.ReadFull(resp.Body, hello)
		close(gotHello)
		require.NoError(t, err)
		rest, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		body := string(hello) + string(rest)
		mu.Lock()
		defer mu.Unlock()
		assert.NoError(t, deadline, "http.ResponseController reaches the server's writer")
		assert.True(t, flusher)
		require.Len(t, early, 1, "the 103 Early Hints reaches the client")
		assert.Equal(t, []string{"</style.css>; rel=preload"}, early[0].Values("Link"))
		assert.Empty(t, early[0].Values("Set-Cookie"), "the middleware's headers wait for the final response")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "hello, world", body)
		assert.Len(t, setCookies(t, resp, bidName(t)), 1, "early hints do not use up the final headers")
		assert.Equal(t, "private, no-store", resp.Header.Get("Cache-Control"))
	})
}

func TestGettersOutsideTheMiddleware(t *testing.T) {
	ctx := t.Context()
	assert.Empty(t, BrowserID(ctx))
	assert.Nil(t, UTM(ctx))
	assert.Equal(t, Campaign{}, VisitCampaign(ctx))
	assert.Equal(t, NotBlocked, Blocked(ctx))
	assert.Equal(t, NotBlocked, Blocked(nil)) //lint:ignore SA1012 a nil context on purpose: the getters must not panic
	assert.Empty(t, BrowserID(nil))           //lint:ignore SA1012 a nil context on purpose
}

// An event (personalize.Track) may need a browser ID on a page that calls no flow: the cookie
// carries it all the same.
func TestIDCreatedWithoutFlowGetsItsCookie(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		h := s.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			assert.Empty(t, BrowserID(r.Context()), "no ID before the event")
			start := time.Now()
			assert.NoError(t, personalize.Track(r.Context(), "ADD_TO_TRIP", nil))
			assert.Zero(t, time.Since(start), "Track does not wait for the browser's creation")
			_, _ = w.Write([]byte("page"))
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("User-Agent", browserUA)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		bids := setCookies(t, rec.Result(), bidName(t))
		require.Len(t, bids, 1, "the headers waited for the ID being created for the event")
		assert.True(t, browserid.Valid(bids[0].Value))
		assert.Equal(t, []string{bids[0].Value}, s.sb.Browsers())
		assert.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"), "no flow ran, but the response carries the visitor's cookie")
		assert.Equal(t, "Cookie", rec.Header().Get("Vary"))

		// The event went out for that ID.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.pc.Close(ctx))
		events := s.sb.Events()
		require.Len(t, events, 1)
		assert.Equal(t, "ADD_TO_TRIP", events[0].Type)
		assert.Equal(t, bids[0].Value, events[0].BrowserID)
	})
}

// Requests that personalize nothing run no consent or bot check and read no session.
func TestChecksRunOnlyWhenPersonalizing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		checks := map[string]int{}
		count := func(name string) {
			mu.Lock()
			defer mu.Unlock()
			checks[name]++
		}
		s := newSite(t, Options{
			Consent: func(*http.Request) bool { count("consent"); return true },
			IsBot:   func(*http.Request) bool { count("bot"); return false },
		})
		v := newVisitor(t)
		v.get(s.h, "/flow?f=a&f=b&f=c")
		v.get(s.h, "/static")
		v.get(s.h, "/static")
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, map[string]int{"consent": 1, "bot": 1}, checks, "once per personalized request")
	})
}

// The README's "In tests" snippet, followed literally: a request made with
// httptest.NewRequest has no User-Agent, and is personalized.
func TestRequestWithoutUserAgentIsPersonalized(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, srv := memSandbox(t, sandbox.Define("home_page_banner").
			Returns(map[string]any{"title": "Fly for less"}).
			When(sandbox.UTMIs("campaign", "summer_sale"), map[string]any{"title": "Summer sale"}))
		client := newClient(t, srv)
		mw, err := New(client, Options{})
		require.NoError(t, err)
		homePage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			title := "Welcome"
			if res, err := personalize.Flow(r.Context(), "home_page_banner"); err == nil {
				var v struct{ Title string }
				if res.Decode(&v) == nil {
					title = v.Title
				}
			} else {
				title += " (" + err.Error() + ")"
			}
			_, _ = io.WriteString(w, title)
		})

		req := httptest.NewRequest(http.MethodGet, "/?utm_campaign=summer_sale", nil)
		require.Empty(t, req.UserAgent(), "httptest.NewRequest sends no User-Agent")
		rec := httptest.NewRecorder()
		mw.Handler(homePage).ServeHTTP(rec, req)
		assert.Equal(t, "Summer sale", rec.Body.String(), "the banner is personalized")
		bids := setCookies(t, rec.Result(), bidName(t))
		require.Len(t, bids, 1, "the browser ID cookie is set")
		assert.Equal(t, []string{bids[0].Value}, sb.Browsers())
		cs := sb.Calls()
		require.Len(t, cs, 1, "the flow is called")
		assert.Equal(t, bids[0].Value, cs[0].Request.BrowserID)
		assert.Len(t, setCookies(t, rec.Result(), DefaultSessionName), 1, "the visit's session is set")
	})
}

// A zero Middleware, or a nil one, serves the handler as it is: no page, no cookie, no panic,
// and one warning through slog.Default that says what to do.
func TestZeroMiddlewarePassesThrough(t *testing.T) {
	logs := captureDefaultLogger(t)
	for _, tt := range []struct {
		name string
		mw   *Middleware
	}{
		{name: "zero", mw: &Middleware{}},
		{name: "nil", mw: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs.reset()
			var flowErr error
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, flowErr = personalize.Flow(r.Context(), "home")
				assert.Equal(t, NotBlocked, Blocked(r.Context()))
				assert.Empty(t, BrowserID(r.Context()))
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, "default content")
			})
			var h http.Handler
			require.NotPanics(t, func() { h = tt.mw.Handler(next) })
			for _, cookie := range []string{"", bidName(t) + "=" + validID} {
				req := httptest.NewRequest(http.MethodGet, "/?utm_campaign=x", nil)
				req.Header.Set("User-Agent", browserUA)
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				rec := httptest.NewRecorder()
				flowErr = nil
				require.NotPanics(t, func() { h.ServeHTTP(rec, req) }, "cookie %q", cookie)
				assert.Equal(t, http.StatusOK, rec.Code)
				assert.Equal(t, "default content", rec.Body.String())
				assert.ErrorIs(t, flowErr, personalize.ErrNoPage, "the handler runs without a page")
				assert.Empty(t, rec.Header().Values("Set-Cookie"))
				assert.Empty(t, rec.Header().Get("Cache-Control"))
			}
			out := logs.String()
			assert.Equal(t, 1, strings.Count(out, "level=WARN"), out)
			assert.Contains(t, out, "middleware.New", "the warning says what to do")
		})
	}
}

// captureDefaultLogger points slog.Default (and the log package, which it takes over) at a
// buffer until the test ends.
func captureDefaultLogger(t *testing.T) *resettableBuffer {
	t.Helper()
	buf := &resettableBuffer{}
	prev, prevOut, prevFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, nil)))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
	})
	return buf
}

// resettableBuffer is a lockedBuffer that can be emptied.
type resettableBuffer struct{ lockedBuffer }

func (b *resettableBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}

// A handler that panics: the panic reaches the caller (net/http's recovery, or the site's),
// and the page is closed on the way: its calls still running end at once for the page, not
// left to run out the budget, and nothing of them is left running past the client's timeout.
func TestPanickingHandlerClosesThePage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := sandbox.New(sandbox.WithFlows(sandboxFlows()...))
		sb.SetFlowFault("home", sandbox.Fault{Hang: true})
		var active atomic.Int32 // requests the sandbox is handling
		srv := memnet.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			active.Add(1)
			defer active.Add(-1)
			sb.ServeHTTP(w, r)
		}))
		t.Cleanup(sb.Close)
		var (
			mu    sync.Mutex
			infos []personalize.CallInfo
		)
		pc := newClient(t, srv, personalize.WithHooks(personalize.Hooks{FlowCall: func(_ context.Context, ci personalize.CallInfo) {
			mu.Lock()
			defer mu.Unlock()
			infos = append(infos, ci)
		}}))
		mw, err := New(pc, Options{SessionKeys: testKeys, BrowserIDs: MintLocally})
		require.NoError(t, err)
		h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			personalize.Prefetch(r.Context(), "home")
			synctest.Wait() // the call reaches the sandbox, which holds it
			require.Equal(t, int32(1), active.Load())
			panic("boom")
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("User-Agent", browserUA)
		start := time.Now()
		assert.PanicsWithValue(t, "boom", func() { h.ServeHTTP(httptest.NewRecorder(), req) })
		assert.Zero(t, time.Since(start), "the call was cancelled, not waited for")

		mu.Lock()
		ended := slices.Clone(infos)
		mu.Unlock()
		require.Len(t, ended, 1, "the page's call ended before the panic went on")
		assert.Equal(t, "home", ended[0].FriendlyID)
		assert.ErrorIs(t, ended[0].Err, context.Canceled)
		synctest.Wait()
		// The abandoned call finishes in the background so that its connection is kept, for
		// the client's timeout at most.
		assert.Equal(t, int32(1), active.Load(), "the abandoned call finishes in the background")
		time.Sleep(personalize.DefaultTimeout)
		synctest.Wait()
		assert.Zero(t, active.Load(), "the sandbox saw the call go away: nothing of it is left")
		assert.Equal(t, 1, sb.CallCount("home"))
	})
}
