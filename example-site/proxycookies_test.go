package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
)

// TestCookiesBehindTLSProxy: TRUSTED_PROXIES and COOKIE_SECURE reach the middleware, and the
// site's own member cookie is Secure exactly when the middleware's browser ID and session
// cookies are: behind a TLS-terminating proxy that says https, and never because of a value
// the visitor wrote.
func TestCookiesBehindTLSProxy(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		proto []string // X-Forwarded-Proto as the site receives it
		want  bool
	}{
		{"no proxy trusted: the visitor's https is ignored", nil, []string{"https"}, false},
		{"one proxy that says https", map[string]string{"TRUSTED_PROXIES": "1"}, []string{"https"}, true},
		{"one proxy that says http after the visitor's https", map[string]string{"TRUSTED_PROXIES": "1"}, []string{"https, http"}, false},
		{"a CDN's https before the load balancer's http", map[string]string{"TRUSTED_PROXIES": "2"}, []string{"https", "http"}, true},
		{"a spoofed https before two proxies", map[string]string{"TRUSTED_PROXIES": "2"}, []string{"https, http, http"}, false},
		{"always, on plain http", map[string]string{"COOKIE_SECURE": "always"}, nil, true},
		{"never, behind a trusted https proxy", map[string]string{"COOKIE_SECURE": "never", "TRUSTED_PROXIES": "1"}, []string{"https"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startSite(t, tt.env)
			hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			do := func(method, path string) *http.Response {
				t.Helper()
				req, err := http.NewRequest(method, ts.URL+path, nil)
				require.NoError(t, err)
				req.Header.Set("User-Agent", browserUA)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.Header["X-Forwarded-Proto"] = tt.proto
				resp, err := hc.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				return resp
			}
			secure := func(resp *http.Response, name string) bool {
				t.Helper()
				for _, c := range resp.Cookies() {
					if c.Name == name {
						return c.Secure
					}
				}
				t.Fatalf("no %s cookie set", name)
				return false
			}

			page := do(http.MethodGet, "/?utm_campaign=summer_sale")
			assert.Equal(t, tt.want, secure(page, ts.site.cfg.browserCookie()), "browser ID cookie")
			assert.Equal(t, tt.want, secure(page, middleware.DefaultSessionName), "session cookie")
			assert.Equal(t, tt.want, secure(do(http.MethodPost, "/signin"), memberCookie), "member cookie at sign-in")
			assert.Equal(t, tt.want, secure(do(http.MethodPost, "/signout"), memberCookie), "member cookie at sign-out")
		})
	}
}
