package personalize

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Caching configures the decision cache (WithCaching): which flows keep their visitors'
// decisions, under which policy, and where. Without it, or for a flow it does not name, every
// page calls the API, as before. Its zero value caches nothing.
//
// An entry belongs to one visitor and to everything the decision depends on: the flow, the
// visitor's identity, channel, language, currency, point of sale, parameters and UTM (the
// whole request the client would send). One visitor's entry is never served to another, nor
// for another campaign. An IDENTITY event (Identify, or Client.SendEvent) drops the entries of
// the visitor it names: who they are changed, so may their decisions.
//
// Concurrent calls of one visitor for one cached flow with the same inputs (several tabs, a
// double click, htmx fragments) share one API call; each caller waits within its own context.
type Caching struct {
	// Flows are the policies by friendly ID. A flow not named here is always called.
	Flows map[string]CachePolicy
	// Store keeps the entries. Default: a MemoryStore with its default bounds, private to
	// this client. Use a shared store (package personalizeredis) so that a visitor's
	// decisions follow them across the servers of a site.
	Store DecisionStore
	// StoreTimeout bounds each operation of the store: a store that is down or slow is a
	// miss within it, never a longer page. Default DefaultStoreTimeout.
	StoreTimeout time.Duration
	// MaxRefreshes bounds the background refreshes of StaleWhileRevalidate running at once;
	// beyond it the entry is served without a refresh (until it is older than its MaxAge).
	// Default DefaultMaxRefreshes.
	MaxRefreshes int
}

const (
	// DefaultStoreTimeout is Caching.StoreTimeout's default.
	DefaultStoreTimeout = 50 * time.Millisecond
	// DefaultMaxRefreshes is Caching.MaxRefreshes's default.
	DefaultMaxRefreshes = 32
	// maxPendingWrites bounds the writes to a store other than a MemoryStore that run beside
	// the pages at once; beyond it, an answer is not stored.
	maxPendingWrites = 64
)

// CachePolicy is what the decision cache does for one flow: StaleOnFailure,
// StaleWhileRevalidate or FreshFor. Each says what it does to Personalize's analytics: an
// entry served from the cache is not an execution of the flow in Sitecore.
type CachePolicy struct {
	mode   cacheMode
	maxAge time.Duration
}

type cacheMode uint8

const (
	cacheOff cacheMode = iota
	cacheStaleOnFailure
	cacheStaleWhileRevalidate
	cacheFreshFor
)

// StaleOnFailure calls the API as without a cache, and keeps each decision. When a call
// fails (a timeout, an error, a refusal, the flow isolated or shed by WithLimits), the
// visitor gets their last decision of this flow, if it is younger than maxAge, instead of the
// default content.
//
// Analytics: every page view is still an execution in Sitecore while the API answers; only
// the pages the API failed are served from the cache, and those would have shown the default.
// This is the policy that keeps executions counted.
func StaleOnFailure(maxAge time.Duration) CachePolicy {
	return CachePolicy{mode: cacheStaleOnFailure, maxAge: maxAge}
}

// StaleWhileRevalidate serves the visitor's last decision of this flow at once, if it is
// younger than maxAge, and refreshes it in the background (outside the page's budget, bounded
// by the client's timeout and Caching.MaxRefreshes); a visitor without one is called for as
// without a cache. Pages no longer wait for this flow once the visitor has a decision.
//
// Analytics: each page view still calls the API once (in the background), so executions are
// counted, but the visitor sees the decision of their previous page: a change of experience
// or variant reaches them one page late, and a goal reached on a page is attributed to the
// decision shown, made one page earlier.
func StaleWhileRevalidate(maxAge time.Duration) CachePolicy {
	return CachePolicy{mode: cacheStaleWhileRevalidate, maxAge: maxAge}
}

// FreshFor serves the visitor's decision of this flow from the cache, without calling the
// API, for ttl after it was made; then the next page calls again. FreshFor(30*time.Minute) is
// about one decision per visit. It cuts calls the most.
//
// Analytics: a page served from the cache is not an execution in Sitecore: executions, and
// the conversion rates computed from them, count decisions, not page views. A test or
// experience's traffic split still holds (the decision is the one Sitecore made), but its
// figures count visitors' decisions rather than their pages.
func FreshFor(ttl time.Duration) CachePolicy {
	return CachePolicy{mode: cacheFreshFor, maxAge: ttl}
}

