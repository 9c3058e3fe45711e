package middleware

import (
	"fmt"
	"net/http"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsPrefetch(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   bool
	}{
		{name: "navigation", header: http.Header{}, want: false},
		{name: "sec-purpose prefetch", header: http.Header{"Sec-Purpose": {"prefetch"}}, want: true},
		{name: "sec-purpose case", header: http.Header{"Sec-Purpose": {" Prefetch "}}, want: true},
		{name: "sec-purpose anonymous", header: http.Header{"Sec-Purpose": {"prefetch;anonymous-client-ip"}}, want: true},
		{name: "sec-purpose prerender", header: http.Header{"Sec-Purpose": {"prefetch;prerender"}}, want: false},
		{name: "sec-purpose prerender with spaces", header: http.Header{"Sec-Purpose": {"prefetch; prerender"}}, want: false},
		{name: "sec-purpose other", header: http.Header{"Sec-Purpose": {"something"}}, want: false},
		{name: "sec-purpose list", header: http.Header{"Sec-Purpose": {"other, prefetch"}}, want: true},
		{name: "sec-purpose wins over purpose", header: http.Header{"Sec-Purpose": {"prefetch;prerender"}, "Purpose": {"prefetch"}}, want: false},
		{name: "purpose", header: http.Header{"Purpose": {"prefetch"}}, want: true},
		{name: "purpose on mobile", header: http.Header{"Purpose": {"prefetch"}, "Sec-Ch-Ua-Mobile": {"?1"}}, want: false},
		{name: "purpose on desktop", header: http.Header{"Purpose": {"prefetch"}, "Sec-Ch-Ua-Mobile": {"?0"}}, want: true},
		{name: "sec-purpose on mobile", header: http.Header{"Sec-Purpose": {"prefetch"}, "Sec-Ch-Ua-Mobile": {"?1"}}, want: true},
		{name: "x-moz", header: http.Header{"X-Moz": {"prefetch"}}, want: true},
		{name: "x-purpose preview", header: http.Header{"X-Purpose": {"preview"}}, want: true},
		{name: "x-purpose prefetch", header: http.Header{"X-Purpose": {"prefetch"}}, want: true},
		{name: "x-purpose other", header: http.Header{"X-Purpose": {"instant"}}, want: false},
		{name: "empty sec-purpose", header: http.Header{"Sec-Purpose": {""}}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, isPrefetch(tt.header))
		})
	}
}

func TestBlockReasonString(t *testing.T) {
	for reason, want := range map[BlockReason]string{
		NotBlocked:       "",
		BlockedNoConsent: "no consent",
		BlockedBot:       "bot",
		BlockedPrefetch:  "prefetch",
		BlockReason(9):   "BlockReason(9)",
	} {
		assert.Equal(t, want, reason.String())
	}
	assert.Equal(t, "bot", fmt.Sprint(BlockedBot), "it prints as its words")
}

// Scripts that send a User-Agent of their own (curl, Go's http.Client, headless Chrome) count
// as crawlers, as googlebot does; the first one seen is logged once, at warn, with what to do.
// Browsers and requests without a User-Agent are personalized and logged about by no one.
func TestScriptsAreCrawlersAndTheFirstIsLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		v := newVisitor(t)
		for _, ua := range []string{browserUA, ""} {
			v.ua = ua
			_, rep := v.get(s.h, "/flow")
			assert.Equal(t, NotBlocked, rep.Blocked, "%q", ua)
			assert.Contains(t, rep.Results, "home", "%q", ua)
		}
		personalized := len(calls(s))
		require.Equal(t, 2, personalized)
		assert.Empty(t, s.warnings(), "nothing to say about browsers")

		scripts := []string{
			"curl/8.5.0",
			"Go-http-client/1.1",
			"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
			"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			"curl/8.5.0",
		}
		for _, ua := range scripts {
			script := newVisitor(t)
			script.ua = ua
			resp, rep := script.get(s.h, "/flow")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, BlockedBot, rep.Blocked, ua)
			assert.Contains(t, rep.Errors["home"], "bot", ua)
			assert.Empty(t, resp.Header.Values("Set-Cookie"), ua)
		}
		assert.Len(t, calls(s), personalized, "no call for a script")
		assert.Len(t, s.sb.Browsers(), 1, "and no browser")

		warns := s.warnings()
		require.Len(t, warns, 1, "one warning for all the scripts: %v", warns)
		w := warns[0]
		assert.Contains(t, w, "crawler")
		assert.Contains(t, w, "user_agent=curl/8.5.0", "it names the first script's User-Agent")
		assert.Contains(t, w, "send a browser's User-Agent", "and says what to do")
		assert.Contains(t, w, "Options.PersonalizeBots")
	})
}

// The warning about the first crawler is per Middleware, and a custom IsBot says nothing.
func TestCrawlerWarningOncePerMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		one := newSite(t, Options{})
		two := newSite(t, Options{})
		custom := newSite(t, Options{IsBot: func(*http.Request) bool { return true }})
		for _, s := range []*site{one, two, custom} {
			for range 3 {
				v := newVisitor(t)
				v.ua = "curl/8.5.0"
				_, rep := v.get(s.h, "/flow")
				assert.Equal(t, BlockedBot, rep.Blocked)
			}
		}
		assert.Len(t, one.warnings(), 1)
		assert.Len(t, two.warnings(), 1)
		assert.Empty(t, custom.warnings(), "a site's own IsBot knows what it does")
	})
}
