package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newClient points the real client at the server, as production configures it.
func newClient(t *testing.T, srv *sandbox.Server, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	opts = append([]personalize.Option{
		personalize.WithBaseURL(srv.URL),
		personalize.WithPointOfSale("myretailsite/ireland"),
		personalize.WithBreaker(personalize.BreakerSettings{Disabled: true}),
	}, opts...)
	c, err := personalize.New(sandbox.DefaultClientKey, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestRealClient(t *testing.T) {
	flows, err := sandbox.LoadFlowsFile("testdata/flows.json")
	require.NoError(t, err)
	srv := personalizetest.NewSandbox(t, sandbox.WithFlows(flows...))
	c := newClient(t, srv)
	ctx := context.Background()

	id, err := c.CreateBrowser(ctx)
	require.NoError(t, err)
	assert.True(t, srv.Sandbox.KnowsBrowser(id))
	assert.Equal(t, []string{id}, srv.Sandbox.Browsers())

	res, err := c.CallFlow(ctx, personalize.FlowRequest{
		FriendlyID: "ancillary_offers",
		Identity:   personalize.ByBrowserID(id),
		UserAgent:  "Mozilla/5.0 test",
	})
	require.NoError(t, err)
	offers := res.Offers()
	require.Len(t, offers, 4)
	names := make([]string, len(offers))
	for i, o := range offers {
		names[i] = o.Name()
		assert.True(t, strings.HasPrefix(o.TrackingURL(), srv.URL+"/v3/trackers/"), o.TrackingURL())
	}
	assert.Equal(t, []string{"Ancillary bundle", "Ancillary seat", "Ancillary bag", "Ancillary insurance"}, names)
	assert.Equal(t, "false", offers[2].Text("nonDependent"))

	calls := srv.Sandbox.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "myretailsite/ireland", calls[0].Request.PointOfSale)
	assert.Equal(t, "WEB", calls[0].Request.Channel)
	assert.Equal(t, id, calls[0].Request.BrowserID)
	assert.True(t, calls[0].KnownBrowser)
	assert.Contains(t, calls[0].Header.Get("User-Agent"), "Mozilla/5.0 test")

	// UTM in both shapes reach the rules.
	for _, shape := range []personalize.UTMShape{personalize.UTMNested, personalize.UTMFlat} {
		c := newClient(t, srv, personalize.WithUTMShape(shape))
		res, err := c.CallFlow(ctx, personalize.FlowRequest{
			FriendlyID: "home_page_banner",
			Identity:   personalize.ByEmail("jane@example.com"),
			UTM:        map[string]string{"campaign": "summer_sale"},
		})
		require.NoError(t, err)
		offers := res.Offers()
		require.NotEmpty(t, offers)
		assert.Equal(t, "Summer sale: 30% off", offers[0].Name(), "shape %v", shape)
	}
}

func TestRealClientFaults(t *testing.T) {
	srv := personalizetest.NewSandbox(t, sandbox.WithFlows(sandbox.Define("f").Returns(map[string]any{"title": "x"})))
	tests := []struct {
		name  string
		fault sandbox.Fault
		want  error
	}{
		{"429", sandbox.Fault{Status: 429}, &personalize.APIError{}},
		{"503", sandbox.Fault{Status: 503}, &personalize.APIError{}},
		{"error object", sandbox.Fault{ErrorObject: true}, &personalize.APIError{}},
		{"malformed", sandbox.Fault{Malformed: true}, personalize.ErrMalformedResponse},
		{"empty", sandbox.Fault{Empty: true}, personalize.ErrMalformedResponse},
		{"oversized", sandbox.Fault{Oversized: 2 << 20}, personalize.ErrResponseTooLarge},
		{"hang", sandbox.Fault{Hang: true}, personalize.ErrTimeout},
		{"reset", sandbox.Fault{Reset: true}, personalize.ErrUnavailable},
	}
	c := newClient(t, srv, personalize.WithTimeout(200*time.Millisecond))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Sandbox.SetFlowFault("f", tc.fault)
			res, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByEmail("a@b.c")})
			require.Error(t, err)
			assert.Nil(t, res)
			if apiErr, ok := tc.want.(*personalize.APIError); ok {
				assert.ErrorAs(t, err, &apiErr)
			} else {
				assert.True(t, errors.Is(err, tc.want), "%v", err)
			}
		})
	}
}
