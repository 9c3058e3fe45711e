package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"

	"github.com/go-personalize/sdk/example-site/internal/views"
)

// The bare reference page (internal/bareref) is the yardstick of the load runs
// (scripts/perf.sh): it must be the example site's home page, byte for byte, or the runs
// compare pages of different sizes and not the library with plain net/http. These tests
// serve "/" from the site (tenant mode, as in a load run) and from the bare reference, each
// against its own sandbox holding the site's flows.json, as the same visitor, and compare
// the documents. When the home page (its views, its components or the stylesheet, whose
// versioned URL it shows) changes, they fail until internal/bareref is updated.
//
// No normalization: the two documents must be equal as sent. What could differ was made
// equal at the source instead:
//   - tracking links: the sandbox mints {base}/v3/trackers/{token}; both sandboxes mint with
//     the same public URL (sandbox.WithPublicURL), and the token depends only on the call
//     (channel, client key, browser ID, flow, offer), so the links are the same;
//   - the "returning" rule (a flow's second call by a browser): each target has its own
//     sandbox and gets the same requests, so both answer from the same state.

// samePagePublicURL is the base of the tracking links both sandboxes mint.
const samePagePublicURL = "http://personalize.test"

// samePageBrowserID is the visitor's browser ID, sent to both targets in the bid cookie.
const samePageBrowserID = "5d2c1f0e-8a9b-4c3d-9e1f-0a1b2c3d4e5f"

const samePageClientKey = "tenant-client-key"

// startSamePageTenant starts a sandbox with the site's flows that knows the visitor's
// browser and mints links on samePagePublicURL.
func startSamePageTenant(t *testing.T, fault sandbox.Fault) *sandbox.Server {
	t.Helper()
	flows, err := sandbox.LoadFlows(bytes.NewReader(defaultFlows))
	require.NoError(t, err)
	srv := personalizetest.NewSandbox(t, sandbox.WithClientKeys(samePageClientKey), sandbox.WithFlows(flows...),
		sandbox.WithPublicURL(samePagePublicURL))
	srv.Sandbox.AddBrowser(samePageBrowserID)
	srv.Sandbox.SetFault(fault)
	return srv
}

// startBare serves the bare reference page against api until the test ends.
func startBare(t *testing.T, api string) *testSite {
	t.Helper()
	h := bareref.NewHandler(api, samePageClientKey, "goairways/nl")
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.CloseIdleConnections()
	})
	return &testSite{URL: srv.URL, srv: srv}
}

// samePageVisitor is a browser that already has the browser ID cookie (a returning
// visitor) and keeps the cookies the target sets (the site's session).
func samePageVisitor(t *testing.T, ts *testSite) *visitor {
	t.Helper()
	v := ts.newVisitor(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	v.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "bid_" + samePageClientKey, Value: samePageBrowserID, Path: "/"}})
	return v
}

// pageHeaders are the response headers both pages must send alike (the site's own ones; the
// library's Set-Cookie and Vary are its work, which the comparison measures).
var pageHeaders = []string{"Content-Type", "Cache-Control", "Content-Security-Policy",
	"X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"}

func TestBarerefServesTheSamePage(t *testing.T) {
	tests := []struct {
		name string
		// events: the site's PERSONALIZE_EVENTS (perf.sh compares with events off, and
		// reports a run with them on).
		events string
		// visits: how many times the visitor loads "/" before the compared answer.
		visits int
		fault  sandbox.Fault
		// state and theme: what the compared page shows (so the test cannot pass on two
		// blank pages).
		state, theme string
	}{
		{name: "returning visitor, events off", events: "off", visits: 1, state: "decision", theme: "returning"},
		{name: "returning visitor, events on", events: "on", visits: 1, state: "decision", theme: "returning"},
		{name: "first visit", events: "off", visits: 0, state: "decision", theme: "default"},
		{name: "API failing", events: "off", visits: 1, fault: sandbox.Fault{Status: 500}, state: "fallback", theme: "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			siteAPI := startSamePageTenant(t, tt.fault)
			bareAPI := startSamePageTenant(t, tt.fault)
			env := tenantSiteEnv(siteAPI.URL)
			env["PERSONALIZE_EVENTS"] = tt.events
			site := startSite(t, env)
			bare := startBare(t, bareAPI.URL)
			sv, bv := samePageVisitor(t, site), samePageVisitor(t, bare)
			for range tt.visits {
				resp, _ := sv.get("/")
				require.Equal(t, http.StatusOK, resp.StatusCode)
				resp, _ = bv.get("/")
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}

			siteResp, sitePage := sv.get("/")
			bareResp, barePage := bv.get("/")

			require.Equal(t, http.StatusOK, siteResp.StatusCode)
			require.Equal(t, http.StatusOK, bareResp.StatusCode)
			doc, err := goquery.NewDocumentFromReader(bytes.NewReader(sitePage))
			require.NoError(t, err)
			for _, id := range []string{views.FlowHomeBanner, views.FlowDestinations, views.FlowNewsletter} {
				require.Equal(t, tt.state, slotState(doc, id), "the site's %s slot", id)
			}
			require.Equal(t, tt.theme, attr(doc.Find(`[data-testid="hero"]`), "data-hero-theme"))
			if tt.fault.IsZero() {
				require.Contains(t, string(sitePage), samePagePublicURL+sandbox.PathTrackers, "the page shows tracking links")
				// (With the fault, the site's client may retry: only the pages must agree.)
				require.Equal(t, siteAPI.Sandbox.CallCount(""), bareAPI.Sandbox.CallCount(""), "the same flow calls")
			}

			if !bytes.Equal(sitePage, barePage) {
				// One tag a line shows where they part; the documents are compared whole.
				assert.Equal(t, tagLines(sitePage), tagLines(barePage))
				t.Fatalf("the bare reference's page (%d bytes) differs from the site's home page (%d bytes): update internal/bareref",
					len(barePage), len(sitePage))
			}
			for _, h := range pageHeaders {
				assert.Equal(t, siteResp.Header.Get(h), bareResp.Header.Get(h), h)
			}
		})
	}
}

// tagLines splits a document before each tag, for display only.
func tagLines(page []byte) []string {
	return strings.Split(strings.ReplaceAll(string(page), "<", "\n<"), "\n")
}
