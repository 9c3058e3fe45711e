package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/xmcloud"
)

// edgeDoc is the document whose table "Differences that remain" lists every difference the
// Edge parity test allows.
const edgeDoc = "../docs/edge.md"

// edgeDifferences are the known differences between the library's requests through the
// Sitecore Edge and the Cloud SDK's Node server API's for the same visitor and inputs
// (TestWireParityWithCloudSDK), by the path of the differing value in the compared records
// ("*" matches one path segment), each with its reason. The table of docs/edge.md lists the
// same paths: a difference that is not here fails the test, and so does an entry that no
// longer differs (remove it from both).
var edgeDifferences = map[string]string{
	"*/*/headers/Accept": "the library asks for application/json, as the API documentation shows; " +
		"the SDK's fetch sends */*. The API answers JSON either way",
	"*/*/headers/X-Client-Software-Id": "the header names the software that sent the event: go-personalize <version>, " +
		"not @sitecore-cloudsdk/events <version>",
	"*/*/body/language": "the library sends the language in upper case (EN), as both SDKs send it when they infer it " +
		"(<html lang>); the Cloud SDK's server API sends what the site gives, and the Content SDK gives the route's (en)",
	"*/*/body/page": "the library names the page by its path (/flights/lisbon), unique per page; the Cloud SDK's " +
		"browser build infers the path's last segment (lisbon), and its server API sends what the site gives",
	"landing/sc_cid": "the library renews sc_cid beside sc_cid_personalize when a flow runs; the Cloud SDK's server " +
		"API sets each with its own res.setHeader('Set-Cookie', ...), so on a Node http response the guest ref cookie " +
		"replaces the browser ID cookie's renewal",
	"next/sc_cid_personalize": "the library renews the cookies when a flow runs (or an event needs a new browser ID), " +
		"not on a page that only sends events; the Cloud SDK's server API renews sc_cid_personalize on every request it initializes",
}

// The Sitecore Edge site of the Edge parity scenario, and the XM Cloud page its landing
// page is: its item ID, the experience's variants, the one the visitor is shown, the site's
// personalization scope.
const (
	parityContext      = "parity-context-id"
	paritySite         = "go-airways"
	parityPageID       = "{6A1B2C3D-4E5F-4A6B-8C9D-0E1F2A3B4C5D}"
	parityScope        = "Go Airways!"
	parityShown        = "9a8b7c6d5e4f4a3b8c1d0e9f8a7b6c5d"
	parityTrackType    = "FLIGHT_SEARCH"
	parityEdgeLanguage = "en"
)

var (
	parityVariants = []string{"9a8b7c6d5e4f4a3b8c1d0e9f8a7b6c5d", "0f1e2d3c4b5a46978877665544332211"}
	parityTrackExt = map[string]any{"origin": "LIS", "destination": "OPO", "passengers": 2}
)

// edgeParityPages is the Edge visit, for the site at siteURL: a landing page of XM Cloud
// from an external referrer with UTM parameters, which runs the page's embedded experience
// with its variants and names the variant shown in its VIEW; then a second page, reached from
// the first, which sends an IDENTITY event and a custom event.
func edgeParityPages(siteURL string) []parityPage {
	landing := "/flights/lisbon?utm_source=newsletter&utm_campaign=spring%20sale&utm_medium=email"
	return []parityPage{
		{Key: "landing", URL: landing, Referer: parityExternal,
			Flow:        xmcloud.PageFriendlyID(parityPageID, parityEdgeLanguage, parityScope),
			Variants:    parityVariants,
			PageVariant: xmcloud.PageVariantID(parityPageID, parityEdgeLanguage, parityShown, parityScope)},
		{Key: "next", URL: "/account", Referer: siteURL + landing, Identity: true, Track: true},
	}
}

// TestWireParityWithCloudSDK sends the same visit through the library in Edge mode
// (personalize.WithEdge, the middleware's Cloud SDK cookies, a flow with variants, VIEW events
// with a page variant, IDENTITY and a custom event) and through the Cloud SDK's Node server
// API run with node (cloudsdk-server.mjs), both to a recording server standing in for the
// Sitecore Edge proxy, and compares what they sent as JSON values (method, path, parsed
// query, the headers that matter, bodies) and the cookies they set: every difference must be
// a known one (edgeDifferences, the table "Differences that remain" of docs/edge.md).
//
// The visitor comes back with its browser ID in sc_cid and without its guest ref cookie, so
// both sides get the guest ref from show.json on the landing page and keep it in
// sc_cid_personalize, which the second page then carries: the flow's guestRef comes from the
// look-up, the second page's events from the cookie. Channel WEB, language en, currency EUR.
func TestWireParityWithCloudSDK(t *testing.T) {
	t.Parallel() // node and a local server: mostly waiting
	node := requireSDKs(t)

	lib, libSite := recordLibraryEdgeVisit(t)
	pages := edgeParityPages(libSite)
	sdk := recordCloudSDKVisit(t, node, pages, libSite)

	libRecords := wireRecords(t, lib.requests(), lib.cookies, pages)
	sdkRecords := wireRecords(t, sdk.requests(), sdk.cookies, pages)
	t.Run("the library sends the target format", func(t *testing.T) {
		checkLibraryEdgeTarget(t, libRecords)
	})
	compareWire(t, libRecords, sdkRecords, wireComparison{
		Other: "the Cloud SDK", Allowed: edgeDifferences, Doc: edgeDoc, Table: "edgeDifferences",
		Header: []string{"field", "Cloud SDK", "this library", "why"},
	})
}

