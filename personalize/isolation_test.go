package personalize_test

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

var homeFlows = []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}

// memSandbox serves the three home page flows in memory, for tests in a synctest bubble, and
// makes a client of it.
func memSandbox(t *testing.T, opts ...personalize.Option) (*sandbox.Sandbox, *personalize.Client) {
	t.Helper()
	sb := sandbox.New(sandbox.WithUndocumentedAnswers(personalizetest.Answers(t)),
		sandbox.WithPointsOfSale("airline.example", "airline.example/ch"),
		sandbox.WithFlows(
			sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}),
			sandbox.Define("recommended_destinations").Returns([]any{map[string]any{"name": "Lisbon"}}),
			sandbox.Define("newsletter_offer").Returns(map[string]any{"name": "10% off"}),
		))
	srv := memnet.Serve(t, sb)
	key, base := personalizetest.Endpoint(t, srv.URL)
	if !onEdge(t) {
		base = append(base, personalize.WithPointOfSale("airline.example"))
	}
	c, err := personalize.New(key, append(append(base, personalize.WithHTTPClient(srv.Client)), opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return sb, c
}

// homePage renders the home page's three flows and says how long it took and which flows
// gave a decision.
func homePage(c *personalize.Client) (time.Duration, map[string]bool) {
	start := time.Now()
	ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
	defer done()
	personalize.Prefetch(ctx, homeFlows...)
	decided := map[string]bool{}
	for _, id := range homeFlows {
		if _, err := personalize.Flow(ctx, id); err == nil {
			decided[id] = true
		}
	}
	return time.Since(start), decided
}

// One hanging flow costs its pages the budget until it is isolated; from then on pages take no
// time at all, the other flows keep answering, and the flow gets a trial call after OpenFor.
func TestOneHangingFlowIsIsolated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t, personalize.WithBreaker(personalize.BreakerSettings{Failures: 3, OpenFor: 10 * time.Second}))
		sb.SetFlowFault("home_page_banner", sandbox.Fault{Hang: true})
		others := map[string]bool{"recommended_destinations": true, "newsletter_offer": true}

		for i := range 3 {
			took, decided := homePage(c)
			assert.Equal(t, personalize.DefaultBudget, took, "page %d waits for the hanging flow until the budget", i)
			assert.Equal(t, others, decided)
		}
		calls := sb.CallCount("home_page_banner")
		for range 10 {
			took, decided := homePage(c)
			assert.Zero(t, took, "the isolated flow costs nothing")
			assert.Equal(t, others, decided, "and the other flows answer")
		}
		assert.Equal(t, calls, sb.CallCount("home_page_banner"), "the isolated flow is not called")

		time.Sleep(10*time.Second + time.Millisecond) // gobreaker: strictly after OpenFor
		took, _ := homePage(c)
		assert.Equal(t, personalize.DefaultBudget, took, "after OpenFor, one trial call")
		assert.Equal(t, calls+1, sb.CallCount("home_page_banner"))
		took, _ = homePage(c)
		assert.Zero(t, took, "the trial failed: isolated again")

		sb.SetFlowFault("home_page_banner", sandbox.Fault{})
		time.Sleep(10*time.Second + time.Millisecond)
		_, decided := homePage(c)
		assert.True(t, decided["home_page_banner"], "a trial that succeeds ends the isolation")
		_, decided = homePage(c)
		assert.Len(t, decided, 3)
	})
}

