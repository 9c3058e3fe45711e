package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/go-personalize/sdk/personalizeredis/redistest"
)

// bannerOf is the home page's banner slot: its state, what the cache did, and its title.
func bannerOf(doc *goquery.Document) (state, cache, title string) {
	banner := doc.Find(`[data-personalize-slot="home_page_banner"]`)
	state, _ = banner.Attr("data-personalize-state")
	cache, _ = banner.Attr("data-personalize-cache")
	return state, cache, text(doc.Find(".hero__title"))
}

// sameVisitor is v on another server of the site: the same cookies (a cookie is the host's,
// whatever the port), as behind a load balancer.
func sameVisitor(t *testing.T, v *visitor, other *testSite) *visitor {
	t.Helper()
	w := other.newVisitor(t)
	from, err := url.Parse(v.ts.URL)
	require.NoError(t, err)
	to, err := url.Parse(other.URL)
	require.NoError(t, err)
	w.hc.Jar.SetCookies(to, v.hc.Jar.Cookies(from))
	return w
}

// TestTwoServersShareDecisionsThroughRedis runs two processes of the site (the real binary,
// in tenant mode) on one Redis: a visitor whose banner decision was cached through the first
// is served it by the second while the API hangs. Redis killed: every page is still a 200,
// the banner fresh while the API answers and the default while it hangs; Redis back: the cache
// works again.
func TestTwoServersShareDecisionsThroughRedis(t *testing.T) {
	t.Parallel() // child processes: mostly waiting, beside the other tests
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	redis := redistest.Start(t)
	tenant := startTenant(t)
	env := tenantSiteEnv(tenant.URL)
	env["PERSONALIZE_REDIS_URL"] = redis.URL()
	bin := siteBinary(t)
	a, b := startBinary(t, bin, env), startBinary(t, bin, env)
	siteA, siteB := &testSite{URL: "http://" + a.addr}, &testSite{URL: "http://" + b.addr}

	alice := siteA.newVisitor(t)
	state, cache, _ := bannerOf(alice.page("/?utm_campaign=summer_sale"))
	require.Equal(t, "decision", state)
	assert.Empty(t, cache)
	state, _, fresh := bannerOf(alice.page("/")) // the visit's campaign, from its session
	require.Equal(t, "decision", state)

	tenant.Sandbox.SetFault(sandbox.Fault{Hang: true})
	onB := sameVisitor(t, alice, siteB)
	state, cache, title := bannerOf(onB.page("/"))
	assert.Equal(t, "decision", state, "server B serves the decision server A cached, while the API hangs")
	assert.Equal(t, "stale", cache)
	assert.Equal(t, fresh, title)
	state, _, _ = bannerOf(siteB.newVisitor(t).page("/"))
	assert.Equal(t, "fallback", state, "a new visitor has nothing cached: the default")
	tenant.Sandbox.SetFault(sandbox.Fault{})

	t.Run("Redis killed, then back", func(t *testing.T) {
		redis.Kill()
		for _, site := range []*testSite{siteA, siteB} {
			resp, _ := sameVisitor(t, alice, site).get("/")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			state, cache, _ := bannerOf(sameVisitor(t, alice, site).page("/"))
			assert.Equal(t, "decision", state, "the API answers: a fresh decision, Redis or not")
			assert.Empty(t, cache)
		}
		tenant.Sandbox.SetFault(sandbox.Fault{Status: http.StatusServiceUnavailable})
		state, _, _ := bannerOf(sameVisitor(t, alice, siteB).page("/"))
		assert.Equal(t, "fallback", state, "no Redis, a failing API: the default, never an error page")
		tenant.Sandbox.SetFault(sandbox.Fault{})

		redis.Restart() // empty: its data went with the process
		bob := siteA.newVisitor(t)
		require.Eventually(t, func() bool {
			// go-redis reconnects on its own; the first answers after the restart may still
			// miss the store, until a decision is cached again.
			state, _, _ := bannerOf(bob.page("/"))
			if state != "decision" {
				return false
			}
			tenant.Sandbox.SetFault(sandbox.Fault{Status: http.StatusServiceUnavailable})
			defer tenant.Sandbox.SetFault(sandbox.Fault{})
			state, cache, _ := bannerOf(sameVisitor(t, bob, siteB).page("/"))
			return state == "decision" && cache == "stale"
		}, time.Minute, 50*time.Millisecond, "the cache works again once Redis is back")
	})
}
