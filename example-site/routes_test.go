package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

func TestHome(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	resp, body := v.get("/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "private, no-store", resp.Header.Get("Cache-Control"), "personalized pages are not cached by shared caches")
	assert.Regexp(t, `^personalize;dur=\d+\.\d;desc="3 flows"$`, resp.Header.Get("Server-Timing"), "sandbox mode shows the cost in devtools")
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	require.NoError(t, err)

	slots := doc.Find("[data-personalize-slot]")
	require.Equal(t, 3, slots.Length())
	var ids []string
	slots.Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-personalize-slot")
		ids = append(ids, id)
		state, _ := s.Attr("data-personalize-state")
		assert.Equal(t, "decision", state, "slot %s", id)
	})
	assert.Equal(t, []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}, ids)

	assert.Equal(t, "Lisbon from €59, bag included", text(doc.Find(".hero__title")))
	cta := doc.Find(`[data-testid="hero-cta"]`)
	href, _ := cta.Attr("href")
	assert.True(t, strings.HasPrefix(href, "/v3/trackers/"), "the hero links through the tracker as a site path: %s", href)
	assert.Equal(t, 3, doc.Find(`[data-personalize-slot="recommended_destinations"] article[data-offer-name]`).Length())
	assert.Equal(t, 1, doc.Find(`#newsletter.newsletter`).Length())
	assert.Equal(t, 5, doc.Find(".try__card").Length(), "ways to try personalization")
	style, _ := doc.Find(`link[rel="stylesheet"]`).Attr("href")
	assert.Regexp(t, `^/static/css/site\.css\?v=[0-9a-f]{16}$`, style)

	assert.NotEmpty(t, v.cookie(bidCookie), "the first visit gets the browser ID cookie")
	sb := ts.sandbox(t)
	assert.Len(t, sb.Browsers(), 1)
	for _, id := range ids {
		assert.Equal(t, 1, sb.CallCount(id), id)
	}
}

func TestHomePrefetchesInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, sb := bubbleSite(t, "PERSONALIZE_BUDGET", "5s")
		const latency = 500 * time.Millisecond
		for _, id := range homeSlots {
			sb.SetFlowFault(id, sandbox.Fault{Latency: latency})
		}
		v := visitHome(t, s)
		for _, id := range homeSlots {
			assert.Equal(t, "decision", v.states[id], id)
		}
		assert.Equal(t, latency, v.took, "one round trip, not three: the flows run in parallel")
	})
}

func TestBooking(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	doc := v.page("/booking")
	assert.Equal(t, "decision", slotState(doc, "ancillary_offers"))
	cards := doc.Find(`[data-personalize-slot="ancillary_offers"] [data-testid="ancillary-offer"]`)
	require.Equal(t, 4, cards.Length())
	var names []string
	cards.Each(func(_ int, card *goquery.Selection) {
		name, _ := card.Attr("data-offer-name")
		names = append(names, name)
		link := card.Find(`a[data-testid="ancillary-link"]`)
		require.Equal(t, 1, link.Length(), name)
		href, _ := link.Attr("href")
		assert.True(t, strings.HasPrefix(href, "/v3/trackers/"), "%s links through the tracker: %s", name, href)
		rel, _ := link.Attr("rel")
		assert.Equal(t, "nofollow", rel)
		img, _ := card.Find("img").Attr("src")
		assert.True(t, strings.HasPrefix(img, "/static/icons/"), "images are the site's own: %s", img)
	})
	assert.Equal(t, []string{"Ancillary bundle", "Ancillary seat", "Ancillary bag", "Ancillary insurance"}, names)
	assert.Equal(t, "Your trip to Lisbon", text(doc.Find("h1")))
	assert.Equal(t, 0, doc.Find(`[data-testid="added"]`).Length())

	t.Run("destination and fare from the query", func(t *testing.T) {
		doc := v.page("/booking?to=nice&fare=summer")
		assert.Equal(t, "Your trip to Nice", text(doc.Find("h1")))
		assert.Contains(t, text(doc.Find(`[data-testid="fare-note"]`)), "Summer sale")
	})
	t.Run("unknown values fall back", func(t *testing.T) {
		doc := v.page("/booking?to=%3Cscript%3E&added=everything")
		assert.Equal(t, "Your trip to Lisbon", text(doc.Find("h1")))
		assert.Equal(t, 0, doc.Find(`[data-testid="added"]`).Length())
	})
}