// A Flow whose caller has a deadline of its own ends at that deadline, with an error that says
// so (ErrTimeout, context.DeadlineExceeded); the call goes on for the page's other askers.
func TestFlowEndsAtTheCallersDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t)
		sb.SetFlowFault("home_page_banner", sandbox.Fault{Latency: 150 * time.Millisecond})
		page, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
		defer done()

		start := time.Now()
		ctx, cancel := context.WithTimeout(page, 30*time.Millisecond)
		defer cancel()
		res, err := personalize.Flow(ctx, "home_page_banner")
		assert.Equal(t, 30*time.Millisecond, time.Since(start), "the caller's deadline, not the API's 150ms")
		assert.Nil(t, res)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, personalize.ErrTimeout)
		assert.Equal(t, personalize.OutcomeTimeout, personalize.OutcomeOf(err))

		res, err = personalize.Flow(page, "home_page_banner")
		require.NoError(t, err, "the page's other askers get the answer")
		assert.Equal(t, 150*time.Millisecond, time.Since(start))
		assert.Equal(t, "Fly for less", res.Offers()[0].Name())
		assert.Equal(t, 1, sb.CallCount("home_page_banner"), "one call for both")
	})
}

// A flow call ends at the earliest of the caller's context, the page's budget and the client's
// timeout.
func TestFlowEndsAtTheEarliestDeadline(t *testing.T) {
	tests := []struct {
		name                    string
		caller, budget, timeout time.Duration // 0: none for the caller
		want                    time.Duration
	}{
		{"the caller's", 30 * time.Millisecond, 400 * time.Millisecond, time.Second, 30 * time.Millisecond},
		{"the budget", 0, 50 * time.Millisecond, time.Second, 50 * time.Millisecond},
		{"the budget, before the caller's", 100 * time.Millisecond, 60 * time.Millisecond, time.Second, 60 * time.Millisecond},
		{"the timeout", 0, 400 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond},
		{"the timeout, before the caller's", 100 * time.Millisecond, 400 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, c := memSandbox(t, personalize.WithBudget(tt.budget), personalize.WithTimeout(tt.timeout))
				sb.SetFault(sandbox.Fault{Latency: 150 * time.Millisecond})
				page, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
				defer done()
				ctx := page
				if tt.caller > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(page, tt.caller)
					defer cancel()
				}
				start := time.Now()
				_, err := personalize.Flow(ctx, "home_page_banner")
				assert.Equal(t, tt.want, time.Since(start))
				assert.ErrorIs(t, err, personalize.ErrTimeout)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			})
		})
	}
}

// A result that is ready is returned, whatever the caller's context says: never a random pick
// between a finished call and a finished context.
func TestAReadyResultIsAlwaysReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t)
		page, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
		defer done()
		res, err := personalize.Flow(page, "home_page_banner")
		require.NoError(t, err)
		sb.SetFault(sandbox.Fault{Status: http.StatusBadRequest}) // a refusal, however the sandbox answers the undocumented
		_, failed := personalize.Flow(page, "no_such_flow")
		sb.SetFault(sandbox.Fault{})
		var apiErr *personalize.APIError
		require.ErrorAs(t, failed, &apiErr)

		canceled, cancel := context.WithCancel(page)
		cancel()
		expired, cancel := context.WithDeadline(page, time.Now().Add(-time.Second))
		defer cancel()
		for i := range 200 {
			for _, ctx := range []context.Context{canceled, expired} {
				got, err := personalize.Flow(ctx, "home_page_banner")
				require.NoError(t, err, "run %d", i)
				require.Same(t, res, got)
				_, err = personalize.Flow(ctx, "no_such_flow")
				require.Same(t, failed, err, "a call that ended in an error is ready too (run %d)", i)
			}
		}
	})
}

