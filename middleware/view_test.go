package middleware

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// viewSite is a site behind a middleware that sends VIEW events, on an in-memory sandbox.
// Make it inside a synctest bubble.
type viewSite struct {
	sb *sandbox.Sandbox
	pc *personalize.Client
	h  http.Handler // the middleware's handler of viewRoutes
}

// newViewSite starts a sandbox and a site with SendViewEvents on (and opts), whose client is
// made with clientOpts. The client is closed when the test ends, and must deliver everything
// by then.
func newViewSite(t *testing.T, opts Options, clientOpts ...personalize.Option) *viewSite {
	t.Helper()
	sb, srv := memSandbox(t)
	s := &viewSite{sb: sb}
	s.pc = newClient(t, srv, clientOpts...)
	t.Cleanup(func() { s.closeClient(t) })
	opts.SendViewEvents = true
	if opts.SessionKeys == nil {
		opts.SessionKeys = testKeys
	}
	mw, err := New(s.pc, opts)
	require.NoError(t, err)
	s.h = mw.Handler(viewRoutes())
	return s
}

// closeClient closes the client, which delivers what is queued; the sandbox then holds every
// event the site sent. Closing again does nothing. The timeout is on the bubble's clock.
func (s *viewSite) closeClient(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, s.pc.Close(ctx))
}

// events closes the client and returns the events the sandbox accepted.
func (s *viewSite) events(t *testing.T) []sandbox.EventRecord {
	t.Helper()
	s.closeClient(t)
	return s.sb.Events()
}

// knownBrowser creates a browser in the sandbox, as a returning visitor's cookie holds.
func (s *viewSite) knownBrowser(t *testing.T) string {
	t.Helper()
	id, err := s.pc.CreateBrowser(context.Background())
	require.NoError(t, err)
	return id
}

// do serves a request with a browser's User-Agent, the headers of kv pairs and the browser ID
// cookie when id is set.
func (s *viewSite) do(t *testing.T, method, path, id string, kv ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, siteURL+path, nil)
	req.Header.Set("User-Agent", browserUA)
	if id != "" {
		req.Header.Set("Cookie", bidName(t)+"="+id)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Result()
}

const htmlPage = "<!DOCTYPE html><html><body>page</body></html>"

// viewRoutes are pages for the VIEW tests:
//
//	/html            an HTML page that personalizes nothing
//	/html-flow       an HTML page that calls the flow "home"
//	/sniffed         HTML without a Content-Type (net/http sniffs it)
//	/json-flow       JSON that calls "home"
//	/missing         an HTML 404 page
//	/redirect        a 302 after calling "home"
//	/track           an HTML page that sends a custom event and calls no flow
func viewRoutes() http.Handler {
	mux := http.NewServeMux()
	html := func(w http.ResponseWriter, status int) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, htmlPage)
	}
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) { html(w, http.StatusOK) })
	mux.HandleFunc("/html-flow", func(w http.ResponseWriter, r *http.Request) {
		_, _ = personalize.Flow(r.Context(), "home")
		html(w, http.StatusOK)
	})
	mux.HandleFunc("/sniffed", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, htmlPage) })
	mux.HandleFunc("/json-flow", func(w http.ResponseWriter, r *http.Request) {
		res, _ := personalize.Flow(r.Context(), "home")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { html(w, http.StatusNotFound) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		_, _ = personalize.Flow(r.Context(), "home")
		http.Redirect(w, r, "/html", http.StatusFound)
	})
	mux.HandleFunc("/track", func(w http.ResponseWriter, r *http.Request) {
		_ = personalize.Track(r.Context(), "ADD_TO_TRIP", map[string]any{"ancillary": "seat"})
		html(w, http.StatusOK)
	})
	return mux
}

// viewBody is a recorded event's body without requested_at, whose format the personalize
// package tests.
func viewBody(t *testing.T, ev sandbox.EventRecord) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(ev.Raw, &m))
	at, ok := m["requested_at"].(string)
	require.True(t, ok, "requested_at: %s", ev.Raw)
	_, err := time.Parse(time.RFC3339Nano, at)
	require.NoError(t, err)
	delete(m, "requested_at")
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// TestViewEventBody: a returning visitor's page view, as the sandbox received it: the path,
// the referrer and this request's UTM as top-level utm_* keys.
func TestViewEventBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newViewSite(t, Options{})
		id := s.knownBrowser(t)
		resp := s.do(t, http.MethodGet, "/html?utm_campaign=summer_sale&UTM_Source=news%20letter&x=1", id,
			"Referer", "https://search.example/?q=flights")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		events := s.events(t)
		require.Len(t, events, 1)
		assert.Equal(t, "VIEW", events[0].Type)
		key, pos := sandbox.DefaultClientKey, personalizetest.PointOfSale
		if personalizetest.Transport(t) == personalize.TransportEdge {
			key, pos = "", "" // the Edge finds the tenant and point of sale from the context ID and site
		}
		assert.JSONEq(t, `{"type":"VIEW","browser_id":"`+id+`","client_key":"`+key+`",
		"channel":"WEB","language":"EN","currency":"EUR","page":"/html","pos":"`+pos+`",
		"referrer":"https://search.example/?q=flights","utm_campaign":"summer_sale","utm_source":"news letter"}`,
			viewBody(t, events[0]))
		assert.Empty(t, setCookies(t, resp, bidName(t)), "a view renews no cookie")
		assert.Empty(t, s.sb.Calls(), "and calls no flow")
	})
}

