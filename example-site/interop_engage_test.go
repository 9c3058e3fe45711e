package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// engageCookie is the browser ID cookie Engage and the library share by default.
const engageCookie = middleware.CookiePrefix + sandbox.DefaultClientKey

// testEngageAfterLibrary: a page the library personalized on the server (creating the visitor's
// browser), then Engage's browser SDK running in it. Engage must find the library's cookie
// and use its browser ID for its events and flows, creating no second browser.
func testEngageAfterLibrary(t *testing.T, ctx context.Context) {
	site := startSDKSite(t, sdkSiteOptions{})
	do(t, ctx, chromedp.Navigate(site.URL+pageEngage))
	out := awaitSDK(t, ctx)
	assert.Equal(t, engageVersion, out.Version, "the Engage the page ran")

	assert.Equal(t, "decision", attribute(t, ctx, `[data-testid="hero"]`, "data-state"), "the library personalized the page")
	libID := attribute(t, ctx, `[data-testid="hero"]`, "data-browser-id")
	require.NotEmpty(t, libID, "the library created a browser for the visitor")
	cookie := tabCookie(t, ctx, site.URL, engageCookie)
	require.NotNil(t, cookie, "the browser holds %s", engageCookie)
	assert.Equal(t, libID, cookie.Value)
	assertSharedCookie(t, cookie)

	assert.Equal(t, libID, out.BrowserID, "Engage reads the library's browser ID")
	sb := site.Sandbox
	assert.Equal(t, []string{libID}, sb.Browsers(), "one browser, the library's: Engage created none")
	var engagePaths []string
	for _, r := range site.apiRequests() {
		assert.Equal(t, engageVersion, r.LibraryVersion, "%s %s: only Engage calls the sandbox through the page's origin", r.Method, r.Path)
		engagePaths = append(engagePaths, r.Method+" "+r.Path)
	}
	assert.ElementsMatch(t, []string{"POST /v1.2/events", "POST /v2/callFlows"}, engagePaths, "Engage sent its page view and its flow, and no browser/create.json")

	views := eventsOf(sb, "VIEW")
	require.Len(t, views, 1, "Engage's page view reached the sandbox (the site sends no VIEW of its own here)")
	assert.Equal(t, libID, views[0].BrowserID, "Engage's engage.pageView carries the library's browser ID")
	assert.Equal(t, "EN", views[0].Body["language"], "inferred from <html lang>")

	calls := sb.Calls()
	require.Len(t, calls, 2, "the library's flow call, then Engage's")
	assert.Equal(t, personalize.Version, calls[0].Header.Get("X-Library-Version"), "the library called first")
	assert.Equal(t, engageVersion, calls[1].Header.Get("X-Library-Version"), "then Engage")
	for _, c := range calls {
		assert.Equal(t, libID, c.Request.BrowserID, "%s (X-Library-Version %s) ran for the shared browser", c.FriendlyID, c.Header.Get("X-Library-Version"))
		assert.Equal(t, 200, c.Status, "%s: %s", c.Code, c.Response)
	}
	// The sandbox counts calls per browser: Engage's call is the browser's second.
	assert.JSONEq(t, `{"title":"Welcome back"}`, string(out.Flow), "engage.personalize ran for the same browser as the library")
}

// testLibraryAfterEngage: a page that only runs Engage creates the visitor (browser/create.json,
// the bid_ cookie set by Engage), then a page the library personalizes. The library must use
// Engage's browser ID, create no browser, and renew the cookie without downgrading what
// Engage set: SameSite=None; Secure, not HttpOnly, persistent.
func testLibraryAfterEngage(t *testing.T, ctx context.Context) {
	site := startSDKSite(t, sdkSiteOptions{})
	do(t, ctx, chromedp.Navigate(site.URL+pageEngageOnly))
	out := awaitSDK(t, ctx)
	engageID := out.BrowserID
	require.NotEmpty(t, engageID, "Engage created a browser")
	sb := site.Sandbox
	require.Equal(t, []string{engageID}, sb.Browsers(), "through the sandbox's browser/create.json")
	assert.JSONEq(t, `{"title":"Fly for less"}`, string(out.Flow), "Engage's flow is the browser's first")
	before := tabCookie(t, ctx, site.URL, engageCookie)
	require.NotNil(t, before, "Engage set %s", engageCookie)
	assert.Equal(t, engageID, before.Value)
	assertSharedCookie(t, before)
	assert.Empty(t, site.setCookiesOf(pageEngageOnly), "the Engage-only page sets no cookie from the server")

	do(t, ctx, chromedp.Navigate(site.URL+pagePlain), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hero"]`)))
	assert.Equal(t, engageID, attribute(t, ctx, `[data-testid="hero"]`, "data-browser-id"), "the library took Engage's browser ID from the cookie")
	assert.Equal(t, "decision", attribute(t, ctx, `[data-testid="hero"]`, "data-state"))
	assert.Equal(t, "Welcome back", textOf(t, ctx, `[data-testid="hero"]`), "the sandbox saw the library's call as the same browser's second")
	assert.Equal(t, []string{engageID}, sb.Browsers(), "the library created no browser")
	for _, c := range sb.Calls() {
		assert.Equal(t, engageID, c.Request.BrowserID, "%s (X-Library-Version %s)", c.FriendlyID, c.Header.Get("X-Library-Version"))
	}

	// The library renews the cookie when a flow runs; the renewal must say what Engage said.
	var renewals []map[string]string
	for _, line := range site.setCookiesOf(pagePlain) {
		if name, value, attrs := cookieAttrs(line); name == engageCookie {
			assert.Equal(t, engageID, value, "renewed with the same ID")
			renewals = append(renewals, attrs)
		}
	}
	require.Len(t, renewals, 1, "the personalized page renews %s once: %q", engageCookie, site.setCookiesOf(pagePlain))
	attrs := renewals[0]
	assert.True(t, strings.EqualFold(attrs["samesite"], "None"), "SameSite=None as Engage sets it, got %q", attrs["samesite"])
	assert.Contains(t, attrs, "secure", "Secure as Engage sets it")
	assert.NotContains(t, attrs, "httponly", "Engage must still read it")
	assert.Equal(t, "/", attrs["path"])
	assert.Equal(t, "63072000", attrs["max-age"], "730 days, as Engage sets it")

	after := tabCookie(t, ctx, site.URL, engageCookie)
	require.NotNil(t, after, "the browser still holds %s", engageCookie)
	assert.Equal(t, engageID, after.Value, "same ID after the library's page")
	assertSharedCookie(t, after)
	assert.GreaterOrEqual(t, after.Expires, before.Expires, "the renewal extends the cookie, never shortens it")
}

// assertSharedCookie checks the browser ID cookie as Chromium stored it has the attributes
// the Sitecore browser SDKs give it (SameSite=None; Secure; Path=/; persistent) and that a
// script can read it.
func assertSharedCookie(t *testing.T, c *network.Cookie) {
	t.Helper()
	assert.Equal(t, network.CookieSameSiteNone, c.SameSite, "%s SameSite", c.Name)
	assert.True(t, c.Secure, "%s Secure", c.Name)
	assert.False(t, c.HTTPOnly, "%s must be readable by the browser SDK", c.Name)
	assert.False(t, c.Session, "%s persists", c.Name)
	assert.Equal(t, "/", c.Path, "%s Path", c.Name)
}
