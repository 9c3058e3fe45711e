package personalize

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Visitor is who a page is rendered for.
type Visitor struct {
	// BrowserID is the visitor's Sitecore browser ID, if known.
	BrowserID string
	// EnsureBrowserID, called at most once per page and only when a flow needs a browser ID
	// and BrowserID is empty, gets one (the middleware creates a browser and sets the cookie).
	EnsureBrowserID func(ctx context.Context) (string, error)
	// UTM holds the visit's UTM parameters, keys without the "utm_" prefix.
	UTM map[string]string
	// Path is the request's path: the page of the visitor's events.
	Path string
	// Referrer, UserAgent and Language describe the request.
	Referrer  string
	UserAgent string
	Language  string
	// Blocked, when not empty, says why this visitor gets no personalization (e.g. "no
	// consent", "bot", "prefetch"): flows make no call and report OutcomeNoVisitor.
	Blocked string
	// AllowKnownIdentities lets a blocked visitor's flows run when they name an email or
	// identifiers identity explicitly (consent given for known guests only).
	AllowKnownIdentities bool
}

// Page holds the flow calls of one request: each friendly ID is called at most once, calls run
// in parallel, and all of them share the page's time budget, counted from its first call. A
// nil *Page is valid: its flows report ErrNoPage.
type Page struct {
	client  *Client
	ctx     context.Context
	visitor Visitor
	budget  time.Duration

	mu       sync.Mutex
	calls    map[string]*call
	order    []*call
	closed   bool
	wg       sync.WaitGroup
	budgetCx context.Context
	cancel   context.CancelFunc

	idOnce sync.Once
	id     string
	idErr  error
}

type call struct {
	friendlyID string
	done       chan struct{}
	res        *Result
	info       CallInfo
}

// NewPage starts a page for one request. ctx is the request's context: when it ends, so do
// the page's calls. Call Close when the request is done.
func NewPage(ctx context.Context, client *Client, v Visitor) *Page {
	return &Page{client: client, ctx: ctx, visitor: v, budget: client.cfg.budget, id: v.BrowserID}
}

type pageKey struct{}

// WithPage returns a context carrying the page.
func WithPage(ctx context.Context, p *Page) context.Context {
	return context.WithValue(ctx, pageKey{}, p)
}

// FromContext returns the page in ctx, or nil.
func FromContext(ctx context.Context) *Page {
	p, _ := ctx.Value(pageKey{}).(*Page)
	return p
}

// Prefetch starts calls of the page in ctx for the friendly IDs, at once and in parallel,
// without waiting. Later Flow calls pick up their results.
func Prefetch(ctx context.Context, friendlyIDs ...string) {
	FromContext(ctx).Prefetch(friendlyIDs...)
}

// Flow returns the result of a flow for the page in ctx, waiting for a call already started or
// starting one. On any failure it returns a nil result and an error that says why; render the
// default content then.
func Flow(ctx context.Context, friendlyID string, opts ...FlowOption) (*Result, error) {
	return FromContext(ctx).Flow(ctx, friendlyID, opts...)
}

// FlowOption changes one flow call of a page.
type FlowOption func(*FlowRequest)

// FlowIdentity runs the flow for a known guest instead of the visitor's browser ID. Goals are
// attributed to a browser session only with the browser ID.
func FlowIdentity(id Identity) FlowOption { return func(r *FlowRequest) { r.Identity = id } }

// FlowParams adds custom params; their keys replace those built from UTM and referrer.
func FlowParams(params map[string]any) FlowOption {
	return func(r *FlowRequest) {
		if len(params) == 0 {
			return
		}
		merged := make(map[string]any, len(r.Params)+len(params))
		for k, v := range r.Params {
			merged[k] = v
		}
		for k, v := range params {
			merged[k] = v
		}
		r.Params = merged
	}
}

// FlowLanguage, FlowCurrency and FlowPointOfSale override the defaults for one call.
func FlowLanguage(lang string) FlowOption   { return func(r *FlowRequest) { r.Language = lang } }
func FlowCurrency(code string) FlowOption   { return func(r *FlowRequest) { r.Currency = code } }
func FlowPointOfSale(pos string) FlowOption { return func(r *FlowRequest) { r.PointOfSale = pos } }

// Prefetch starts calls for the friendly IDs in parallel without waiting for them.
func (p *Page) Prefetch(friendlyIDs ...string) {
	if p == nil {
		return
	}
	for _, id := range friendlyIDs {
		p.start(id, nil, true)
	}
}

// Flow returns the flow's result, calling it at most once per page (per set of options).
func (p *Page) Flow(ctx context.Context, friendlyID string, opts ...FlowOption) (*Result, error) {
	if p == nil {
		return nil, ErrNoPage
	}
	c := p.start(friendlyID, opts, false)
	select {
	case <-c.done:
		return c.res, c.info.Err
	case <-ctx.Done():
		return nil, contextError(ctx)
	}
}

// contextError says why a context ended in this package's terms.
func contextError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrTimeout, ctx.Err())
	}
	return fmt.Errorf("%w: %v", ErrCanceled, context.Cause(ctx))
}

