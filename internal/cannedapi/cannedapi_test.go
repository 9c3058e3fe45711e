package cannedapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/cannedapi"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

const browserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

func newClient(t *testing.T, hc *http.Client, base string) *personalize.Client {
	t.Helper()
	c, err := personalize.New("k", personalize.WithBaseURL(base), personalize.WithHTTPClient(hc), personalize.WithPointOfSale("p"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// The library's client gets each flow's own answer, creates browsers and sends events,
// in memory and over loopback alike.
func TestTheClientIsAnswered(t *testing.T) {
	api := cannedapi.New(cannedapi.Options{Flows: map[string][]byte{
		"banner": []byte(`{"title":"Fly"}`),
		"offers": []byte(`[{"name":"a"},{"name":"b"}]`),
	}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	for name, c := range map[string]*personalize.Client{
		"memory":   newClient(t, api.Client(), "http://api.invalid"),
		"loopback": newClient(t, srv.Client(), srv.URL),
	} {
		t.Run(name, func(t *testing.T) {
			before := api.Stats()
			ctx := context.Background()
			res, err := c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "banner", Identity: personalize.ByBrowserID(browserID)})
			require.NoError(t, err)
			assert.Len(t, res.Offers(), 1)
			res, err = c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "offers", Identity: personalize.ByBrowserID(browserID)})
			require.NoError(t, err)
			assert.Len(t, res.Offers(), 2)
			_, err = c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "unknown", Identity: personalize.ByBrowserID(browserID)})
			assert.Error(t, err, "a flow with no answer is refused")

			id, err := c.CreateBrowser(ctx)
			require.NoError(t, err)
			assert.Len(t, id, 36)
			require.NoError(t, c.SendEvent(ctx, personalize.Event{Type: personalize.EventView, BrowserID: id, Page: "/"}))
			require.NoError(t, c.SendEvent(ctx, personalize.Event{Type: "ADD_TO_TRIP", BrowserID: id, Page: "/booking"}))

			after := api.Stats()
			assert.Equal(t, cannedapi.Stats{Calls: 3, Events: 2, Views: 1, Browsers: 1},
				cannedapi.Stats{Calls: after.Calls - before.Calls, Events: after.Events - before.Events,
					Views: after.Views - before.Views, Browsers: after.Browsers - before.Browsers})
		})
	}
}

func TestDefaultAnswersEveryFlow(t *testing.T) {
	api := cannedapi.New(cannedapi.Options{Default: []byte(`{"any":true}`)})
	resp, err := api.RoundTrip(httptest.NewRequest(http.MethodPost, "http://x"+cannedapi.PathCallFlows,
		strings.NewReader(`{"friendlyId":"whatever"}`)))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `{"any":true}`, string(b))
}

func TestRefusals(t *testing.T) {
	api := cannedapi.New(cannedapi.Options{Default: []byte(`{}`)})
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"not JSON", http.MethodPost, cannedapi.PathCallFlows, `friendlyId=x`, http.StatusBadRequest},
		{"no friendly ID", http.MethodPost, cannedapi.PathCallFlows, `{"clientKey":"k"}`, http.StatusBadRequest},
		{"GET callFlows", http.MethodGet, cannedapi.PathCallFlows, ``, http.StatusMethodNotAllowed},
		{"GET events", http.MethodGet, cannedapi.PathEvents, ``, http.StatusMethodNotAllowed},
		{"unknown path", http.MethodGet, "/v9/nothing", ``, http.StatusNotFound},
		{"too large", http.MethodPost, cannedapi.PathCallFlows, `{"friendlyId":"` + strings.Repeat("x", cannedapi.MaxBodySize) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, via := range []string{"RoundTrip", "ServeHTTP"} {
				req := httptest.NewRequest(tc.method, "http://x"+tc.path, strings.NewReader(tc.body))
				var status int
				var body []byte
				if via == "RoundTrip" {
					resp, err := api.RoundTrip(req)
					require.NoError(t, err)
					status = resp.StatusCode
					body, _ = io.ReadAll(resp.Body)
				} else {
					rec := httptest.NewRecorder()
					api.ServeHTTP(rec, req)
					status, body = rec.Code, rec.Body.Bytes()
				}
				assert.Equal(t, tc.status, status, via)
				assert.Contains(t, string(body), `"code"`, "%s: Sitecore's error object", via)
			}
		})
	}
	assert.Zero(t, api.Stats().Events)
}

// Hold keeps calls in flight until it is closed, and a caller that leaves gets its
// context's error.
func TestHold(t *testing.T) {
	hold := make(chan struct{})
	api := cannedapi.New(cannedapi.Options{Default: []byte(`{}`), Hold: hold})
	done := make(chan error, 2)
	for range 2 {
		go func() {
			resp, err := api.RoundTrip(httptest.NewRequest(http.MethodPost, "http://x"+cannedapi.PathCallFlows, strings.NewReader(`{"friendlyId":"f"}`)))
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
	}
	require.Eventually(t, func() bool { return api.Stats().InFlight == 2 }, 10*time.Second, time.Millisecond)
	assert.Zero(t, api.Stats().Calls, "held calls are not answered yet")

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := api.RoundTrip(httptest.NewRequestWithContext(ctx, http.MethodPost, "http://x"+cannedapi.PathCallFlows, strings.NewReader(`{"friendlyId":"f"}`)))
		done <- err
	}()
	require.Eventually(t, func() bool { return api.Stats().InFlight == 3 }, 10*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	close(hold)
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	assert.Equal(t, cannedapi.Stats{Calls: 2}, api.Stats())
}

func TestLatencyEndsWithTheContext(t *testing.T) {
	api := cannedapi.New(cannedapi.Options{Default: []byte(`{}`), Latency: time.Hour, EventsLatency: time.Hour})
	for _, path := range []string{cannedapi.PathCallFlows, cannedapi.PathEvents} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := api.RoundTrip(httptest.NewRequestWithContext(ctx, http.MethodPost, "http://x"+path, strings.NewReader(`{"friendlyId":"f"}`)))
		assert.ErrorIs(t, err, context.Canceled, path)
	}
}

// Record keeps what a sandbox answers, so the canned API answers the same.
func TestRecordASandbox(t *testing.T) {
	sb := sandbox.New(sandbox.WithFlows(
		sandbox.Define("banner").Returns(map[string]any{"title": "Fly", "trackingUrl": sandbox.TrackerPlaceholder}),
		sandbox.Define("offers").Returns([]any{map[string]any{"name": "a"}}),
	))
	visitor := map[string]any{"clientKey": sandbox.DefaultClientKey, "channel": "WEB", "pointOfSale": "p", "browserId": browserID}
	answers, err := cannedapi.Record(sb, visitor, "banner", "offers")
	require.NoError(t, err)
	assert.Contains(t, string(answers["banner"]), `"title":"Fly"`)
	assert.Contains(t, string(answers["banner"]), sandbox.PathTrackers, "the tracking link is minted")
	assert.JSONEq(t, `[{"name":"a"}]`, string(answers["offers"]))

	_, err = cannedapi.Record(sb, visitor, "missing")
	assert.ErrorContains(t, err, `"missing": status 404`)
}
