package personalize_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
)

// The tests in this file pin what the library sends where it must match Sitecore's own SDKs
// (@sitecore/engage 1.4.3, @sitecore-cloudsdk/* 0.6.1); docs/wire-parity.md lists every field.

func TestFlowCallsNeedAPointOfSale(t *testing.T) {
	rec := newRecorder(t, answerJSON(200, `{}`))
	c, err := personalize.New(seedClientKey, personalize.WithBaseURL(rec.srv.URL))
	require.NoError(t, err, "a client for events or browser IDs only needs no point of sale")
	t.Cleanup(func() { _ = c.Close(context.Background()) })

	_, err = c.CallFlow(context.Background(), flowOf("home_page_banner"))
	require.ErrorIs(t, err, personalize.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "WithPointOfSale")
	assert.Zero(t, rec.hits.Load(), "refused before any network traffic, as Engage refuses (MV-0003)")

	req := flowOf("home_page_banner")
	req.PointOfSale = "site/ie"
	_, err = c.CallFlow(context.Background(), req)
	require.NoError(t, err, "a point of sale given to the call is enough")
	assert.Equal(t, "site/ie", lastJSON(t, rec)["pointOfSale"])
}

// shortISODate is what both SDKs' isShortISODateString accepts: YYYY-MM-DDThh:mm.
var shortISODate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$`)

func TestIdentityDatesAsTheSDKsValidateThem(t *testing.T) {
	rec := newRecorder(t, answerJSON(http.StatusCreated, `{"status":"OK","ref":"x"}`))
	c := newClient(t, rec.srv.URL)
	// Midnight in Kiribati is the day before in UTC: a date of birth keeps its day.
	kiribati := time.FixedZone("LINT", 14*3600)
	paris := time.FixedZone("CET", 3600)
	require.NoError(t, c.SendEvent(context.Background(), withBrowser(identityEvent(personalize.Guest{
		Identifiers: []personalize.GuestIdentifier{{ID: "LP-9", Provider: "loyalty", Expiry: time.Date(2027, 12, 31, 23, 59, 59, 0, paris)}},
		DateOfBirth: time.Date(1983, 4, 15, 0, 0, 0, 0, kiribati),
	}))))
	body := lastJSON(t, rec)
	assert.Equal(t, "1983-04-15T00:00", body["dob"])
	expiry := body["identifiers"].([]any)[0].(map[string]any)["expiry_date"]
	assert.Equal(t, "2027-12-31T22:59", expiry, "the moment in UTC, to the minute")
	for _, v := range []any{body["dob"], expiry} {
		assert.Regexp(t, shortISODate, v, "else Engage and the Cloud SDK refuse it (IV-0002, IV-0004)")
	}
}

func TestUTMKeysFollowTheSameRulesInFlowsAndEvents(t *testing.T) {
	utm := map[string]string{"Campaign": "summer_sale", "campaign": "shadowed", "source": "newsletter", "utm-x": "dropped", "a.b": "dropped", "bad key": "dropped"}
	for name, shape := range map[string]personalize.UTMShape{"nested": personalize.UTMNested, "flat": personalize.UTMFlat} {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder(t, answerJSON(200, `{}`))
			c := newClient(t, rec.srv.URL, personalize.WithUTMShape(shape))
			req := flowOf("f")
			req.UTM = utm
			_, err := c.CallFlow(context.Background(), req)
			require.NoError(t, err)
			params := lastJSON(t, rec)["params"].(map[string]any)
			want := map[string]any{"campaign": "summer_sale", "source": "newsletter"}
			if shape == personalize.UTMFlat {
				assert.Equal(t, map[string]any{"utm_campaign": "summer_sale", "utm_source": "newsletter"}, params)
			} else {
				assert.Equal(t, map[string]any{"utm": want}, params)
			}

			require.NoError(t, c.SendEvent(context.Background(), withBrowser(personalize.Event{Type: personalize.EventView, Page: "/", UTM: utm})))
			ev := lastJSON(t, rec)
			assert.Equal(t, "summer_sale", ev["utm_campaign"])
			assert.Equal(t, "newsletter", ev["utm_source"])
			for k := range ev {
				assert.NotRegexp(t, `^utm_.*[-. ]`, k, "the same keys as the flow's")
			}
		})
	}
}

func TestErrorBodiesOfEitherShape(t *testing.T) {
	tests := []struct {
		name, body, want, moreInfo string
	}{
		{"the REST error object, developerMessage in the text",
			`{"status":400,"code":"VALIDATION","message":"friendlyId is unknown","developerMessage":"no live flow with this friendly ID","moreInfoUrl":"https://doc.sitecore.com/a"}`,
			"personalize: api error: http 400 code VALIDATION: friendlyId is unknown (no live flow with this friendly ID)", "https://doc.sitecore.com/a"},
		{"the browser endpoints' {error_msg, moreInfo}",
			`{"error_msg":"Invalid client key","moreInfo":"https://doc.sitecore.com/b"}`,
			"personalize: api error: http 401: Invalid client key", "https://doc.sitecore.com/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := 400
			if tt.moreInfo == "https://doc.sitecore.com/b" {
				status = 401
			}
			rec := newRecorder(t, answerJSON(status, tt.body))
			c := newClient(t, rec.srv.URL)
			_, err := c.CallFlow(context.Background(), flowOf("f"))
			var apiErr *personalize.APIError
			require.True(t, errors.As(err, &apiErr), "%v", err)
			assert.Equal(t, tt.want, err.Error())
			assert.Equal(t, tt.moreInfo, apiErr.MoreInfoURL)
		})
	}
}

func TestEachFlowCallHasACorrelationID(t *testing.T) {
	rec := newRecorder(t, answerJSON(200, `{}`))
	logs := &lockedBuffer{}
	var hooked []personalize.CallInfo
	c := newClient(t, rec.srv.URL,
		personalize.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		personalize.WithHooks(personalize.Hooks{FlowCall: func(_ context.Context, ci personalize.CallInfo) { hooked = append(hooked, ci) }}))
	for range 2 {
		_, err := c.CallFlow(context.Background(), flowOf("f"))
		require.NoError(t, err)
	}
	require.Len(t, hooked, 2)
	rec.mu.Lock()
	reqs := rec.requests
	rec.mu.Unlock()
	require.Len(t, reqs, 2)
	for i, ci := range hooked {
		assert.Regexp(t, `^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$`, ci.CorrelationID, "a UUID v4 without dashes, as the Cloud SDK's")
		assert.Equal(t, ci.CorrelationID, reqs[i].Header.Get("x-sc-correlation-id"), "the header sent is the one reported")
		assert.Contains(t, logs.String(), "correlation_id="+ci.CorrelationID, "and the one logged")
	}
	assert.NotEqual(t, hooked[0].CorrelationID, hooked[1].CorrelationID, "one per call")

	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f"})
	require.Error(t, err)
	assert.Empty(t, hooked[2].CorrelationID, "none when nothing was sent")
}

// lastJSON decodes the last request's JSON body.
func lastJSON(t *testing.T, rec *recorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.lastBody(t), &m))
	return m
}
