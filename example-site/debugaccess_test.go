package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testDebugToken = "5b1f0c8e2a9d47f3b6e1c0a94d7f28e3"

func TestDebugPageShowsOnlyTheVisitorsOwnData(t *testing.T) {
	ts := startSite(t, nil)
	alice, bob := ts.newVisitor(t), ts.newVisitor(t)
	alice.page("/?utm_campaign=summer_sale")
	alice.page("/booking")
	aliceID := alice.cookie(bidCookie)
	require.NotEmpty(t, aliceID)
	bob.page("/")
	bobID := bob.cookie(bidCookie)
	require.NotEmpty(t, bobID)
	flushEvents(t, ts) // the VIEW events are in the sandbox

	for _, path := range []string{"/_personalize", "/_personalize?format=json", "/_personalize/flows"} {
		resp, body := bob.get(path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		page := string(body)
		assert.NotContains(t, page, aliceID, "%s: another visitor's browser ID is a credential", path)
		assert.NotContains(t, page, short(aliceID), "%s: not even shortened", path)
		assert.NotContains(t, page, "summer_sale", "%s: nor their campaign", path)
	}

	h := bob.history()
	assert.Equal(t, bobID, h.BrowserID)
	assert.Len(t, h.Calls, 3, "bob's three home-page calls, not alice's four")
	require.NotEmpty(t, h.Events)
	assert.Equal(t, "VIEW", h.Events[0].Type)
	doc := bob.page("/_personalize/flows")
	assert.Equal(t, 3, doc.Find(`[data-testid="sandbox-call"]`).Length())
	assert.Equal(t, 3, doc.Find(`[data-testid="sandbox-call"] .you`).Length())
	events := doc.Find(`[data-testid="sandbox-event"]`)
	assert.Positive(t, events.Length(), "bob's VIEW event")
	assert.Equal(t, events.Length(), events.Find(".you").Length(), "only bob's events")

	stranger := ts.newVisitor(t)
	h = stranger.history()
	assert.Empty(t, h.BrowserID)
	assert.Empty(t, h.Calls, "a visitor without a browser ID sees no calls")
	assert.Empty(t, h.Events)
	doc = stranger.page("/_personalize/flows")
	assert.Equal(t, 0, doc.Find(`[data-testid="sandbox-call"]`).Length())
	assert.Equal(t, 0, doc.Find(`[data-testid="sandbox-event"]`).Length())
}

func TestDebugRoutesNeedTheTokenWhenOneIsSet(t *testing.T) {
	ts := startSite(t, map[string]string{"PERSONALIZE_DEBUG_TOKEN": testDebugToken})
	v := ts.newVisitor(t)
	for _, path := range []string{"/_personalize", "/_personalize/flows", "/_personalize/metrics"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := v.get(path)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no token")
			assert.Equal(t, `Basic realm="go-personalize debug", charset="UTF-8"`, resp.Header.Get("WWW-Authenticate"), "browsers ask for it")
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

			resp, _ = v.get(path, "Authorization", "Bearer "+testDebugToken[:len(testDebugToken)-1]+"0")
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a wrong token")
			resp, _ = v.get(path, "Authorization", "Bearer "+testDebugToken+"0")
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a longer token")

			resp, _ = v.get(path, "Authorization", "Bearer "+testDebugToken)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "a bearer token")
			req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
			req.SetBasicAuth("anyone", testDebugToken)
			resp, _ = v.get(path, "Authorization", req.Header.Get("Authorization"))
			assert.Equal(t, http.StatusOK, resp.StatusCode, "the token as a Basic password")
		})
	}
	resp, _ := v.get("/")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the site's pages need no token")
}

func TestDebugTokenConfig(t *testing.T) {
	_, err := loadConfig(envOf(map[string]string{"PERSONALIZE_DEBUG_TOKEN": "secret"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PERSONALIZE_DEBUG_TOKEN: too short")
	assert.Contains(t, err.Error(), "openssl rand -hex 16")

	cfg, err := loadConfig(envOf(nil))
	require.NoError(t, err)
	assert.True(t, cfg.debugMounted(), "mounted in sandbox mode without a token")
	tenant := tenantSiteEnv("http://127.0.0.1:1")
	cfg, err = loadConfig(envOf(tenant))
	require.NoError(t, err)
	assert.False(t, cfg.debugMounted(), "not mounted in tenant mode without a token")
	tenant["PERSONALIZE_DEBUG_TOKEN"] = testDebugToken
	cfg, err = loadConfig(envOf(tenant))
	require.NoError(t, err)
	assert.True(t, cfg.debugMounted())
}

// history is what the library's debug handler at /_personalize answers as JSON.
type history struct {
	BrowserID string `json:"browser_id"`
	Blocked   string `json:"blocked_reason"`
	Campaign  struct {
		UTM map[string]string `json:"utm"`
	} `json:"campaign"`
	Calls []struct {
		FriendlyID string `json:"friendly_id"`
		Outcome    string `json:"outcome"`
		Duration   int64  `json:"duration_ns"`
		Isolation  string `json:"isolation"`
	} `json:"flow_calls"`
	Events []struct {
		Type    string `json:"type"`
		Outcome string `json:"outcome"`
	} `json:"events"`
	Flows []struct {
		FriendlyID string `json:"friendly_id"`
		Isolated   bool   `json:"isolated"`
	} `json:"flows"`
}

// history reads the visitor's record from /_personalize, which sets no cookie and is never
// stored.
func (v *visitor) history() history {
	v.t.Helper()
	resp, body := v.get("/_personalize?format=json")
	require.Equal(v.t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(v.t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Empty(v.t, resp.Cookies(), "reading it changes nothing")
	var h history
	require.NoError(v.t, json.Unmarshal(body, &h))
	return h
}
