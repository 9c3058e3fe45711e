package personalize_test

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startSandbox serves three flows on a sandbox for the test.
func startSandbox(t testing.TB) *sandbox.Server {
	t.Helper()
	return personalizetest.NewSandbox(t, sandbox.WithFlows(
		sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}),
		sandbox.Define("recommended_destinations").Returns([]any{map[string]any{"name": "Lisbon"}, map[string]any{"name": "Oslo"}}),
		sandbox.Define("newsletter_offer").Returns(map[string]any{"name": "10% off"}),
	))
}

func sandboxClient(t testing.TB, srv *sandbox.Server, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	if onEdge(t) { // the Edge site sets the point of sale
		return personalizetest.NewClient(t, srv, opts...)
	}
	return personalizetest.NewClient(t, srv, append([]personalize.Option{personalize.WithPointOfSale("airline.example")}, opts...)...)
}

// newPage starts a page as the middleware does (with its knowledge of the visitor: whether
// it is blocked, how to get a browser ID) for a returning visitor, and closes it with the
// test.
func newPage(t testing.TB, ctx context.Context, c *personalize.Client, v seam.Visitor) (context.Context, seam.Page) {
	t.Helper()
	if v.BrowserID == "" && v.EnsureBrowserID == nil && v.Blocked == "" {
		v.BrowserID = seedBrowserID
	}
	p := seam.ClientOf(c).NewPage(ctx, v)
	t.Cleanup(p.Close)
	return seam.WithLazyPage(ctx, func() seam.Page { return p }), p
}

func TestEachFlowIsCalledOncePerPage(t *testing.T) {
	// Whichever way the sandbox answers what the docs leave open.
	personalizetest.EachAnswers(t, func(t *testing.T, _ sandbox.Answers) {
		synctest.Test(t, func(t *testing.T) {
			sb, c := memSandbox(t)
			ctx, _ := newPage(t, context.Background(), c, seam.Visitor{})

			// Three slots ask for two friendly IDs, at the same time.
			var wg sync.WaitGroup
			results := make([]*personalize.Result, 3)
			for i, id := range []string{"home_page_banner", "newsletter_offer", "home_page_banner"} {
				wg.Go(func() {
					res, err := personalize.Flow(ctx, id)
					assert.NoError(t, err)
					results[i] = res
				})
			}
			wg.Wait()
			assert.Equal(t, 2, sb.CallCount(""), "two friendly IDs, two API calls")
			assert.Equal(t, 1, sb.CallCount("home_page_banner"))
			assert.Same(t, results[0], results[2], "both slots share one result")
		})
	})
}

func TestPrefetchedFlowsRunInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t, personalize.WithBudget(5*time.Second))
		sb.SetFault(sandbox.Fault{Latency: 100 * time.Millisecond})
		ctx, _ := newPage(t, context.Background(), c, seam.Visitor{})

		start := time.Now()
		personalize.Prefetch(ctx, homeFlows...)
		for _, id := range homeFlows {
			_, err := personalize.Flow(ctx, id)
			require.NoError(t, err)
		}
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "three 100ms flows in parallel, not in sequence (300ms)")
		assert.Equal(t, 3, sb.CallCount(""))
	})
}

func TestHangingAPIEndsAtTheBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t, personalize.WithBudget(100*time.Millisecond), personalize.WithTimeout(time.Minute))
		sb.SetFault(sandbox.Fault{Hang: true})
		ctx, p := newPage(t, context.Background(), c, seam.Visitor{})

		start := time.Now()
		personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer")
		for _, id := range []string{"home_page_banner", "newsletter_offer", "recommended_destinations"} {
			res, err := personalize.Flow(ctx, id)
			assert.Nil(t, res)
			assert.ErrorIs(t, err, personalize.ErrTimeout, id)
			assert.ErrorIs(t, err, context.DeadlineExceeded, id)
		}
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "the 100ms budget bounds every flow")
		p.Close() // returns only when every call has ended; the bubble checks the rest
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		calls := personalize.Calls(ctx)
		require.Len(t, calls, 3)
		for _, info := range calls {
			assert.Equal(t, personalize.OutcomeTimeout, info.Outcome, info.FriendlyID)
		}
		assert.Equal(t, 2, sb.CallCount(""), "the flow asked for after the budget was not called")
	})
}

func TestCancelledRequestEndsEveryCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t, personalize.WithBudget(time.Minute), personalize.WithTimeout(time.Minute))
		sb.SetFault(sandbox.Fault{Hang: true})
		reqCtx, cancel := context.WithCancel(context.Background())
		ctx, p := newPage(t, reqCtx, c, seam.Visitor{})

		personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer")
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := personalize.Flow(ctx, "home_page_banner")
		assert.ErrorIs(t, err, personalize.ErrCanceled)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "the request's end ends the call at once")
		_, err = personalize.Flow(ctx, "recommended_destinations")
		assert.ErrorIs(t, err, personalize.ErrCanceled, "a flow asked for after the request ended")
		p.Close()
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "nothing waits for the one-minute budget")
		calls := personalize.Calls(ctx)
		require.Len(t, calls, 3)
		for _, info := range calls {
			assert.Equal(t, personalize.OutcomeCanceled, info.Outcome, info.FriendlyID)
		}
	})
}

// Closing the page (done) cancels the calls still running: it does not wait out the budget.
func TestClosingThePageCancelsRunningCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t, personalize.WithBudget(time.Minute), personalize.WithTimeout(time.Minute))
		sb.SetFault(sandbox.Fault{Hang: true})
		ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
		personalize.Prefetch(ctx, homeFlows...)
		synctest.Wait() // every call is held by the API
		require.Equal(t, 3, sb.CallCount(""), "the three calls are running")

		start := time.Now()
		done()
		assert.Zero(t, time.Since(start), "done cancels the calls, it does not wait for them to time out")
		calls := personalize.Calls(ctx)
		require.Len(t, calls, 3)
		for _, info := range calls {
			assert.Equal(t, personalize.OutcomeCanceled, info.Outcome, info.FriendlyID)
			assert.ErrorIs(t, info.Err, context.Canceled, info.FriendlyID)
		}
		_, err := personalize.Flow(ctx, "home_page_banner")
		assert.ErrorIs(t, err, personalize.ErrCanceled, "the call's answer is kept: canceled")
	})
}

// All of a page's calls share one budget, counted from its first call: a call started late gets
// what is left of it, not a budget of its own.
func TestOneBudgetForAllOfAPagesCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t, personalize.WithBudget(100*time.Millisecond), personalize.WithTimeout(time.Minute))
		sb.SetFault(sandbox.Fault{Latency: 60 * time.Millisecond})
		ctx, _ := newPage(t, context.Background(), c, seam.Visitor{})

		start := time.Now()
		_, err := personalize.Flow(ctx, "home_page_banner")
		require.NoError(t, err, "the first call takes 60ms of the 100ms")
		assert.Equal(t, 60*time.Millisecond, time.Since(start))
		_, err = personalize.Flow(ctx, "newsletter_offer")
		assert.ErrorIs(t, err, personalize.ErrTimeout, "the second has the 40ms left, not 100ms of its own")
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "the page took its budget, no more")
		_, err = personalize.Flow(ctx, "recommended_destinations")
		assert.ErrorIs(t, err, personalize.ErrTimeout, "nothing is left for a third")
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.Equal(t, 2, sb.CallCount(""), "the third was not called")
	})
}

func TestBreakerAcrossPages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t, personalize.WithBreaker(personalize.BreakerSettings{Failures: 3, OpenFor: 100 * time.Millisecond}))
		flow := func() error {
			ctx, p := newPage(t, context.Background(), c, seam.Visitor{})
			defer p.Close()
			_, err := personalize.Flow(ctx, "home_page_banner")
			return err
		}

		sb.SetFault(sandbox.Fault{Status: 500})
		for range 3 {
			assert.Equal(t, personalize.OutcomeAPIError, personalize.OutcomeOf(flow()))
		}
		calls := sb.CallCount("")
		assert.ErrorIs(t, flow(), personalize.ErrBreakerOpen)
		assert.Equal(t, calls, sb.CallCount(""), "fails fast without calling")

		sb.SetFault(sandbox.Fault{})
		time.Sleep(100 * time.Millisecond)
		assert.ErrorIs(t, flow(), personalize.ErrBreakerOpen, "open for OpenFor")
		time.Sleep(time.Millisecond)
		assert.NoError(t, flow(), "the breaker lets a trial call through and closes")
		assert.NoError(t, flow())
		assert.Equal(t, calls+2, sb.CallCount(""), "calls reach the API again")
	})
}

