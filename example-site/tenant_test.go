package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// startTenant starts a sandbox standing in for a Sitecore tenant, with the site's own demo
// flows and its own client key.
func startTenant(t *testing.T) *sandbox.Server {
	t.Helper()
	flows, err := sandbox.LoadFlows(bytes.NewReader(defaultFlows))
	require.NoError(t, err)
	return personalizetest.NewSandbox(t, sandbox.WithClientKeys("tenant-client-key"), sandbox.WithFlows(flows...))
}

func tenantSiteEnv(tenantURL string) map[string]string {
	return map[string]string{
		"PERSONALIZE_CLIENT_KEY":    "tenant-client-key",
		"PERSONALIZE_BASE_URL":      tenantURL,
		"PERSONALIZE_POINT_OF_SALE": "goairways/nl",
		"PERSONALIZE_LANGUAGE":      "nl",
		"PERSONALIZE_CURRENCY":      "EUR",
		"PERSONALIZE_CHANNEL":       "WEB",
		"PERSONALIZE_TIMEOUT":       "2s",
		"SESSION_KEYS":              testSessionKeys,
	}
}

func TestTenantMode(t *testing.T) {
	tenant := startTenant(t)
	ts := startSite(t, tenantSiteEnv(tenant.URL))
	assert.Nil(t, ts.site.sandbox, "no sandbox in tenant mode")
	assert.Equal(t, ModeTenant, ts.site.cfg.Mode)
	assert.Equal(t, tenant.URL, ts.site.cfg.BaseURL)

	v := ts.newVisitor(t)
	doc := v.page("/?utm_campaign=summer_sale")
	for _, id := range []string{"home_page_banner", "recommended_destinations", "newsletter_offer"} {
		assert.Equal(t, "decision", slotState(doc, id), id)
	}
	assert.Equal(t, "summer", attr(doc.Find(`[data-testid="hero"]`), "data-hero-theme"))
	href := attr(doc.Find(`[data-testid="hero-cta"]`), "href")
	assert.True(t, strings.HasPrefix(href, tenant.URL+"/v3/trackers/"), "tenant tracking links are left as the API sent them: %s", href)

	require.Len(t, tenant.Sandbox.Browsers(), 1, "the tenant created the visitor's browser ID")
	bid := v.cookie("bid_tenant-client-key")
	assert.Equal(t, tenant.Sandbox.Browsers()[0], bid)

	calls := tenant.Sandbox.Calls()
	require.Len(t, calls, 3)
	for _, c := range calls {
		assert.Equal(t, http.StatusOK, c.Status, c.FriendlyID)
		var body map[string]any
		require.NoError(t, json.Unmarshal(c.Body, &body))
		assert.Equal(t, "tenant-client-key", body["clientKey"], "the configured client key")
		assert.Equal(t, "goairways/nl", body["pointOfSale"], "the configured point of sale")
		assert.Equal(t, "WEB", body["channel"])
		assert.Equal(t, "NL", body["language"], "upper case, as the SDKs send it")
		assert.Equal(t, "EUR", body["currencyCode"])
		assert.Equal(t, bid, body["browserId"])
		assert.Equal(t, map[string]any{"campaign": "summer_sale"}, body["params"].(map[string]any)["utm"])
	}

	resp, _ := v.get("/v2/callFlows")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the site mounts no sandbox in tenant mode")

	for _, path := range []string{"/_personalize", "/_personalize/flows"} {
		resp, _ = v.get(path)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no debug page in tenant mode unless PERSONALIZE_DEBUG_TOKEN is set: %s", path)
	}
	resp, _ = v.get("/_personalize/metrics")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no metrics either")

	resp, _ = v.get("/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Server-Timing"), "a real site does not tell visitors what personalization cost")
}

func TestTenantDebugPage(t *testing.T) {
	tenant := startTenant(t)
	env := tenantSiteEnv(tenant.URL)
	env["PERSONALIZE_DEBUG_TOKEN"] = testDebugToken
	ts := startSite(t, env)
	v := ts.newVisitor(t)
	v.page("/?utm_campaign=summer_sale")
	resp, _ := v.get("/_personalize")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the debug page needs the token")

	v.header = http.Header{"Authorization": {"Bearer " + testDebugToken}}
	debug := v.page("/_personalize/flows")
	assert.Contains(t, text(debug.Find(`[data-testid="sandbox-unavailable"]`)), "Not available in tenant mode")
	assert.Equal(t, 0, debug.Find(`[data-testid="sandbox-call"]`).Length())
	assert.Len(t, v.history().Calls, 3, "the library's record of the visitor's calls works in both modes")
}

func TestTenantSessionKeysAreShared(t *testing.T) {
	// Two instances with the same SESSION_KEYS read each other's session cookies: a visit
	// that landed on one with a campaign is still in it on the other.
	tenant := startTenant(t)
	a := startSite(t, tenantSiteEnv(tenant.URL))
	b := startSite(t, tenantSiteEnv(tenant.URL))
	v := a.newVisitor(t)
	v.page("/?utm_campaign=summer_sale")
	// Cookies do not depend on the port: the visitor's jar sends a's cookies to b.
	v.ts = b
	doc := v.page("/")
	assert.Equal(t, "summer", attr(doc.Find(`[data-testid="hero"]`), "data-hero-theme"))

	other := tenantSiteEnv(tenant.URL)
	other["SESSION_KEYS"] = "12ed4b34ce10c816c90022b2f2c18c0e97b2e740251bedfe91283c915b41f549"
	c := startSite(t, other)
	v.ts = c
	doc = v.page("/")
	assert.NotEqual(t, "summer", attr(doc.Find(`[data-testid="hero"]`), "data-hero-theme"), "other keys cannot read the session: a new visit")
}