// MaxAge is the oldest entry the policy serves.
func (p CachePolicy) MaxAge() time.Duration { return p.maxAge }

// String names the policy: "stale-on-failure 10m0s", "off" for the zero value.
func (p CachePolicy) String() string {
	switch p.mode {
	case cacheStaleOnFailure:
		return "stale-on-failure " + p.maxAge.String()
	case cacheStaleWhileRevalidate:
		return "stale-while-revalidate " + p.maxAge.String()
	case cacheFreshFor:
		return "fresh-for " + p.maxAge.String()
	}
	return "off"
}

// CacheUse says what the decision cache did for a flow call (CallInfo.Cache, Result.Cache).
type CacheUse uint8

const (
	// CacheUnused: the flow has no cache policy.
	CacheUnused CacheUse = iota
	// CacheMiss: the API was called; a decision it answered was stored.
	CacheMiss
	// CacheHit: a fresh entry was served and the API not called (FreshFor).
	CacheHit
	// CacheStale: the call failed (CallInfo.Outcome and Err say how) and the visitor's last
	// decision was served instead of the default (StaleOnFailure, or any policy whose call
	// failed with an entry at hand).
	CacheStale
	// CacheRevalidated: an entry was served at once and a refresh started in the background
	// (StaleWhileRevalidate).
	CacheRevalidated
	// CacheShared: the call was shared with a concurrent one of the same visitor for the
	// same flow and inputs.
	CacheShared
)

var cacheUseNames = [...]string{
	CacheUnused:      "unused",
	CacheMiss:        "miss",
	CacheHit:         "hit",
	CacheStale:       "stale",
	CacheRevalidated: "revalidated",
	CacheShared:      "shared",
}

func (u CacheUse) String() string {
	if int(u) < len(cacheUseNames) {
		return cacheUseNames[u]
	}
	return "unknown"
}

// Served reports whether the decision came from the cache (a hit, a stale entry, or one
// served while it is refreshed).
func (u CacheUse) Served() bool {
	return u == CacheHit || u == CacheStale || u == CacheRevalidated
}

// WithCaching turns the decision cache on for the flows c names (see Caching and the
// policies). Invalid policies are an ErrInvalidConfig from New.
func WithCaching(c Caching) Option {
	return optionFunc(func(cfg *config) error {
		for id, p := range c.Flows {
			if strings.TrimSpace(id) == "" {
				return invalidConfigf("Caching.Flows: an empty friendly ID")
			}
			if p.mode == cacheOff {
				return invalidConfigf("Caching.Flows[%q]: a zero CachePolicy: use StaleOnFailure, StaleWhileRevalidate or FreshFor", id)
			}
			if p.maxAge <= 0 {
				return invalidConfigf("Caching.Flows[%q]: %s: the age must be positive", id, p)
			}
		}
		if c.StoreTimeout < 0 || c.MaxRefreshes < 0 {
			return invalidConfigf("Caching: negative StoreTimeout or MaxRefreshes")
		}
		cfg.caching = &c
		return nil
	})
}

// decisionCache is the client's side of the cache: policies, keys, the store's bounds, the
// shared calls and the background work.
type decisionCache struct {
	c         *Client
	flows     map[string]CachePolicy
	store     DecisionStore
	inProcess bool // the store is a MemoryStore: no need to write beside the page
	timeout   time.Duration

	mu      sync.Mutex
	flights map[string]*flight

	refreshes chan struct{} // a slot per refresh running
	writes    chan struct{} // a slot per write running
	wg        sync.WaitGroup
	storeErrs atomic.Uint64
}

// flight is one API call shared by the callers of one key.
type flight struct {
	done chan struct{}
	res  *Result
	info CallInfo
}

func newDecisionCache(c *Client, cfg *Caching) *decisionCache {
	if cfg == nil || len(cfg.Flows) == 0 {
		return nil
	}
	// WithCaching refused negative bounds: zero is the only value that takes the default.
	dc := &decisionCache{
		c:         c,
		flows:     maps.Clone(cfg.Flows),
		store:     cfg.Store,
		timeout:   cmp.Or(cfg.StoreTimeout, DefaultStoreTimeout),
		refreshes: make(chan struct{}, cmp.Or(cfg.MaxRefreshes, DefaultMaxRefreshes)),
		writes:    make(chan struct{}, maxPendingWrites),
	}
	if dc.store == nil {
		dc.store = NewMemoryStore(MemoryStoreOptions{})
	}
	_, dc.inProcess = dc.store.(*MemoryStore)
	return dc
}