func TestSandboxFaultsMapToErrors(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
		check func(t *testing.T, err error)
	}{
		{"latency over the budget", sandbox.Fault{Latency: time.Second}, errIs(personalize.ErrTimeout)},
		{"hang", sandbox.Fault{Hang: true}, errIs(personalize.ErrTimeout)},
		{"429", sandbox.Fault{Status: 429}, apiStatus(429)},
		{"500", sandbox.Fault{Status: 500}, apiStatus(500)},
		// The sandbox asks to retry after 1s: no retry at once.
		{"503 with Retry-After", sandbox.Fault{Status: 503}, apiStatus(503)},
		{"malformed JSON", sandbox.Fault{Malformed: true}, errIs(personalize.ErrMalformedResponse)},
		{"empty body", sandbox.Fault{Empty: true}, errIs(personalize.ErrMalformedResponse)},
		{"oversized body", sandbox.Fault{Oversized: 2 << 20}, errIs(personalize.ErrResponseTooLarge)},
		{"error object with 200", sandbox.Fault{ErrorObject: true}, apiStatus(200)},
		{"connection reset", sandbox.Fault{Reset: true}, errIs(personalize.ErrUnavailable)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, c := memSandbox(t, personalize.WithBudget(300*time.Millisecond))
				sb.SetFlowFault("home_page_banner", tt.fault)
				ctx, _ := newPage(t, context.Background(), c, seam.Visitor{})
				start := time.Now()
				personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer")
				res, err := personalize.Flow(ctx, "home_page_banner")
				assert.Nil(t, res)
				tt.check(t, err)
				if tt.fault.Latency > 0 || tt.fault.Hang {
					assert.Equal(t, 300*time.Millisecond, time.Since(start), "a slow flow costs the budget")
				} else {
					assert.Zero(t, time.Since(start), "a failing flow costs no time")
				}
				assert.Equal(t, 1, sb.CallCount("home_page_banner"), "one attempt")
				_, err = personalize.Flow(ctx, "newsletter_offer")
				assert.NoError(t, err, "a fault of one flow leaves the others alone")
			})
		})
	}
}

func errIs(target error) func(*testing.T, error) {
	return func(t *testing.T, err error) { assert.ErrorIs(t, err, target) }
}

func apiStatus(status int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var apiErr *personalize.APIError
		if assert.ErrorAs(t, err, &apiErr) {
			assert.Equal(t, status, apiErr.StatusCode)
		}
	}
}

func TestPageParamsAsTheSandboxReceivesThem(t *testing.T) {
	visitor := seam.Visitor{
		BrowserID: seedBrowserID,
		UTM:       map[string]string{"campaign": "summer_sale", "source": "newsletter"},
		Referrer:  "https://news.example/today",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
	}
	tests := []struct {
		name       string
		clientOpts []personalize.Option
		flowOpts   []personalize.FlowOption
		visitor    func(v *seam.Visitor)
		want       string
	}{
		{"utm nested and referrer", nil, nil, nil,
			`{"utm":{"campaign":"summer_sale","source":"newsletter"},"referrer":"https://news.example/today"}`},
		{"utm flat", []personalize.Option{personalize.WithUTMShape(personalize.UTMFlat)}, nil, nil,
			`{"utm_campaign":"summer_sale","utm_source":"newsletter","referrer":"https://news.example/today"}`},
		{"caller params beside them", nil, []personalize.FlowOption{personalize.WithParams(map[string]any{"loggedInState": "loggedIn"})}, nil,
			`{"utm":{"campaign":"summer_sale","source":"newsletter"},"referrer":"https://news.example/today","loggedInState":"loggedIn"}`},
		{"caller params win", nil, []personalize.FlowOption{personalize.WithParams(map[string]any{"referrer": "mine", "utm": map[string]any{"campaign": "x"}})}, nil,
			`{"utm":{"campaign":"x"},"referrer":"mine"}`},
		{"no utm, no referrer", nil, nil, func(v *seam.Visitor) { v.UTM, v.Referrer = nil, "" }, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := visitor
				v.UTM = map[string]string{"campaign": "summer_sale", "source": "newsletter"}
				if tt.visitor != nil {
					tt.visitor(&v)
				}
				sb, c := memSandbox(t, tt.clientOpts...)
				ctx, _ := newPage(t, context.Background(), c, v)
				_, err := personalize.Flow(ctx, "home_page_banner", tt.flowOpts...)
				require.NoError(t, err)

				calls := sb.Calls()
				require.Len(t, calls, 1)
				var body map[string]json.RawMessage
				require.NoError(t, json.Unmarshal(calls[0].Body, &body))
				if tt.want == "" {
					assert.NotContains(t, body, "params")
				} else {
					assert.JSONEq(t, tt.want, string(body["params"]))
				}
				assert.Contains(t, calls[0].Header.Get("User-Agent"), "Mozilla/5.0 (X11; Linux x86_64)")
				if v.UTM != nil {
					assert.Equal(t, map[string]string{"campaign": "summer_sale", "source": "newsletter"}, v.UTM, "the visitor's map is untouched")
				}
			})
		})
	}
}

