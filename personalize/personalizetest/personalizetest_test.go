package personalizetest_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClientOfTheSandbox(t *testing.T) {
	var srv *sandbox.Server
	t.Run("a test", func(t *testing.T) {
		srv = personalizetest.NewSandbox(t, sandbox.WithFlows(
			sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}),
		))
		c := personalizetest.NewClient(t, srv)
		id, err := c.CreateBrowser(context.Background())
		require.NoError(t, err)
		ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: id, Path: "/"})
		defer done()

		res, err := personalize.Flow(ctx, "home_page_banner")
		require.NoError(t, err)
		assert.Equal(t, "Fly for less", res.Offers()[0].Name())
		require.NoError(t, personalize.Track(ctx, "ADD_TO_CART", nil))
	})

	// The test's cleanup closed the client first, delivering its queued event to the sandbox,
	// then the sandbox.
	calls := srv.Sandbox.Calls()
	require.Len(t, calls, 1)
	if personalizetest.Transport(t) == personalize.TransportEdge {
		assert.Equal(t, sandbox.PathEdgePersonalize, calls[0].Path)
		assert.Equal(t, sandbox.DefaultContextID, calls[0].Request.ContextID)
		assert.Equal(t, sandbox.DefaultSiteName, calls[0].Request.SiteName)
	} else {
		assert.Equal(t, sandbox.PathCallFlows, calls[0].Path)
		assert.Equal(t, personalizetest.PointOfSale, calls[0].Request.PointOfSale)
		assert.Equal(t, sandbox.DefaultClientKey, calls[0].Request.ClientKey)
	}
	events := srv.Sandbox.Events()
	require.Len(t, events, 1, "the event was delivered before the sandbox closed")
	assert.Equal(t, "ADD_TO_CART", events[0].Type)
	_, err := srv.Client().Get(srv.URL + "/v2/callFlows")
	assert.Error(t, err, "the sandbox is closed")
}

func TestNewClientOptionsComeLast(t *testing.T) {
	srv := personalizetest.NewSandbox(t, sandbox.WithFlows(sandbox.Define("f")))
	c := personalizetest.NewClient(t, srv, personalize.WithChannel("MOBILE_WEB"))
	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByEmail("a@b.co")})
	require.NoError(t, err)
	assert.Equal(t, "MOBILE_WEB", srv.Sandbox.Calls()[0].Request.Channel)
}

func TestEachTransport(t *testing.T) {
	t.Setenv(personalizetest.TransportEnv, "")
	var seen []string
	personalizetest.EachTransport(t, func(t *testing.T, transport string) {
		seen = append(seen, transport)
		assert.Equal(t, transport, personalizetest.Transport(t))
		t.Run("nested", func(t *testing.T) {
			assert.Equal(t, transport, personalizetest.Transport(t), "a subtest follows its EachTransport")
		})
		srv := personalizetest.NewSandbox(t, sandbox.WithFlows(sandbox.Define("f").Returns(map[string]any{"ok": true})))
		c := personalizetest.NewClient(t, srv)
		res, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByEmail("a@b.co")})
		require.NoError(t, err, "the client reaches the sandbox over %s", transport)
		assert.False(t, res.Empty())
		var info personalize.CallInfo
		key, opts := personalizetest.Endpoint(t, srv.URL)
		c2, err := personalize.New(key, append(opts, personalize.WithHooks(personalize.Hooks{
			FlowCall: func(_ context.Context, ci personalize.CallInfo) { info = ci }}))...)
		require.NoError(t, err)
		_, err = c2.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByEmail("a@b.co")})
		require.NoError(t, err)
		assert.Equal(t, transport, info.Transport)
		_ = c2.Close(context.Background())
	})
	assert.Equal(t, []string{personalize.TransportDirect, personalize.TransportEdge}, seen)
	assert.Equal(t, personalize.TransportDirect, personalizetest.Transport(t), "outside, the environment's (unset: direct)")

	t.Setenv(personalizetest.TransportEnv, "edge")
	assert.Equal(t, personalize.TransportEdge, personalizetest.Transport(t))
	ran := false
	t.Run("direct only", func(t *testing.T) {
		personalizetest.DirectOnly(t, "a test of the regional wire format")
		ran = true
	})
	assert.False(t, ran, "DirectOnly skips over the Edge")

	t.Setenv(personalizetest.TransportEnv, "carrier-pigeon")
	rec := &fatalRecorder{TB: t}
	personalizetest.Transport(rec)
	assert.Contains(t, rec.msg, `PERSONALIZE_TEST_TRANSPORT="carrier-pigeon"`)
}

// fatalRecorder is a testing.TB whose Fatalf records the message instead of ending the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestEachAnswers(t *testing.T) {
	t.Setenv(personalizetest.AnswersEnv, "")
	var seen []sandbox.Answers
	personalizetest.EachAnswers(t, func(t *testing.T, answers sandbox.Answers) {
		seen = append(seen, answers)
		assert.Equal(t, answers, personalizetest.Answers(t))
		t.Run("nested", func(t *testing.T) {
			assert.Equal(t, answers, personalizetest.Answers(t), "a subtest follows its EachAnswers")
		})
		synctest.Test(t, func(t *testing.T) {
			assert.Equal(t, answers, personalizetest.Answers(t), "and a synctest bubble too")
		})

		// NewSandbox answers an unknown flow as the subtest says, and the library copes.
		srv := personalizetest.NewSandbox(t, sandbox.WithFlows(sandbox.Define("f")))
		c := personalizetest.NewClient(t, srv)
		res, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "nope", Identity: personalize.ByEmail("a@b.co")})
		require.Equal(t, sandbox.CodeFlowNotFound, srv.Sandbox.Calls()[0].Code)
		if answers == sandbox.AnswerLenient {
			require.NoError(t, err)
			assert.Empty(t, res.Offers())
			return
		}
		var apiErr *personalize.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 404, apiErr.StatusCode)
	})
	assert.Equal(t, []sandbox.Answers{sandbox.AnswerStrict, sandbox.AnswerLenient}, seen)
	assert.Equal(t, sandbox.AnswerStrict, personalizetest.Answers(t), "outside EachAnswers, the default")
}

func TestAnswersEnv(t *testing.T) {
	t.Setenv(personalizetest.AnswersEnv, "lenient")
	assert.Equal(t, sandbox.AnswerLenient, personalizetest.Answers(t))
	srv := personalizetest.NewSandbox(t)
	c := personalizetest.NewClient(t, srv)
	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "nope", Identity: personalize.ByEmail("a@b.co")})
	assert.NoError(t, err, "an unknown flow answers 200 {}")
	personalizetest.EachAnswers(t, func(t *testing.T, answers sandbox.Answers) {
		assert.Equal(t, answers, personalizetest.Answers(t), "EachAnswers wins over the environment")
	})

	t.Setenv(personalizetest.AnswersEnv, "Strict")
	assert.Equal(t, sandbox.AnswerStrict, personalizetest.Answers(t))
	t.Setenv(personalizetest.AnswersEnv, "lax")
	rec := &fatalRecorder{TB: t}
	personalizetest.Answers(rec)
	assert.Contains(t, rec.msg, `PERSONALIZE_SANDBOX_ANSWERS="lax"`)
}
