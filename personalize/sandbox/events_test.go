package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEvents(t *testing.T) {
	srv := Start(t)
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
		{name: "identity", body: event(t, id, "type", "IDENTITY", "email", "jane@example.com"), status: 201},
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
}

func TestEventNumbersStayNumbers(t *testing.T) {
	srv := Start(t)
	id := createBrowser(t, srv)
	resp, _ := do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id, "value", 12.50))
	require.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, json.Number("12.5"), srv.Sandbox.Events()[0].Body["value"])
}
