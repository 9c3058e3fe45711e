package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize/sandbox"
)

// e2eBudget is the Personalize budget of the end-to-end sites that must personalize: more
// than the default 400ms, so a busy machine running Chromium beside the race detector does
// not turn decisions into defaults. The fault scenario uses the default budget.
const e2eBudget = "2s"

// chromiumPath finds Chromium or Chrome. Without one the end-to-end tests skip, except in CI
// (CI set), where they must run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium, chromium-browser or google-chrome on PATH: CI must run the browser tests (.ci/run installs Debian's chromium)")
	}
	t.Skip("no chromium, chromium-browser or google-chrome on PATH: skipping the browser tests (apt-get install chromium to run them)")
	return ""
}

// chromiumOptions are the flags every browser test starts Chromium with: headless, quiet (no
// background traffic), a profile of its own, and a visitor's User-Agent. Headless Chromium
// names itself HeadlessChrome, which the middleware treats as a crawler; these tests are about
// visitors.
func chromiumOptions(t *testing.T, execPath string, more ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	return append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.UserAgent(browserUA),
		chromedp.WindowSize(1280, 900),
	}, more...)
}

// TestBrowser drives the site on the sandbox in headless Chromium, one browser for every
// scenario, each scenario a fresh visitor (its own browser context: no shared cookies).
func TestBrowser(t *testing.T) {
	t.Parallel() // a browser or a child process: mostly waiting, beside the other tests
	if testing.Short() {
		t.Skip("runs a browser; skipped with -short")
	}
	execPath := chromiumPath(t)
	suiteStart := time.Now()

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(t, execPath)...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// The first Do starts the browser, which lives as long as this context: no timeout here.
	require.NoError(t, chromedp.Do(browserCtx), "starting %s", execPath)

	// newTab is a new visitor: a tab in a new browser context, closed when the test ends.
	newTab := func(t *testing.T) context.Context {
		tab, cancelTab := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
		require.NoError(t, chromedp.Do(tab), "opening a tab")
		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		t.Cleanup(func() { cancel(); cancelTab() })
		return ctx
	}

	t.Run("first visit gets the browser ID cookie and reloads keep it", func(t *testing.T) {
		ts := startSite(t, map[string]string{"PERSONALIZE_BUDGET": e2eBudget})
		ctx := newTab(t)
		do(t, ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hero"]`)))
		first := browserCookie(t, ctx, ts.URL)
		require.NotEmpty(t, first, "the first visit sets bid_%s", sandbox.DefaultClientKey)

		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hero"]`)))
		assert.Equal(t, first, browserCookie(t, ctx, ts.URL), "a reload keeps the browser ID")
		assert.Equal(t, "returning", attribute(t, ctx, `[data-testid="hero"]`, "data-hero-theme"), "and the visitor is welcomed back")

		do(t, ctx, chromedp.Navigate(ts.URL+"/booking"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="trip"]`)))
		assert.Equal(t, first, browserCookie(t, ctx, ts.URL))
		assert.Equal(t, []string{first}, ts.sandbox(t).Browsers(), "the sandbox created exactly one browser")
		calls := ts.sandbox(t).Calls()
		assert.Len(t, calls, 7, "three flows per home page, one for booking")
		for _, c := range calls {
			assert.Equal(t, first, c.Request.BrowserID, "%s was called for the visitor", c.FriendlyID)
		}
	})

	t.Run("the summer sale landing lasts for the visit", func(t *testing.T) {
		ts := startSite(t, map[string]string{"PERSONALIZE_BUDGET": e2eBudget})
		ctx := newTab(t)
		do(t, ctx, chromedp.Navigate(ts.URL+"/?utm_campaign=summer_sale"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hero"]`)))
		assert.Equal(t, "summer", attribute(t, ctx, `[data-testid="hero"]`, "data-hero-theme"))
		assert.Equal(t, "Summer sale: 30% off beach escapes", textOf(t, ctx, `.hero__title`))

		// The next page, reached by the navigation link: no query.
		do(t, ctx, chromedp.Click(chromedp.CSS(`.site-nav a[href="/booking"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="trip"]`)),
			chromedp.Click(chromedp.CSS(`.site-nav a[href="/"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="hero"]`)))
		location, err := chromedp.Run(ctx, chromedp.Location())
		require.NoError(t, err)
		assert.Equal(t, ts.URL+"/", location)
		assert.Equal(t, "summer", attribute(t, ctx, `[data-testid="hero"]`, "data-hero-theme"), "the next page without query still shows the summer banner")
		assert.Equal(t, "Summer sale: 30% off beach escapes", textOf(t, ctx, `.hero__title`))
	})

	t.Run("an offer's tracking link goes through the tracker to its page", func(t *testing.T) {
		ts := startSite(t, map[string]string{"PERSONALIZE_BUDGET": e2eBudget})
		ctx := newTab(t)
		do(t, ctx, chromedp.Navigate(ts.URL+"/booking"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="ancillary-offer"]`)))
		assert.Equal(t, "decision", attribute(t, ctx, `[data-personalize-slot="ancillary_offers"]`, "data-personalize-state"))
		offers, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(`[data-testid="ancillary-offer"]`)))
		require.NoError(t, err)
		require.Len(t, offers, 4)
		var names []string
		for _, n := range offers {
			names = append(names, n.AttributeValue("data-offer-name"))
		}
		assert.Equal(t, []string{"Ancillary bundle", "Ancillary seat", "Ancillary bag", "Ancillary insurance"}, names)

		do(t, ctx,
			chromedp.Click(chromedp.CSS(`[data-offer-name="Ancillary seat"] a[data-testid="ancillary-link"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="added"]`)))
		assert.Equal(t, "Seat added to your trip", textOf(t, ctx, `[data-testid="added"]`))
		location, err := chromedp.Run(ctx, chromedp.Location())
		require.NoError(t, err)
		u, err := url.Parse(location)
		require.NoError(t, err)
		assert.Equal(t, "/booking", u.Path)
		assert.Equal(t, "seat", u.Query().Get("added"))

		clicks := ts.sandbox(t).Clicks()
		require.Len(t, clicks, 1, "the sandbox recorded the click")
		assert.Equal(t, "Ancillary seat", clicks[0].OfferName)
		assert.Equal(t, "ancillary_offers", clicks[0].FriendlyID)
		assert.Equal(t, browserCookie(t, ctx, ts.URL), clicks[0].BrowserID)
	})

	t.Run("signing in makes the banner greet the guest", func(t *testing.T) {
		ts := startSite(t, map[string]string{"PERSONALIZE_BUDGET": e2eBudget})
		ctx := newTab(t)
		do(t, ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hero"]`)))
		bid := browserCookie(t, ctx, ts.URL)
		require.NotEmpty(t, bid)

		do(t, ctx,
			chromedp.Click(chromedp.CSS(`[data-testid="sign-in-link"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in"]`)))
		assert.Equal(t, "Sign in as Ada", textOf(t, ctx, `[data-testid="sign-in"]`))
		do(t, ctx,
			chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="member"]`)))
		location, err := chromedp.Run(ctx, chromedp.Location())
		require.NoError(t, err)
		assert.Equal(t, ts.URL+"/", location, "the sign-in goes home")
		assert.Equal(t, "Ada", textOf(t, ctx, `.member__name`))

		// The IDENTITY event travels off the request path, so the first page after the
		// sign-in may still show the usual banner: deliver what is queued, then reload.
		flushEvents(t, ts)
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hero"]`)))
		assert.Equal(t, "Welcome back, Ada", textOf(t, ctx, `.hero__title`))
		assert.Equal(t, "member", attribute(t, ctx, `[data-testid="hero"]`, "data-hero-theme"))

		sb := ts.sandbox(t)
		identities := eventsOf(sb, "IDENTITY")
		require.Len(t, identities, 1, "the sandbox holds the IDENTITY event")
		assert.Equal(t, bid, identities[0].BrowserID, "for the visitor's browser")
		assert.Equal(t, bid, browserCookie(t, ctx, ts.URL))
		assert.Equal(t, []string{bid}, sb.Browsers())
		for _, c := range sb.Calls() {
			assert.Equal(t, bid, c.Request.BrowserID, "%s was called for the same browser", c.FriendlyID)
		}

		do(t, ctx,
			chromedp.Click(chromedp.CSS(`[data-testid="sign-out"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in-link"]`)))
	})

	t.Run("with the sandbox hanging every page renders its defaults within the budget", func(t *testing.T) {
		ts := startSite(t, nil) // the default 400ms budget
		ts.sandbox(t).SetFault(sandbox.Fault{Hang: true})
		ctx := newTab(t)
		pages := []struct {
			path  string
			slots []string
		}{
			{"/", []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}},
			{"/?utm_campaign=summer_sale", []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}},
			{"/booking", []string{"ancillary_offers"}},
		}
		for _, p := range pages {
			start := time.Now()
			do(t, ctx, chromedp.Navigate(ts.URL+p.path), chromedp.WaitReady(chromedp.CSS(`footer`)))
			// That the budget bounds the page is checked on a fake clock
			// (TestDefaultsWhenPersonalizeFails); a browser on a shared machine only reports it.
			t.Logf("%s took %v", p.path, time.Since(start).Round(time.Millisecond))
			for _, id := range p.slots {
				assert.Equal(t, "fallback", attribute(t, ctx, `[data-personalize-slot="`+id+`"]`, "data-personalize-state"), "%s %s", p.path, id)
			}
		}
		do(t, ctx, chromedp.Navigate(ts.URL+"/"))
		assert.Equal(t, "See Europe from €39", textOf(t, ctx, `.hero__title`), "the default banner")
		cards, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(`[data-personalize-slot="recommended_destinations"] article`)))
		require.NoError(t, err)
		assert.Len(t, cards, 3, "the default destinations")

		do(t, ctx, chromedp.Navigate(ts.URL+"/_personalize/flows?run=home_page_banner"))
		assert.Equal(t, "timeout", attribute(t, ctx, `[data-testid="ran"]`, "data-outcome"), "the debug page says why")
	})

	t.Logf("browser suite took %v", time.Since(suiteStart).Round(time.Millisecond))
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// attribute returns an attribute of the first element matching the CSS selector.
func attribute(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	res, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	require.NoError(t, err, "%s[%s]", sel, name)
	return res.Value
}

// textOf returns the visible text of the first element matching the CSS selector.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return strings.TrimSpace(s)
}

// browserCookie returns the value of the browser ID cookie the tab holds for the site.
func browserCookie(t *testing.T, ctx context.Context, siteURL string) string {
	t.Helper()
	cookies, err := chromedp.Run(ctx, func(ctx context.Context, tgt *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tgt, network.GetCookies, network.GetCookiesParams{URLs: []string{siteURL}})
		return res.Cookies, err
	})
	require.NoError(t, err)
	for _, c := range cookies {
		if c.Name == bidCookie {
			return c.Value
		}
	}
	return ""
}
