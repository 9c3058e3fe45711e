package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// queuedTotal is how many events the site's sender was given, whatever became of them.
func queuedTotal(ts *testSite) uint64 {
	st := ts.site.client.EventStats()
	return st.Sent + st.Failed + st.Dropped + st.Invalid + uint64(st.Queued+st.InFlight)
}

// TestSignInGreetsTheGuest: sign in, then the banner greets Ada, and the sandbox holds the
// IDENTITY event with the browser ID the flows are called with.
func TestSignInGreetsTheGuest(t *testing.T) {
	ts := startSite(t, nil)
	sb := ts.sandbox(t)
	v := ts.newVisitor(t)
	home := v.page("/")
	assert.Equal(t, "Lisbon from €59, bag included", text(home.Find(".hero__title")))
	assert.Equal(t, 1, home.Find(`[data-testid="sign-in-link"]`).Length())
	bid := v.cookie(bidCookie)
	require.NotEmpty(t, bid)

	signin := v.page("/signin")
	form := signin.Find(`form[data-testid="sign-in-form"]`)
	assert.Equal(t, "post", attr(form, "method"))
	assert.Equal(t, "/signin", attr(form, "action"))
	assert.Equal(t, "Ada Lovelace", attr(form.Find("#signin-name"), "value"))
	assert.Equal(t, "ada@example.com", attr(form.Find("#signin-email"), "value"))
	assert.Equal(t, "Sign in as Ada", text(form.Find(`[data-testid="sign-in"]`)))

	resp, body := v.post("/signin", "Origin", ts.URL)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, "/", resp.Request.URL.Path, "303 to the home page")
	member := v.cookie(memberCookie)
	require.NotEmpty(t, member, "signed in")
	assert.NotContains(t, member, "GA-1001", "the member cookie is encrypted")
	assert.Equal(t, bid, v.cookie(bidCookie), "the same browser")

	// The event is delivered off the request path; once it arrived, the banner greets Ada.
	flushEvents(t, ts)
	doc := v.page("/")
	assert.Equal(t, "Welcome back, Ada", text(doc.Find(".hero__title")), "the banner greets the guest")
	assert.Equal(t, "member", attr(doc.Find(`[data-testid="hero"]`), "data-hero-theme"))
	assert.Equal(t, "Go Airways Club", text(doc.Find(`[data-testid="hero-badge"]`)))
	assert.Equal(t, "Ada", text(doc.Find(".member__name")), "the header knows the member")

	identities := eventsOf(sb, "IDENTITY")
	require.Len(t, identities, 1)
	ev := identities[0]
	assert.Equal(t, bid, ev.BrowserID)
	assert.Equal(t, []any{map[string]any{"id": "GA-1001", "provider": "GO_AIRWAYS"}}, ev.Body["identifiers"])
	assert.Equal(t, "Ada", ev.Body["firstname"])
	assert.Equal(t, "Lovelace", ev.Body["lastname"])
	assert.Equal(t, "ada@example.com", ev.Body["email"])
	assert.Equal(t, "/signin", ev.Body["page"])
	if sandboxTransport == personalize.TransportEdge {
		assert.Equal(t, "", ev.Body["pos"], "the Edge site sets the point of sale")
	} else {
		assert.Equal(t, sandboxPointOfSale, ev.Body["pos"])
	}
	for _, c := range sb.Calls() {
		assert.Equal(t, bid, c.Request.BrowserID, "%s was called for the same browser", c.FriendlyID)
	}
	assert.NotEmpty(t, eventsOf(sb, "VIEW"), "page views are sent too")
	for _, e := range sb.Events() {
		assert.Equal(t, bid, e.BrowserID, "%s event", e.Type)
	}

	t.Run("sign out", func(t *testing.T) {
		resp, body := v.post("/signout", "Origin", ts.URL)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Empty(t, v.cookie(memberCookie), "the member cookie is deleted")
		doc := v.page("/")
		assert.Equal(t, 1, doc.Find(`[data-testid="sign-in-link"]`).Length())
		assert.Equal(t, 0, doc.Find(`[data-testid="member"]`).Length())
	})
}

// TestSignInWithoutAnyFlowFirst: a visitor who signs in before any page ran a flow gets a
// browser created for the IDENTITY event, with its cookie on the redirect.
func TestSignInWithoutAnyFlowFirst(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	resp, body := v.post("/signin", "Origin", ts.URL)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	bid := v.cookie(bidCookie)
	require.NotEmpty(t, bid)
	sb := ts.sandbox(t)
	assert.Equal(t, []string{bid}, sb.Browsers(), "one browser, for the event and the flows")
	flushEvents(t, ts)
	require.Len(t, eventsOf(sb, "IDENTITY"), 1)
	assert.Equal(t, bid, eventsOf(sb, "IDENTITY")[0].BrowserID)
}

