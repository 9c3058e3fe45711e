package bareref

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

const testPOS = "airline.example"

// homeFlows are the three flows with answers in the shapes the page reads.
func homeFlows() sandbox.Option {
	return sandbox.WithFlows(
		sandbox.Define(FlowBanner).Returns(map[string]any{
			"title": "Summer sale", "text": "30% off", "trackingUrl": "{tracker}", "destination": "/sale"}),
		sandbox.Define(FlowDestinations).Returns(map[string]any{"offers": []any{
			map[string]any{"name": "Lisbon", "trackingUrl": "{tracker}", "destination": "/lisbon"},
			map[string]any{"Name": "Kyoto", "url": "/kyoto"},
		}}),
		sandbox.Define(FlowNewsletter).Returns([]any{map[string]any{"Name": "Weekly deals"}}),
	)
}

// slot is what a rendered slot shows.
type slot struct {
	state string
	title string   // the hero's <h1>, the banner's <h2>
	items []string // the cards' names
	links []string
}

// getPage serves "/" with h and parses the slots, keyed by flow.
func getPage(t *testing.T, h http.Handler, cookie *http.Cookie) (map[string]slot, *httptest.ResponseRecorder) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	require.NoError(t, err)
	slots := map[string]slot{}
	doc.Find("[data-personalize-slot]").Each(func(_ int, s *goquery.Selection) {
		var sl slot
		sl.state, _ = s.Attr("data-personalize-state")
		sl.title = s.Find("h1, h2").First().Text()
		s.Find("h3").Each(func(_ int, h *goquery.Selection) { sl.items = append(sl.items, h.Text()) })
		s.Find("a").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			sl.links = append(sl.links, href)
		})
		flow, _ := s.Attr("data-personalize-slot")
		slots[flow] = sl
	})
	return slots, rec
}

func newTestHandler(t *testing.T, srv *sandbox.Server) *Handler {
	t.Helper()
	h := NewHandler(srv.URL, sandbox.DefaultClientKey, testPOS)
	t.Cleanup(h.CloseIdleConnections)
	return h
}

// memHandler is the bare page calling a sandbox in memory, for tests in a synctest bubble.
func memHandler(t *testing.T) (*Handler, *sandbox.Sandbox) {
	t.Helper()
	sb := sandbox.New(homeFlows())
	api := memnet.Serve(t, sb)
	h := NewHandler(api.URL, sandbox.DefaultClientKey, testPOS)
	h.hc = api.Client
	return h, sb
}

func TestHandlerRendersThreeSlots(t *testing.T) {
	srv := personalizetest.NewSandbox(t, homeFlows())
	h := newTestHandler(t, srv)
	const bid = "5d2c1f0e-8a9b-4c3d-9e1f-0a1b2c3d4e5f"

	slots, rec := getPage(t, h, &http.Cookie{Name: "bid_" + sandbox.DefaultClientKey, Value: bid})

	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "script-src 'none'")
	require.Len(t, slots, 3)
	banner := slots[FlowBanner]
	assert.Equal(t, "decision", banner.state)
	assert.Equal(t, "Summer sale", banner.title)
	require.Len(t, banner.links, 1)
	assert.Contains(t, banner.links[0], srv.URL+"/v3/trackers/")
	dest := slots[FlowDestinations]
	assert.Equal(t, "decision", dest.state)
	assert.Equal(t, []string{"Lisbon", "Kyoto"}, dest.items)
	assert.Equal(t, []string{"/kyoto"}, dest.links[1:], "an offer without a tracking link links to its own URL")
	assert.Contains(t, dest.links[0], srv.URL+"/v3/trackers/")
	assert.Equal(t, "decision", slots[FlowNewsletter].state)
	assert.Equal(t, "Weekly deals", slots[FlowNewsletter].title)

	calls := srv.Sandbox.Calls()
	require.Len(t, calls, 3)
	for _, c := range calls {
		assert.Equal(t, http.StatusOK, c.Status, c.FriendlyID)
		assert.Equal(t, bid, c.Request.BrowserID)
		assert.Equal(t, testPOS, c.Request.PointOfSale)
		assert.Equal(t, sandbox.DefaultClientKey, c.Request.ClientKey)
	}
}

func TestHandlerWithoutCookieUsesFallbackBrowserID(t *testing.T) {
	srv := personalizetest.NewSandbox(t, homeFlows())
	h := newTestHandler(t, srv)

	slots, rec := getPage(t, h, nil)

	assert.Empty(t, rec.Header().Values("Set-Cookie"), "the reference never creates browsers")
	assert.Equal(t, "decision", slots[FlowBanner].state)
	assert.Empty(t, srv.Sandbox.Browsers())
	for _, c := range srv.Sandbox.Calls() {
		assert.Equal(t, FallbackBrowserID, c.Request.BrowserID)
	}
}

func TestHandlerFallsBack(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
	}{
		{"status 500", sandbox.Fault{Status: 500}},
		{"malformed", sandbox.Fault{Malformed: true}},
		{"reset", sandbox.Fault{Reset: true}},
		{"hang", sandbox.Fault{Hang: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, sb := memHandler(t)
				sb.SetFault(tt.fault)

				start := time.Now()
				slots, _ := getPage(t, h, nil)
				elapsed := time.Since(start)

				require.Len(t, slots, 3)
				for _, flow := range []string{FlowBanner, FlowDestinations, FlowNewsletter} {
					assert.Equal(t, "fallback", slots[flow].state, flow)
				}
				assert.Equal(t, defaultHero().Title, slots[FlowBanner].title)
				assert.Len(t, slots[FlowDestinations].items, len(defaultDestinations().Cards))
				assert.Equal(t, defaultNewsletter().Title, slots[FlowNewsletter].title)
				assert.LessOrEqual(t, elapsed, Budget, "the budget bounds the page")
			})
		})
	}
}

func TestHandlerHangWaitsForTheBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sb := memHandler(t)
		sb.SetFault(sandbox.Fault{Hang: true})

		start := time.Now()
		slots, _ := getPage(t, h, nil)

		assert.Equal(t, Budget, time.Since(start), "a hang ends with the budget, not before")
		assert.Equal(t, "fallback", slots[FlowBanner].state)
	})
}

func TestHandlerRoutes(t *testing.T) {
	srv := personalizetest.NewSandbox(t, homeFlows())
	h := newTestHandler(t, srv)
	tests := []struct {
		path   string
		status int
	}{
		{"/healthz", http.StatusOK},
		{"/nope", http.StatusNotFound},
		{"/favicon.ico", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			assert.Equal(t, tt.status, rec.Code)
		})
	}
	assert.Zero(t, srv.Sandbox.CallCount(""), "only the home page calls flows")
}