// TestViewEventsOnlyForPageViews: no VIEW for what is not a personalized page view, and never
// a browser created for one.
// TestViewReferrerOnlyFromAnotherSiteOnTheFirstPage: as both SDKs, a VIEW carries the
// referrer only when it names another host and the page starts the visit.
func TestViewReferrerOnlyFromAnotherSiteOnTheFirstPage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newViewSite(t, Options{})
		id := s.knownBrowser(t)
		const external = "https://search.example/?q=flights"
		resp := s.do(t, http.MethodGet, "/html-flow?utm_campaign=summer_sale", id, "Referer", siteURL+"/offers")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		session := setCookies(t, resp, DefaultSessionName)
		require.Len(t, session, 1, "the visit starts, from a campaign")
		s.do(t, http.MethodGet, "/html", id, "Referer", external) // first page: no session cookie
		s.do(t, http.MethodGet, "/html-flow", "", "Referer", external,
			"Cookie", bidName(t)+"="+id+"; "+DefaultSessionName+"="+session[0].Value) // a later page of the visit
		s.do(t, http.MethodGet, "/html", "", "Referer", external,
			"Cookie", bidName(t)+"="+id+"; "+DefaultSessionName+"="+session[0].Value) // a later page, no flow

		events := s.events(t)
		require.Len(t, events, 4)
		// Events leave from several workers: count them by page, not by order.
		withReferrer := map[string]int{}
		for _, e := range events {
			var m map[string]any
			require.NoError(t, json.Unmarshal(e.Raw, &m))
			if ref, ok := m["referrer"]; ok {
				assert.Equal(t, external, ref)
				withReferrer[m["page"].(string)]++
			}
		}
		assert.Equal(t, map[string]int{"/html": 1}, withReferrer,
			"another site's referrer on the first page only; a same-site one (/html-flow) never")
	})
}

func TestViewEventsOnlyForPageViews(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		method  string
		path    string
		known   bool // the visitor brings a browser ID the sandbox knows
		headers []string
		views   int
	}{
		{name: "returning visitor", path: "/html", known: true, views: 1},
		{name: "sniffed HTML", path: "/sniffed", known: true, views: 1},
		{name: "returning visitor with a flow", path: "/html-flow", known: true, views: 1},
		{name: "first visit with a flow", path: "/html-flow", views: 1},
		{name: "first visit without any flow", path: "/html"},
		{name: "first visit with a custom event", path: "/track", views: 1},
		{name: "bot", path: "/html-flow", known: true, headers: []string{"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}},
		{name: "prefetch", path: "/html-flow", known: true, headers: []string{"Sec-Purpose", "prefetch"}},
		{name: "prerender counts", path: "/html", known: true, headers: []string{"Sec-Purpose", "prefetch;prerender"}, views: 1},
		{name: "no consent", opts: Options{Consent: func(*http.Request) bool { return false }}, path: "/html-flow", known: true},
		{name: "not HTML", path: "/json-flow", known: true},
		{name: "not found", path: "/missing", known: true},
		{name: "redirect", path: "/redirect", known: true},
		{name: "POST", method: http.MethodPost, path: "/html", known: true},
		{name: "HEAD", method: http.MethodHead, path: "/html", known: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newViewSite(t, tc.opts)
				id := ""
				if tc.known {
					id = s.knownBrowser(t)
				}
				method := tc.method
				if method == "" {
					method = http.MethodGet
				}
				resp := s.do(t, method, tc.path, id, tc.headers...)
				cookies := setCookies(t, resp, bidName(t))
				events := s.events(t)
				views := 0
				for _, ev := range events {
					if ev.Type != "VIEW" {
						continue
					}
					views++
					want := id
					if want == "" {
						require.Len(t, cookies, 1, "a new visitor's view carries the ID set on the response")
						want = cookies[0].Value
					}
					assert.Equal(t, want, ev.BrowserID)
					assert.Equal(t, tc.path, ev.Body["page"])
				}
				assert.Equal(t, tc.views, views, "VIEW events")
				if !tc.known && tc.views == 0 {
					assert.Empty(t, s.sb.Browsers(), "no browser is created for a view")
				}
				st := s.pc.EventStats()
				assert.Zero(t, st.Failed+st.Dropped+st.Invalid, "%+v", st)
			})
		})
	}
}

