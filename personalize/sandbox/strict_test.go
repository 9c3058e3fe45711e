package sandbox

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file send what a client with one bug sends, by raw HTTP, to a sandbox
// configured as existing users configure it, and check that the bug does not pass: the
// request is refused, or its UTM parameters do not reach the flow. They use no API the
// sandbox gained with them, so they compile against the sandbox before it, and fail there.

func TestWrongFlowCallsAreRefused(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns("ok")))
	tests := []struct {
		name string
		body string
		code string
	}{
		{"no pointOfSale", body(t, "pointOfSale", nil), CodeMissingField},
		{"empty pointOfSale", body(t, "pointOfSale", ""), CodeMissingField},
		{"blank pointOfSale", body(t, "pointOfSale", "  "), CodeMissingField},
		{"a locale for the language", body(t, "language", "en-GB"), CodeInvalidField},
		{"a language name", body(t, "language", "english"), CodeInvalidField},
		{"a three-letter language", body(t, "language", "eng"), CodeInvalidField},
		{"a language that is not ISO 639-1", body(t, "language", "xx"), CodeInvalidField},
		{"a lower-case channel", body(t, "channel", "web"), CodeInvalidField},
		{"an unknown channel", body(t, "channel", "DESKTOP"), CodeInvalidField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := callFlows(t, srv, tc.body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)
			assert.Equal(t, tc.code, errorBody(t, b).Code)
		})
	}

	for name, b := range map[string]string{
		"upper-case language, as the SDKs send it": body(t, "language", "EN"),
		"lower-case language, as the examples":     body(t, "language", "fr"),
		"no language (optional)":                   body(t, "language", nil),
		"no channel (defaults to WEB)":             body(t, "channel", nil),
		"another documented channel":               body(t, "channel", "MOBILE_APP"),
	} {
		resp, out := callFlows(t, srv, b)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", name, out)
	}
}

func TestWrongEventsAreRefused(t *testing.T) {
	srv := start(t)
	id := createBrowser(t, srv)
	expiring := func(date any) []any {
		return []any{map[string]any{"id": "GA-1001", "provider": "GO_AIRWAYS", "expiry_date": date}}
	}
	tests := []struct {
		name string
		body string
		code string
	}{
		{"a locale for the language", event(t, id, "language", "en_US"), CodeInvalidField},
		{"a language that is not ISO 639-1", event(t, id, "language", "ZZ"), CodeInvalidField},
		{"a one-letter language", event(t, id, "language", "E"), CodeInvalidField},
		{"a lower-case channel", event(t, id, "channel", "web"), CodeInvalidField},
		{"an unknown channel", event(t, id, "channel", "BROWSER"), CodeInvalidField},
		{"a date-only dob", identityEvent(t, id, "dob", "1990-05-17"), CodeInvalidDate},
		{"a full-timestamp dob", identityEvent(t, id, "dob", "1990-05-17T00:00:00.000Z"), CodeInvalidDate},
		{"a dob with seconds", identityEvent(t, id, "dob", "1990-05-17T00:00:00"), CodeInvalidDate},
		{"a dob that is no day", identityEvent(t, id, "dob", "1990-02-30T00:00"), CodeInvalidDate},
		{"a dob that is a number", identityEvent(t, id, "dob", 19900517), CodeInvalidDate},
		{"an empty dob", identityEvent(t, id, "dob", ""), CodeInvalidDate},
		{"a full-timestamp expiry_date", identityEvent(t, id, "identifiers", expiring("2027-01-02T03:04:05.000Z")), CodeInvalidDate},
		{"a date-only expiry_date", identityEvent(t, id, "identifiers", expiring("2027-01-02")), CodeInvalidDate},
		{"a street that is a string", identityEvent(t, id, "street", "1 Main St"), CodeInvalidField},
		{"a street of numbers", identityEvent(t, id, "street", []any{1}), CodeInvalidField},
		{"a state that is not a string", identityEvent(t, id, "state", 5), CodeInvalidField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, srv, http.MethodPost, PathEvents, "application/json", tc.body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)
			assert.Equal(t, tc.code, errorBody(t, b).Code)
		})
	}
	assert.Empty(t, srv.Sandbox.Events(), "no refused event is recorded")

	for name, b := range map[string]string{
		"upper-case language":  event(t, id, "language", "EN"),
		"lower-case language":  event(t, id, "language", "fr"),
		"a documented channel": event(t, id, "channel", "CALL_CENTER"),
		"the SDKs' dates, street and state": identityEvent(t, id, "dob", "1990-05-17T00:00",
			"identifiers", expiring("2027-01-02T03:04"), "street", []any{"1 Main St"}, "state", "Leinster"),
		"a null dob and expiry_date": identityEvent(t, id, "dob", nil, "identifiers", expiring(nil)),
	} {
		resp, out := do(t, srv, http.MethodPost, PathEvents, "application/json", b)
		assert.Equal(t, http.StatusCreated, resp.StatusCode, "%s: %s", name, out)
	}
}

