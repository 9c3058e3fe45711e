package personalize_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
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
	srv := startSandbox(t)
	ctx, _ := newPage(t, context.Background(), sandboxClient(t, srv), seam.Visitor{})

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
	assert.Equal(t, 2, srv.Sandbox.CallCount(""), "two friendly IDs, two API calls")
	assert.Equal(t, 1, srv.Sandbox.CallCount("home_page_banner"))
	assert.Same(t, results[0], results[2], "both slots share one result")
}

func TestPrefetchedFlowsRunInParallel(t *testing.T) {
	srv := startSandbox(t)
	srv.Sandbox.SetFault(sandbox.Fault{Latency: 100 * time.Millisecond})
	c := sandboxClient(t, srv, personalize.WithBudget(5*time.Second))
	ctx, _ := newPage(t, context.Background(), c, seam.Visitor{})

	start := time.Now()
	personalize.Prefetch(ctx, "home_page_banner", "recommended_destinations", "newsletter_offer")
	for _, id := range []string{"home_page_banner", "recommended_destinations", "newsletter_offer"} {
		_, err := personalize.Flow(ctx, id)
		require.NoError(t, err)
	}
	elapsed := time.Since(start)
	assert.GreaterOrEqual(t, elapsed, 100*time.Millisecond)
	assert.Less(t, elapsed, 200*time.Millisecond, "three 100ms flows in parallel, not in sequence (300ms)")
	assert.Equal(t, 3, srv.Sandbox.CallCount(""))
}

func TestHangingAPIEndsAtTheBudget(t *testing.T) {
	srv := startSandbox(t)
	srv.Sandbox.SetFault(sandbox.Fault{Hang: true})
	c := sandboxClient(t, srv, personalize.WithBudget(100*time.Millisecond), personalize.WithTimeout(time.Minute))
	ctx, p := newPage(t, context.Background(), c, seam.Visitor{})

	start := time.Now()
	personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer")
	for _, id := range []string{"home_page_banner", "newsletter_offer", "recommended_destinations"} {
		res, err := personalize.Flow(ctx, id)
		assert.Nil(t, res)
		assert.ErrorIs(t, err, personalize.ErrTimeout, id)
	}
	assert.Less(t, time.Since(start), time.Second, "the 100ms budget bounds every flow, generously")
	p.Close() // returns only when every call has ended; goleak checks the rest at exit
	for _, info := range personalize.Calls(ctx) {
		assert.Equal(t, personalize.OutcomeTimeout, info.Outcome, info.FriendlyID)
	}
}

func TestCancelledRequestEndsEveryCall(t *testing.T) {
	srv := startSandbox(t)
	srv.Sandbox.SetFault(sandbox.Fault{Hang: true})
	c := sandboxClient(t, srv, personalize.WithBudget(time.Minute), personalize.WithTimeout(time.Minute))
	reqCtx, cancel := context.WithCancel(context.Background())
	ctx, p := newPage(t, reqCtx, c, seam.Visitor{})

	personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer")
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := personalize.Flow(ctx, "home_page_banner")
	assert.ErrorIs(t, err, personalize.ErrCanceled)
	_, err = personalize.Flow(ctx, "recommended_destinations")
	assert.ErrorIs(t, err, personalize.ErrCanceled, "a flow asked for after the request ended")
	p.Close()
	assert.Less(t, time.Since(start), 5*time.Second)
	for _, info := range personalize.Calls(ctx) {
		assert.Equal(t, personalize.OutcomeCanceled, info.Outcome, info.FriendlyID)
	}
}

