package middleware

import (
	"container/list"
	"context"
	_ "embed"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-personalize/sdk/personalize"
)

// Bounds of the debug handler's record (DebugHandler).
const (
	// maxDebugVisitors is how many visitors' records are kept; the visitor seen least
	// recently is forgotten first.
	maxDebugVisitors = 1024
	// maxDebugEntries is how many of one visitor's latest flow calls are kept, and how many
	// of their latest events.
	maxDebugEntries = 20
	// maxDebugReason cuts an error's text kept as a reason.
	maxDebugReason = 300
)

// DebugHandler returns a handler that shows the visitor who requests it what personalization
// did for them: their browser ID (from the cookie), the visit's campaign, their latest flow
// calls (outcome, and the error that says why a slot showed its default content), their
// latest events (type, outcome, reason), and the isolation of those flows and of every flow
// isolated right now (personalize.Client.Isolated). It answers HTML (no script), or JSON for
// ?format=json or an Accept header that asks for application/json rather than HTML; always
// with Cache-Control: no-store.
//
// It shows a visitor only their own record, found by the browser ID their cookie carries:
// a request without that cookie sees no calls or events, and one without consent
// (Options.Consent) sees nothing but that. The browser ID is a bearer credential: whoever has
// a visitor's cookie sees that visitor's record, which is why authorize must say yes first.
// authorize is the application's check (a signed-in administrator, a token, the internal
// network); a nil authorize, or one that returns false, refuses every request (403
// Forbidden). Reading the page changes nothing: no cookie is set, no session saved, no browser
// created.
//
// Nothing is recorded until DebugHandler is first called with an authorize: the middleware
// then keeps, from that moment on, the latest 20 flow calls and 20 events of each of the 1024
// visitors seen most recently (about 10 KB each at most), recording a page's calls when its
// handler returns. Mount the handler on a path of your own, inside or outside Handler:
//
//	mux.Handle("GET /_personalize/debug", mw.DebugHandler(isAdmin))
func (m *Middleware) DebugHandler(authorize func(*http.Request) bool) http.Handler {
	if m == nil || m.client == nil || authorize == nil {
		return http.HandlerFunc(forbidden)
	}
	m.debugOnce.Do(func() {
		rec := &debugRecord{m: m}
		m.client.Observe(personalize.Hooks{Event: rec.event})
		m.debug.Store(rec)
	})
	return &debugHandler{m: m, authorize: authorize}
}

func forbidden(w http.ResponseWriter, _ *http.Request) {
	noStore(w.Header())
	http.Error(w, "forbidden", http.StatusForbidden)
}

func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	h.Set("X-Content-Type-Options", "nosniff")
}

// debugRecord is the per-visitor record behind DebugHandler, by browser ID, least recently
// recorded visitor first. Safe for concurrent use; bounded by maxDebugVisitors visitors of
// maxDebugEntries calls and as many events.
type debugRecord struct {
	m *Middleware

	mu       sync.Mutex
	visitors map[string]*list.Element // of *visitorRecord, in lru
	lru      list.List
}

type visitorRecord struct {
	id     string
	calls  ring[debugCall]
	events ring[debugEvent]
}

// ring keeps the latest maxDebugEntries values.
type ring[T any] struct {
	buf   [maxDebugEntries]T
	next  int
	count int
}

func (r *ring[T]) add(v T) {
	r.buf[r.next] = v
	r.next = (r.next + 1) % len(r.buf)
	r.count = min(r.count+1, len(r.buf))
}

