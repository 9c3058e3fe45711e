package sandbox

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadFlowsFile(t *testing.T) {
	flows, err := LoadFlowsFile(filepath.Join("testdata", "flows.json"))
	require.NoError(t, err)
	require.Len(t, flows, 4)
	assert.Equal(t, "home_page_banner", flows[0].FriendlyID())
	assert.Len(t, flows[0].rules, 5)
	assert.Equal(t, UTMNested, flows[0].utmShape)
	assert.Equal(t, UTMFlat, flows[2].utmShape)
	assert.Equal(t, Fault{Latency: 100 * time.Millisecond, Status: 503}, flows[3].fault)

	srv := start(t, WithFlows(flows...))
	id := createBrowser(t, srv)
	title := func(b []byte) string {
		t.Helper()
		return decode[map[string]any](t, b)["title"].(string)
	}
	utm := map[string]any{"utm": map[string]any{"campaign": "summer_sale"}}
	fr := map[string]any{"loggedInState": "loggedIn"}

	_, b := callFlows(t, srv, body(t, "browserId", id, "language", "fr", "pointOfSale", "site/fr", "params", fr))
	assert.Equal(t, "Volez moins cher", title(b), "all conditions of the when hold")
	_, b = callFlows(t, srv, body(t, "params", utm))
	assert.Equal(t, "Summer sale: 30% off", title(b))
	_, b = callFlows(t, srv, body(t, "browserId", id))
	assert.Equal(t, "Welcome back", title(b))
	_, b = callFlows(t, srv, body(t, "email", "a@b.c", "browserId", nil, "language", "fr", "pointOfSale", "site/fr"))
	assert.Equal(t, "Fly for less", title(b), "params condition fails")

	resp, b := do(t, srv, http.MethodPost, PathEvents, "application/json", identityEvent(t, id))
	require.Equal(t, 201, resp.StatusCode, "%s", b)
	_, b = callFlows(t, srv, body(t, "browserId", id))
	assert.Equal(t, "Welcome, Ada", title(b), "the guest placeholder is filled from the IDENTITY event")

	other := createBrowser(t, srv)
	resp, b = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, other, "page", "/flights"))
	require.Equal(t, 201, resp.StatusCode, "%s", b)
	_, b = callFlows(t, srv, body(t, "browserId", other))
	assert.Equal(t, "Fly for less", title(b), "another page was viewed")
	resp, b = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, other, "page", "/booking"))
	require.Equal(t, 201, resp.StatusCode, "%s", b)
	_, b = callFlows(t, srv, body(t, "browserId", other))
	assert.Equal(t, "Still thinking about it?", title(b), "viewed /booking")

	_, b = callFlows(t, srv, body(t, "friendlyId", "engage_banner", "params", utm))
	assert.Equal(t, "Fly for less", title(b), "a flat flow does not read params.utm")
	_, b = callFlows(t, srv, body(t, "friendlyId", "engage_banner", "params", map[string]any{"utm_campaign": "summer_sale"}))
	assert.Equal(t, "Summer sale: 30% off", title(b), "but params.utm_campaign")

	resp, b = callFlows(t, srv, body(t, "friendlyId", "slow_flow"))
	assert.Equal(t, 503, resp.StatusCode, "%s", b)
}

func TestLoadFlowsErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{"empty", ``, "the JSON is empty"},
		{"syntax", "{\"flows\": [\n  {\"friendlyId\": \"a\",, }\n]}", "invalid JSON at line 2"},
		{"no flows", `{}`, `no "flows" array`},
		{"flows not an array", `{"flows": {}}`, "flows must be an array"},
		{"unknown top-level field", `{"flows": [], "flow": []}`, `unknown field "flow"`},
		{"unknown flow field", `{"flows": [{"friendlyId": "a", "respons": {}}]}`, `flow 1 ("a"): unknown field "respons"`},
		{"missing friendlyId", `{"flows": [{"response": {}}]}`, "flow 1: friendlyId is missing"},
		{"missing response", `{"flows": [{"friendlyId": "a"}]}`, `flow 1 ("a"): "response" is missing`},
		{"duplicate", `{"flows": [{"friendlyId": "a", "response": 1}, {"friendlyId": "a", "response": 2}]}`, `flow 2 ("a"): friendlyId defined twice`},
		{"unknown rule field", `{"flows": [{"friendlyId": "a", "response": 1, "rules": [{"if": {}, "response": 1}]}]}`, `rule 1: unknown field "if"`},
		{"unknown condition", `{"flows": [{"friendlyId": "a", "response": 1, "rules": [{"when": {"country": "fr"}, "response": 1}]}]}`, `rule 1: unknown field "country"`},
		{"empty when", `{"flows": [{"friendlyId": "a", "response": 1, "rules": [{"when": {}, "response": 1}]}]}`, `rule 1: "when" has no condition`},
		{"rule without when", `{"flows": [{"friendlyId": "a", "response": 1, "rules": [{"response": 1}]}]}`, `rule 1: "when" is missing`},
		{"rule without response", `{"flows": [{"friendlyId": "a", "response": 1, "rules": [{"when": {"returning": true}}]}]}`, `rule 1: "response" is missing`},
		{"utm not strings", `{"flows": [{"friendlyId": "a", "response": 1, "rules": [{"when": {"utm": {"campaign": 1}}, "response": 1}]}]}`, "must be a string"},
		{"bad duration", `{"flows": [{"friendlyId": "a", "response": 1, "fault": {"latency": "100"}}]}`, `fault: "latency" must be a Go duration`},
		{"latency as number", `{"flows": [{"friendlyId": "a", "response": 1, "fault": {"latency": 100}}]}`, "latency must be a string"},
		{"bad status", `{"flows": [{"friendlyId": "a", "response": 1, "fault": {"status": 200}}]}`, `"status" must be between 400 and 599`},
		{"unknown fault", `{"flows": [{"friendlyId": "a", "response": 1, "fault": {"timeout": "1s"}}]}`, `unknown field "timeout"`},
		{"trailing data", `{"flows": []} {}`, "data after the JSON value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flows, err := LoadFlows(strings.NewReader(tc.json))
			require.Error(t, err)
			assert.Nil(t, flows)
			assert.True(t, strings.HasPrefix(err.Error(), "sandbox: flows file: "), err.Error())
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoadFlowsFileMissing(t *testing.T) {
	_, err := LoadFlowsFile(filepath.Join("testdata", "nope.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.json")
}

func TestLoadFlowsReturningFalse(t *testing.T) {
	flows, err := LoadFlows(strings.NewReader(`{"flows": [{"friendlyId": "home_page_banner", "response": "again",
		"rules": [{"when": {"returning": false}, "response": "first"}]}]}`))
	require.NoError(t, err)
	srv := start(t, WithFlows(flows...))
	_, b := callFlows(t, srv, body(t))
	assert.Equal(t, `"first"`, string(b))
	_, b = callFlows(t, srv, body(t))
	assert.Equal(t, `"again"`, string(b))
}