// TestSignInRefusesOtherOrigins: the forms that change state accept only requests the browser
// says came from the site.
func TestSignInRefusesOtherOrigins(t *testing.T) {
	ts := startSite(t, nil)
	tests := []struct {
		name    string
		path    string
		headers []string
		ok      bool
	}{
		{name: "same origin", path: "/signin", headers: []string{"Origin", ts.URL}, ok: true},
		{name: "fetch metadata", path: "/signin", headers: []string{"Sec-Fetch-Site", "same-origin"}, ok: true},
		{name: "referer only", path: "/signin", headers: []string{"Referer", ts.URL + "/signin"}, ok: true},
		{name: "cross-site fetch metadata", path: "/signin", headers: []string{"Sec-Fetch-Site", "cross-site", "Origin", ts.URL}},
		{name: "same-site is not same-origin", path: "/signin", headers: []string{"Sec-Fetch-Site", "same-site"}},
		{name: "other origin", path: "/signin", headers: []string{"Origin", "https://evil.example"}},
		{name: "null origin", path: "/signin", headers: []string{"Origin", "null"}},
		{name: "other referer", path: "/signin", headers: []string{"Referer", "https://evil.example/" + strings.TrimPrefix(ts.URL, "http://")}},
		{name: "nothing", path: "/signin"},
		{name: "sign out from elsewhere", path: "/signout", headers: []string{"Origin", "https://evil.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := ts.newVisitor(t)
			resp, body := v.post(tc.path, tc.headers...)
			if tc.ok {
				require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
				assert.NotEmpty(t, v.cookie(memberCookie))
				return
			}
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			assert.Empty(t, v.cookie(memberCookie))
			assert.Contains(t, string(body), "only be sent from Go Airways")
		})
	}
	flushEvents(t, ts)
	assert.Len(t, eventsOf(ts.sandbox(t), "IDENTITY"), 3, "an IDENTITY event for each accepted sign-in only")
}

func TestMemberCookie(t *testing.T) {
	keys, err := randomSessionKeys()
	require.NoError(t, err)
	ms := newMembers(keys)
	rec := httptest.NewRecorder()
	req, err := http.NewRequest(http.MethodPost, "http://example.com/signin", nil)
	require.NoError(t, err)
	require.NoError(t, ms.signIn(rec, req, demoMember()))
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, memberCookie, c.Name)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)

	read := func(value string) (member, bool) {
		r, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
		r.AddCookie(&http.Cookie{Name: memberCookie, Value: value})
		return ms.current(r)
	}
	m, ok := read(c.Value)
	require.True(t, ok)
	assert.Equal(t, demoMember(), m)
	otherKeys, err := randomSessionKeys()
	require.NoError(t, err)
	otherValue, err := newMembers(otherKeys).encode("GA-1001")
	require.NoError(t, err)
	unknownValue, err := ms.encode("GA-9999")
	require.NoError(t, err)
	for name, value := range map[string]string{
		"tampered":       c.Value[:len(c.Value)-2] + "xx",
		"empty":          "",
		"plain ID":       "GA-1001",
		"other keys":     otherValue,
		"unknown member": unknownValue,
	} {
		_, ok := read(value)
		assert.False(t, ok, name)
	}
	r, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	_, ok = ms.current(r)
	assert.False(t, ok, "no cookie")
}

// TestAddingAnAncillarySendsAnEvent: the ancillary's tracking link lands on
// /booking?added=seat, which sends ADD_TO_TRIP {ancillary: seat} for the visitor.
func TestAddingAnAncillarySendsAnEvent(t *testing.T) {
	ts := startSite(t, nil)
	sb := ts.sandbox(t)
	v := ts.newVisitor(t)
	booking := v.page("/booking")
	href := attr(booking.Find(`[data-offer-name="Ancillary seat"] a[data-testid="ancillary-link"]`), "href")
	require.True(t, strings.HasPrefix(href, "/v3/trackers/"), href)
	doc := v.page(href)
	assert.Equal(t, "seat", attr(doc.Find(`[data-testid="added"]`), "data-added"))

	v.page("/booking?added=nothing-known")
	v.page("/booking")
	head, err := http.NewRequest(http.MethodHead, ts.URL+"/booking?added=insurance", nil)
	require.NoError(t, err)
	head.Header.Set("User-Agent", browserUA)
	resp, err := v.hc.Do(head)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	v.page("/booking?added=bag")
	flushEvents(t, ts)

	added := eventsOf(sb, "ADD_TO_TRIP")
	require.Len(t, added, 2, "unknown ancillaries and HEAD requests send nothing")
	byAncillary := map[any]sandbox.EventRecord{}
	for _, ev := range added {
		byAncillary[ev.Body["ext"].(map[string]any)["ancillary"]] = ev
	}
	require.Contains(t, byAncillary, "seat")
	require.Contains(t, byAncillary, "bag", "two workers deliver the events, in either order")
	ev := byAncillary["seat"]
	bid := v.cookie(bidCookie)
	assert.Equal(t, bid, ev.BrowserID)
	assert.Equal(t, "/booking", ev.Body["page"])
	require.Len(t, sb.Clicks(), 1)
	assert.Equal(t, bid, sb.Clicks()[0].BrowserID, "the click, the event and the flows share the browser")
}

