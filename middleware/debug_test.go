package middleware

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// isAdmin is the tests' authorisation check.
func isAdmin(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" }

// debugSite is a site whose pages call the flows in ?f= and track the events in ?track=, with
// the debug handler mounted at /_debug inside the middleware and at /outside/_debug outside
// it.
type debugSite struct {
	*site
	h http.Handler
}

func newDebugSite(t *testing.T, opts Options, clientOpts ...personalize.Option) *debugSite {
	t.Helper()
	s := newSite(t, opts, clientOpts...)
	pages := http.NewServeMux()
	debug := s.mw.DebugHandler(isAdmin)
	pages.Handle("/_debug", debug)
	pages.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		for _, id := range r.URL.Query()["f"] {
			_, _ = personalize.Flow(ctx, id)
		}
		for _, typ := range r.URL.Query()["track"] {
			_ = personalize.Track(ctx, typ, nil)
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = fmt.Fprint(w, "<p>page</p>")
	})
	root := http.NewServeMux()
	root.Handle("/outside/_debug", debug)
	root.Handle("/", s.mw.Handler(pages))
	return &debugSite{site: s, h: root}
}

// debugOf asks the debug handler, as the visitor and an administrator, for the visitor's
// record.
func (v *visitor) debugOf(t *testing.T, h http.Handler, path string) debugView {
	t.Helper()
	v.header.Set("X-Admin", "yes")
	defer v.header.Del("X-Admin")
	resp, _ := v.get(h, path+"?format=json")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Empty(t, resp.Header.Values("Set-Cookie"), "reading the record sets nothing")
	var view debugView
	require.NoError(t, json.Unmarshal([]byte(v.lastBody), &view), v.lastBody)
	return view
}

func TestDebugHandlerShowsEachVisitorOnlyTheirOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newDebugSite(t, Options{SendViewEvents: true})
		s.sb.SetFlowFault("c", sandbox.Fault{Status: 500})
		alice, bob, carol := newVisitor(t), newVisitor(t), newVisitor(t)
		for _, visit := range []struct {
			v    *visitor
			path string
		}{{alice, "/?f=a&track=ADD_TO_CART"}, {bob, "/?f=b&f=c&utm_campaign=summer_sale"}, {bob, "/?track=bad+type"}} {
			visit.v.get(s.h, visit.path)
			synctest.Wait() // the events queued are sent before the next page
		}
		require.NoError(t, s.pc.Close(t.Context())) // the queued events are delivered and recorded

		aliceID, bobID := cookieOf(t, alice, bidName(t)), cookieOf(t, bob, bidName(t))
		require.NotEmpty(t, aliceID)
		require.NotEmpty(t, bobID)
		require.NotEqual(t, aliceID, bobID)

		for _, path := range []string{"/_debug", "/outside/_debug"} {
			a := alice.debugOf(t, s.h, path)
			assert.Equal(t, aliceID, a.BrowserID)
			assert.Equal(t, []string{"a"}, friendlyIDs(a.Calls))
			assert.Equal(t, "decision", a.Calls[0].Outcome)
			assert.ElementsMatch(t, []string{"VIEW sent", "ADD_TO_CART sent"}, eventsOf(a.Events), "sent by two workers at once")
			assert.Empty(t, a.Campaign.UTM)

			b := bob.debugOf(t, s.h, path)
			assert.Equal(t, bobID, b.BrowserID)
			assert.Equal(t, []string{"c", "b"}, friendlyIDs(b.Calls), "latest first")
			assert.Equal(t, "api_error", b.Calls[0].Outcome)
			assert.Contains(t, b.Calls[0].Reason, "http 500")
			assert.Len(t, b.Calls[0].CorrelationID, 32)
			assert.Equal(t, []string{"VIEW sent", "bad type invalid", "VIEW sent"}, eventsOf(b.Events))
			assert.Equal(t, map[string]string{"campaign": "summer_sale"}, b.Campaign.UTM)
			assert.Equal(t, []debugFlow{{FriendlyID: "b"}, {FriendlyID: "c"}}, b.Flows)

			c := carol.debugOf(t, s.h, path)
			assert.Equal(t, debugView{Calls: []debugCall{}, Events: []debugEvent{}, Flows: []debugFlow{},
				Campaign: debugCampaign{UTM: map[string]string{}}, Now: c.Now}, c, "no cookie, nothing to see")
		}

		// Someone who sends Alice's cookie is Alice: the browser ID is a bearer credential.
		mallory := newVisitor(t)
		mallory.setCookie(bidName(t), bobID)
		assert.Equal(t, bobID, mallory.debugOf(t, s.h, "/_debug").BrowserID)
	})
}

