package personalizetest_test

import (
	"context"
	"testing"

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
	assert.Equal(t, personalizetest.PointOfSale, calls[0].Request.PointOfSale)
	assert.Equal(t, sandbox.DefaultClientKey, calls[0].Request.ClientKey)
	events := srv.Sandbox.Events()
	require.Len(t, events, 1, "the event was delivered before the sandbox closed")
	assert.Equal(t, "ADD_TO_CART", events[0].Type)
	_, err := srv.Client().Get(srv.URL + "/v2/callFlows")
	assert.Error(t, err, "the sandbox is closed")
}

func TestNewClientOptionsComeLast(t *testing.T) {
	srv := personalizetest.NewSandbox(t, sandbox.WithFlows(sandbox.Define("f")))
	c := personalizetest.NewClient(t, srv, personalize.WithPointOfSale("mine"))
	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByEmail("a@b.co")})
	require.NoError(t, err)
	assert.Equal(t, "mine", srv.Sandbox.Calls()[0].Request.PointOfSale)
}