// The package's errors wrap the context's: errors.Is finds context.DeadlineExceeded and
// context.Canceled beside ErrTimeout and ErrCanceled, for every call that takes a context.
func TestErrorsWrapTheContextsCause(t *testing.T) {
	ops := []struct {
		name string
		call func(ctx context.Context, c *personalize.Client) error
	}{
		{"Flow on a page of the request", func(ctx context.Context, c *personalize.Client) error {
			page, done := personalize.StartPage(ctx, c, personalize.Visitor{BrowserID: seedBrowserID})
			defer done()
			_, err := personalize.Flow(page, "home_page_banner")
			return err
		}},
		{"Flow with the caller's context", func(ctx context.Context, c *personalize.Client) error {
			page, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
			defer done()
			_, err := personalize.Flow(withPageOf(ctx, page), "home_page_banner")
			return err
		}},
		{"CallFlow", func(ctx context.Context, c *personalize.Client) error {
			_, err := c.CallFlow(ctx, flowOf("home_page_banner"))
			return err
		}},
		{"CreateBrowser", func(ctx context.Context, c *personalize.Client) error {
			_, err := c.CreateBrowser(ctx)
			return err
		}},
		{"SendEvent", func(ctx context.Context, c *personalize.Client) error {
			return c.SendEvent(ctx, personalize.Event{Type: "X", BrowserID: seedBrowserID, Page: "/"})
		}},
	}
	for _, op := range ops {
		t.Run(op.name+", deadline", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, c := memSandbox(t, personalize.WithTimeout(time.Minute), personalize.WithBudget(time.Minute))
				sb.SetFault(sandbox.Fault{Hang: true})
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				start := time.Now()
				err := op.call(ctx, c)
				assert.Equal(t, 50*time.Millisecond, time.Since(start))
				assert.ErrorIs(t, err, personalize.ErrTimeout)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			})
		})
		t.Run(op.name+", cancel", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, c := memSandbox(t, personalize.WithTimeout(time.Minute), personalize.WithBudget(time.Minute))
				sb.SetFault(sandbox.Fault{Hang: true})
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(20*time.Millisecond, cancel)
				start := time.Now()
				err := op.call(ctx, c)
				assert.Equal(t, 20*time.Millisecond, time.Since(start))
				assert.ErrorIs(t, err, personalize.ErrCanceled)
				assert.ErrorIs(t, err, context.Canceled)
			})
		})
		t.Run(op.name+", a cause of the caller's", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, c := memSandbox(t, personalize.WithTimeout(time.Minute), personalize.WithBudget(time.Minute))
				sb.SetFault(sandbox.Fault{Hang: true})
				left, late := errors.New("the visitor left"), errors.New("the page is late")
				ctx, cancel := context.WithCancelCause(context.Background())
				time.AfterFunc(20*time.Millisecond, func() { cancel(left) })
				err := op.call(ctx, c)
				assert.ErrorIs(t, err, personalize.ErrCanceled)
				assert.ErrorIs(t, err, context.Canceled)
				assert.ErrorIs(t, err, left)

				ctx, stop := context.WithTimeoutCause(context.Background(), 20*time.Millisecond, late)
				defer stop()
				err = op.call(ctx, c)
				assert.ErrorIs(t, err, personalize.ErrTimeout)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.ErrorIs(t, err, late)
			})
		})
		t.Run(op.name+", the client's timeout", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, c := memSandbox(t, personalize.WithTimeout(70*time.Millisecond), personalize.WithBudget(time.Minute))
				sb.SetFault(sandbox.Fault{Hang: true})
				start := time.Now()
				err := op.call(context.Background(), c)
				assert.Equal(t, 70*time.Millisecond, time.Since(start))
				assert.ErrorIs(t, err, personalize.ErrTimeout)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			})
		})
	}
}

// withPageOf returns ctx (its deadline and cancellation) carrying the page of page: a caller of
// Flow with a context of its own.
func withPageOf(ctx, page context.Context) context.Context { return pageOf{ctx, page} }

type pageOf struct {
	context.Context
	page context.Context
}