// newestFirst lists the values, the latest first.
func (r *ring[T]) newestFirst() []T {
	out := make([]T, 0, r.count)
	for i := 1; i <= r.count; i++ {
		out = append(out, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return out
}

// debugCall is one flow call in DebugHandler's JSON.
type debugCall struct {
	FriendlyID string        `json:"friendly_id"`
	Outcome    string        `json:"outcome"`
	Reason     string        `json:"reason,omitempty"`
	Start      time.Time     `json:"start"`
	Duration   time.Duration `json:"duration_ns"`
	StatusCode int           `json:"status_code,omitempty"`
	Attempts   int           `json:"attempts"`
	Isolation  string        `json:"isolation"`
	// CorrelationID is the call's x-sc-correlation-id, for Sitecore support.
	CorrelationID string `json:"correlation_id,omitempty"`
	// Cache is what the decision cache did (personalize.CacheUse), and CacheAge the age of
	// the entry it served: "" and 0 for a flow without a cache policy.
	Cache    string        `json:"cache,omitempty"`
	CacheAge time.Duration `json:"cache_age_ns,omitempty"`
}

// debugEvent is one event in DebugHandler's JSON.
type debugEvent struct {
	Type       string    `json:"type"`
	Outcome    string    `json:"outcome"`
	Reason     string    `json:"reason,omitempty"`
	Time       time.Time `json:"time"`
	StatusCode int       `json:"status_code,omitempty"`
	Attempts   int       `json:"attempts"`
}

// debugFlow is a flow's isolation in DebugHandler's JSON.
type debugFlow struct {
	FriendlyID string `json:"friendly_id"`
	Isolated   bool   `json:"isolated"`
}

// debugView is what DebugHandler shows, and its JSON.
type debugView struct {
	// BrowserID is the requesting visitor's, from their cookie; "" without one.
	BrowserID string `json:"browser_id"`
	// Blocked says why this visitor gets no personalization, "" when they do.
	Blocked  string        `json:"blocked_reason,omitempty"`
	Campaign debugCampaign `json:"campaign"`
	Calls    []debugCall   `json:"flow_calls"`
	Events   []debugEvent  `json:"events"`
	Flows    []debugFlow   `json:"flows"`
	Now      time.Time     `json:"now"`
}

// debugCampaign is the visit's campaign in DebugHandler's JSON.
type debugCampaign struct {
	UTM             map[string]string `json:"utm"`
	LandingReferrer string            `json:"landing_referrer,omitempty"`
}

func cacheUse(u personalize.CacheUse) string {
	if u == personalize.CacheUnused {
		return ""
	}
	return u.String()
}

func reason(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > maxDebugReason {
		s = strings.ToValidUTF8(s[:maxDebugReason], "") + "..."
	}
	return s
}

// visitor returns id's record, making it (and forgetting the least recent visitor beyond the
// bound) when it is new. The caller holds rec.mu.
func (rec *debugRecord) visitor(id string) *visitorRecord {
	if rec.visitors == nil {
		rec.visitors = make(map[string]*list.Element)
	}
	if e := rec.visitors[id]; e != nil {
		rec.lru.MoveToBack(e)
		return e.Value.(*visitorRecord)
	}
	if rec.lru.Len() >= maxDebugVisitors {
		oldest := rec.lru.Front()
		delete(rec.visitors, oldest.Value.(*visitorRecord).id)
		rec.lru.Remove(oldest)
	}
	v := &visitorRecord{id: id}
	rec.visitors[id] = rec.lru.PushBack(v)
	return v
}

// page records the flow calls of a request whose handler returned, for its visitor.
func (rec *debugRecord) page(st *request, ctx context.Context) {
	st.mu.Lock()
	built := st.page != nil
	st.mu.Unlock()
	if !built || st.blocked() != NotBlocked {
		return
	}
	id := st.currentID()
	calls := personalize.Calls(ctx)
	if id == "" || len(calls) == 0 {
		return
	}
	rows := make([]debugCall, 0, len(calls))
	for _, c := range calls {
		if c.Outcome == 0 {
			continue // still running: the page was closed, so it never will be
		}
		rows = append(rows, debugCall{FriendlyID: c.FriendlyID, Outcome: c.Outcome.String(), Reason: reason(c.Err),
			Start: c.Start, Duration: c.Duration, StatusCode: c.StatusCode, Attempts: c.Attempts,
			Isolation: c.Isolation.String(), CorrelationID: c.CorrelationID, Cache: cacheUse(c.Cache), CacheAge: c.CacheAge})
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	v := rec.visitor(id)
	for _, r := range rows {
		v.calls.add(r)
	}
}

// event is the client's Event hook: it records the event for the visitor it belongs to.
func (rec *debugRecord) event(ctx context.Context, info personalize.EventInfo) {
	id := info.BrowserID
	if id == "" {
		// An event rejected before the visitor's ID was known: the request's, if it is one.
		if st := fromContext(ctx); st != nil && st.blocked() == NotBlocked {
			id = st.currentID()
		}
	}
	if id == "" {
		return
	}
	row := debugEvent{Type: info.Type, Outcome: info.Outcome.String(), Reason: reason(info.Err), Time: info.Start,
		StatusCode: info.StatusCode, Attempts: info.Attempts}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.visitor(id).events.add(row)
}

// view returns the record of the visitor with browser ID id: nothing for "".
func (rec *debugRecord) view(id string) (calls []debugCall, events []debugEvent) {
	if id == "" {
		return nil, nil
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	e := rec.visitors[id]
	if e == nil {
		return nil, nil
	}
	v := e.Value.(*visitorRecord)
	return v.calls.newestFirst(), v.events.newestFirst()
}

type debugHandler struct {
	m         *Middleware
	authorize func(*http.Request) bool
}

func (d *debugHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !d.authorize(r) {
		forbidden(w, r)
		return
	}
	h := w.Header()
	noStore(h)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	view := d.m.debugView(r)
	if wantsJSON(r) {
		h.Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(view)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	_ = debugPage.Execute(w, &view)
}

// debugView gathers what the requesting visitor may see of their own record.
func (m *Middleware) debugView(r *http.Request) debugView {
	view := debugView{Now: time.Now(), Calls: []debugCall{}, Events: []debugEvent{}, Flows: []debugFlow{},
		Campaign: debugCampaign{UTM: map[string]string{}}}
	if m.cfg.consent != nil && !m.cfg.consent(r) {
		view.Blocked = BlockedNoConsent.String()
		return view // no cookie or session of theirs is read
	}
	if reason := m.blockReason(r); reason != NotBlocked && reason != BlockedHEAD {
		view.Blocked = reason.String()
	}
	view.BrowserID = m.readBrowserID(r.Header)
	view.Campaign = m.readCampaign(r)
	if rec := m.debug.Load(); rec != nil {
		if calls, events := rec.view(view.BrowserID); calls != nil {
			view.Calls, view.Events = calls, events
		}
	}
	isolated := m.client.Isolated()
	seen := map[string]bool{}
	for _, c := range view.Calls {
		if !seen[c.FriendlyID] {
			seen[c.FriendlyID] = true
			_, isolated := slices.BinarySearch(isolated, c.FriendlyID)
			view.Flows = append(view.Flows, debugFlow{FriendlyID: c.FriendlyID, Isolated: isolated})
		}
	}
	for _, id := range isolated {
		if !seen[id] {
			view.Flows = append(view.Flows, debugFlow{FriendlyID: id, Isolated: true})
		}
	}
	slices.SortFunc(view.Flows, func(a, b debugFlow) int { return strings.Compare(a.FriendlyID, b.FriendlyID) })
	return view
}

// readCampaign reads the visit's campaign from the session, without changing or saving it.
func (m *Middleware) readCampaign(r *http.Request) debugCampaign {
	c := debugCampaign{UTM: map[string]string{}}
	// gorilla/sessions keeps a registry in the request it is given: a private copy.
	sess, err := m.cfg.store.Get(r.WithContext(r.Context()), m.cfg.sessionName)
	if err != nil || sess == nil || sess.IsNew {
		return c
	}
	if stored, ok := sess.Values[sessionUTM].(string); ok {
		if utm := parseUTM(stored); utm != nil {
			c.UTM = utm
		}
	}
	if ref, ok := sess.Values[sessionReferrer].(string); ok && len(ref) <= maxReferrerBytes {
		c.LandingReferrer = ref
	}
	return c
}

// wantsJSON: ?format=json, or an Accept header whose first choice is application/json.
func wantsJSON(r *http.Request) bool {
	if r.URL != nil && r.URL.Query().Get("format") == "json" {
		return true
	}
	first, _, _ := strings.Cut(r.Header.Get("Accept"), ",")
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(first))
	return err == nil && mt == "application/json"
}

//go:embed debug.html
var debugHTML string

var debugPage = template.Must(template.New("debug").Funcs(template.FuncMap{
	"ms":  func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() },
	"age": func(d time.Duration) string { return d.Round(time.Second).String() },
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return now.Sub(t).Round(time.Second).String() + " ago"
	},
}).Parse(debugHTML))
