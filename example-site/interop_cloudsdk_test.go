package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// The Cloud SDK's cookies (core's consts: COOKIE_NAME_PREFIX "sc_" + BROWSER_ID_COOKIE_NAME
// "cid"; personalize's initializer: the same + "_personalize"), the library's names for them
// with CloudSDKCookies, the default of a client made WithEdge.
const (
	cloudSDKCookie      = middleware.CloudSDKBrowserCookie
	cloudSDKGuestCookie = middleware.CloudSDKGuestCookie
)

// cloudSDKSoftwareID is the X-Client-Software-ID of the Cloud SDK's events (events' consts:
// X_CLIENT_SOFTWARE_ID, the package's name and version).
const cloudSDKSoftwareID = "@sitecore-cloudsdk/events " + cloudSDKVersion

// testCloudSDKAfterLibrary: a page the library personalized over the regional API with the
// Cloud SDK's cookie name (middleware.Options{CookieName: "sc_cid"}), then the Cloud SDK's
// browser bundle (core + events, from npm, bundled by esbuild) running in it with its Edge URL
// on the page's origin, where the sandbox serves the Sitecore Edge endpoints. The SDK must
// read sc_cid, create no browser through the Edge proxy, and send its page view for the
// library's browser ID.
func testCloudSDKAfterLibrary(t *testing.T, ctx context.Context, bundle []byte) {
	site := startSDKSite(t, sdkSiteOptions{Middleware: middleware.Options{CookieName: cloudSDKCookie}, Bundle: bundle})
	do(t, ctx, chromedp.Navigate(site.URL+pageCloudSDK))
	out := awaitSDK(t, ctx)
	assert.Equal(t, cloudSDKVersion, out.Version, "the Cloud SDK the page ran")

	assert.Equal(t, "decision", attribute(t, ctx, `[data-testid="hero"]`, "data-state"), "the library personalized the page")
	libID := attribute(t, ctx, `[data-testid="hero"]`, "data-browser-id")
	require.NotEmpty(t, libID, "the library created a browser for the visitor")
	cookie := tabCookie(t, ctx, site.URL, cloudSDKCookie)
	require.NotNil(t, cookie, "the library set %s", cloudSDKCookie)
	assert.Equal(t, libID, cookie.Value)
	assertSharedCookie(t, cookie)
	assert.Nil(t, tabCookie(t, ctx, site.URL, engageCookie), "no bid_ cookie beside sc_cid")
	assert.Equal(t, libID, out.BrowserID, "the Cloud SDK's getBrowserId reads the library's sc_cid")

	assert.Equal(t, []string{"POST " + sandbox.PathEdgeEvents}, sdkPaths(t, site),
		"the Cloud SDK's only request is its page view through the Edge proxy (no browser/create.json)")
	views := eventsOf(site.Sandbox, "VIEW")
	require.Len(t, views, 1, "the Cloud SDK's page view reached the sandbox (the site sends no VIEW of its own)")
	assertCloudSDKView(t, views[0], libID)
	assert.Equal(t, []string{libID}, site.Sandbox.Browsers(), "one browser, the library's")
}