func TestDebugHandlerRefusesWithoutAuthorisation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newDebugSite(t, Options{})
		alice := newVisitor(t)
		alice.get(s.h, "/?f=a")
		for _, path := range []string{"/_debug", "/_debug?format=json", "/outside/_debug"} {
			resp, _ := alice.get(s.h, path)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, path)
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			assert.NotContains(t, alice.lastBody, cookieOf(t, alice, bidName(t)))
		}
		for name, h := range map[string]http.Handler{
			"nil authorize":     s.mw.DebugHandler(nil),
			"zero middleware":   (&Middleware{}).DebugHandler(isAdmin),
			"nil middleware":    (*Middleware)(nil).DebugHandler(isAdmin),
			"authorize says no": s.mw.DebugHandler(func(*http.Request) bool { return false }),
		} {
			alice.header.Set("X-Admin", "yes")
			resp, _ := alice.get(h, "/_debug")
			alice.header.Del("X-Admin")
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, name)
		}

		alice.header.Set("X-Admin", "yes")
		req := httptest.NewRequest(http.MethodPost, siteURL+"/_debug", nil)
		req.Header.Set("X-Admin", "yes")
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	})
}

// The HTML page: the visitor's own flows and nothing of another's, escaped, without script.
func TestDebugHandlerHTML(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newDebugSite(t, Options{})
		alice, bob := newVisitor(t), newVisitor(t)
		alice.get(s.h, "/?f=a&f=%3Cscript%3E")
		bob.get(s.h, "/?f=b")
		alice.header.Set("X-Admin", "yes")
		alice.header.Set("Accept", "text/html,application/json;q=0.9")
		resp, _ := alice.get(s.h, "/_debug")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body := alice.lastBody
		assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
		assert.Contains(t, body, cookieOf(t, alice, bidName(t)))
		assert.Contains(t, body, "<code>a</code>")
		assert.Contains(t, body, "&lt;script&gt;", "a friendly ID is text")
		assert.NotContains(t, strings.ToLower(body), "<script")
		assert.NotContains(t, body, "<code>b</code>")
		assert.NotContains(t, body, cookieOf(t, bob, bidName(t)))

		alice.header.Set("Accept", "application/json")
		resp, _ = alice.get(s.h, "/_debug")
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	})
}

// A flow isolated right now shows as such, for the visitor who called it and for those who
// did not.
func TestDebugHandlerShowsIsolation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newDebugSite(t, Options{})
		s.sb.SetFlowFault("c", sandbox.Fault{Status: 503})
		alice := newVisitor(t)
		for range 5 { // the default breaker opens after 5 failures
			alice.get(s.h, "/?f=c&f=a")
		}
		a := alice.debugOf(t, s.h, "/_debug")
		assert.Equal(t, []debugFlow{{FriendlyID: "a"}, {FriendlyID: "c", Isolated: true}}, a.Flows)
		assert.Equal(t, "closed", a.Calls[len(a.Calls)-1].Isolation)
		assert.Equal(t, []debugFlow{{FriendlyID: "c", Isolated: true}}, newVisitor(t).debugOf(t, s.h, "/_debug").Flows)
	})
}