// policy returns the flow's policy; the zero policy (off) without a cache.
func (dc *decisionCache) policy(friendlyID string) CachePolicy {
	if dc == nil {
		return CachePolicy{}
	}
	return dc.flows[friendlyID]
}

// visitorDigest stands for one visitor of one tenant (Client.tenant) in the store: a digest, so that no
// identity (an email address) is ever written to a shared store.
func visitorDigest(tenant string, id Identity) string {
	value := id.value
	if id.kind != IdentifiersIdentity {
		value = strings.ToLower(value) // a browser ID's hex digits, an email address's domain
	}
	var buf [256]byte
	b := appendFields(buf[:0], tenant, id.kind.String(), value, id.provider)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// entryKey stands for everything the decision depends on: the whole request the client
// sends for it (body, whose fields hold the defaults and the identity, and the parameters
// payload adds: UTM, referrer, the caller's params), each field in a fixed order.
func (c *Client) entryKey(body *callFlowsBody, req *FlowRequest) string {
	var buf [512]byte
	b := appendFields(buf[:0], body.ClientKey, body.Channel, body.Language, body.CurrencyCode, body.PointOfSale,
		body.BrowserID, body.Email, body.FriendlyID)
	if body.Identifiers != nil {
		b = appendFields(b, "identifiers", body.Identifiers.ID, body.Identifiers.Provider)
	}
	if c.edge() {
		b = appendFields(b, "edge", c.cfg.edge.contextID, c.cfg.edge.siteName, body.GuestRef)
		b = appendFields(append(b, "variants\x00"...), body.Variants...)
	}
	if len(req.UTM) > 0 {
		b = append(b, "utm\x00"...)
		var prev string
		for _, k := range sortedUTMKeys(req.UTM) {
			if key, ok := utmKey(k); ok && key != prev {
				b = appendFields(b, key, req.UTM[k])
				prev = key
			}
		}
	}
	if req.Referrer != "" && len(req.Referrer) <= maxReferrer {
		b = appendFields(b, "referrer", req.Referrer)
	}
	if len(req.Params) > 0 {
		// Encoded as JSON (maps with their keys sorted): what the API would read.
		p, err := json.Marshal(req.Params)
		if err != nil {
			p = []byte(fmt.Sprintf("%v", req.Params))
		}
		b = append(append(b, "params\x00"...), p...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// appendFields appends each field and a NUL, which no field of a request holds unescaped
// where it matters: the fields cannot run into one another.
func appendFields(b []byte, fields ...string) []byte {
	for _, f := range fields {
		b = append(append(b, f...), 0)
	}
	return b
}

// get reads an entry, within the store's bound: any failure is a miss.
func (dc *decisionCache) get(ctx context.Context, visitor, key string) (CachedDecision, bool) {
	if dc.inProcess {
		e, ok, _ := dc.store.Get(ctx, visitor, key) // never waits, never fails
		return e, ok && len(e.Raw) > 0
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dc.timeout)
	defer cancel()
	e, ok, err := dc.store.Get(ctx, visitor, key)
	if err != nil {
		dc.storeFailed("get", err)
		return CachedDecision{}, false
	}
	return e, ok && len(e.Raw) > 0
}

// put stores a decision: at once in a MemoryStore, beside the page in any other (bounded by
// maxPendingWrites; beyond it the answer is not stored).
func (dc *decisionCache) put(visitor, key string, res *Result, ttl time.Duration) {
	e := CachedDecision{FriendlyID: res.FriendlyID, StatusCode: res.StatusCode, Raw: res.Raw, Stored: time.Now(), tree: res.tree}
	if dc.inProcess {
		_ = dc.store.Set(context.Background(), visitor, key, e, ttl)
		return
	}
	select {
	case dc.writes <- struct{}{}:
	default:
		return
	}
	dc.wg.Add(1)
	go func() {
		defer dc.wg.Done()
		defer func() { <-dc.writes }()
		ctx, cancel := context.WithTimeout(context.Background(), dc.timeout)
		defer cancel()
		if err := dc.store.Set(ctx, visitor, key, e, ttl); err != nil {
			dc.storeFailed("set", err)
		}
	}()
}

// forget drops the entries of the visitors with these identities, within the store's bound.
func (dc *decisionCache) forget(ctx context.Context, ids ...Identity) {
	if dc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dc.timeout)
	defer cancel()
	for _, id := range ids {
		if id.kind == NoIdentity || id.value == "" {
			continue
		}
		if err := dc.store.Forget(ctx, visitorDigest(dc.c.tenant(), id)); err != nil {
			dc.storeFailed("forget", err)
		}
	}
}

// storeFailed logs the 1st, 2nd, 4th, 8th... failure of the store, at warn.
func (dc *decisionCache) storeFailed(op string, err error) {
	n := dc.storeErrs.Add(1)
	if n&(n-1) == 0 {
		dc.c.logger.LogAttrs(context.Background(), slog.LevelWarn, "personalize: decision cache store failed; served as a miss",
			slog.String("op", op), slog.Uint64("failures", n), slog.Any("error", err))
	}
}

// close waits for the refreshes and writes still running, within ctx.
func (dc *decisionCache) close(ctx context.Context) error {
	if dc == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		dc.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cachedCall is Client.call for a flow with a cache policy.
func (c *Client) cachedCall(ctx context.Context, req *FlowRequest, pol CachePolicy, start time.Time, budgetLeft time.Duration) (*Result, CallInfo) {
	dc := c.cache
	body, err := c.body(req)
	if err != nil {
		info := CallInfo{FriendlyID: req.FriendlyID, Outcome: OutcomeOf(err), Identity: req.Identity.kind, Start: start,
			Duration: time.Since(start), BudgetLeft: budgetLeft, Err: err}
		c.report(ctx, info)
		return nil, info
	}
	visitor, key := visitorDigest(c.tenant(), req.Identity), c.entryKey(body, req)
	entry, found := dc.get(ctx, visitor, key)
	age := time.Since(entry.Stored)
	if found && (age > pol.maxAge || age < -time.Minute) {
		found = false // too old for this policy (or from a clock far ahead)
	}
	var (
		res  *Result
		info CallInfo
	)
	if found && (pol.mode == cacheFreshFor || pol.mode == cacheStaleWhileRevalidate) {
		use := CacheHit
		if pol.mode == cacheStaleWhileRevalidate {
			use = CacheRevalidated
			dc.refresh(ctx, req, body, visitor, key, pol)
		}
		info = CallInfo{FriendlyID: req.FriendlyID, Outcome: OutcomeDecision, Identity: req.Identity.kind,
			Isolation: c.isolationState(req.FriendlyID), Cache: use, CacheAge: age}
		res = entry.result(use, age)
	} else {
		var shared bool
		res, info, shared = dc.shared(ctx, req, body, visitor, key, pol)
		switch {
		case info.Err != nil && found && !errors.Is(info.Err, ErrCanceled):
			// The call failed: the visitor's last decision rather than the default.
			info.Cache, info.CacheAge = CacheStale, age
			res = entry.result(CacheStale, age)
		case shared:
			info.Cache = CacheShared
			info.Attempts = 0 // this caller sent nothing
		default:
			info.Cache = CacheMiss
		}
		if res != nil && info.Cache != CacheStale {
			res = res.copyFor(info.Cache)
		}
	}
	info.Start, info.Duration, info.BudgetLeft = start, time.Since(start), budgetLeft
	if res != nil {
		res.Duration = info.Duration
	}
	c.report(ctx, info)
	return res, info
}

// shared makes the API call for key, or joins the one already running for it (shared true),
// and stores a decision it gets. The call runs beside its callers, under the first one's
// deadline but not its cancellation, so that a caller who leaves (a visitor navigating away)
// ends it for nobody else, and its connection goes back to the pool; it is bounded by that
// deadline and the client's timeout. Each caller waits within its own ctx.
func (dc *decisionCache) shared(ctx context.Context, req *FlowRequest, body *callFlowsBody, visitor, key string, pol CachePolicy) (*Result, CallInfo, bool) {
	dc.mu.Lock()
	f, joined := dc.flights[key]
	if !joined {
		f = &flight{done: make(chan struct{})}
		if dc.flights == nil {
			dc.flights = make(map[string]*flight)
		}
		dc.flights[key] = f
		callCtx, cancel := context.WithoutCancel(ctx), context.CancelFunc(func() {})
		if d, ok := ctx.Deadline(); ok {
			callCtx, cancel = context.WithDeadline(callCtx, d)
		}
		r, b := *req, *body
		dc.wg.Add(1)
		dc.c.workers.run(func() {
			defer dc.wg.Done()
			defer cancel()
			payload, err := dc.c.encodeBody(&b, &r)
			if err != nil {
				f.info = CallInfo{FriendlyID: r.FriendlyID, Outcome: OutcomeOf(err), Identity: r.Identity.kind, Err: err}
			} else {
				f.res, f.info = dc.c.apiCall(callCtx, &r, payload)
			}
			if f.info.Err == nil && f.res != nil {
				dc.put(visitor, key, f.res, pol.maxAge)
			}
			dc.mu.Lock()
			delete(dc.flights, key)
			dc.mu.Unlock()
			close(f.done)
		})
	}
	dc.mu.Unlock()
	select {
	case <-f.done:
		return f.res, f.info, joined
	case <-ctx.Done():
		select {
		case <-f.done: // a result that is ready is always returned
			return f.res, f.info, joined
		default:
		}
		if !joined && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The call has this very deadline: it ends now, its failure counted by the flow's
			// breaker before the caller goes on (the next page then sees the flow isolated).
			<-f.done
			return f.res, f.info, joined
		}
		err := contextError(ctx)
		return nil, CallInfo{FriendlyID: req.FriendlyID, Outcome: OutcomeOf(err), Identity: req.Identity.kind, Err: err}, joined
	}
}

// refresh calls the API for key in the background (StaleWhileRevalidate), at most
// Caching.MaxRefreshes at once, under the client's timeout, stores the answer, and reports
// the call to the hooks with the page's context (not its cancellation).
func (dc *decisionCache) refresh(ctx context.Context, req *FlowRequest, body *callFlowsBody, visitor, key string, pol CachePolicy) {
	select {
	case dc.refreshes <- struct{}{}:
	default:
		return // enough refreshes running: this entry is served as it is
	}
	r := *req
	hookCtx := context.WithoutCancel(ctx)
	dc.wg.Add(1)
	go func() {
		defer dc.wg.Done()
		defer func() { <-dc.refreshes }()
		callCtx, cancel := context.WithTimeout(hookCtx, dc.c.cfg.timeout)
		defer cancel()
		_, info, shared := dc.shared(callCtx, &r, body, visitor, key, pol)
		if !shared {
			info.Cache = CacheMiss
			dc.c.report(hookCtx, info)
		}
	}()
}

// result is the entry as a Result, served as use, age old.
func (e CachedDecision) result(use CacheUse, age time.Duration) *Result {
	tree := e.tree
	if !tree.checked {
		tree, _ = checkAnswer(e.Raw) // a shared store's entry: checked here, the Result checks nothing
	}
	return &Result{FriendlyID: e.FriendlyID, StatusCode: e.StatusCode, Raw: e.Raw, tree: tree, Cache: use, CacheAge: age}
}

// copyFor is r for another caller: Results are not shared between callers, whose durations
// and cache uses differ.
func (r *Result) copyFor(use CacheUse) *Result {
	return &Result{FriendlyID: r.FriendlyID, StatusCode: r.StatusCode, Raw: r.Raw, tree: r.tree, Cache: use}
}

// isolationState is the flow's breaker state now, for a call not made.
func (c *Client) isolationState(friendlyID string) IsolationState {
	if c.isolation == nil {
		return IsolationClosed
	}
	return isolationOf(c.isolation.breaker(friendlyID).cb.State())
}

// identified lists the identities an IDENTITY event names: the browser's, and the guest's
// email and identifiers. The decision cache drops their entries.
func identified(browser Identity, g *Guest) []Identity {
	ids := []Identity{browser}
	if g != nil {
		if g.Email != "" {
			ids = append(ids, ByEmail(g.Email))
		}
		for _, gi := range g.Identifiers {
			ids = append(ids, ByIdentifier(gi.ID, gi.Provider))
		}
	}
	return ids
}
