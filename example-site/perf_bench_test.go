package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/stretchr/testify/require"
)

const benchUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

// BenchmarkHomePage serves the home page (three flows against a sandbox on loopback) through
// the whole site, and the bare reference page beside it, for a returning visitor: the same
// browser ID cookie on every request and, like a browser (and scripts/perf.sh's cookie jar),
// the cookies the target set on its first answer (the site's session).
func BenchmarkHomePage(b *testing.B) {
	flows, err := sandbox.LoadFlows(bytes.NewReader(defaultFlows))
	require.NoError(b, err)
	tenant := personalizetest.NewSandbox(b, sandbox.WithClientKeys("tenant-client-key"), sandbox.WithFlows(flows...))
	browserID := "a38b230c-11eb-4cf9-8d5d-274e9f344925"
	tenant.Sandbox.AddBrowser(browserID)

	env := tenantSiteEnv(tenant.URL)
	env["PERSONALIZE_EVENTS"] = "off" // the bare page sends none
	cfg, err := loadConfig(envOf(env))
	require.NoError(b, err)
	site, cleanup, err := newServer(cfg, slog.New(slog.DiscardHandler))
	require.NoError(b, err)
	b.Cleanup(cleanup)
	bare := bareref.NewHandler(tenant.URL, "tenant-client-key", "goairways/nl")
	b.Cleanup(bare.CloseIdleConnections)

	newRequest := func(cookies []*http.Cookie) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("User-Agent", benchUA)
		r.AddCookie(&http.Cookie{Name: "bid_tenant-client-key", Value: browserID})
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return r
	}

	for _, target := range []struct {
		name string
		h    http.Handler
	}{{"site", site}, {"bare", bare}} {
		b.Run(target.name, func(b *testing.B) {
			// The first visit: keep what the target sets (not the browser ID cookie, sent anyway).
			w := httptest.NewRecorder()
			target.h.ServeHTTP(w, newRequest(nil))
			require.Equal(b, http.StatusOK, w.Code)
			var cookies []*http.Cookie
			for _, c := range w.Result().Cookies() {
				if c.Name != "bid_tenant-client-key" {
					cookies = append(cookies, c)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					target.h.ServeHTTP(w, newRequest(cookies))
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
					_, _ = io.Copy(io.Discard, w.Body)
				}
			})
		})
	}
}