func TestPerCallOptions(t *testing.T) {
	// Whichever way the sandbox answers what the docs leave open.
	personalizetest.EachAnswers(t, func(t *testing.T, _ sandbox.Answers) {
		synctest.Test(t, func(t *testing.T) {
			sb, c := memSandbox(t)
			ctx, _ := newPage(t, context.Background(), c, seam.Visitor{})
			opts := []personalize.FlowOption{personalize.WithIdentity(personalize.ByEmail("jane@example.com")),
				personalize.WithLanguage("fr"), personalize.WithCurrency("CHF")}
			pos, otherPOS := "airline.example", "airline.example/ch"
			if onEdge(t) {
				pos, otherPOS = "", "" // the Edge site sets it
			} else {
				opts = append(opts, personalize.WithPointOfSale(otherPOS))
			}

			_, err := personalize.Flow(ctx, "home_page_banner", opts...)
			require.NoError(t, err)
			_, err = personalize.Flow(ctx, "home_page_banner")
			require.NoError(t, err)
			_, err = personalize.Flow(ctx, "home_page_banner", opts...)
			require.NoError(t, err)

			calls := sb.Calls()
			require.Len(t, calls, 2, "the same options are memoized; different ones are another call")
			r := calls[0].Request
			assert.Equal(t, "jane@example.com", r.Email)
			assert.Empty(t, r.BrowserID)
			assert.Equal(t, []string{"FR", "CHF", otherPOS}, []string{r.Language, r.CurrencyCode, r.PointOfSale})
			assert.Equal(t, seedBrowserID, calls[1].Request.BrowserID)
			assert.Equal(t, []string{"EN", "EUR", pos}, []string{calls[1].Request.Language, calls[1].Request.CurrencyCode, calls[1].Request.PointOfSale})
		})
	})
}

// The page's memo key covers everything that changes the answer: two guests, or two sets of
// params, on one page never share a result.
func TestPageMemoKeyCoversParamsAndIdentity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		echo := func(r *sandbox.Request) string {
			who := r.Email
			if r.Identifiers != nil {
				who = r.Identifiers.ID + "@" + r.Identifiers.Provider
			}
			return who + " " + mustJSON(t, r.Params)
		}
		sb, c := memSandbox(t)
		sb.AddFlows(sandbox.Define("greeting").Returns(map[string]any{"name": "anyone"}))
		ctx, _ := newPage(t, context.Background(), c, seam.Visitor{})

		tests := []struct {
			opts []personalize.FlowOption
			want string
		}{
			{[]personalize.FlowOption{personalize.WithIdentity(personalize.ByEmail("jane@example.com"))}, `jane@example.com null`},
			{[]personalize.FlowOption{personalize.WithIdentity(personalize.ByEmail("joe@example.com"))}, `joe@example.com null`},
			{[]personalize.FlowOption{personalize.WithIdentity(personalize.ByIdentifier("1", "crm"))}, `1@crm null`},
			{[]personalize.FlowOption{personalize.WithIdentity(personalize.ByIdentifier("2", "crm"))}, `2@crm null`},
			{[]personalize.FlowOption{personalize.WithIdentity(personalize.ByIdentifier("1", "loyalty"))}, `1@loyalty null`},
			{[]personalize.FlowOption{personalize.WithParams(map[string]any{"tier": "gold"})}, ` {"tier":"gold"}`},
			{[]personalize.FlowOption{personalize.WithParams(map[string]any{"tier": "silver"})}, ` {"tier":"silver"}`},
			{[]personalize.FlowOption{personalize.WithParams(map[string]any{"cart": map[string]any{"items": 1}})}, ` {"cart":{"items":1}}`},
			{[]personalize.FlowOption{personalize.WithParams(map[string]any{"cart": map[string]any{"items": 2}})}, ` {"cart":{"items":2}}`},
			{[]personalize.FlowOption{personalize.WithParams(map[string]any{"tier": "gold", "x": "1"})}, ` {"tier":"gold","x":"1"}`},
		}
		for i, tt := range tests {
			_, err := personalize.Flow(ctx, "greeting", tt.opts...)
			require.NoError(t, err)
			calls := sb.Calls()
			require.Len(t, calls, i+1, "call %d is a call of its own: %s", i, tt.want)
			assert.Equal(t, tt.want, echo(&calls[i].Request))
		}
		// The same options again are the same calls.
		for _, tt := range tests {
			res1, err := personalize.Flow(ctx, "greeting", tt.opts...)
			require.NoError(t, err)
			res2, err := personalize.Flow(ctx, "greeting", tt.opts...)
			require.NoError(t, err)
			assert.Same(t, res1, res2)
		}
		assert.Len(t, sb.Calls(), len(tests))
		assert.Len(t, personalize.Calls(ctx), len(tests))
	})
}

func TestBlockedVisitorsMakeNoCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var infos []personalize.CallInfo
		var mu sync.Mutex
		sb, c := memSandbox(t, personalize.WithHooks(personalize.Hooks{FlowCall: func(_ context.Context, i personalize.CallInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() }}))

		ctx, _ := newPage(t, context.Background(), c, seam.Visitor{Blocked: "no consent"})
		res, err := personalize.Flow(ctx, "home_page_banner")
		assert.Nil(t, res)
		assert.ErrorIs(t, err, personalize.ErrNoVisitor)
		_, err = personalize.Flow(ctx, "newsletter_offer", personalize.WithIdentity(personalize.ByEmail("jane@example.com")))
		assert.ErrorIs(t, err, personalize.ErrNoVisitor, "known identities need AllowKnownIdentities")
		assert.Zero(t, sb.CallCount(""))

		ctx, _ = newPage(t, context.Background(), c, seam.Visitor{Blocked: "no consent", AllowKnownIdentities: true})
		_, err = personalize.Flow(ctx, "home_page_banner")
		assert.ErrorIs(t, err, personalize.ErrNoVisitor)
		_, err = personalize.Flow(ctx, "newsletter_offer", personalize.WithIdentity(personalize.ByEmail("jane@example.com")))
		assert.NoError(t, err)
		assert.Equal(t, 1, sb.CallCount(""))

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, infos, 4)
		assert.Equal(t, personalize.OutcomeNoVisitor, infos[0].Outcome)
		assert.Equal(t, personalize.OutcomeDecision, infos[3].Outcome)
	})
}

func TestBrowserIDIsEnsuredOnceAndOnlyWhenNeeded(t *testing.T) {
	srv := startSandbox(t)
	// On loopback, not in a bubble (its Once is a mutex): a budget no machine runs out of.
	c := sandboxClient(t, srv, personalize.WithBudget(time.Minute), personalize.WithTimeout(time.Minute))
	var ensured atomic.Int64
	entered, release := make(chan struct{}), make(chan struct{})
	ensure := func(ctx context.Context) (string, string, error) {
		if ensured.Add(1) == 1 {
			close(entered)
			<-release // hold the first call until the others are waiting for it
		}
		id, err := c.CreateBrowser(ctx)
		return id, "", err
	}

	ctx, _ := newPage(t, context.Background(), c, seam.Visitor{EnsureBrowserID: ensure})
	assert.Zero(t, ensured.Load(), "nothing is created before a flow runs")
	personalize.Prefetch(ctx, "home_page_banner", "recommended_destinations", "newsletter_offer")
	<-entered
	// The three prefetched calls all need the browser ID: wait until the other two are held
	// behind the first (or, were it not shared, have asked for one of their own).
	for i := 0; goroutinesIn("personalize.(*page).browserID") < 3 && ensured.Load() == 1; i++ {
		require.Less(t, i, 100_000, "the other calls never asked for the browser ID")
		runtime.Gosched()
	}
	close(release)
	for _, id := range []string{"home_page_banner", "recommended_destinations", "newsletter_offer"} {
		_, err := personalize.Flow(ctx, id)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), ensured.Load())
	require.Len(t, srv.Sandbox.Browsers(), 1)
	id := srv.Sandbox.Browsers()[0]
	for _, call := range srv.Sandbox.Calls() {
		assert.Equal(t, id, call.Request.BrowserID)
	}

	// A failure to get one is the flows' failure: no call, default content.
	srv.Sandbox.SetFault(sandbox.Fault{Status: 500})
	ctx, _ = newPage(t, context.Background(), c, seam.Visitor{EnsureBrowserID: seam.ClientOf(c).CreateBrowser})
	_, err := personalize.Flow(ctx, "home_page_banner")
	assert.Error(t, err)
	assert.Equal(t, 3, srv.Sandbox.CallCount(""))
}

