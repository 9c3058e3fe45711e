package personalize

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Hooks are functions the client calls after what it does, for instrumentation (tracing,
// metrics, a debug page); give them to New with WithHooks. Nil fields are skipped. Hooks run
// in the goroutine that did the work, after it, so they must be fast and safe for concurrent
// use; they must not keep the infos' errors beyond their own call if those may hold much.
//
// ctx is the context the work ran for, so a tracing hook parents its span on the request's
// span: for a flow of a page, the page's context (the request's context as the middleware or
// StartPage got it, not a handler's context derived from it); for Client.CallFlow,
// Client.CreateBrowser and Client.SendEvent, the caller's context. Events delivered later by
// the client's queue get Detach's context instead (see Detach).
//
// The infos never hold an email address or identifier value. EventInfo holds the visitor's
// browser ID, which is as good as a password for that visitor's data: instrumentation must
// not export it (package personalizeotel does not).
type Hooks struct {
	// FlowCall is called after every flow call, also the calls not made (no visitor, breaker
	// open, invalid request, a page closed).
	FlowCall func(ctx context.Context, info CallInfo)
	// BrowserCreated is called after every call of the browser creation endpoint
	// (Client.CreateBrowser, which the middleware calls for a new visitor), failed or not; a
	// browser ID the middleware mints locally (middleware.MintLocally) calls no hook. Through
	// the Edge proxy it is also called after each guest ref look-up (Client.GuestRef), with
	// BrowserInfo.GuestRef set.
	BrowserCreated func(ctx context.Context, info BrowserInfo)
	// Event is called once per event given to the client, when its fate is known: sent,
	// failed, dropped or invalid (EventOutcome).
	Event func(ctx context.Context, info EventInfo)
	// Detach, when set, is called when an event is queued, with the context it was queued
	// from (the request's), and returns the context Event gets when the queue's workers
	// deliver it, after the request is over: typically only the request's trace span context,
	// so that the event's span joins the request's trace. Without Detach, Event gets
	// context.Background() for delivered events. The client never keeps the request's own
	// context past the request: it would hold the request's values until delivery.
	Detach func(ctx context.Context) context.Context
}

// BrowserInfo describes one call of the browser creation endpoint (GET
// /v1.2/browser/create.json) or, through the Edge proxy, of its guest ref look-up
// (Client.GuestRef: GuestRef is true), for hooks. It holds no browser ID or guest ref.
type BrowserInfo struct {
	// GuestRef is true for a guest ref look-up (show.json), false for a browser creation.
	GuestRef bool
	// Outcome is OutcomeOf(Err): OutcomeDecision when a browser ID was created.
	Outcome Outcome
	// Start is when the call began; Duration how long it took, retries included.
	Start    time.Time
	Duration time.Duration
	// StatusCode is the HTTP status of the last answer, 0 when there was none.
	StatusCode int
	// Attempts is how many HTTP requests were sent (0, 1 or 2).
	Attempts int
	// Isolation is the state of browser creation's circuit breaker when the call was made.
	Isolation IsolationState
	// Transport is how the API was reached (TransportDirect or TransportEdge), "" when
	// nothing was sent.
	Transport string
	// Err is why no browser ID (or guest ref) was got, nil when one was.
	Err error
}

// EventOutcome is what became of an event given to the client.
type EventOutcome uint8

const (
	// EventSent: the API accepted the event.
	EventSent EventOutcome = iota + 1
	// EventFailed: the event was queued (or sent with Client.SendEvent) but not delivered: the
	// API rejected it, could not be reached after the retry, or Client.Close's deadline came
	// first.
	EventFailed
	// EventDropped: the event was not queued: the queue was full, the client closed, or no
	// browser ID could be had for it.
	EventDropped
	// EventInvalid: the event was rejected before being queued (ErrInvalidRequest).
	EventInvalid
)

var eventOutcomeNames = [...]string{
	EventSent:    "sent",
	EventFailed:  "failed",
	EventDropped: "dropped",
	EventInvalid: "invalid",
}

func (o EventOutcome) String() string {
	if int(o) < len(eventOutcomeNames) && eventOutcomeNames[o] != "" {
		return eventOutcomeNames[o]
	}
	return "unknown"
}

// EventInfo describes what became of one event, for hooks and debug pages. It never holds an
// email address or identifier value.
type EventInfo struct {
	// Type is the event's type (VIEW, IDENTITY, ADD_TO_CART...), as given: an invalid event's
	// may be anything.
	Type string
	// BrowserID is the browser the event belongs to, "" when none was known. It identifies a
	// visitor (and lets anyone who has it read their data): match it, never export it.
	BrowserID string
	Outcome   EventOutcome
	// Start is when the event was sent (its first attempt), or dropped or rejected; Duration
	// how long sending took, retries and the pause before them included (0 when not sent).
	Start    time.Time
	Duration time.Duration
	// StatusCode is the HTTP status of the last answer, 0 when there was none.
	StatusCode int
	// Attempts is how many HTTP requests were sent (0, 1 or 2).
	Attempts int
	// Transport is how the API was reached (TransportDirect or TransportEdge), "" when
	// nothing was sent.
	Transport string
	// Err is why the event was not sent, nil when it was.
	Err error
}

// IsolationState is the state of a flow's circuit breaker (see BreakerSettings).
type IsolationState uint8

const (
	// IsolationClosed: calls go through (also when the breakers are disabled).
	IsolationClosed IsolationState = iota
	// IsolationOpen: the flow is isolated, its calls fail fast (ErrBreakerOpen), after
	// repeated failures or because a Retry-After holds it back.
	IsolationOpen
	// IsolationHalfOpen: the isolation is over and one trial call is let through; its
	// success closes the breaker, its failure opens it again.
	IsolationHalfOpen
)

var isolationNames = [...]string{
	IsolationClosed:   "closed",
	IsolationOpen:     "open",
	IsolationHalfOpen: "half_open",
}

func (s IsolationState) String() string {
	if int(s) < len(isolationNames) {
		return isolationNames[s]
	}
	return "unknown"
}

// TransportDirect is CallInfo.Transport (and the others') for a call made to a regional API
// host directly (the default; TransportEdge is the other).
const TransportDirect = "direct"

// WithHooks adds hooks the client calls after each flow call, browser creation and event
// (see Hooks). It may be given several times: every set runs, in the order given.
func WithHooks(h Hooks) Option {
	return optionFunc(func(c *config) error {
		if h.FlowCall != nil || h.BrowserCreated != nil || h.Event != nil {
			c.hooks = append(c.hooks, h)
		}
		return nil
	})
}

// hookSet is a client's hooks: the ones given to New, then those the project's own packages
// added (a debug page's record). It is never changed once published, only replaced.
type hookSet struct {
	all []Hooks
	// Counts of the sets with each hook, so that the paths without any skip the loop.
	flows, browsers, events int
}

func newHookSet(all []Hooks) *hookSet {
	s := &hookSet{all: all}
	for _, h := range all {
		if h.FlowCall != nil {
			s.flows++
		}
		if h.BrowserCreated != nil {
			s.browsers++
		}
		if h.Event != nil {
			s.events++
		}
	}
	return s
}

// clientHooks holds the client's hook set; its zero value has none.
type clientHooks struct {
	set atomic.Pointer[hookSet]
	mu  sync.Mutex // serialises add
}

func (h *clientHooks) load() *hookSet {
	if s := h.set.Load(); s != nil {
		return s
	}
	return &noHooks
}

var noHooks hookSet

// add appends a set of hooks to those of the client, for calls made from now on.
func (h *clientHooks) add(more Hooks) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.set.Store(newHookSet(append(slices.Clip(h.load().all), more)))
}