// testCloudSDKAfterLibraryEdge, server first: a page the library personalized in Edge mode
// (WithEdge; the middleware's default cookies, CookiesAuto: sc_cid and sc_cid_personalize)
// creates the visitor, then the Cloud SDK with its personalize package
// (enablePersonalizeCookie) runs in it, its flow and page view through the same sandbox. The
// SDK must take both cookies as they are: no browser/create.json, no show.json, and its flow
// carries the library's browser ID and guest ref.
func testCloudSDKAfterLibraryEdge(t *testing.T, ctx context.Context, bundle []byte) {
	site := startSDKSite(t, sdkSiteOptions{Bundle: bundle, Edge: true})
	do(t, ctx, chromedp.Navigate(site.URL+pageCloudSDKPersonalize))
	out := awaitSDK(t, ctx)
	assert.Equal(t, cloudSDKVersion, out.Version, "the Cloud SDK's core the page ran")
	assert.Equal(t, cloudSDKVersion, out.PersonalizeVersion, "and its personalize package")

	assert.Equal(t, "decision", attribute(t, ctx, `[data-testid="hero"]`, "data-state"), "the library personalized the page")
	libID := attribute(t, ctx, `[data-testid="hero"]`, "data-browser-id")
	require.NotEmpty(t, libID, "the library created a browser for the visitor")
	sb := site.Sandbox
	assert.Equal(t, []string{libID}, sb.Browsers(), "one browser, the library's: the Cloud SDK created none")
	guest := sb.GuestRef(libID)
	require.NotEmpty(t, guest, "the sandbox issued the browser's guest ref")
	assert.Equal(t, []string{"GET " + sandbox.PathEdgeBrowserCreate, "POST " + sandbox.PathEdgePersonalize}, site.libraryRequests(),
		"the library created the browser through the Edge and took its guest ref from the answer (no show.json)")

	for name, want := range map[string]string{cloudSDKCookie: libID, cloudSDKGuestCookie: guest} {
		c := tabCookie(t, ctx, site.URL, name)
		if assert.NotNil(t, c, "the library set %s", name) {
			assert.Equal(t, want, c.Value, name)
			assertSharedCookie(t, c)
		}
		assert.Equal(t, []string{want}, cookieValues(site.setCookiesOf(pageCloudSDKPersonalize), name), "the page set %s once", name)
	}
	assert.Nil(t, tabCookie(t, ctx, site.URL, engageCookie), "no bid_ cookie in Edge mode")
	assert.Equal(t, libID, out.BrowserID, "the Cloud SDK's getBrowserId reads the library's sc_cid")
	assert.Equal(t, guest, out.GuestRef, "the Cloud SDK kept the library's sc_cid_personalize")

	assert.ElementsMatch(t, []string{"POST " + sandbox.PathEdgePersonalize, "POST " + sandbox.PathEdgeEvents}, sdkPaths(t, site),
		"the Cloud SDK sent its flow and its page view, and neither browser/create.json nor show.json")
	calls := sb.Calls()
	require.Len(t, calls, 2, "the library's flow call, then the Cloud SDK's")
	assert.Equal(t, personalize.Version, calls[0].Header.Get("X-Library-Version"), "the library called first")
	assert.Equal(t, cloudSDKVersion, calls[1].Header.Get("X-Library-Version"), "then the Cloud SDK")
	for _, c := range calls {
		assertEdgeCall(t, c, libID, guest)
	}
	// The sandbox counts calls per browser: the SDK's call is the browser's second.
	assert.JSONEq(t, `{"title":"Welcome back"}`, string(out.Flow), "the Cloud SDK's personalize ran for the library's browser")

	views := eventsOf(sb, "VIEW")
	require.Len(t, views, 1, "the Cloud SDK's page view reached the sandbox (the site sends no VIEW of its own)")
	assertCloudSDKView(t, views[0], libID)
}

