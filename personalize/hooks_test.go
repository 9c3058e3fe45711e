package personalize_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// ctxKey marks the contexts the tests hand the client, to see which one a hook gets.
type ctxKey string

// hookLog records what hooks are told, and the value of ctxKey("request") in their contexts.
type hookLog struct {
	mu       sync.Mutex
	order    []string // name of the set, per call
	flows    []personalize.CallInfo
	flowCtx  []any
	browsers []personalize.BrowserInfo
	browCtx  []any
	events   []personalize.EventInfo
	eventCtx []any
}

func (l *hookLog) hooks(name string) personalize.Hooks {
	return personalize.Hooks{
		FlowCall: func(ctx context.Context, info personalize.CallInfo) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.order = append(l.order, name)
			l.flows = append(l.flows, info)
			l.flowCtx = append(l.flowCtx, ctx.Value(ctxKey("request")))
		},
		BrowserCreated: func(ctx context.Context, info personalize.BrowserInfo) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.browsers = append(l.browsers, info)
			l.browCtx = append(l.browCtx, ctx.Value(ctxKey("request")))
		},
		Event: func(ctx context.Context, info personalize.EventInfo) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.order = append(l.order, name)
			l.events = append(l.events, info)
			l.eventCtx = append(l.eventCtx, ctx.Value(ctxKey("request")))
		},
	}
}

func (l *hookLog) snapshot() hookLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	return hookLog{order: append([]string(nil), l.order...), flows: append([]personalize.CallInfo(nil), l.flows...),
		flowCtx: append([]any(nil), l.flowCtx...), browsers: append([]personalize.BrowserInfo(nil), l.browsers...),
		browCtx: append([]any(nil), l.browCtx...), events: append([]personalize.EventInfo(nil), l.events...),
		eventCtx: append([]any(nil), l.eventCtx...)}
}

func requestCtx(v string) context.Context {
	return context.WithValue(context.Background(), ctxKey("request"), v)
}

// Every set of hooks runs, in the order given; a set without functions is no trouble; a page's
// hooks see the page's context, a direct call's the caller's.
func TestHooksRunInOrderWithTheCallersContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log hookLog
		_, c := memSandbox(t, personalize.WithHooks(log.hooks("first")), personalize.WithHooks(personalize.Hooks{}),
			personalize.WithHooks(log.hooks("second")))

		ctx, done := personalize.StartPage(requestCtx("page"), c, personalize.Visitor{BrowserID: seedBrowserID})
		_, err := personalize.Flow(ctx, "home_page_banner")
		require.NoError(t, err)
		done()
		_, err = c.CallFlow(requestCtx("direct"), flowOf("newsletter_offer"))
		require.NoError(t, err)

		got := log.snapshot()
		assert.Equal(t, []string{"first", "second", "first", "second"}, got.order)
		assert.Equal(t, []any{"page", "page", "direct", "direct"}, got.flowCtx)
		assert.Equal(t, "home_page_banner", got.flows[0].FriendlyID)
		assert.Equal(t, got.flows[0], got.flows[1], "both sets are told the same")
	})
}

