package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallFlowsValidation(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"})))
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		status      int
		code        string
		message     string // in developerMessage
	}{
		{name: "seed browserId example", body: body(t), status: 200},
		{name: "seed email example", body: body(t, "browserId", nil, "email", "jane@example.com"), status: 200},
		{name: "seed identifiers example", body: body(t, "browserId", nil, "identifiers", map[string]any{"id": "123456", "provider": "BXLP"}), status: 200},
		{name: "seed params example", body: body(t, "params", map[string]any{"loggedInState": "loggedIn", "someKey": "someValue"}), status: 200},
		{name: "charset in content type", contentType: "application/json; charset=utf-8", body: body(t), status: 200},
		{name: "unknown fields ignored", body: body(t, "guestRef", "x", "variants", []string{"a"}), status: 200},
		{name: "empty browserId with email", body: body(t, "browserId", "", "email", "jane@example.com"), status: 200},
		{name: "wrong method", method: http.MethodGet, body: "", status: 405, code: CodeMethodNotAllowed},
		{name: "no content type", contentType: "-", body: body(t), status: 415, code: CodeUnsupportedMediaType},
		{name: "text/plain", contentType: "text/plain", body: body(t), status: 415, code: CodeUnsupportedMediaType},
		{name: "too large", body: `{"x":"` + strings.Repeat("a", MaxBodySize) + `"}`, status: 413, code: CodePayloadTooLarge},
		{name: "empty body", body: "", status: 400, code: CodeInvalidJSON},
		{name: "not json", body: "clientKey=x", status: 400, code: CodeInvalidJSON},
		{name: "array", body: "[]", status: 400, code: CodeInvalidJSON},
		{name: "null", body: "null", status: 400, code: CodeInvalidJSON},
		{name: "two objects", body: body(t) + body(t), status: 400, code: CodeInvalidJSON},
		{name: "friendlyId not a string", body: body(t, "friendlyId", 5), status: 400, code: CodeInvalidField, message: "friendlyId"},
		{name: "params not an object", body: body(t, "params", "utm=x"), status: 400, code: CodeInvalidField, message: "params"},
		{name: "identifiers an array", body: body(t, "browserId", nil, "identifiers", []any{map[string]any{"id": "1", "provider": "P"}}), status: 400, code: CodeInvalidField, message: "identifiers"},
		{name: "missing client key", body: body(t, "clientKey", nil), status: 401, code: CodeInvalidClientKey},
		{name: "unknown client key", body: body(t, "clientKey", "nope"), status: 401, code: CodeInvalidClientKey},
		{name: "missing friendlyId", body: body(t, "friendlyId", nil), status: 400, code: CodeMissingField, message: "friendlyId"},
		{name: "blank friendlyId", body: body(t, "friendlyId", "  "), status: 400, code: CodeMissingField, message: "friendlyId"},
		{name: "no identity", body: body(t, "browserId", nil), status: 400, code: CodeInvalidIdentity, message: "got 0"},
		{name: "browserId and email", body: body(t, "email", "jane@example.com"), status: 400, code: CodeInvalidIdentity, message: "got 2"},
		{name: "all three identities", body: body(t, "email", "jane@example.com", "identifiers", map[string]any{"id": "1", "provider": "P"}), status: 400, code: CodeInvalidIdentity, message: "got 3"},
		{name: "identifiers without provider", body: body(t, "browserId", nil, "identifiers", map[string]any{"id": "1"}), status: 400, code: CodeInvalidIdentity},
		{name: "email without @", body: body(t, "browserId", nil, "email", "jane"), status: 400, code: CodeInvalidIdentity},
		{name: "browserId not a UUID", body: body(t, "browserId", "not-a-uuid"), status: 400, code: CodeInvalidBrowserID},
		{name: "browserId too long", body: body(t, "browserId", testBrowserID+"0"), status: 400, code: CodeInvalidBrowserID},
		{name: "unknown flow", body: body(t, "friendlyId", "nope"), status: 404, code: CodeFlowNotFound, message: `"nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			ct := tc.contentType
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			before := srv.Sandbox.CallCount("")
			resp, b := do(t, srv, method, PathCallFlows, ct, tc.body)
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			calls := srv.Sandbox.Calls()
			require.Equal(t, before+1, srv.Sandbox.CallCount(""), "every request is recorded")
			last := calls[len(calls)-1]
			assert.Equal(t, tc.status, last.Status)
			assert.Equal(t, tc.code, last.Code)
			if tc.status == 200 {
				assert.JSONEq(t, `{"title":"Fly for less"}`, string(b))
				return
			}
			e := errorBody(t, b)
			assert.Equal(t, tc.status, e.Status)
			assert.Equal(t, tc.code, e.Code)
			assert.NotEmpty(t, e.Message)
			assert.True(t, strings.HasPrefix(e.DeveloperMessage, "sandbox: "), e.DeveloperMessage)
			assert.Contains(t, e.DeveloperMessage, tc.message)
			assert.Equal(t, moreInfoURL, e.MoreInfoURL)
		})
	}
}

func TestCallFlowsRecordsTheCall(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"})))
	known := createBrowser(t, srv)

	req := body(t, "browserId", known, "params", map[string]any{"utm": map[string]any{"campaign": "summer_sale"}, "n": 1.5})
	resp, _ := callFlows(t, srv, req)
	require.Equal(t, 200, resp.StatusCode)
	resp, _ = callFlows(t, srv, body(t))
	require.Equal(t, 200, resp.StatusCode, "a browser ID the sandbox did not create is accepted")

	calls := srv.Sandbox.Calls()
	require.Len(t, calls, 2)
	c := calls[0]
	assert.JSONEq(t, req, string(c.Body))
	assert.Equal(t, len(req), c.BodySize)
	assert.Equal(t, "home_page_banner", c.FriendlyID)
	assert.Equal(t, known, c.Request.BrowserID)
	assert.Equal(t, "myretailsite/ireland", c.Request.PointOfSale)
	assert.Equal(t, "summer_sale", c.Request.UTM("campaign"))
	assert.Equal(t, json.Number("1.5"), c.Request.Params["n"])
	assert.Equal(t, 1, c.Request.CallCount)
	assert.True(t, c.KnownBrowser)
	assert.Equal(t, "Go-http-client/1.1", c.Header.Get("User-Agent"))
	assert.JSONEq(t, `{"title":"Fly for less"}`, string(c.Response))
	assert.False(t, c.Time.IsZero())
	assert.False(t, calls[1].KnownBrowser)
	assert.Equal(t, 2, srv.Sandbox.CallCount("home_page_banner"))
	assert.Equal(t, 0, srv.Sandbox.CallCount("other"))
}

func TestCallFlowsDefaultResponseIsEmptyObject(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner")))
	resp, b := callFlows(t, srv, body(t))
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, `{}`, string(b))
}

func TestClientKeys(t *testing.T) {
	srv := start(t, WithClientKeys("k1", "k2"), WithFlows(Define("home_page_banner")))
	for key, status := range map[string]int{"k1": 200, "k2": 200, DefaultClientKey: 401} {
		resp, _ := callFlows(t, srv, body(t, "clientKey", key))
		assert.Equal(t, status, resp.StatusCode, key)
	}
	assert.Panics(t, func() { New(WithClientKeys("")) })
}

func TestUnknownPath(t *testing.T) {
	srv := start(t)
	resp, b := do(t, srv, http.MethodGet, "/v2/nope", "", "")
	require.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, CodeNotFound, errorBody(t, b).Code)
}

func TestFlowsAndAddFlowsReplace(t *testing.T) {
	sb := New(WithFlows(Define("b").Returns(1), Define("a").Returns(2)))
	def := Define("a").Returns(3)
	sb.AddFlows(def, nil)
	def.Returns(4) // changes after AddFlows do not reach the sandbox
	assert.Equal(t, []string{"a", "b"}, sb.Flows())
	srv := NewServer(sb)
	defer srv.Close()
	_, b := callFlows(t, srv, body(t, "friendlyId", "a"))
	assert.Equal(t, "3", string(b))
}

func TestBuilderPanicsOnBadInput(t *testing.T) {
	assert.PanicsWithValue(t, `sandbox: flow "x": response is not valid JSON`, func() { Define("x").Returns(json.RawMessage(`{`)) })
	assert.Panics(t, func() { Define("x").Returns(func() {}) })
	assert.Panics(t, func() { Define("x").When(nil, 1) })
	assert.Equal(t, "x", Define("x").FriendlyID())
}
