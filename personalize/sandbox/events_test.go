package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEvents(t *testing.T) {
	srv := start(t)
	id := createBrowser(t, srv)
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		status      int
		code        string
	}{
		{name: "view", body: event(t, id, "utm_campaign", "summer_sale", "referrer", "https://r.example/"), status: 201},
		{name: "identity", body: identityEvent(t, id, "email", "jane@example.com"), status: 201},
		{name: "custom", body: event(t, id, "type", "ADD_TO_TRIP", "ext", map[string]any{"ancillary": "seat"}), status: 201},
		{name: "text/plain like the browser SDK", contentType: "text/plain", body: event(t, id), status: 201},
		{name: "wrong method", method: http.MethodGet, body: "", status: 405, code: CodeMethodNotAllowed},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: "type=VIEW", status: 415, code: CodeUnsupportedMediaType},
		{name: "not json", body: "{", status: 400, code: CodeInvalidJSON},
		{name: "array", body: "[]", status: 400, code: CodeInvalidJSON},
		{name: "too large", body: `{"x":"` + strings.Repeat("a", MaxBodySize) + `"}`, status: 413, code: CodePayloadTooLarge},
		{name: "missing type", body: event(t, id, "type", nil), status: 400, code: CodeMissingField},
		{name: "type not a string", body: event(t, id, "type", 1), status: 400, code: CodeInvalidField},
		{name: "missing browser_id", body: event(t, "", "browser_id", nil), status: 400, code: CodeMissingField},
		{name: "unknown client key", body: event(t, id, "client_key", "nope"), status: 401, code: CodeInvalidClientKey},
		{name: "missing client key", body: event(t, id, "client_key", nil), status: 401, code: CodeInvalidClientKey},
		{name: "unknown browser", body: event(t, testBrowserID), status: 404, code: CodeUnknownBrowser},
		{name: "missing channel", body: event(t, id, "channel", nil), status: 400, code: CodeMissingField},
		{name: "missing pos", body: event(t, id, "pos", ""), status: 400, code: CodeMissingField},
		{name: "missing language", body: event(t, id, "language", nil), status: 400, code: CodeMissingField},
		{name: "missing currency", body: event(t, id, "currency", " "), status: 400, code: CodeMissingField},
		{name: "missing page", body: event(t, id, "page", nil), status: 400, code: CodeMissingField},
		{name: "page not a string", body: event(t, id, "page", 1), status: 400, code: CodeInvalidField},
		{name: "missing fields of an unknown browser", body: event(t, testBrowserID, "page", ""), status: 400, code: CodeMissingField},
		{name: "lower-case type", body: event(t, id, "type", "view"), status: 400, code: CodeInvalidField},
		{name: "mixed-case type", body: event(t, id, "type", "Add_To_Cart"), status: 400, code: CodeInvalidField},
		{name: "type with a space", body: event(t, id, "type", "ADD TO CART"), status: 400, code: CodeInvalidField},
		{name: "type starting with a digit", body: event(t, id, "type", "1X"), status: 400, code: CodeInvalidField},
		{name: "identity without identifiers", body: identityEvent(t, id, "identifiers", nil), status: 400, code: CodeMissingField},
		{name: "identity with no identifier", body: identityEvent(t, id, "identifiers", []any{}), status: 400, code: CodeMissingField},
		{name: "identity identifiers not an array", body: identityEvent(t, id, "identifiers", map[string]any{"id": "1", "provider": "P"}), status: 400, code: CodeInvalidField},
		{name: "identity identifier not an object", body: identityEvent(t, id, "identifiers", []any{"GA-1001"}), status: 400, code: CodeInvalidField},
		{name: "identity identifier without provider", body: identityEvent(t, id, "identifiers", []any{map[string]any{"id": "GA-1001"}}), status: 400, code: CodeInvalidField},
		{name: "identity identifier with empty id", body: identityEvent(t, id, "identifiers", []any{map[string]any{"id": "", "provider": "P"}}), status: 400, code: CodeInvalidField},
		{name: "identity identifier id not a string", body: identityEvent(t, id, "identifiers", []any{map[string]any{"id": 7, "provider": "P"}}), status: 400, code: CodeInvalidField},
		{name: "identity of an unknown browser", body: identityEvent(t, testBrowserID), status: 404, code: CodeUnknownBrowser},
	}
	accepted := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, ct := tc.method, tc.contentType
			if method == "" {
				method = http.MethodPost
			}
			if ct == "" {
				ct = "application/json"
			}
			resp, b := do(t, srv, method, PathEvents, ct, tc.body)
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			if tc.status != 201 {
				e := errorBody(t, b)
				assert.Equal(t, tc.code, e.Code)
				assert.Equal(t, tc.status, e.Status)
				assert.NotEmpty(t, e.DeveloperMessage)
				return
			}
			accepted++
			got := decode[map[string]string](t, b)
			assert.Equal(t, "OK", got["status"])
			events := srv.Sandbox.Events()
			last := events[len(events)-1]
			assert.Equal(t, got["ref"], last.Ref)
			assert.Equal(t, id, last.BrowserID)
			assert.JSONEq(t, tc.body, string(last.Raw))
			assert.Equal(t, last.Type, last.Body["type"])
		})
	}
	events := srv.Sandbox.Events()
	require.Len(t, events, accepted)
	assert.Equal(t, "summer_sale", events[0].Body["utm_campaign"])
	assert.Equal(t, "IDENTITY", events[1].Type)
	assert.Equal(t, "ADD_TO_TRIP", events[2].Type)
}

// In a synctest bubble, with the sandbox in memory, its latencies pass on the fake clock: the
// requests take exactly the latency.
func TestEventsFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := memStart(t, WithFlows(Define("home_page_banner").Returns("flow")))
		id := createBrowser(t, srv)

		srv.Sandbox.SetEventsFault(Fault{Status: 503})
		resp, b := do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id))
		assert.Equal(t, 503, resp.StatusCode)
		assert.Equal(t, CodeFault, errorBody(t, b).Code)
		assert.Empty(t, srv.Sandbox.Events(), "a failed event is not recorded")
		resp, b = callFlows(t, srv, body(t, "browserId", id))
		assert.Equal(t, 200, resp.StatusCode, "flows are spared: %s", b)
		assert.Equal(t, `"flow"`, string(b))
		id2 := createBrowser(t, srv)
		assert.NotEqual(t, id, id2, "and browser creation too")

		srv.Sandbox.SetEventsFault(Fault{Latency: 50 * time.Millisecond})
		start := time.Now()
		resp, _ = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id))
		assert.Equal(t, 201, resp.StatusCode)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "events answer late")
		require.Len(t, srv.Sandbox.Events(), 1)

		srv.Sandbox.SetFault(Fault{Status: 500, Latency: 10 * time.Millisecond})
		start = time.Now()
		resp, _ = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id))
		assert.Equal(t, 500, resp.StatusCode, "the global failure wins")
		assert.Equal(t, 60*time.Millisecond, time.Since(start), "latencies add up")

		srv.Sandbox.SetFault(Fault{})
		srv.Sandbox.SetEventsFault(Fault{})
		start = time.Now()
		resp, _ = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id))
		assert.Equal(t, 201, resp.StatusCode, "cleared")
		assert.Zero(t, time.Since(start), "with no latency left")
		assert.Len(t, srv.Sandbox.Events(), 2)
	})
}

func TestEventNumbersStayNumbers(t *testing.T) {
	srv := start(t)
	id := createBrowser(t, srv)
	resp, _ := do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id, "value", 12.50))
	require.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, json.Number("12.5"), srv.Sandbox.Events()[0].Body["value"])
}