// start returns the page's call for the key, starting it if it is new: in a goroutine for a
// prefetch, else in the caller's goroutine.
func (p *Page) start(friendlyID string, opts []FlowOption, async bool) *call {
	key := friendlyID
	var req *FlowRequest
	if len(opts) > 0 {
		req = p.request(friendlyID, opts)
		key = callKey(req)
	}
	p.mu.Lock()
	if c, ok := p.calls[key]; ok {
		p.mu.Unlock()
		return c
	}
	if req == nil {
		req = p.request(friendlyID, nil)
	}
	c := &call{friendlyID: friendlyID, done: make(chan struct{})}
	if p.calls == nil {
		p.calls = make(map[string]*call)
	}
	p.calls[key] = c
	p.order = append(p.order, c)
	if p.closed {
		p.mu.Unlock()
		p.finish(c, req, CallInfo{Err: fmt.Errorf("%w: the page is closed", ErrCanceled)})
		return c
	}
	if p.budgetCx == nil {
		p.budgetCx, p.cancel = context.WithTimeout(p.ctx, p.budget)
	}
	ctx := p.budgetCx
	p.wg.Add(1)
	p.mu.Unlock()
	if async {
		go func() {
			growStack()
			p.run(ctx, c, req)
		}()
	} else {
		p.run(ctx, c, req)
	}
	return c
}

func (p *Page) run(ctx context.Context, c *call, req *FlowRequest) {
	defer p.wg.Done()
	if err := ctx.Err(); err != nil {
		p.finish(c, req, CallInfo{Err: contextError(ctx)})
		return
	}
	if p.visitor.Blocked != "" && !(p.visitor.AllowKnownIdentities && !req.Identity.IsZero() && req.Identity.kind != BrowserIDIdentity) {
		p.finish(c, req, CallInfo{Err: fmt.Errorf("%w: %s", ErrNoVisitor, p.visitor.Blocked)})
		return
	}
	if req.Identity.IsZero() {
		start := time.Now()
		id, err := p.browserID(ctx)
		if err != nil {
			p.finish(c, req, CallInfo{Start: start, Duration: time.Since(start), Err: err})
			return
		}
		req.Identity = BrowserID(id)
	}
	c.res, c.info = p.client.call(ctx, req)
	close(c.done)
}

// finish ends a call that was not sent, reporting it like one that was.
func (p *Page) finish(c *call, req *FlowRequest, info CallInfo) {
	info.FriendlyID = req.FriendlyID
	info.Outcome = OutcomeOf(info.Err)
	info.Identity = req.Identity.kind
	if info.Start.IsZero() {
		info.Start = time.Now()
	}
	c.info = info
	p.client.report(p.ctx, info)
	close(c.done)
}

// browserID returns the visitor's browser ID, getting one through EnsureBrowserID at most once
// however many calls need it at the same time.
func (p *Page) browserID(ctx context.Context) (string, error) {
	p.idOnce.Do(func() {
		if p.id != "" {
			return
		}
		if p.visitor.EnsureBrowserID == nil {
			p.idErr = fmt.Errorf("%w: no browser ID", ErrNoVisitor)
			return
		}
		id, err := p.visitor.EnsureBrowserID(ctx)
		switch {
		case err != nil:
			p.idErr = err
		case !ValidBrowserID(id):
			p.idErr = fmt.Errorf("%w: no valid browser ID", ErrNoVisitor)
		default:
			p.mu.Lock()
			p.id = id
			p.mu.Unlock()
		}
	})
	return p.id, p.idErr
}

func (p *Page) request(friendlyID string, opts []FlowOption) *FlowRequest {
	v := &p.visitor
	req := &FlowRequest{
		FriendlyID: friendlyID,
		Language:   v.Language,
		UTM:        v.UTM,
		Referrer:   v.Referrer,
		UserAgent:  v.UserAgent,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(req)
		}
	}
	return req
}

// callKey tells calls of one friendly ID with different options apart.
func callKey(r *FlowRequest) string {
	var b strings.Builder
	b.WriteString(r.FriendlyID)
	for _, s := range []string{r.Identity.kind.String(), r.Identity.value, r.Identity.provider, r.Language, r.Currency, r.PointOfSale, r.Channel} {
		b.WriteByte(0)
		b.WriteString(s)
	}
	if len(r.Params) > 0 {
		keys := make([]string, 0, len(r.Params))
		for k := range r.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := json.Marshal(r.Params[k])
			b.WriteByte(0)
			b.WriteString(k)
			b.WriteByte('=')
			b.Write(v)
		}
	}
	return b.String()
}

// BrowserID is the visitor's browser ID: the one it came with, or the one created for this
// page; "" when there is none (yet).
func (p *Page) BrowserID() string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.id
}

// Visitor returns who the page is for.
func (p *Page) Visitor() Visitor {
	if p == nil {
		return Visitor{}
	}
	return p.visitor
}

// Client returns the page's client.
func (p *Page) Client() *Client {
	if p == nil {
		return nil
	}
	return p.client
}

// Called reports whether any flow was asked for on this page.
func (p *Page) Called() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.order) > 0
}

// Calls summarises the page's calls in the order they were asked for; calls still running are
// reported with only their friendly ID (a zero Outcome).
func (p *Page) Calls() []CallInfo {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	order := append([]*call(nil), p.order...)
	p.mu.Unlock()
	out := make([]CallInfo, 0, len(order))
	for _, c := range order {
		select {
		case <-c.done:
			out = append(out, c.info)
		default:
			out = append(out, CallInfo{FriendlyID: c.friendlyID})
		}
	}
	return out
}

// Close cancels the page's calls still running and waits for them to end, so no goroutine
// outlives the request. Flows asked for after Close fail with ErrCanceled.
func (p *Page) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	cancel := p.cancel
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	p.wg.Wait()
}

// growStack grows a prefetch goroutine's stack once, at its start, while the stack holds
// nothing to copy. A flow call (net/http, the breaker, decoding) needs more than a new
// goroutine's usual 8 KB: grown on the way, the stack is copied, deep frames and all, at
// every doubling (about 20 µs of CPU per page of three calls in the example site's
// benchmark). When the runtime already starts goroutines big enough, this only clears 6 KB.
//
//go:noinline
func growStack() {
	var b [6 << 10]byte
	touch(b[:])
}

//go:noinline
func touch(b []byte) { b[0] = 1 }