func TestBreakerAcrossPages(t *testing.T) {
	srv := startSandbox(t)
	c := sandboxClient(t, srv, personalize.WithBreaker(personalize.BreakerSettings{Failures: 3, OpenFor: 100 * time.Millisecond}))
	flow := func() error {
		ctx, p := newPage(t, context.Background(), c, seam.Visitor{})
		defer p.Close()
		_, err := personalize.Flow(ctx, "home_page_banner")
		return err
	}

	srv.Sandbox.SetFault(sandbox.Fault{Status: 500})
	for range 3 {
		assert.Equal(t, personalize.OutcomeAPIError, personalize.OutcomeOf(flow()))
	}
	calls := srv.Sandbox.CallCount("")
	assert.ErrorIs(t, flow(), personalize.ErrBreakerOpen)
	assert.Equal(t, calls, srv.Sandbox.CallCount(""), "fails fast without calling")

	srv.Sandbox.SetFault(sandbox.Fault{})
	time.Sleep(150 * time.Millisecond)
	assert.NoError(t, flow(), "the breaker lets a trial call through and closes")
	assert.NoError(t, flow())
	assert.Equal(t, calls+2, srv.Sandbox.CallCount(""), "calls reach the API again")
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
		{"503 (retried once)", sandbox.Fault{Status: 503}, apiStatus(503)},
		{"malformed JSON", sandbox.Fault{Malformed: true}, errIs(personalize.ErrMalformedResponse)},
		{"empty body", sandbox.Fault{Empty: true}, errIs(personalize.ErrMalformedResponse)},
		{"oversized body", sandbox.Fault{Oversized: 2 << 20}, errIs(personalize.ErrResponseTooLarge)},
		{"error object with 200", sandbox.Fault{ErrorObject: true}, apiStatus(200)},
		{"connection reset", sandbox.Fault{Reset: true}, errIs(personalize.ErrUnavailable)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSandbox(t)
			srv.Sandbox.SetFlowFault("home_page_banner", tt.fault)
			budget := 5 * time.Second // generous: a loaded machine must not turn other faults into timeouts
			if tt.fault.Latency > 0 || tt.fault.Hang {
				budget = 300 * time.Millisecond
			}
			c := sandboxClient(t, srv, personalize.WithBudget(budget))
			ctx, _ := newPage(t, context.Background(), c, seam.Visitor{})
			personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer")
			res, err := personalize.Flow(ctx, "home_page_banner")
			assert.Nil(t, res)
			tt.check(t, err)
			if budget > time.Second {
				_, err = personalize.Flow(ctx, "newsletter_offer")
				assert.NoError(t, err, "a fault of one flow leaves the others alone")
			}
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
			srv := startSandbox(t)
			v := visitor
			v.UTM = map[string]string{"campaign": "summer_sale", "source": "newsletter"}
			if tt.visitor != nil {
				tt.visitor(&v)
			}
			ctx, _ := newPage(t, context.Background(), sandboxClient(t, srv, tt.clientOpts...), v)
			_, err := personalize.Flow(ctx, "home_page_banner", tt.flowOpts...)
			require.NoError(t, err)

			calls := srv.Sandbox.Calls()
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
	}
}

func TestPerCallOptions(t *testing.T) {
	srv := startSandbox(t)
	ctx, _ := newPage(t, context.Background(), sandboxClient(t, srv), seam.Visitor{})

	_, err := personalize.Flow(ctx, "home_page_banner", personalize.WithIdentity(personalize.ByEmail("jane@example.com")),
		personalize.WithLanguage("fr"), personalize.WithCurrency("CHF"), personalize.WithPointOfSale("airline.example/ch"))
	require.NoError(t, err)
	_, err = personalize.Flow(ctx, "home_page_banner")
	require.NoError(t, err)
	_, err = personalize.Flow(ctx, "home_page_banner", personalize.WithIdentity(personalize.ByEmail("jane@example.com")),
		personalize.WithLanguage("fr"), personalize.WithCurrency("CHF"), personalize.WithPointOfSale("airline.example/ch"))
	require.NoError(t, err)

	calls := srv.Sandbox.Calls()
	require.Len(t, calls, 2, "the same options are memoized; different ones are another call")
	r := calls[0].Request
	assert.Equal(t, "jane@example.com", r.Email)
	assert.Empty(t, r.BrowserID)
	assert.Equal(t, []string{"fr", "CHF", "airline.example/ch"}, []string{r.Language, r.CurrencyCode, r.PointOfSale})
	assert.Equal(t, seedBrowserID, calls[1].Request.BrowserID)
	assert.Equal(t, []string{"en", "EUR", "airline.example"}, []string{calls[1].Request.Language, calls[1].Request.CurrencyCode, calls[1].Request.PointOfSale})
}