func (c pageOf) Value(key any) any {
	if v := c.page.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

// A 429 or 503 answer's Retry-After (delay-seconds or an HTTP date) holds that flow back for
// that long, at most 5 minutes, and only that flow; a 503 asking to wait is not retried at once.
func TestRetryAfterHoldsBackThatFlowOnly(t *testing.T) {
	inSeconds := func(d time.Duration) func(time.Time) string {
		return func(time.Time) string { return itoa(int(d / time.Second)) }
	}
	asDate := func(d time.Duration) func(time.Time) string {
		return func(now time.Time) string { return now.Add(d).UTC().Format(http.TimeFormat) }
	}
	tests := []struct {
		name       string
		status     int
		retryAfter func(now time.Time) string
		asked      time.Duration // APIError.RetryAfter
		held       time.Duration
	}{
		{"429, seconds", 429, inSeconds(30 * time.Second), 30 * time.Second, 30 * time.Second},
		{"503, seconds", 503, inSeconds(30 * time.Second), 30 * time.Second, 30 * time.Second},
		{"429, HTTP date", 429, asDate(2 * time.Minute), 2 * time.Minute, 2 * time.Minute},
		{"503, HTTP date", 503, asDate(45 * time.Second), 45 * time.Second, 45 * time.Second},
		{"an hour is held 5 minutes", 503, inSeconds(time.Hour), time.Hour, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var limiting atomic.Bool
				limiting.Store(true)
				rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
					if limiting.Load() && strings.Contains(string(bodyOf(r)), `"friendlyId":"limited"`) {
						w.Header().Set("Retry-After", tt.retryAfter(time.Now()))
						answerJSON(tt.status, `{"status":`+itoa(tt.status)+`,"message":"wait"}`)(w, r)
						return
					}
					answerJSON(200, `[{"name":"ok"}]`)(w, r)
				})
				c := memClient(t, rec.mem)

				_, err := c.CallFlow(context.Background(), flowOf("limited"))
				var apiErr *personalize.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.status, apiErr.StatusCode)
				assert.Equal(t, tt.asked, apiErr.RetryAfter)
				assert.Equal(t, 1, rec.hitsFor("limited"), "not retried at once")

				limiting.Store(false)
				_, err = c.CallFlow(context.Background(), flowOf("limited"))
				assert.ErrorIs(t, err, personalize.ErrBreakerOpen, "held back")
				assert.Equal(t, personalize.OutcomeBreakerOpen, personalize.OutcomeOf(err))
				_, err = c.CallFlow(context.Background(), flowOf("other"))
				assert.NoError(t, err, "only that flow is held back")

				time.Sleep(tt.held - time.Nanosecond)
				_, err = c.CallFlow(context.Background(), flowOf("limited"))
				assert.ErrorIs(t, err, personalize.ErrBreakerOpen, "held back until the time asked")
				assert.Equal(t, 1, rec.hitsFor("limited"))

				time.Sleep(time.Nanosecond)
				_, err = c.CallFlow(context.Background(), flowOf("limited"))
				assert.NoError(t, err, "called again once the time has passed")
				assert.Equal(t, 2, rec.hitsFor("limited"))
			})
		})
	}

	t.Run("without Retry-After nothing is held", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newMemRecorder(t, answerJSON(429, `{"status":429,"message":"slow down"}`))
			c := memClient(t, rec.mem)
			for range 3 {
				_, err := c.CallFlow(context.Background(), flowOf("limited"))
				var apiErr *personalize.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Zero(t, apiErr.RetryAfter)
			}
			assert.Equal(t, 3, rec.hitsFor("limited"))
		})
	})
}

// useDefaultLogger makes l slog's default logger (and the log package's output) until the test
// ends. Tests that use it must not run in parallel.
func useDefaultLogger(t *testing.T, l *slog.Logger) {
	old, w, flags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(l)
	t.Cleanup(func() {
		slog.SetDefault(old)
		log.SetOutput(w) // SetDefault(old) leaves the log package writing to l
		log.SetFlags(flags)
	})
}