func TestTrackingLinkLandsOnBooking(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	doc := v.page("/booking")
	href, ok := doc.Find(`[data-offer-name="Ancillary seat"] a[data-testid="ancillary-link"]`).Attr("href")
	require.True(t, ok)

	resp, body := v.get(href) // follows the tracker's redirect
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "/booking", resp.Request.URL.Path)
	assert.Equal(t, "added=seat", resp.Request.URL.RawQuery)
	landed, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, "Seat added to your trip", text(landed.Find(`[data-testid="added"]`)))

	clicks := ts.sandbox(t).Clicks()
	require.Len(t, clicks, 1)
	assert.Equal(t, "Ancillary seat", clicks[0].OfferName)
	assert.Equal(t, "ancillary_offers", clicks[0].FriendlyID)
	assert.Equal(t, v.cookie(bidCookie), clicks[0].BrowserID)
	assert.Equal(t, "/booking?added=seat", clicks[0].Destination)
}

func TestCampaignLastsForTheVisit(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)

	landing := v.page("/?utm_campaign=summer_sale&utm_source=ads")
	assert.Equal(t, "summer", attr(landing.Find(`[data-testid="hero"]`), "data-hero-theme"))
	assert.Equal(t, "Summer sale: 30% off beach escapes", text(landing.Find(".hero__title")))
	assert.Equal(t, "Nice", attr(landing.Find(`[data-personalize-slot="recommended_destinations"] article`).First(), "data-offer-name"))

	next := v.page("/")
	assert.Equal(t, "summer", attr(next.Find(`[data-testid="hero"]`), "data-hero-theme"), "the campaign is kept in the session")

	calls := ts.sandbox(t).Calls()
	require.NotEmpty(t, calls)
	last := calls[len(calls)-1].Request
	assert.Equal(t, "summer_sale", last.UTM("campaign"), "the page without query still sends the visit's campaign")

	other := ts.newVisitor(t)
	assert.Equal(t, "default", attr(other.page("/").Find(`[data-testid="hero"]`), "data-hero-theme"), "another visitor is not in the campaign")
}

func TestReturningVisitorIsWelcomedBack(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	first := v.page("/")
	assert.Equal(t, "default", attr(first.Find(`[data-testid="hero"]`), "data-hero-theme"))
	assert.Equal(t, "decision", slotState(first, "home_page_banner"))
	again := v.page("/")
	assert.Equal(t, "returning", attr(again.Find(`[data-testid="hero"]`), "data-hero-theme"))
	assert.Equal(t, "Welcome back", text(again.Find(`[data-testid="hero-badge"]`)))
}

func TestNewsletterSource(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	plain := v.page("/")
	assert.Equal(t, "default", attr(plain.Find("#newsletter"), "data-theme"))
	doc := v.page("/?utm_source=newsletter&utm_medium=email")
	assert.Equal(t, "subscriber", attr(doc.Find("#newsletter"), "data-theme"))
	assert.Equal(t, "Thanks for reading our newsletter!", text(doc.Find("#newsletter h2")))
}

func TestDefaultsWhenPersonalizeFails(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
	}{
		{"hang", sandbox.Fault{Hang: true}},
		{"503", sandbox.Fault{Status: http.StatusServiceUnavailable}},
		{"malformed", sandbox.Fault{Malformed: true}},
		{"reset", sandbox.Fault{Reset: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, sb := bubbleSite(t)
				sb.SetFault(tt.fault)
				for path, slots := range map[string][]string{
					"/":        {"home_page_banner", "recommended_destinations", "newsletter_offer"},
					"/booking": {"ancillary_offers"},
				} {
					doc, v := visitPage(t, s, path)
					require.Equal(t, http.StatusOK, v.status, path)
					assert.LessOrEqual(t, v.took, personalize.DefaultBudget, "%s answers within the budget", path)
					for _, id := range slots {
						assert.Equal(t, "fallback", slotState(doc, id), "%s %s", path, id)
					}
					switch path {
					case "/":
						assert.Equal(t, "See Europe from €39", text(doc.Find(".hero__title")))
						assert.Equal(t, 3, doc.Find(`[data-personalize-slot="recommended_destinations"] article[data-offer-name]`).Length())
					case "/booking":
						links := doc.Find(`[data-testid="ancillary-link"]`)
						require.Equal(t, 4, links.Length())
						assert.Equal(t, "/booking?added=bundle", attr(links.First(), "href"), "defaults link straight to the site")
					}
				}
			})
		})
	}
}