func TestBlockedVisitorsMakeNoCall(t *testing.T) {
	srv := startSandbox(t)
	var infos []personalize.CallInfo
	var mu sync.Mutex
	c := sandboxClient(t, srv, personalize.WithHook(func(i personalize.CallInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() }))

	ctx, _ := newPage(t, context.Background(), c, seam.Visitor{Blocked: "no consent"})
	res, err := personalize.Flow(ctx, "home_page_banner")
	assert.Nil(t, res)
	assert.ErrorIs(t, err, personalize.ErrNoVisitor)
	_, err = personalize.Flow(ctx, "newsletter_offer", personalize.WithIdentity(personalize.ByEmail("jane@example.com")))
	assert.ErrorIs(t, err, personalize.ErrNoVisitor, "known identities need AllowKnownIdentities")
	assert.Zero(t, srv.Sandbox.CallCount(""))

	ctx, _ = newPage(t, context.Background(), c, seam.Visitor{Blocked: "no consent", AllowKnownIdentities: true})
	_, err = personalize.Flow(ctx, "home_page_banner")
	assert.ErrorIs(t, err, personalize.ErrNoVisitor)
	_, err = personalize.Flow(ctx, "newsletter_offer", personalize.WithIdentity(personalize.ByEmail("jane@example.com")))
	assert.NoError(t, err)
	assert.Equal(t, 1, srv.Sandbox.CallCount(""))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, infos, 4)
	assert.Equal(t, personalize.OutcomeNoVisitor, infos[0].Outcome)
	assert.Equal(t, personalize.OutcomeDecision, infos[3].Outcome)
}

func TestBrowserIDIsEnsuredOnceAndOnlyWhenNeeded(t *testing.T) {
	srv := startSandbox(t)
	c := sandboxClient(t, srv)
	var ensured atomic.Int64
	ensure := func(ctx context.Context) (string, error) {
		ensured.Add(1)
		time.Sleep(20 * time.Millisecond) // let the other calls pile up behind it
		return c.CreateBrowser(ctx)
	}

	ctx, _ := newPage(t, context.Background(), c, seam.Visitor{EnsureBrowserID: ensure})
	assert.Zero(t, ensured.Load(), "nothing is created before a flow runs")
	personalize.Prefetch(ctx, "home_page_banner", "recommended_destinations", "newsletter_offer")
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
	ctx, _ = newPage(t, context.Background(), c, seam.Visitor{EnsureBrowserID: c.CreateBrowser})
	_, err := personalize.Flow(ctx, "home_page_banner")
	assert.Error(t, err)
	assert.Equal(t, 3, srv.Sandbox.CallCount(""))
}

func TestCallsSummary(t *testing.T) {
	srv := startSandbox(t)
	srv.Sandbox.SetFlowFault("newsletter_offer", sandbox.Fault{Status: 500})
	ctx, p := newPage(t, context.Background(), sandboxClient(t, srv), seam.Visitor{})
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
	assert.Equal(t, "newsletter_offer", calls[1].FriendlyID)
	assert.Equal(t, personalize.OutcomeAPIError, calls[1].Outcome)
	assert.Equal(t, 500, calls[1].StatusCode)
	calls[0].FriendlyID = "changed"
	assert.Equal(t, "home_page_banner", personalize.Calls(ctx)[0].FriendlyID, "the summary is a copy")
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
	srv := startSandbox(t)
	c := sandboxClient(t, srv)
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

	calls := srv.Sandbox.Calls()
	require.Len(t, calls, 1, "one call per friendly ID per page")
	r := calls[0].Request
	assert.Equal(t, seedBrowserID, r.BrowserID)
	assert.Equal(t, "fr", r.Language, "the visitor's language")
	assert.Equal(t, "summer_sale", r.UTM("campaign"))
	require.Len(t, personalize.Calls(ctx), 2)

	// Without a client there is no page: flows report it, nothing panics.
	ctx, done = personalize.StartPage(context.Background(), nil, personalize.Visitor{BrowserID: seedBrowserID})
	defer done()
	_, err = personalize.Flow(ctx, "home_page_banner")
	assert.ErrorIs(t, err, personalize.ErrNoPage)
}