// TestViewEventsShareTheFlowsBrowserID: over a visit, every VIEW carries the browser ID the
// flows were called with, and only the request's own UTM (not the visit's campaign).
func TestViewEventsShareTheFlowsBrowserID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newViewSite(t, Options{})
		v := newVisitor(t)
		for _, path := range []string{"/html-flow?utm_campaign=summer_sale", "/html", "/html-flow", "/json-flow"} {
			resp, _ := v.get(s.h, path)
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
		}
		events := s.events(t)
		require.Len(t, events, 3, "three HTML pages")
		calls := s.sb.Calls()
		require.Len(t, calls, 3)
		require.Len(t, s.sb.Browsers(), 1)
		id := s.sb.Browsers()[0]
		for _, c := range calls {
			assert.Equal(t, id, c.Request.BrowserID)
		}
		// Two workers deliver the events, so the sandbox may record them in any order.
		var pages []any
		withUTM := 0
		for _, ev := range events {
			assert.Equal(t, id, ev.BrowserID)
			pages = append(pages, ev.Body["page"])
			if campaign, ok := ev.Body["utm_campaign"]; ok {
				withUTM++
				assert.Equal(t, "summer_sale", campaign)
				assert.Equal(t, "/html-flow", ev.Body["page"])
			}
		}
		assert.ElementsMatch(t, []any{"/html-flow", "/html", "/html-flow"}, pages)
		assert.Equal(t, 1, withUTM, "only the landing's view carries the campaign: the next pages' views carry their own UTM only")
		assert.Equal(t, "summer_sale", utmOf(t, calls[2])["campaign"], "while flows still get the visit's campaign")
	})
}

// TestViewEventsNeverWaitForTheAPI: with the events endpoint answering far later than a page
// takes, pages still answer at once (on the bubble's clock, no time passes), and the events
// arrive when the API answers.
func TestViewEventsNeverWaitForTheAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newViewSite(t, Options{})
		id := s.knownBrowser(t)
		// Far longer than a page takes, and still within the client's timeout
		// (personalize.DefaultTimeout), so the events arrive in the end.
		const latency = 900 * time.Millisecond
		s.sb.SetEventsFault(sandbox.Fault{Latency: latency})
		start := time.Now()
		for range 5 {
			resp := s.do(t, http.MethodGet, "/html-flow", id)
			require.Equal(t, http.StatusOK, resp.StatusCode)
		}
		assert.Zero(t, time.Since(start), "five pages answered before one event did")
		synctest.Wait() // the workers have taken what they send, and wait for the API
		st := s.pc.EventStats()
		assert.Equal(t, 5, st.Queued+st.InFlight, "%+v", st)
		assert.Zero(t, st.Sent, "%+v", st)

		// Closing the client waits for the slow deliveries.
		assert.Len(t, s.events(t), 5)
		assert.GreaterOrEqual(t, time.Since(start), latency)
		assert.Equal(t, personalize.EventStats{Sent: 5}, s.pc.EventStats())
	})
}

// TestViewEventsDroppedWhenTheQueueIsFull: while the API is slow, the client's queue fills up;
// later views are dropped and counted, and the pages never wait.
func TestViewEventsDroppedWhenTheQueueIsFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newViewSite(t, Options{}, personalize.WithEvents(personalize.EventOptions{QueueSize: 2, Workers: 1}))
		id := s.knownBrowser(t)
		s.sb.SetEventsFault(sandbox.Fault{Latency: 900 * time.Millisecond})
		start := time.Now()
		for i := range 5 {
			resp := s.do(t, http.MethodGet, "/html", id)
			require.Equal(t, http.StatusOK, resp.StatusCode, "page %d", i)
			synctest.Wait() // the worker takes the first view and waits for the API
		}
		assert.Zero(t, time.Since(start), "the pages did not wait for the full queue")
		assert.Equal(t, personalize.EventStats{InFlight: 1, Queued: 2, Dropped: 2}, s.pc.EventStats(),
			"one view in flight, two queued, two dropped")
		assert.Len(t, s.events(t), 3, "what was queued is delivered")
		assert.Equal(t, personalize.EventStats{Sent: 3, Dropped: 2}, s.pc.EventStats())
	})
}

// TestViewEventsNeedNoSetup: any client sends views; once it is closed, pages are still served
// and their views are dropped and counted, never sent.
func TestViewEventsNeedNoSetup(t *testing.T) {
	var logs lockedBuffer
	pc := offlineClient(t, personalize.WithPointOfSale("test"), personalize.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	mw, err := New(pc, Options{SendViewEvents: true, SessionKeys: testKeys})
	require.NoError(t, err)
	require.NoError(t, pc.Close(context.Background()), "nothing queued yet")

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Cookie", "bid_key123="+validID)
	rec := httptest.NewRecorder()
	mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, htmlPage)
	})).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, htmlPage, rec.Body.String())
	assert.Equal(t, personalize.EventStats{Dropped: 1}, pc.EventStats())
	assert.Contains(t, logs.String(), "event dropped", "the client's queue logs the drop")
}

func TestIsHTML(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    bool
	}{
		{"text/html", "text/html", "", true},
		{"with charset", "text/html; charset=utf-8", "", true},
		{"case and spaces", " Text/HTML ;charset=utf-8", "", true},
		{"json", "application/json", htmlPage, false},
		{"xhtml is not asked for", "application/xhtml+xml", "", false},
		{"plain", "text/plain", "", false},
		{"sniffed", "", htmlPage, true},
		{"sniffed text", "", "hello", false},
		{"nothing", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, isHTML(tc.contentType, []byte(tc.body)))
		})
	}
}
