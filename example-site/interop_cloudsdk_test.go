package main

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
)

// cloudSDKCookie is the Cloud SDK's browser ID cookie (core's consts: COOKIE_NAME_PREFIX "sc_" +
// BROWSER_ID_COOKIE_NAME "cid"), the library's cookie name for sites that run the Cloud SDK.
const cloudSDKCookie = "sc_cid"

// testCloudSDKAfterLibrary: a page the library personalized with the Cloud SDK's cookie name
// (middleware.Options{CookieName: "sc_cid"}), then the Cloud SDK's browser bundle (core +
// events, from npm, bundled by esbuild) running in it with its Edge URL on the page's origin.
// The SDK must read sc_cid, create no browser through the Edge proxy, and send its page view
// for the library's browser ID.
func testCloudSDKAfterLibrary(t *testing.T, ctx context.Context, bundle []byte) {
	site := startSDKSite(t, middleware.Options{CookieName: cloudSDKCookie}, bundle)
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

	edge := site.edgeRequests()
	require.Len(t, edge, 1, "the Cloud SDK's only Edge request is its page view (no browser/create.json): %+v", edge)
	ev := edge[0]
	assert.Equal(t, "POST /v1/events/v1.2/events", ev.Method+" "+ev.Path)
	assert.Equal(t, []string{interopContext}, ev.Query["sitecoreContextId"])
	assert.Equal(t, []string{interopSite}, ev.Query["siteId"])
	assert.Equal(t, cloudSDKVersion, ev.Header.Get("X-Library-Version"))
	assert.Equal(t, libID, ev.Body["browser_id"], "the Cloud SDK's page view carries the library's browser ID")
	assert.Equal(t, "VIEW", ev.Body["type"])
	assert.Equal(t, "EN", ev.Body["language"], "inferred from <html lang>")
	assert.Equal(t, "WEB", ev.Body["channel"])
	// Through the Edge proxy the tenant comes from the context ID: the SDK sends both empty.
	assert.Equal(t, "", ev.Body["client_key"])
	assert.Equal(t, "", ev.Body["pos"])

	assert.Equal(t, []string{libID}, site.Sandbox.Browsers(), "one browser, the library's")
	assert.Empty(t, site.apiRequests(), "the Cloud SDK calls only the Edge proxy's paths")
}
