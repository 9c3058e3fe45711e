package personalize

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-personalize/sdk/internal/browserid"
	"github.com/go-personalize/sdk/internal/mapkeys"
	"github.com/go-personalize/sdk/internal/seam"
)

// Visitor is who a page started with StartPage is rendered for.
type Visitor struct {
	// BrowserID is the visitor's Sitecore browser ID. Flows run for it unless they name
	// another identity (WithIdentity); without one, such flows report ErrNoVisitor.
	BrowserID string
	// UTM holds the visit's UTM parameters, keys without the "utm_" prefix ("campaign").
	UTM map[string]string
	// Path is the request's path: the page of the visitor's events.
	Path string
	// Referrer, UserAgent and Language describe the request; Language, when it is an ISO 639
	// code, is the flows' and events' language.
	Referrer  string
	UserAgent string
	Language  string
	// GuestRef is the guest ref of BrowserID, if known, that flows send through the Sitecore
	// Edge proxy (WithEdge; FlowRequest.GuestRef).
	GuestRef string
}

// page holds the flow calls of one request: each friendly ID is called at most once, calls run
// in parallel, and all of them share the page's time budget, counted from its first call. A
// nil *page is valid: its flows report ErrNoPage.
type page struct {
	client  *Client
	ctx     context.Context
	visitor seam.Visitor
	budget  time.Duration

	mu       sync.Mutex
	calls    map[string]*call
	order    []*call
	closed   bool
	wg       sync.WaitGroup
	budgetCx context.Context
	cancel   context.CancelFunc
	began    time.Time // the first call's start (when the budget began)

	id    string  // the visitor's browser ID, once known
	idGet *idCall // getting one (EnsureBrowserID), once asked for

	guest    string  // the guest ref of the visitor's browser, once known (through the Edge proxy)
	guestGet *idCall // getting it (Client.GuestRef), once asked for

	variants    atomic.Pointer[[]string] // SetVariants: the variants of flows without WithVariants
	pageVariant string                   // SetPageVariant: the VIEW event's ext.pageVariantId
}

// idCall is the one EnsureBrowserID call of a page: done is closed when id or err is set.
type idCall struct {
	done chan struct{}
	id   string
	err  error
}

type call struct {
	friendlyID string
	done       chan struct{}
	res        *Result
	info       CallInfo
}

func newPage(ctx context.Context, client *Client, v seam.Visitor) *page {
	p := &page{client: client, ctx: ctx, visitor: v, budget: client.cfg.budget, id: v.BrowserID}
	if v.BrowserID != "" && browserid.ValidGuestRef(v.GuestRef) {
		p.guest = v.GuestRef
	}
	return p
}

// StartPage returns a context carrying a page for the visitor: Flow, Prefetch, Track and
// Identify called with it (or a context derived from it) share one set of flow calls, each
// friendly ID called at most once, within one time budget. ctx is the request's context:
// when it ends, so do the page's calls. Call done when the request is finished; it cancels
// the calls still running and waits for them.
//
// The middleware package starts a page for every request, with the visitor's browser ID
// cookie and campaign; StartPage is for code that serves pages without it.
func StartPage(ctx context.Context, client *Client, v Visitor) (pageCtx context.Context, done func()) {
	if client.zero() {
		return ctx, func() {} // no page: its flows and events report ErrNoPage
	}
	p := newPage(ctx, client, seam.Visitor{BrowserID: v.BrowserID, UTM: v.UTM, Path: v.Path,
		Referrer: v.Referrer, UserAgent: v.UserAgent, Language: v.Language, GuestRef: v.GuestRef})
	return context.WithValue(ctx, pageKey{}, p), p.Close
}

type pageKey struct{}

// pageFrom returns the page in ctx, or nil.
func pageFrom(ctx context.Context) *page {
	p, _ := ctx.Value(pageKey{}).(*page)
	return p
}

// Prefetch starts calls of the page in ctx for the friendly IDs, at once and in parallel,
// without waiting. Later Flow calls pick up their results.
func Prefetch(ctx context.Context, friendlyIDs ...string) {
	pageFrom(ctx).prefetch(friendlyIDs...)
}

