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

	// UTM reach a flow's rules in the shape the flow reads, and only in that one:
	// home_page_banner reads params.utm (the library's default), engage_banner params.utm_*.
	for _, tc := range []struct {
		shape   personalize.UTMShape
		flow    string
		reaches bool
	}{
		{personalize.UTMNested, "home_page_banner", true},
		{personalize.UTMFlat, "home_page_banner", false},
		{personalize.UTMFlat, "engage_banner", true},
		{personalize.UTMNested, "engage_banner", false},
	} {
		c := newClient(t, srv, personalize.WithUTMShape(tc.shape))
		res, err := c.CallFlow(ctx, personalize.FlowRequest{
			FriendlyID: tc.flow,
			Identity:   personalize.ByEmail("jane@example.com"),
			UTM:        map[string]string{"campaign": "summer_sale"},
		})
		require.NoError(t, err)
		offers := res.Offers()
		require.NotEmpty(t, offers)
		assert.Equal(t, tc.reaches, offers[0].Name() == "Summer sale: 30% off", "shape %v to %s: %s", tc.shape, tc.flow, offers[0].Name())
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

// The real client works against the sandbox whichever way it answers what the documentation
// leaves open, and a client with a wrong point of sale gets no personalization either way.
func TestRealClientEitherAnswers(t *testing.T) {
	personalizetest.EachAnswers(t, func(t *testing.T, answers sandbox.Answers) {
		srv := personalizetest.NewSandbox(t, sandbox.WithPointsOfSale("myretailsite/ireland"), sandbox.WithFlows(
			sandbox.Define("home_page_banner").
				Returns(map[string]any{"title": "Fly for less"}).
				When(sandbox.HasEvent("IDENTITY"), map[string]any{"title": "Welcome, {{guest.firstname}}"}).
				When(sandbox.UTMIs("campaign", "summer_sale"), map[string]any{"title": "Summer sale"}),
		))
		ctx := context.Background()
		c := newClient(t, srv)
		id, err := c.CreateBrowser(ctx)
		require.NoError(t, err)
		title := func(c *personalize.Client, utm map[string]string) (string, error) {
			res, err := c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "home_page_banner",
				Identity: personalize.ByBrowserID(id), UTM: utm})
			if err != nil || len(res.Offers()) == 0 {
				return "", err
			}
			return res.Offers()[0].Name(), nil
		}
		got, err := title(c, map[string]string{"campaign": "summer_sale"})
		require.NoError(t, err)
		assert.Equal(t, "Summer sale", got)

		// A client on the wrong point of sale: its flows are not personalized, its events
		// are answered but dropped.
		wrong := newClient(t, srv, personalize.WithPointOfSale("myretailsite/irland"))
		got, err = title(wrong, nil)
		assert.Empty(t, got)
		if answers == sandbox.AnswerStrict {
			var apiErr *personalize.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 400, apiErr.StatusCode)
			assert.Equal(t, sandbox.CodeUnknownPointOfSale, apiErr.Code)
		} else {
			assert.NoError(t, err, "200 {}: no offers")
		}
		signIn := personalize.Event{Type: personalize.EventIdentity, BrowserID: id, Page: "/signin",
			Guest: &personalize.Guest{
				Identifiers: []personalize.GuestIdentifier{{ID: "GA-1001", Provider: "GO_AIRWAYS",
					Expiry: time.Date(2027, 12, 31, 23, 59, 0, 0, time.UTC)}},
				FirstName:   "Ada",
				State:       "Leinster",
				DateOfBirth: time.Date(1983, 4, 15, 0, 0, 0, 0, time.UTC),
			}}
		require.NoError(t, wrong.SendEvent(ctx, signIn), "201, as documented")
		assert.Empty(t, srv.Sandbox.Events())
		require.Len(t, srv.Sandbox.DroppedEvents(), 1)
		got, err = title(c, nil)
		require.NoError(t, err)
		assert.Equal(t, "Fly for less", got, "the dropped sign-in is not seen")

		// The right client's sign-in, with the SDKs' dates: kept and seen.
		require.NoError(t, c.SendEvent(ctx, signIn))
		require.Len(t, srv.Sandbox.Events(), 1)
		ev := srv.Sandbox.Events()[0].Body
		assert.Equal(t, "1983-04-15T00:00", ev["dob"])
		got, err = title(c, nil)
		require.NoError(t, err)
		assert.Equal(t, "Welcome, Ada", got)

		// A flow the tenant does not have.
		res, err := c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "nope", Identity: personalize.ByBrowserID(id)})
		if answers == sandbox.AnswerStrict {
			var apiErr *personalize.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 404, apiErr.StatusCode)
		} else {
			require.NoError(t, err)
			assert.Empty(t, res.Offers())
		}
	})
}