// A flow reads UTM parameters in one shape (nested params.utm, the library's default), with
// the keys exactly as the SDKs send them.
func TestWrongUTMDoesNotMatch(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns("default").
		When(UTMIs("campaign", "summer_sale"), "summer")))
	tests := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"nested, as the flow reads it", map[string]any{"utm": map[string]any{"campaign": "summer_sale"}}, "summer"},
		{"the value's case does not matter", map[string]any{"utm": map[string]any{"campaign": "Summer_Sale"}}, "summer"},
		{"flat, the other shape", map[string]any{"utm_campaign": "summer_sale"}, "default"},
		{"a key in the wrong case", map[string]any{"utm": map[string]any{"Campaign": "summer_sale"}}, "default"},
		{"an upper-case key", map[string]any{"utm": map[string]any{"CAMPAIGN": "summer_sale"}}, "default"},
		{"utm in the wrong case", map[string]any{"UTM": map[string]any{"campaign": "summer_sale"}}, "default"},
		{"the key with its prefix inside utm", map[string]any{"utm": map[string]any{"utm_campaign": "summer_sale"}}, "default"},
		{"flat in the wrong case", map[string]any{"utm_Campaign": "summer_sale"}, "default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := callFlows(t, srv, body(t, "params", tc.params))
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
			assert.Equal(t, `"`+tc.want+`"`, string(b))
		})
	}
}

// eventCreate sends GET /v1.2/event/create.json with the client key and message given.
func eventCreate(t *testing.T, srv endpoint, clientKey, message string) (*http.Response, []byte) {
	t.Helper()
	q := url.Values{"client_key": {clientKey}, "message": {message}}
	return do(t, srv, http.MethodGet, "/v1.2/event/create.json?"+q.Encode(), "", "")
}

func TestEventCreateGET(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns("default").When(HasEvent("IDENTITY"), "member")))
	id := createBrowser(t, srv)

	resp, b := eventCreate(t, srv, DefaultClientKey, identityEvent(t, id, "client_key", nil))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", b)
	got := decode[map[string]string](t, b)
	assert.Equal(t, "OK", got["status"])
	assert.Equal(t, "1.2", got["version"])
	events := srv.Sandbox.Events()
	require.Len(t, events, 1, "recorded as a POSTed event")
	assert.Equal(t, got["ref"], events[0].Ref)
	assert.Equal(t, "IDENTITY", events[0].Type)
	assert.Equal(t, id, events[0].BrowserID)
	assert.JSONEq(t, identityEvent(t, id, "client_key", nil), string(events[0].Raw))
	_, b = callFlows(t, srv, body(t, "browserId", id))
	assert.Equal(t, `"member"`, string(b), "and seen by the flow's rules")

	tests := []struct {
		name      string
		method    string
		clientKey string
		message   string
		status    int
		code      string
	}{
		{name: "a bad language", message: event(t, id, "language", "english"), status: 400, code: CodeInvalidField},
		{name: "an unknown channel", message: event(t, id, "channel", "web"), status: 400, code: CodeInvalidField},
		{name: "a date-only dob", message: identityEvent(t, id, "dob", "1990-05-17"), status: 400, code: CodeInvalidDate},
		{name: "a full-timestamp expiry_date", message: identityEvent(t, id, "identifiers",
			[]any{map[string]any{"id": "1", "provider": "P", "expiry_date": "2027-01-02T03:04:05Z"}}), status: 400, code: CodeInvalidDate},
		{name: "no type", message: event(t, id, "type", nil), status: 400, code: CodeMissingField},
		{name: "no browser_id", message: event(t, id, "browser_id", nil), status: 400, code: CodeMissingField},
		{name: "no pos", message: event(t, id, "pos", nil), status: 400, code: CodeMissingField},
		{name: "an unknown browser", message: event(t, testBrowserID), status: 404, code: CodeUnknownBrowser},
		{name: "an unknown client key", clientKey: "nope", message: event(t, id), status: 401, code: CodeInvalidClientKey},
		{name: "the client key in the message only", clientKey: "-", message: event(t, id), status: 401, code: CodeInvalidClientKey},
		{name: "no message", message: "-", status: 400, code: CodeInvalidJSON},
		{name: "a message that is not JSON", message: "channel=WEB", status: 400, code: CodeInvalidJSON},
		{name: "a message that is an array", message: "[]", status: 400, code: CodeInvalidJSON},
		{name: "POST", method: http.MethodPost, message: event(t, id), status: 405, code: CodeMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			switch tc.clientKey {
			case "":
				q.Set("client_key", DefaultClientKey)
			case "-":
			default:
				q.Set("client_key", tc.clientKey)
			}
			if tc.message != "-" {
				q.Set("message", tc.message)
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			resp, b := do(t, srv, method, "/v1.2/event/create.json?"+q.Encode(), "", "")
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			assert.Equal(t, tc.code, errorBody(t, b).Code)
		})
	}
	resp, b = do(t, srv, http.MethodGet, "/v1.2/event/create.json?client_key="+DefaultClientKey+"&message=%zz", "", "")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a query that is not URL-encoded: %s", b)
	assert.Equal(t, CodeInvalidField, errorBody(t, b).Code)
	assert.Len(t, srv.Sandbox.Events(), 1, "no refused event is recorded")
}