// Flow returns the result of a flow for the page in ctx, waiting for a call already started or
// starting one: each friendly ID is called at most once per page (per set of options). On any
// failure it returns a nil result and an error that says why; render the default content
// then.
func Flow(ctx context.Context, friendlyID string, opts ...FlowOption) (*Result, error) {
	return pageFrom(ctx).flow(ctx, friendlyID, opts...)
}

// Calls summarises the flow calls of the page in ctx in the order they were asked for; calls
// still running are reported with only their friendly ID (a zero Outcome). It is nil without
// a page.
func Calls(ctx context.Context) []CallInfo {
	return pageFrom(ctx).callInfos()
}

func (p *page) prefetch(friendlyIDs ...string) {
	if p == nil {
		return
	}
	for _, id := range friendlyIDs {
		p.start(id, nil, true)
	}
}

func (p *page) flow(ctx context.Context, friendlyID string, opts ...FlowOption) (*Result, error) {
	if p == nil {
		return nil, ErrNoPage
	}
	// A caller whose context adds nothing to the request's (a handler, a component) runs the
	// call itself, under the page's budget. One with a deadline or cancellation of its own has
	// the call run beside it and waits for it, so that it can give up first without ending the
	// call for the page's other askers.
	async := ctx.Done() != p.ctx.Done()
	c := p.start(friendlyID, opts, async)
	select {
	case <-c.done:
		return c.res, c.info.servedErr()
	case <-ctx.Done():
		select {
		case <-c.done: // a result that is ready is always returned
			return c.res, c.info.servedErr()
		default:
			return nil, contextError(ctx)
		}
	}
}

// start returns the page's call for the key, starting it if it is new: in a goroutine for a
// prefetch, else in the caller's goroutine.
func (p *page) start(friendlyID string, opts []FlowOption, async bool) *call {
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
	ctx := p.budgetContext()
	p.wg.Add(1)
	p.mu.Unlock()
	if async {
		p.client.workers.run(func() { p.run(ctx, c, req) })
	} else {
		p.run(ctx, c, req)
	}
	return c
}

func (p *page) run(ctx context.Context, c *call, req *FlowRequest) {
	defer p.wg.Done()
	if err := ctx.Err(); err != nil {
		p.finish(c, req, CallInfo{Err: contextError(ctx)})
		return
	}
	if p.visitor.Blocked != "" && !(p.visitor.AllowKnownIdentities && req.Identity.kind != NoIdentity && req.Identity.kind != BrowserIDIdentity) {
		p.finish(c, req, CallInfo{Err: fmt.Errorf("%w: %s", ErrNoVisitor, p.visitor.Blocked)})
		return
	}
	if req.Identity.kind == NoIdentity {
		start := time.Now()
		id, err := p.browserID(ctx)
		if err != nil {
			info := CallInfo{Start: start, Duration: time.Since(start), Err: err}
			if d, ok := ctx.Deadline(); ok {
				info.BudgetLeft = max(d.Sub(start), 0)
			}
			p.finish(c, req, info)
			return
		}
		req.Identity = ByBrowserID(id)
		if req.GuestRef == "" && p.client.edge() {
			req.GuestRef = p.guestRef(ctx, id)
		}
	}
	c.res, c.info = p.client.call(ctx, req, true)
	close(c.done)
}

