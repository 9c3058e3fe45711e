package personalize_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

var homeFlows = []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}

// memSandbox serves the three home page flows in memory, for tests in a synctest bubble, and
// makes a client of it.
func memSandbox(t *testing.T, opts ...personalize.Option) (*sandbox.Sandbox, *personalize.Client) {
	t.Helper()
	sb := sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}),
		sandbox.Define("recommended_destinations").Returns([]any{map[string]any{"name": "Lisbon"}}),
		sandbox.Define("newsletter_offer").Returns(map[string]any{"name": "10% off"}),
	))
	srv := memnet.Serve(t, sb)
	c, err := personalize.New(sandbox.DefaultClientKey, append([]personalize.Option{
		personalize.WithBaseURL(srv.URL), personalize.WithHTTPClient(srv.Client),
		personalize.WithPointOfSale("airline.example"),
	}, opts...)...)
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