func (c *Client) flowHooks(ctx context.Context, info CallInfo) {
	s := c.hooks.load()
	if s.flows == 0 {
		return
	}
	for _, h := range s.all {
		if h.FlowCall != nil {
			h.FlowCall(ctx, info)
		}
	}
}

func (c *Client) browserHooks(ctx context.Context, info BrowserInfo) {
	s := c.hooks.load()
	if s.browsers == 0 {
		return
	}
	for _, h := range s.all {
		if h.BrowserCreated != nil {
			h.BrowserCreated(ctx, info)
		}
	}
}

// eventHooks calls the Event hooks with ctx, the context the event was given from.
func (c *Client) eventHooks(ctx context.Context, info EventInfo) {
	c.tellEvent(info, func(int) context.Context { return ctx })
}

// queuedEventHooks tells the hooks of an event the queue delivered after its request, which
// has no context of its own: each set gets the one its Detach made when the event was queued
// (detached, one per set in order; nil for a set without Detach, and missing for sets added
// since), or context.Background().
func (c *Client) queuedEventHooks(detached []context.Context, info EventInfo) {
	c.tellEvent(info, func(i int) context.Context {
		if i < len(detached) && detached[i] != nil {
			return detached[i]
		}
		return context.Background()
	})
}

func (c *Client) tellEvent(info EventInfo, ctxOf func(set int) context.Context) {
	s := c.hooks.load()
	if s.events == 0 {
		return
	}
	for i, h := range s.all {
		if h.Event != nil {
			h.Event(ctxOf(i), info)
		}
	}
}

// detach returns each hook set's context for an event queued from ctx, to be delivered later:
// nil when no set has an Event hook.
func (c *Client) detach(ctx context.Context) []context.Context {
	s := c.hooks.load()
	if s.events == 0 {
		return nil
	}
	out := make([]context.Context, len(s.all))
	for i, h := range s.all {
		if h.Event != nil && h.Detach != nil && ctx != nil {
			out[i] = h.Detach(ctx)
		}
	}
	return out
}