// A visitor who gives no consent is shown nothing of theirs: their cookie and session are not
// read.
func TestDebugHandlerWithoutConsent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		consent := true
		s := newDebugSite(t, Options{Consent: func(*http.Request) bool { return consent }})
		alice := newVisitor(t)
		alice.get(s.h, "/?f=a&utm_campaign=summer_sale")
		consent = false
		a := alice.debugOf(t, s.h, "/_debug")
		assert.Equal(t, "no consent", a.Blocked)
		assert.Empty(t, a.BrowserID)
		assert.Empty(t, a.Calls)
		assert.Empty(t, a.Campaign.UTM)
	})
}

// Nothing is recorded before DebugHandler is called, and the record is bounded in visitors and
// per visitor.
func TestDebugRecordIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSite(t, Options{})
		newVisitor(t).get(s.h, "/flow?f=a")
		assert.Nil(t, s.mw.debug.Load(), "no record without DebugHandler")

		s.mw.DebugHandler(isAdmin)
		rec := s.mw.debug.Load()
		require.NotNil(t, rec)
		for i := range 3 * maxDebugVisitors {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			for j := range 3 * maxDebugEntries {
				rec.event(t.Context(), personalize.EventInfo{Type: fmt.Sprint("E", j), BrowserID: id, Outcome: personalize.EventSent})
			}
		}
		rec.mu.Lock()
		assert.Len(t, rec.visitors, maxDebugVisitors)
		assert.Equal(t, maxDebugVisitors, rec.lru.Len())
		rec.mu.Unlock()
		_, events := rec.view(fmt.Sprintf("00000000-0000-4000-8000-%012d", 0))
		assert.Nil(t, events, "the visitor seen least recently is forgotten")
		_, events = rec.view(fmt.Sprintf("00000000-0000-4000-8000-%012d", 3*maxDebugVisitors-1))
		require.Len(t, events, maxDebugEntries)
		assert.Equal(t, fmt.Sprint("E", 3*maxDebugEntries-1), events[0].Type, "the latest first")
		assert.Equal(t, fmt.Sprint("E", 2*maxDebugEntries), events[maxDebugEntries-1].Type)
		calls, events := rec.view("")
		assert.Nil(t, calls)
		assert.Nil(t, events)
	})
}

func cookieOf(t *testing.T, v *visitor, name string) string {
	t.Helper()
	for _, c := range v.jar.Cookies(must(httptest.NewRequest(http.MethodGet, siteURL, nil).URL, nil)) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func friendlyIDs(calls []debugCall) []string {
	out := []string{}
	for _, c := range calls {
		out = append(out, c.FriendlyID)
	}
	return out
}

func eventsOf(events []debugEvent) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Type+" "+e.Outcome)
	}
	return out
}

// A slot served by the decision cache shows as such, with the entry's age.
func TestDebugHandlerShowsTheCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newDebugSite(t, Options{}, personalize.WithCaching(personalize.Caching{
			Flows: map[string]personalize.CachePolicy{"a": personalize.StaleOnFailure(time.Hour)}}))
		alice := newVisitor(t)
		alice.get(s.h, "/?f=a&f=b")
		time.Sleep(90 * time.Second)
		s.sb.SetFlowFault("a", sandbox.Fault{Status: 500})
		alice.get(s.h, "/?f=a")
		a := alice.debugOf(t, s.h, "/_debug")
		require.Len(t, a.Calls, 3)
		stale, b, miss := a.Calls[0], a.Calls[1], a.Calls[2]
		assert.Equal(t, "api_error", stale.Outcome, "the call failed")
		assert.Equal(t, "stale", stale.Cache, "and the visitor got their last decision")
		assert.Equal(t, 90*time.Second, stale.CacheAge)
		assert.Equal(t, "", b.Cache, "no policy")
		assert.Equal(t, "miss", miss.Cache)

		alice.header.Set("X-Admin", "yes")
		alice.get(s.h, "/_debug")
		assert.Contains(t, alice.lastBody, "stale, 1m30s old")
	})
}