// finish ends a call that was not sent, reporting it like one that was.
func (p *page) finish(c *call, req *FlowRequest, info CallInfo) {
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

// budgetContext is the context of the page's calls: the page's budget, from its first call
// on. The caller holds p.mu.
func (p *page) budgetContext() context.Context {
	if p.budgetCx == nil {
		p.began = time.Now()
		p.budgetCx, p.cancel = context.WithTimeout(p.ctx, p.budget)
	}
	return p.budgetCx
}

// browserID returns the visitor's browser ID, getting one through EnsureBrowserID at most once
// however many calls need it at the same time (see getBrowserID); each caller waits for it
// within its own ctx.
func (p *page) browserID(ctx context.Context) (string, error) {
	g := p.getBrowserID()
	select {
	case <-g.done:
		return g.id, g.err
	case <-ctx.Done():
		select {
		case <-g.done:
			return g.id, g.err
		default:
			return "", contextError(ctx)
		}
	}
}

// getBrowserID starts getting the visitor's browser ID, unless it is known or on its way. It
// runs under the page's budget, not the context of whoever asked first: a caller that gives up
// (or has no deadline at all) neither ends it for the others nor holds it past the budget.
func (p *page) getBrowserID() *idCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idGet != nil {
		return p.idGet
	}
	g := &idCall{done: make(chan struct{})}
	p.idGet = g
	switch {
	case p.id != "":
		g.id = p.id
	case p.visitor.EnsureBrowserID == nil:
		g.err = fmt.Errorf("%w: no browser ID", ErrNoVisitor)
	case p.closed:
		g.err = fmt.Errorf("%w: the page is closed", ErrCanceled)
	default:
		ctx := p.budgetContext()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			id, guest, err := p.visitor.EnsureBrowserID(ctx)
			switch {
			case err != nil:
				g.err = err
			case !browserid.Valid(id):
				g.err = fmt.Errorf("%w: no valid browser ID", ErrNoVisitor)
			default:
				g.id = id
				p.mu.Lock()
				p.id = id
				if browserid.ValidGuestRef(guest) {
					p.guest = guest
				}
				p.mu.Unlock()
			}
			close(g.done)
		}()
		return g
	}
	close(g.done)
	return g
}

// CreatingBrowserID reports whether the page is getting a browser ID for the visitor right
// now (the middleware then waits for it before the headers go out, to set its cookie).
func (p *page) CreatingBrowserID() bool {
	p.mu.Lock()
	g := p.idGet
	p.mu.Unlock()
	if g == nil {
		return false
	}
	select {
	case <-g.done:
		return false
	default:
		return true
	}
}

func (p *page) request(friendlyID string, opts []FlowOption) *FlowRequest {
	v := &p.visitor
	req := &FlowRequest{
		FriendlyID: friendlyID,
		Language:   p.language(),
		UTM:        v.UTM,
		Referrer:   v.Referrer,
		UserAgent:  v.UserAgent,
	}
	if vs := p.variants.Load(); vs != nil {
		req.Variants = *vs
	}
	for _, opt := range opts {
		if opt != nil {
			opt.applyFlow(req)
		}
	}
	return req
}

// language is the visitor's language when it is a usable ISO 639 code, else "" (the client's
// default).
func (p *page) language() string {
	if l := p.visitor.Language; l != "" && languageProblem(l) == "" {
		return l
	}
	return ""
}

// callKey tells calls of one friendly ID with different options apart.
func callKey(r *FlowRequest) string {
	var b strings.Builder
	b.WriteString(r.FriendlyID)
	for _, s := range []string{r.Identity.kind.String(), r.Identity.value, r.Identity.provider, r.Language, r.Currency, r.PointOfSale, r.Channel} {
		b.WriteByte(0)
		b.WriteString(s)
	}
	for _, v := range r.Variants {
		b.WriteString("\x00variant=")
		b.WriteString(v)
	}
	if len(r.Params) > 0 {
		for _, k := range mapkeys.Sorted(r.Params) {
			v, _ := json.Marshal(r.Params[k])
			b.WriteByte(0)
			b.WriteString(k)
			b.WriteByte('=')
			b.Write(v)
		}
	}
	return b.String()
}

// Called reports whether any flow was asked for on this page.
func (p *page) Called() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.order) > 0
}

// FlowTime returns how many flows the page asked for and the time they took together: from
// the first call's start to the last one's end (now, while a call is still running). Calls run
// in parallel, so this is what the page waited for them at most, not their sum.
func (p *page) FlowTime() (flows int, d time.Duration) {
	if p == nil {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	began := p.began
	var end time.Time
	running := false
	for _, c := range p.order {
		select {
		case <-c.done:
			if began.IsZero() || c.info.Start.Before(began) {
				began = c.info.Start
			}
			if e := c.info.Start.Add(c.info.Duration); e.After(end) {
				end = e
			}
		default:
			running = true
		}
	}
	if running {
		end = time.Now()
	}
	if began.IsZero() || end.Before(began) {
		return len(p.order), 0
	}
	return len(p.order), end.Sub(began)
}

func (p *page) callInfos() []CallInfo {
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
func (p *page) Close() {
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