// TestPageViews: every personalized page sends a VIEW with its path; the debug page lists the
// events with type, page and browser.
func TestPageViews(t *testing.T) {
	ts := startSite(t, nil)
	sb := ts.sandbox(t)
	v := ts.newVisitor(t)
	v.page("/?utm_campaign=summer_sale&utm_source=ads")
	v.page("/booking?to=nice")
	resp, _ := v.get("/healthz")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = v.get("/static/css/site.css")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	bid := v.cookie(bidCookie)

	flushEvents(t, ts)
	// Two workers deliver the events, so they may arrive in either order.
	views := map[string]map[string]any{}
	for _, e := range eventsOf(sb, "VIEW") {
		views[e.Body["page"].(string)] = e.Body
		assert.Equal(t, bid, e.BrowserID)
	}
	require.Len(t, views, 2, "a VIEW for each page, none for the health check or the stylesheet")
	assert.Equal(t, "summer_sale", views["/"]["utm_campaign"])
	assert.Equal(t, "ads", views["/"]["utm_source"])
	require.Contains(t, views, "/booking")
	assert.NotContains(t, views["/booking"], "utm_campaign")

	doc := v.page("/_personalize/flows")
	rows := doc.Find(`[data-testid="sandbox-event"]`)
	require.GreaterOrEqual(t, rows.Length(), 2)
	var pages []string
	rows.Each(func(_ int, row *goquery.Selection) {
		assert.Equal(t, "VIEW", attr(row, "data-type"))
		assert.Equal(t, 1, row.Find(".you").Length(), "this visitor's")
		assert.Contains(t, text(row), bid[:8])
		assert.Regexp(t, `^\d{2}:\d{2}:\d{2}\.\d{3}$`, text(row.Find("td").Eq(0)))
		pages = append(pages, attr(row, "data-page"))
	})
	assert.ElementsMatch(t, []string{"/booking", "/"}, pages[len(pages)-2:])
	rows.Each(func(_ int, row *goquery.Selection) {
		if attr(row, "data-page") == "/" {
			assert.Contains(t, text(row), "utm_campaign=summer_sale")
		}
	})
	assert.Regexp(t, `^\d+ sent, 0 failed, 0 dropped, \d+ waiting$`, text(doc.Find(`[data-testid="event-stats"]`)))

	t.Run("bots send none", func(t *testing.T) {
		before := queuedTotal(ts)
		bot := ts.newVisitor(t)
		resp, _ := bot.get("/", "User-Agent", "Googlebot/2.1 (+http://www.google.com/bot.html)")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, before, queuedTotal(ts), "queued while the page was served, if at all")
	})
}

// TestTenantEvents: in tenant mode events go to the tenant's /v1.2/events.
func TestTenantEvents(t *testing.T) {
	tenant := startTenant(t)
	ts := startSite(t, tenantSiteEnv(tenant.URL))
	v := ts.newVisitor(t)
	v.page("/")
	resp, body := v.post("/signin", "Origin", ts.URL)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.NoError(t, ts.site.client.Close(t.Context()), "delivers what is queued")
	bid := v.cookie("bid_tenant-client-key")
	require.NotEmpty(t, bid)
	types := map[string]int{}
	for _, e := range tenant.Sandbox.Events() {
		types[e.Type]++
		assert.Equal(t, bid, e.BrowserID)
		assert.Equal(t, "tenant-client-key", e.Body["client_key"])
		assert.Equal(t, "goairways/nl", e.Body["pos"])
		assert.Equal(t, "NL", e.Body["language"])
	}
	assert.Equal(t, map[string]int{"VIEW": 2, "IDENTITY": 1}, types, "two home pages and the sign-in")
}