func TestBotsGetDefaults(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	resp, body := v.get("/", "User-Agent", "Googlebot/2.1 (+http://www.google.com/bot.html)")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, "fallback", slotState(doc, "home_page_banner"))
	assert.Empty(t, v.cookie(bidCookie))
	assert.Empty(t, ts.sandbox(t).Browsers(), "no browser is created for a crawler")
}

func TestDebugPage(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)

	fresh := v.page("/_personalize/flows")
	assert.Contains(t, text(fresh.Find(`[data-testid="browser-id"]`)), "none yet")
	assert.Empty(t, v.cookie(bidCookie), "looking at the debug page creates nobody")

	v.page("/?utm_campaign=summer_sale")
	bid := v.cookie(bidCookie)
	require.NotEmpty(t, bid)
	booking := v.page("/booking")
	href := attr(booking.Find(`[data-offer-name="Ancillary bag"] a`), "href")
	resp, _ := v.get(href)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	doc := v.page("/_personalize/flows?utm_medium=email")
	assert.Equal(t, bid, text(doc.Find(`[data-testid="browser-id"]`)))
	assert.Equal(t, "medium = email", text(doc.Find(`[data-testid="request-utm"]`)))
	assert.Equal(t, "medium = email", text(doc.Find(`[data-testid="visit-utm"]`)), "this request's UTM replace the visit's")
	assert.Equal(t, ts.site.cfg.BaseURL, text(doc.Find(`[data-testid="api-base"]`)))

	assert.Equal(t, "/_personalize", attr(doc.Find(`[data-testid="history"]`), "href"))
	h := v.history()
	assert.Len(t, h.Calls, 5, "home's three calls, booking's, and booking's again after the click")
	for _, c := range h.Calls {
		assert.Equal(t, "decision", c.Outcome)
		assert.Positive(t, c.Duration)
		assert.Equal(t, "closed", c.Isolation)
	}
	assert.Equal(t, map[string]string{"medium": "email"}, h.Campaign.UTM)
	sandboxCalls := doc.Find(`[data-testid="sandbox-call"]`)
	assert.Equal(t, 5, sandboxCalls.Length())
	assert.Equal(t, 5, sandboxCalls.Find(".you").Length(), "all are this visitor's")
	clicks := doc.Find(`[data-testid="sandbox-click"]`)
	require.Equal(t, 1, clicks.Length())
	assert.Equal(t, "Ancillary bag", attr(clicks, "data-offer-name"))
	assert.Equal(t, 0, doc.Find(`[data-testid="page-call"]`).Length(), "the page itself called nothing")

	t.Run("running a flow from the page", func(t *testing.T) {
		doc := v.page("/_personalize/flows?run=newsletter_offer")
		ran := doc.Find(`[data-testid="ran"]`)
		assert.Equal(t, "newsletter_offer", attr(ran, "data-friendly-id"))
		assert.Equal(t, "decision", attr(ran, "data-outcome"))
		assert.Contains(t, text(ran.Find("pre")), `"title": "Fare alerts, twice a month"`)
		rows := doc.Find(`[data-testid="page-call"]`)
		require.Equal(t, 1, rows.Length())
		assert.Equal(t, "newsletter_offer", attr(rows, "data-friendly-id"))
	})
	t.Run("unknown flows are not run", func(t *testing.T) {
		before := ts.sandbox(t).CallCount("")
		doc := v.page("/_personalize/flows?run=something_else")
		assert.Equal(t, 0, doc.Find(`[data-testid="ran"]`).Length())
		assert.Equal(t, before, ts.sandbox(t).CallCount(""))
	})
}