// Without WithLogger the client logs to slog.Default(): a flow being isolated once at warn, its
// failing calls at debug only.
func TestTheDefaultLoggerIsSlogDefault(t *testing.T) {
	var logs lockedBuffer
	useDefaultLogger(t, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	synctest.Test(t, func(t *testing.T) {
		sb, c := memSandbox(t, personalize.WithBreaker(personalize.BreakerSettings{Failures: 3, OpenFor: time.Minute}))
		sb.SetFlowFault("home_page_banner", sandbox.Fault{Hang: true})
		sb.SetFlowFault("newsletter_offer", sandbox.Fault{Status: 500})
		for range 5 {
			homePage(c)
		}
	})
	all := logs.lines("personalize:")
	warn := logs.lines("level=WARN")
	require.Len(t, warn, 2, "one warning for each flow isolated:\n%s", logs.String())
	assert.Contains(t, warn[0], "flow isolated")
	assert.Contains(t, warn[1], "flow isolated")
	assert.ElementsMatch(t, []string{"friendly_id=home_page_banner", "friendly_id=newsletter_offer"},
		[]string{friendlyIDOf(warn[0]), friendlyIDOf(warn[1])})
	failed := logs.lines("flow call failed")
	assert.Len(t, failed, 2*5, "every failed call is logged: 3 timeouts or 500s, then 2 breaker open, per flow")
	for _, line := range failed {
		assert.Contains(t, line, "level=DEBUG")
	}
	assert.Len(t, logs.lines("level=DEBUG", "outcome=timeout"), 3)
	assert.Len(t, logs.lines("level=DEBUG", "outcome=api_error", "status=500"), 3)
	assert.Len(t, logs.lines("level=DEBUG", "outcome=breaker_open"), 4)
	assert.Len(t, logs.lines("level=DEBUG", "flow decision", "friendly_id=recommended_destinations"), 5)
	assert.Len(t, all, len(warn)+len(failed)+5, "nothing else:\n%s", logs.String())
}

func friendlyIDOf(line string) string {
	for f := range strings.FieldsSeq(line) {
		if strings.HasPrefix(f, "friendly_id=") {
			return f
		}
	}
	return ""
}

// A zero Client, or a nil one, returns errors (ErrInvalidConfig) and makes no page; it never
// panics.
func TestZeroAndNilClients(t *testing.T) {
	for name, c := range map[string]*personalize.Client{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			assert.NotPanics(t, func() {
				res, err := c.CallFlow(ctx, flowOf("home_page_banner"))
				assert.Nil(t, res)
				assert.ErrorIs(t, err, personalize.ErrInvalidConfig)
				assert.Equal(t, personalize.OutcomeError, personalize.OutcomeOf(err))
			}, "CallFlow")
			assert.NotPanics(t, func() {
				id, err := c.CreateBrowser(ctx)
				assert.Empty(t, id)
				assert.ErrorIs(t, err, personalize.ErrInvalidConfig)
			}, "CreateBrowser")
			assert.NotPanics(t, func() {
				err := c.SendEvent(ctx, personalize.Event{Type: "X", BrowserID: seedBrowserID, Page: "/"})
				assert.ErrorIs(t, err, personalize.ErrInvalidConfig)
			}, "SendEvent")
			assert.NotPanics(t, func() { assert.NoError(t, c.Close(ctx)) }, "Close")
			assert.NotPanics(t, func() { assert.Equal(t, personalize.EventStats{}, c.EventStats()) }, "EventStats")
			assert.NotPanics(t, func() {
				page, done := personalize.StartPage(ctx, c, personalize.Visitor{BrowserID: seedBrowserID, Path: "/"})
				defer done()
				assert.True(t, page == ctx, "no page: the context comes back as it was")
				personalize.Prefetch(page, "home_page_banner")
				_, err := personalize.Flow(page, "home_page_banner")
				assert.ErrorIs(t, err, personalize.ErrNoPage)
				assert.ErrorIs(t, personalize.Track(page, "ADD_TO_CART", nil), personalize.ErrNoPage)
				assert.ErrorIs(t, personalize.Identify(page, personalize.Guest{
					Identifiers: []personalize.GuestIdentifier{{ID: "u", Provider: "p"}}}), personalize.ErrNoPage)
				assert.Nil(t, personalize.Calls(page))
			}, "StartPage")
			assert.Nil(t, seam.ClientOf(c), "the middleware sees no client")
		})
	}
}