// recordLibraryEdgeVisit plays the Edge visit against a site built with the library in Edge
// mode, served over TLS as in production, and returns what the recorder received and the
// site's URL.
func recordLibraryEdgeVisit(t *testing.T) (*wireRecorder, string) {
	t.Helper()
	rec := startWireRecorder(t)
	client, err := personalize.New("",
		personalize.WithBaseURL(rec.URL),
		personalize.WithEdge(parityContext, paritySite),
		personalize.WithChannel("WEB"),
		personalize.WithLanguage(parityEdgeLanguage),
		personalize.WithCurrency("EUR"),
	)
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = client.Close(context.Background())
		}
	})
	mw, err := middleware.New(client, middleware.Options{SessionKeys: [][]byte{[]byte(testSessionKeys)}, SendViewEvents: true})
	require.NoError(t, err)
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>parity</title><p>page</p>")
	}
	landing := edgeParityPages("")[0]
	mux := http.NewServeMux()
	mux.HandleFunc("GET /flights/lisbon", func(w http.ResponseWriter, r *http.Request) {
		_, err := personalize.Flow(r.Context(), landing.Flow, personalize.WithVariants(landing.Variants...))
		assert.NoError(t, err, "the flow")
		assert.NoError(t, personalize.SetPageVariant(r.Context(), landing.PageVariant), "the page variant")
		page(w, r)
	})
	mux.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, personalize.Identify(r.Context(), parityGuest), "the IDENTITY event")
		assert.NoError(t, personalize.Track(r.Context(), parityTrackType, parityTrackExt), "the custom event")
		page(w, r)
	})
	site := httptest.NewTLSServer(mw.Handler(mux))
	t.Cleanup(site.Close)
	visitor := []*http.Cookie{{Name: cloudSDKCookie, Value: parityBrowserID, Path: "/"}}
	playLibraryVisit(t, rec, site, visitor, edgeParityPages(site.URL), "", cloudSDKCookie, cloudSDKGuestCookie)
	// Events leave through the client's queue: Close delivers them.
	ctx, cancel := context.WithTimeout(context.Background(), eventDeadline)
	defer cancel()
	require.NoError(t, client.Close(ctx), "delivering the events")
	closed = true
	return rec, site.URL
}

// recordCloudSDKVisit plays the same visit with the Cloud SDK's Node server API
// (cloudsdk-server.mjs, node) against a recorder of its own.
func recordCloudSDKVisit(t *testing.T, node string, pages []parityPage, siteURL string) *wireRecorder {
	t.Helper()
	rec := startWireRecorder(t)
	u, err := url.Parse(siteURL)
	require.NoError(t, err)
	type page struct {
		Key         string         `json:"key"`
		URL         string         `json:"url"`
		Referer     string         `json:"referer,omitempty"`
		FriendlyID  string         `json:"friendlyId,omitempty"`
		Variants    []string       `json:"variants,omitempty"`
		PageVariant string         `json:"pageVariant,omitempty"`
		Identity    map[string]any `json:"identity,omitempty"`
		Event       map[string]any `json:"event,omitempty"`
	}
	var ps []page
	for _, p := range pages {
		pg := page{Key: p.Key, URL: p.URL, Referer: p.Referer, FriendlyID: p.Flow, Variants: p.Variants, PageVariant: p.PageVariant}
		if p.Identity {
			pg.Identity = parityEngageGuest
		}
		if p.Track {
			pg.Event = map[string]any{"type": parityTrackType, "extensionData": parityTrackExt}
		}
		ps = append(ps, pg)
	}
	stdin, err := json.Marshal(map[string]any{
		"edgeURL": rec.URL, "contextId": parityContext, "siteName": paritySite,
		"channel": "WEB", "language": parityEdgeLanguage, "currency": "EUR",
		"host": u.Host, "userAgent": browserUA, "cookies": map[string]string{cloudSDKCookie: parityBrowserID},
		"pages": ps,
	})
	require.NoError(t, err)
	var out struct {
		Versions map[string]string `json:"versions"`
		Pages    []struct {
			SetCookie []string `json:"setCookie"`
		} `json:"pages"`
	}
	raw := runNode(t, node, "cloudsdk-server.mjs", stdin)
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	require.Equal(t, map[string]string{"events": cloudSDKVersion, "personalize": cloudSDKVersion}, out.Versions, "the Cloud SDK that ran")
	require.Len(t, out.Pages, len(pages))
	for i, p := range pages {
		keepCookieLines(rec, p.Key, out.Pages[i].SetCookie, "", cloudSDKCookie, cloudSDKGuestCookie)
	}
	return rec
}