func TestHealthz(t *testing.T) {
	ts := startSite(t, nil)
	resp, body := ts.newVisitor(t).get("/healthz")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))
	assert.Empty(t, resp.Cookies(), "health checks create nothing")

	head, err := http.NewRequest(http.MethodHead, ts.URL+"/healthz", nil)
	require.NoError(t, err)
	resp, err = ts.newVisitor(t).hc.Do(head)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "HEAD works for probes")
}

func TestStaticFiles(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	tests := []struct {
		path, contentType, cacheControl string
	}{
		{"/static/icons/seat.svg", "image/svg+xml", staticCacheControl},
		{"/static/img/hero-beach.svg", "image/svg+xml", staticCacheControl},
		{"/static/css/site.css", "text/css; charset=utf-8", staticCacheControl},
		{ts.site.static.url("css/site.css"), "text/css; charset=utf-8", versionedCacheControl},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := v.get(tt.path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tt.contentType, resp.Header.Get("Content-Type"))
			assert.Equal(t, tt.cacheControl, resp.Header.Get("Cache-Control"))
			assert.NotEmpty(t, body)
			etag := resp.Header.Get("ETag")
			require.NotEmpty(t, etag)
			again, _ := v.get(tt.path, "If-None-Match", etag)
			assert.Equal(t, http.StatusNotModified, again.StatusCode)
		})
	}
	resp, _ := v.get("/static/nope.svg")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestErrorPages(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	resp, body := v.get("/no-such-page")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, "404", attr(doc.Find(`[data-testid="error"]`), "data-status"))

	req, err := http.NewRequest(http.MethodPost, ts.URL+"/booking", nil)
	require.NoError(t, err)
	resp, err = v.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestPanicRecovery(t *testing.T) {
	ts := startSite(t, nil)
	h := ts.site.logRequests(ts.site.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/explode", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	require.NoError(t, err)
	assert.Equal(t, "500", attr(doc.Find(`[data-testid="error"]`), "data-status"))
	logs := ts.logs.String()
	assert.Contains(t, logs, `msg="panic serving request"`)
	assert.Contains(t, logs, "panic=boom")
	assert.Contains(t, logs, "path=/explode status=500")

	t.Run("after the headers went out the connection is aborted", func(t *testing.T) {
		h := ts.site.recoverPanics(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("half a page"))
			panic("late boom")
		}))
		assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		})
	})
}

func TestRequestLog(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	v.page("/booking")
	logs := ts.logs.String()
	assert.Regexp(t, `level=INFO msg=request method=GET path=/booking status=200 bytes=\d+ duration=\S+`, logs)
	assert.Regexp(t, `level=DEBUG msg=request method=POST path=(/v2/callFlows|/v1/personalize) status=200`, logs, "the sandbox's API calls are logged at debug level")
}

func attr(s *goquery.Selection, name string) string {
	v, _ := s.Attr(name)
	return v
}

func TestMetrics(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	v.page("/")  // something to count
	runtime.GC() // the live heap is the last collection's
	resp, body := v.get("/_personalize/metrics")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var m processMetrics
	require.NoError(t, json.Unmarshal(body, &m))
	assert.Positive(t, m.Goroutines)
	assert.Positive(t, m.HeapAlloc)
	assert.Positive(t, m.HeapLive)
	assert.LessOrEqual(t, m.HeapLive, m.HeapInuse, "live objects are in use")
	assert.Positive(t, m.StackInuse)
	assert.Positive(t, m.RSS, "read from /proc on Linux")
	assert.Empty(t, resp.Cookies(), "not personalized")
}

func TestEventsOff(t *testing.T) {
	ts := startSite(t, map[string]string{"PERSONALIZE_EVENTS": "off"})
	v := ts.newVisitor(t)
	doc := v.page("/")
	assert.Equal(t, "decision", slotState(doc, "home_page_banner"), "flows still run")
	v.page("/booking?added=seat")
	doc = v.page("/_personalize/flows")
	assert.NotEmpty(t, doc.Find("h1").Text(), "the debug page renders without a sender")
	assert.Len(t, v.history().Calls, 4, "and the library's record too: home's three calls and booking's")
	assert.Empty(t, ts.sandbox(t).Events(), "no VIEW, no ADD_TO_TRIP")
}
