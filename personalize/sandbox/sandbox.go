package sandbox

import (
	"net/http"
	"slices"
	"strings"
	"sync"
)

// DefaultClientKey is the client key a sandbox accepts when WithClientKeys is not given.
const DefaultClientKey = "sandbox-client-key"

// Paths the sandbox answers. Routes lists them as http.ServeMux patterns.
const (
	PathCallFlows     = "/v2/callFlows"
	PathBrowserCreate = "/v1.2/browser/create.json"
	PathEvents        = "/v1.2/events"
	PathEventCreate   = "/v1.2/event/create.json"
	PathTrackers      = "/v3/trackers/"
)

// Sandbox emulates the Sitecore Personalize API. It is an http.Handler, safe for concurrent
// use; make one with New.
type Sandbox struct {
	clientKeys   map[string]bool
	edgeSites    map[string]map[string]bool // context ID -> site names
	pointsOfSale map[string]bool            // nil: any non-empty point of sale
	answers      Answers
	publicURL    string
	trackerDest  func(offer map[string]any) string

	closeOnce sync.Once
	closed    chan struct{}

	cfgMu        sync.RWMutex
	flows        map[string]*flow
	global       Fault
	eventsFault  Fault
	flowFaults   map[string]Fault
	destinations map[string]bool // destinations named by the flows' offers

	mu          sync.Mutex
	calls       ring[CallRecord]
	events      ring[EventRecord]
	dropped     ring[EventRecord]
	clicks      ring[ClickRecord]
	browserList ring[string]
	browsers    fifoMap[string, *browserState]
	identities  fifoMap[string, int]      // identity + friendly ID -> calls
	callCounts  map[string]int            // friendly ID of a defined flow -> calls
	totalCalls  int                       // every callFlows request
	tokens      fifoMap[string, []byte]   // minted token -> offer as defined
	minted      fifoMap[string, struct{}] // destinations from WithTrackerDestination
}

// browserState is what the sandbox knows of a browser it created.
type browserState struct {
	events   []EventRecord // the last MaxBrowserEvents
	guestRef string        // "" until browser/create.json or show.json gives it one
}

// Option configures a Sandbox.
type Option func(*Sandbox)

// WithClientKeys sets the client keys the sandbox accepts, replacing DefaultClientKey. It
// panics without a non-empty key.
func WithClientKeys(keys ...string) Option {
	return func(s *Sandbox) {
		m := make(map[string]bool, len(keys))
		for _, k := range keys {
			if k != "" {
				m[k] = true
			}
		}
		if len(m) == 0 {
			panic("sandbox: WithClientKeys needs at least one non-empty key")
		}
		s.clientKeys = m
	}
}

// WithFlows defines flows, as AddFlows does.
func WithFlows(flows ...*FlowDef) Option {
	return func(s *Sandbox) { s.AddFlows(flows...) }
}

// WithTrackerDestination sets where a tracking link goes when its offer has no destination
// field: fn gets a copy of the offer and returns a URL or a site path. Without it such links
// go to "/".
func WithTrackerDestination(fn func(offer map[string]any) string) Option {
	return func(s *Sandbox) { s.trackerDest = fn }
}

// WithPublicURL sets the base URL of minted tracking links, e.g. "https://example.com/sandbox"
// when the sandbox is mounted under a prefix. Without it the base is derived from each
// request: https when it came over TLS or X-Forwarded-Proto says so, and its Host header.
func WithPublicURL(url string) Option {
	return func(s *Sandbox) { s.publicURL = strings.TrimRight(url, "/") }
}

// New makes a sandbox. Without options it accepts DefaultClientKey, DefaultContextID with
// DefaultSiteName on the Edge endpoints, and has no flows.
func New(opts ...Option) *Sandbox {
	s := &Sandbox{
		clientKeys:   map[string]bool{DefaultClientKey: true},
		edgeSites:    map[string]map[string]bool{DefaultContextID: {DefaultSiteName: true}},
		closed:       make(chan struct{}),
		flows:        make(map[string]*flow),
		flowFaults:   make(map[string]Fault),
		destinations: make(map[string]bool),
		calls:        newRing[CallRecord](MaxRecords),
		events:       newRing[EventRecord](MaxRecords),
		dropped:      newRing[EventRecord](MaxRecords),
		clicks:       newRing[ClickRecord](MaxRecords),
		browserList:  newRing[string](MaxRecords),
		browsers:     newFIFOMap[string, *browserState](MaxBrowsers),
		identities:   newFIFOMap[string, int](maxIdentities),
		callCounts:   make(map[string]int),
		tokens:       newFIFOMap[string, []byte](MaxRecords),
		minted:       newFIFOMap[string, struct{}](MaxRecords),
	}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	return s
}

// Routes returns the http.ServeMux patterns of the sandbox's endpoints, the direct ones and the
// Sitecore Edge ones, for mounting it in another server:
// for _, p := range sb.Routes() { mux.Handle(p, sb) }. No two of them overlap, so a site
// may route other paths under /v1/ (or /v1/events/v1.2/) elsewhere.
func (s *Sandbox) Routes() []string {
	return []string{PathCallFlows, PathBrowserCreate, PathEvents, PathEventCreate, PathTrackers,
		PathEdgePersonalize, PathEdgeBrowserCreate, PathEdgeBrowser, PathEdgeEvents}
}