// CallInfo says how much of the page's budget was left, the flow's isolation and the
// transport; isolation goes closed, open, half-open and closed again as the breaker does, and
// Isolated lists the flow while its calls fail fast.
func TestCallInfoSaysBudgetIsolationAndTransport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log hookLog
		sb, c := memSandbox(t, personalize.WithHooks(log.hooks("h")),
			personalize.WithBreaker(personalize.BreakerSettings{Failures: 1, OpenFor: 10 * time.Second}))
		sb.SetFlowFault("home_page_banner", sandbox.Fault{Latency: 100 * time.Millisecond})

		ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
		_, err := personalize.Flow(ctx, "home_page_banner")
		require.NoError(t, err)
		_, err = personalize.Flow(ctx, "newsletter_offer")
		require.NoError(t, err)
		done()
		got := log.snapshot().flows
		require.Len(t, got, 2)
		assert.Equal(t, personalize.DefaultBudget, got[0].BudgetLeft, "the page's first call has the whole budget")
		assert.Equal(t, personalize.DefaultBudget-100*time.Millisecond, got[1].BudgetLeft, "the second what the first left")
		for _, info := range got {
			assert.Equal(t, personalize.IsolationClosed, info.Isolation)
			assert.Equal(t, personalizetest.Transport(t), info.Transport)
			assert.Equal(t, 1, info.Attempts)
		}
		assert.Nil(t, c.Isolated())

		sb.SetFlowFault("newsletter_offer", sandbox.Fault{Status: 500})
		_, err = c.CallFlow(context.Background(), flowOf("newsletter_offer"))
		require.Error(t, err)
		_, err = c.CallFlow(context.Background(), flowOf("newsletter_offer"))
		require.ErrorIs(t, err, personalize.ErrBreakerOpen)
		assert.Equal(t, []string{"newsletter_offer"}, c.Isolated())
		time.Sleep(10*time.Second + time.Millisecond)
		assert.Equal(t, []string{"newsletter_offer"}, c.Isolated(), "half-open: a trial call pending")
		sb.SetFlowFault("newsletter_offer", sandbox.Fault{})
		_, err = c.CallFlow(context.Background(), flowOf("newsletter_offer"))
		require.NoError(t, err)
		assert.Nil(t, c.Isolated(), "the trial call closed the breaker")

		got = log.snapshot().flows[2:]
		require.Len(t, got, 3)
		assert.Equal(t, []personalize.IsolationState{personalize.IsolationClosed, personalize.IsolationOpen, personalize.IsolationHalfOpen},
			[]personalize.IsolationState{got[0].Isolation, got[1].Isolation, got[2].Isolation})
		assert.Equal(t, []personalize.Outcome{personalize.OutcomeAPIError, personalize.OutcomeBreakerOpen, personalize.OutcomeDecision},
			[]personalize.Outcome{got[0].Outcome, got[1].Outcome, got[2].Outcome})
		assert.Zero(t, got[0].BudgetLeft, "a call outside a page has no budget")
		assert.Equal(t, 500, got[0].StatusCode)
		assert.Equal(t, "", got[1].Transport, "nothing was sent")
		assert.Zero(t, got[1].Attempts)
		assert.Equal(t, "open", got[1].Isolation.String())
		assert.Equal(t, "half_open", got[2].Isolation.String())
	})
}

// A Retry-After holds a flow and browser creation back: both are listed as isolated until it
// has passed, and the browser creation hook is told each call.
func TestIsolatedListsFlowsHeldBackAndBrowserCreation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			answerJSON(http.StatusTooManyRequests, `{"status":429,"message":"slow down"}`)(w, r)
		})
		var log hookLog
		c := memClient(t, rec.mem, personalize.WithHooks(log.hooks("h")))
		_, err := c.CallFlow(context.Background(), flowOf("f"))
		require.Error(t, err)
		_, err = c.CreateBrowser(requestCtx("new visitor"))
		require.Error(t, err)
		_, err = c.CreateBrowser(requestCtx("new visitor"))
		require.ErrorIs(t, err, personalize.ErrBreakerOpen)
		assert.Equal(t, []string{"browser/create.json", "f"}, c.Isolated())
		time.Sleep(time.Minute)
		assert.Nil(t, c.Isolated())

		got := log.snapshot()
		require.Len(t, got.browsers, 2)
		assert.Equal(t, []any{"new visitor", "new visitor"}, got.browCtx)
		first, second := got.browsers[0], got.browsers[1]
		assert.Equal(t, personalize.OutcomeAPIError, first.Outcome)
		assert.Equal(t, http.StatusTooManyRequests, first.StatusCode)
		assert.Equal(t, 1, first.Attempts)
		assert.Equal(t, personalizetest.Transport(t), first.Transport)
		assert.Equal(t, personalize.IsolationClosed, first.Isolation)
		assert.Error(t, first.Err)
		assert.Equal(t, personalize.OutcomeBreakerOpen, second.Outcome)
		assert.Equal(t, personalize.IsolationOpen, second.Isolation)
		assert.Zero(t, second.Attempts)
		assert.Equal(t, "", second.Transport)
	})
}

func TestBrowserCreatedHookOnSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newMemRecorder(t, answerJSON(http.StatusOK, `{"ref":"`+createdBrowserID+`","status":"OK"}`))
		var log hookLog
		c := memClient(t, rec.mem, personalize.WithHooks(log.hooks("h")))
		time.Sleep(time.Second) // a start that is not the bubble's epoch
		start := time.Now()
		id, err := c.CreateBrowser(context.Background())
		require.NoError(t, err)
		assert.Equal(t, createdBrowserID, id)
		got := log.snapshot().browsers
		require.Len(t, got, 1)
		assert.Equal(t, personalize.BrowserInfo{Outcome: personalize.OutcomeDecision, Start: start, StatusCode: 200, Attempts: 1,
			Transport: personalizetest.Transport(t)}, got[0])
	})
}