func TestCallsSummary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t)
		sb.SetFlowFault("home_page_banner", sandbox.Fault{Latency: 5 * time.Millisecond})
		sb.SetFlowFault("newsletter_offer", sandbox.Fault{Status: 500})
		ctx, p := newPage(t, context.Background(), c, seam.Visitor{})
		personalize.Prefetch(ctx, "home_page_banner")
		_, _ = personalize.Flow(ctx, "home_page_banner")
		_, _ = personalize.Flow(ctx, "newsletter_offer")
		assert.True(t, p.Called())

		calls := personalize.Calls(ctx)
		require.Len(t, calls, 2)
		assert.Equal(t, "home_page_banner", calls[0].FriendlyID)
		assert.Equal(t, personalize.OutcomeDecision, calls[0].Outcome)
		assert.Equal(t, 200, calls[0].StatusCode)
		assert.Positive(t, calls[0].Duration)
		assert.Equal(t, 5*time.Millisecond, calls[0].Duration, "the API's latency")
		assert.Equal(t, 1, calls[0].Attempts)
		assert.Equal(t, "newsletter_offer", calls[1].FriendlyID)
		assert.Equal(t, personalize.OutcomeAPIError, calls[1].Outcome)
		assert.Equal(t, 500, calls[1].StatusCode)
		calls[0].FriendlyID = "changed"
		assert.Equal(t, "home_page_banner", personalize.Calls(ctx)[0].FriendlyID, "the summary is a copy")
	})
}

func TestWithoutAPage(t *testing.T) {
	ctx := context.Background()
	personalize.Prefetch(ctx, "home_page_banner") // no page, nothing to do, no panic
	res, err := personalize.Flow(ctx, "home_page_banner")
	assert.Nil(t, res)
	assert.ErrorIs(t, err, personalize.ErrNoPage)
	assert.Nil(t, personalize.Calls(ctx))
	assert.ErrorIs(t, personalize.Track(ctx, "ADD_TO_CART", nil), personalize.ErrNoPage)
	assert.ErrorIs(t, personalize.Identify(ctx, personalize.Guest{}), personalize.ErrNoPage)

	// A lazy page that turns out to be none (the middleware after the handler returned).
	ctx = seam.WithLazyPage(ctx, func() seam.Page { return nil })
	_, err = personalize.Flow(ctx, "home_page_banner")
	assert.ErrorIs(t, err, personalize.ErrNoPage)
}

func TestStartPage(t *testing.T) {
	// Whichever way the sandbox answers what the docs leave open.
	personalizetest.EachAnswers(t, func(t *testing.T, _ sandbox.Answers) {
		synctest.Test(t, func(t *testing.T) {
			sb, c := memSandbox(t)
			ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{
				BrowserID: seedBrowserID, UTM: map[string]string{"campaign": "summer_sale"}, Language: "fr", Path: "/",
			})
			personalize.Prefetch(ctx, "home_page_banner")
			res, err := personalize.Flow(ctx, "home_page_banner")
			require.NoError(t, err)
			assert.Equal(t, "Fly for less", res.Offers()[0].Name())
			_, err = personalize.Flow(ctx, "home_page_banner")
			require.NoError(t, err)
			done()
			_, err = personalize.Flow(ctx, "newsletter_offer")
			assert.ErrorIs(t, err, personalize.ErrCanceled, "flows asked for after done are not called")

			calls := sb.Calls()
			require.Len(t, calls, 1, "one call per friendly ID per page")
			r := calls[0].Request
			assert.Equal(t, seedBrowserID, r.BrowserID)
			assert.Equal(t, "FR", r.Language, "the visitor's language, upper-case as the SDKs send it")
			assert.Equal(t, "summer_sale", r.UTM("campaign"))
			require.Len(t, personalize.Calls(ctx), 2)

			// Without a client there is no page: flows report it, nothing panics.
			ctx, done = personalize.StartPage(context.Background(), nil, personalize.Visitor{BrowserID: seedBrowserID})
			defer done()
			_, err = personalize.Flow(ctx, "home_page_banner")
			assert.ErrorIs(t, err, personalize.ErrNoPage)
		})
	})
}