// checkLibraryEdgeTarget checks the library's side of the Edge wire against what the Cloud
// SDK's source sends (docs/edge.md), with messages that say what is wrong; the comparison
// with the Cloud SDK covers the same ground value by value.
func checkLibraryEdgeTarget(t *testing.T, recs map[string]any) {
	get := func(p string) any {
		segs := strings.Split(p, "/")
		var v any = recs[segs[0]+"/"+segs[1]]
		for _, seg := range segs[2:] {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[seg]
		}
		return v
	}
	flow := "landing/personalize"
	require.NotNil(t, get(flow), "the library called the flow through the Edge: %v", keysOf(recs))
	assert.Equal(t, "POST /v1/personalize", get(flow+"/request"))
	assert.Equal(t, url.Values{"sitecoreContextId": {parityContext}, "siteId": {paritySite}}, get(flow+"/query"))
	assert.Equal(t, "<the visitor's User-Agent>", get(flow+"/headers/User-Agent"), "the visitor's User-Agent, forwarded")
	assert.Equal(t, "<32 hex digits>", get(flow+"/headers/X-Sc-Correlation-Id"), "a correlation ID per flow call")
	assert.Equal(t, "", get(flow+"/body/clientKey"), "clientKey empty through the Edge")
	assert.Equal(t, "", get(flow+"/body/pointOfSale"), "pointOfSale empty through the Edge")
	assert.Equal(t, parityGuestRef, get(flow+"/body/guestRef"), "the guest ref show.json gave")
	assert.Equal(t, []any{parityVariants[0], parityVariants[1]}, get(flow+"/body/variants"), "the variants, in order")
	assert.Equal(t, parityBrowserID, get(flow+"/body/browserId"))
	assert.Equal(t, "embedded_goairways_6a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d_en", get(flow+"/body/friendlyId"), "xmcloud.PageFriendlyID")

	show := "landing/show.json"
	require.NotNil(t, get(show), "the library looked the guest ref up on the landing page: %v", keysOf(recs))
	assert.Equal(t, "GET /v1/events/v1.2/browser/<the browser ID>/show.json", get(show+"/request"))
	assert.Equal(t, url.Values{"sitecoreContextId": {parityContext}, "client_key": {""}, "api_token": {""}}, get(show+"/query"))
	assert.Nil(t, get("next/show.json"), "and only there: the second page has the cookie")

	for _, ev := range []string{"landing/VIEW", "next/VIEW", "next/IDENTITY", "next/" + parityTrackType} {
		require.NotNil(t, get(ev), "the library sent %s: %v", ev, keysOf(recs))
		assert.Equal(t, "POST /v1/events/v1.2/events", get(ev+"/request"), ev)
		assert.Equal(t, url.Values{"sitecoreContextId": {parityContext}, "siteId": {paritySite}}, get(ev+"/query"), ev)
		assert.Equal(t, "go-personalize "+personalize.Version, get(ev+"/headers/X-Client-Software-Id"), ev)
		assert.Equal(t, "", get(ev+"/body/client_key"), "%s: client_key empty through the Edge", ev)
		assert.Equal(t, "", get(ev+"/body/pos"), "%s: pos empty through the Edge", ev)
		assert.Equal(t, parityBrowserID, get(ev+"/body/browser_id"), ev)
	}
	assert.Equal(t, "goairways_6a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d_en_"+parityShown, get("landing/VIEW/body/ext/pageVariantId"), "xmcloud.PageVariantID")
	assert.Nil(t, get("next/VIEW/body/ext"), "the second page named no variant")

	for _, c := range []string{"landing/sc_cid", "landing/sc_cid_personalize"} {
		require.NotNil(t, get(c), "the landing page set %s: %v", c, keysOf(recs))
		assert.Equal(t, "none", get(c+"/samesite"), "%s: SameSite=None over TLS", c)
		assert.Equal(t, true, get(c+"/secure"), "%s: Secure", c)
		assert.Equal(t, "63072000", get(c+"/max-age"), "%s: 730 days", c)
	}
	assert.Equal(t, "<the guest ref>", get("landing/sc_cid_personalize/value"))
	for k := range recs {
		assert.False(t, strings.HasPrefix(k, "unexpected/"), "the library sent %s", k)
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