// testLibraryAfterCloudSDKEdge, browser first: a page that runs only the Cloud SDK, with
// personalize, creates the visitor (browser/create.json through the sandbox's Edge endpoint,
// sc_cid, and sc_cid_personalize from the answer's customer_ref), then a page the library
// personalizes in Edge mode in the same tab. The library must use the SDK's browser and guest
// ref, create no browser, look up no guest ref, and renew both cookies as the SDK set them.
func testLibraryAfterCloudSDKEdge(t *testing.T, ctx context.Context, bundle []byte) {
	site := startSDKSite(t, sdkSiteOptions{Bundle: bundle, Edge: true})
	do(t, ctx, chromedp.Navigate(site.URL+pageCloudSDKOnly))
	out := awaitSDK(t, ctx)
	sdkID := out.BrowserID
	require.NotEmpty(t, sdkID, "the Cloud SDK created a browser")
	sb := site.Sandbox
	require.Equal(t, []string{sdkID}, sb.Browsers(), "through the sandbox's Edge browser/create.json")
	guest := sb.GuestRef(sdkID)
	require.NotEmpty(t, guest, "the sandbox issued the browser's guest ref")
	assert.Equal(t, guest, out.GuestRef, "the Cloud SDK set sc_cid_personalize to create.json's customer_ref")
	assert.JSONEq(t, `{"title":"Fly for less"}`, string(out.Flow), "the Cloud SDK's flow is the browser's first")
	assert.ElementsMatch(t, []string{"GET " + sandbox.PathEdgeBrowserCreate, "POST " + sandbox.PathEdgePersonalize, "POST " + sandbox.PathEdgeEvents},
		sdkPaths(t, site), "the Cloud SDK created the browser, then sent its flow and page view (no show.json)")
	assert.Empty(t, site.setCookiesOf(pageCloudSDKOnly), "the SDK-only page sets no cookie from the server")
	before := map[string]float64{}
	for name, want := range map[string]string{cloudSDKCookie: sdkID, cloudSDKGuestCookie: guest} {
		c := tabCookie(t, ctx, site.URL, name)
		require.NotNil(t, c, "the Cloud SDK set %s", name)
		assert.Equal(t, want, c.Value, name)
		assertSharedCookie(t, c)
		before[name] = c.Expires
	}
	sdkCall := sb.Calls()
	require.Len(t, sdkCall, 1)
	assertEdgeCall(t, sdkCall[0], sdkID, guest)

	do(t, ctx, chromedp.Navigate(site.URL+pagePlain), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hero"]`)))
	assert.Equal(t, sdkID, attribute(t, ctx, `[data-testid="hero"]`, "data-browser-id"), "the library took the Cloud SDK's browser ID from sc_cid")
	assert.Equal(t, "decision", attribute(t, ctx, `[data-testid="hero"]`, "data-state"))
	assert.Equal(t, "Welcome back", textOf(t, ctx, `[data-testid="hero"]`), "the sandbox saw the library's call as the same browser's second")
	assert.Equal(t, []string{sdkID}, sb.Browsers(), "the library created no browser")
	assert.Equal(t, []string{"POST " + sandbox.PathEdgePersonalize}, site.libraryRequests(),
		"the library's only request is its flow: no browser/create.json, no show.json (the guest ref came from sc_cid_personalize)")
	calls := sb.Calls()
	require.Len(t, calls, 2, "the Cloud SDK's flow call, then the library's")
	assert.Equal(t, personalize.Version, calls[1].Header.Get("X-Library-Version"))
	assertEdgeCall(t, calls[1], sdkID, guest)

	// The library renews both cookies when a flow runs; the renewals must say what the SDK
	// said (get-default-cookie-attributes.ts: Path=/, 730 days, SameSite=None, Secure).
	lines := site.setCookiesOf(pagePlain)
	for name, want := range map[string]string{cloudSDKCookie: sdkID, cloudSDKGuestCookie: guest} {
		var renewals []map[string]string
		for _, line := range lines {
			if n, value, attrs := cookieAttrs(line); n == name {
				assert.Equal(t, want, value, "%s renewed with the same value", name)
				renewals = append(renewals, attrs)
			}
		}
		require.Len(t, renewals, 1, "the personalized page renews %s once: %q", name, lines)
		attrs := renewals[0]
		assert.True(t, strings.EqualFold(attrs["samesite"], "None"), "%s: SameSite=None as the Cloud SDK sets it, got %q", name, attrs["samesite"])
		assert.Contains(t, attrs, "secure", "%s: Secure as the Cloud SDK sets it", name)
		assert.NotContains(t, attrs, "httponly", "%s: the Cloud SDK must still read it", name)
		assert.Equal(t, "/", attrs["path"], name)
		assert.Equal(t, "63072000", attrs["max-age"], "%s: 730 days, as the Cloud SDK sets it", name)

		after := tabCookie(t, ctx, site.URL, name)
		require.NotNil(t, after, "the browser still holds %s", name)
		assert.Equal(t, want, after.Value, "%s: the same value after the library's page", name)
		assertSharedCookie(t, after)
		assert.GreaterOrEqual(t, after.Expires, before[name], "%s: the renewal extends the cookie, never shortens it", name)
	}
}

// sdkPaths returns the browser SDK's requests that reached the sandbox through the site's
// origin, as "METHOD path", checking that each names the Cloud SDK's version.
func sdkPaths(t *testing.T, site *sdkSite) []string {
	t.Helper()
	var out []string
	for _, r := range site.apiRequests() {
		assert.Equal(t, cloudSDKVersion, r.LibraryVersion, "%s %s: only the Cloud SDK calls the sandbox through the page's origin", r.Method, r.Path)
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// assertEdgeCall checks a flow call the sandbox recorded came through the Edge for the
// interop site, for browser id and guest ref guest, and was answered.
func assertEdgeCall(t *testing.T, c sandbox.CallRecord, id, guest string) {
	t.Helper()
	who := c.Header.Get("X-Library-Version")
	assert.Equal(t, sandbox.PathEdgePersonalize, c.Path, "%s: through the Edge", who)
	assert.Equal(t, interopContext, c.Request.ContextID, "%s: sitecoreContextId", who)
	assert.Equal(t, interopSite, c.Request.SiteName, "%s: siteId", who)
	assert.Equal(t, id, c.Request.BrowserID, "%s: the shared browser", who)
	assert.Equal(t, guest, c.Request.GuestRef, "%s: the shared guest ref", who)
	assert.Equal(t, http.StatusOK, c.Status, "%s: %s %s", who, c.Code, c.Response)
	assert.Empty(t, c.Code, who)
}

// assertCloudSDKView checks the Cloud SDK's page view as the sandbox's Edge events endpoint
// recorded it: the interop site, the Cloud SDK's headers, browser id.
func assertCloudSDKView(t *testing.T, ev sandbox.EventRecord, id string) {
	t.Helper()
	assert.Equal(t, interopContext, ev.ContextID, "sitecoreContextId")
	assert.Equal(t, interopSite, ev.SiteName, "siteId")
	assert.Equal(t, cloudSDKVersion, ev.Header.Get("X-Library-Version"))
	assert.Equal(t, cloudSDKSoftwareID, ev.Header.Get("X-Client-Software-ID"))
	assert.Equal(t, id, ev.BrowserID, "the Cloud SDK's page view carries the shared browser ID")
	assert.Equal(t, "EN", ev.Body["language"], "inferred from <html lang>")
	assert.Equal(t, "WEB", ev.Body["channel"])
	// Through the Edge proxy the tenant comes from the context ID: the SDK sends both empty.
	assert.Equal(t, "", ev.ClientKey)
	assert.Equal(t, "", ev.Body["client_key"])
	assert.Equal(t, "", ev.Body["pos"])
}

// cookieValues returns the values the Set-Cookie lines give the cookie name.
func cookieValues(lines []string, name string) []string {
	var out []string
	for _, l := range lines {
		if n, v, _ := cookieAttrs(l); n == name {
			out = append(out, v)
		}
	}
	return out
}