// Events: the hooks hear of every event's fate. Those the queue delivers after the request
// get what Detach kept of the request's context (or context.Background() without Detach),
// never the request's context itself; the others get the caller's context.
func TestEventHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("reject") != "" {
				answerJSON(http.StatusBadRequest, `{"status":400,"message":"no"}`)(w, r)
				return
			}
			answerJSON(http.StatusCreated, `{"status":"OK"}`)(w, r)
		})
		var detaching, plain hookLog
		withDetach := detaching.hooks("detach")
		withDetach.Detach = func(ctx context.Context) context.Context {
			return context.WithValue(context.Background(), ctxKey("request"), "kept of "+ctx.Value(ctxKey("request")).(string))
		}
		c := memClient(t, rec.mem, personalize.WithHooks(withDetach), personalize.WithHooks(plain.hooks("plain")))

		ctx, done := personalize.StartPage(requestCtx("page"), c, personalize.Visitor{BrowserID: seedBrowserID, Path: "/booking"})
		time.Sleep(time.Second)
		queuedAt := time.Now()
		// The invalid one first: it is told at once, before the valid one reaches a worker.
		require.ErrorIs(t, personalize.Track(ctx, "add to cart", nil), personalize.ErrInvalidRequest)
		require.NoError(t, personalize.Track(ctx, "ADD_TO_CART", nil))
		synctest.Wait()
		done()
		require.NoError(t, c.SendEvent(requestCtx("direct"), personalize.Event{Type: "SIGN_UP", BrowserID: seedBrowserID, Page: "/"}))
		require.NoError(t, closeWithin(t, c, time.Minute))
		require.ErrorIs(t, personalize.Track(ctx, "ADD_TO_CART", nil), personalize.ErrClosed)

		d, p := detaching.snapshot(), plain.snapshot()
		require.Len(t, d.events, 4)
		assert.Equal(t, d.events, p.events, "both sets are told the same")
		// The invalid one is told at once, the queued one once sent.
		invalid, sent, direct, dropped := d.events[0], d.events[1], d.events[2], d.events[3]
		assert.Equal(t, []any{"page", "kept of page", "direct", "page"}, d.eventCtx)
		assert.Equal(t, []any{"page", nil, "direct", "page"}, p.eventCtx, "no Detach: context.Background()")

		assert.Equal(t, personalize.EventInfo{Type: "ADD_TO_CART", BrowserID: seedBrowserID, Outcome: personalize.EventSent,
			Start: queuedAt, StatusCode: http.StatusCreated, Attempts: 1, Transport: personalizetest.Transport(t)}, sent)
		assert.Equal(t, personalize.EventInvalid, invalid.Outcome)
		assert.Equal(t, "add to cart", invalid.Type)
		assert.Equal(t, seedBrowserID, invalid.BrowserID)
		assert.ErrorIs(t, invalid.Err, personalize.ErrInvalidRequest)
		assert.Equal(t, personalize.EventSent, direct.Outcome)
		assert.Equal(t, "SIGN_UP", direct.Type)
		assert.Equal(t, personalize.EventDropped, dropped.Outcome)
		assert.ErrorIs(t, dropped.Err, personalize.ErrClosed)
		assert.Zero(t, dropped.Attempts)
		assert.Equal(t, "sent failed dropped invalid unknown", personalize.EventSent.String()+" "+personalize.EventFailed.String()+" "+
			personalize.EventDropped.String()+" "+personalize.EventInvalid.String()+" "+personalize.EventOutcome(0).String())
	})
}

// An event the API refuses is told as failed, with the answer's status, and without the
// guest's values the API echoed.
func TestEventHookOnFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newMemRecorder(t, answerJSON(http.StatusBadRequest, `{"status":400,"message":"bad guest jane@example.com"}`))
		var log hookLog
		c := memClient(t, rec.mem, personalize.WithHooks(log.hooks("h")))
		ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID, Path: "/"})
		require.NoError(t, personalize.Identify(ctx, personalize.Guest{Email: "jane@example.com",
			Identifiers: []personalize.GuestIdentifier{{ID: "jane@example.com", Provider: "email"}}}))
		done()
		synctest.Wait() // the worker has tried it: Close has nothing left to report
		require.NoError(t, closeWithin(t, c, time.Minute))
		got := log.snapshot().events
		require.Len(t, got, 1)
		assert.Equal(t, personalize.EventFailed, got[0].Outcome)
		assert.Equal(t, personalize.EventIdentity, got[0].Type)
		assert.Equal(t, http.StatusBadRequest, got[0].StatusCode)
		require.Error(t, got[0].Err)
		assert.NotContains(t, got[0].Err.Error(), "jane@example.com")
	})
}

func TestIsolatedOfAZeroClient(t *testing.T) {
	var c *personalize.Client
	assert.Nil(t, c.Isolated())
	assert.Nil(t, (&personalize.Client{}).Isolated())
	assert.Equal(t, "unknown", personalize.IsolationState(9).String())
}