// ServeHTTP answers the Personalize API's endpoints and the Sitecore Edge's; any other path is
// a 404 error object.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == PathCallFlows:
		s.serveCallFlows(w, r)
	case p == PathBrowserCreate:
		s.serveBrowserCreate(w, r)
	case p == PathEvents:
		s.serveEvents(w, r)
	case p == PathEventCreate:
		s.serveEventCreate(w, r)
	case strings.HasPrefix(p, PathTrackers):
		s.serveTracker(w, r)
	case p == PathEdgePersonalize:
		s.serveEdgePersonalize(w, r)
	case p == PathEdgeEvents:
		s.serveEdgeEvents(w, r)
	case p == PathEdgeBrowserCreate:
		s.serveEdgeBrowserCreate(w, r)
	case strings.HasPrefix(p, PathEdgeBrowser):
		s.serveEdgeShow(w, r)
	default:
		notFound(w, r)
	}
}

// Close ends every request held by a Hang fault or a Latency and makes later ones end at
// once, without an answer. A server's Shutdown does not cancel its requests' contexts, so a
// site that mounts the sandbox calls Close before shutting down. Records stay readable.
func (s *Sandbox) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// AddFlows adds flows, replacing any with the same friendly ID. Later changes to a FlowDef
// do not reach the sandbox until it is added again.
func (s *Sandbox) AddFlows(flows ...*FlowDef) {
	compiled := make([]*flow, 0, len(flows))
	for _, f := range flows {
		if f != nil {
			compiled = append(compiled, compile(f))
		}
	}
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	for _, f := range compiled {
		s.flows[f.id] = f
		for _, d := range f.destinations() {
			s.destinations[d] = true
		}
	}
}

// Flows returns the friendly IDs of the defined flows, sorted.
func (s *Sandbox) Flows() []string {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	ids := make([]string, 0, len(s.flows))
	for id := range s.flows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// SetFault sets the fault of every flow call, browser create, guest lookup (show.json) and
// events request, direct and through the Edge (tracking links excluded). Fault{} clears it.
func (s *Sandbox) SetFault(f Fault) {
	s.cfgMu.Lock()
	s.global = f
	s.cfgMu.Unlock()
}

// SetEventsFault sets the fault of events requests (POST /v1.2/events, GET
// /v1.2/event/create.json and the Edge's POST /v1/events/v1.2/events) only, so a test can
// make the Stream API slow or failing while flows answer normally; Fault{} clears it. It
// composes with SetFault's as a flow's fault does: latencies add up, the global failure wins.
func (s *Sandbox) SetEventsFault(f Fault) {
	s.cfgMu.Lock()
	s.eventsFault = f
	s.cfgMu.Unlock()
}

// SetFlowFault sets the fault of one flow's calls, overriding the flow's own (FlowDef
// WithFault); Fault{} clears it. A global fault's failure wins over it; latencies add up.
func (s *Sandbox) SetFlowFault(friendlyID string, f Fault) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	if f.IsZero() {
		delete(s.flowFaults, friendlyID)
		return
	}
	s.flowFaults[friendlyID] = f
}

// Calls returns the recorded flow calls, to /v2/callFlows and the Edge's /v1/personalize
// (CallRecord.Path says which), oldest first (the last MaxRecords).
func (s *Sandbox) Calls() []CallRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls.all()
}

// CallCount returns how many flow calls (either endpoint) named the flow friendlyID since the last
// Reset, rejected ones included; "" counts every callFlows request. Unlike Calls it is not
// capped. Only flows that are defined are counted by friendly ID.
func (s *Sandbox) CallCount(friendlyID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if friendlyID == "" {
		return s.totalCalls
	}
	return s.callCounts[friendlyID]
}

// Browsers returns the browser IDs created through browser/create.json, direct or through the
// Edge, oldest first (the last MaxRecords).
func (s *Sandbox) Browsers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.browserList.all()
}

// KnowsBrowser reports whether the sandbox created (or was told of, AddBrowser) this browser ID.
func (s *Sandbox) KnowsBrowser(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.browsers.get(strings.ToLower(id))
	return ok
}

// AddBrowser makes the sandbox know a browser ID it did not create, as if it had (e.g. one a
// test minted), so events for it are accepted. It is not added to Browsers.
func (s *Sandbox) AddBrowser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.browsers.get(strings.ToLower(id)); !ok {
		s.browsers.set(strings.ToLower(id), &browserState{})
	}
}

// Events returns the accepted events, oldest first (the last MaxRecords): those the sandbox
// kept, which the guest's rules see. Events answered 201 but dropped are in DroppedEvents.
func (s *Sandbox) Events() []EventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events.all()
}

// DroppedEvents returns the events answered 201 but not kept, oldest first (the last
// MaxRecords): an event whose pos is not one of WithPointsOfSale, as the real API drops it,
// or, with AnswerLenient, one the sandbox would otherwise refuse. Each has Dropped set to why.
// Rules never see them.
func (s *Sandbox) DroppedEvents() []EventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped.all()
}

// Clicks returns the followed tracking links, oldest first (the last MaxRecords).
func (s *Sandbox) Clicks() []ClickRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clicks.all()
}

// Reset clears the records: calls, call counts (so every identity is new again), events
// (also those rules see, and the dropped ones), clicks and the list of created browsers. Flows,
// faults and the browser IDs the sandbox knows, with their guest references, stay, so visitors
// holding a browser ID cookie keep working.
func (s *Sandbox) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.reset()
	s.events.reset()
	s.dropped.reset()
	s.clicks.reset()
	s.browserList.reset()
	s.identities.reset()
	s.callCounts = make(map[string]int)
	s.totalCalls = 0
	for _, b := range s.browsers.m {
		b.events = nil
	}
}

func (s *Sandbox) knownClientKey(k string) bool { return s.clientKeys[k] }

func truncate(s string, n int) string {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "?")
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
