package sandbox

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRules(t *testing.T) {
	nested := &Request{Params: map[string]any{"utm": map[string]any{"campaign": "Summer_Sale", "Source": "newsletter"}}}
	flat := &Request{UTMShape: UTMFlat, Params: map[string]any{"utm_campaign": "summer_sale", "UTM_SOURCE": "newsletter"}}
	nestedToFlat := &Request{UTMShape: UTMFlat, Params: nested.Params}
	flatToNested := &Request{Params: flat.Params}
	odd := &Request{Params: map[string]any{"utm": "campaign=summer_sale", "utm_campaign": map[string]any{"x": 1}, "k": []any{"v"}}}
	numeric := &Request{Params: map[string]any{"utm": map[string]any{"content": json.Number("42")}, "n": json.Number("7"), "b": true}}
	fr := &Request{Language: "FR", PointOfSale: "Site/FR", Params: map[string]any{"loggedInState": "loggedIn"}}
	returning := &Request{CallCount: 3}
	identified := &Request{Events: []EventRecord{{Type: "VIEW", Body: map[string]any{"page": "/booking"}}, {Type: "IDENTITY"}}}

	tests := []struct {
		name string
		rule Rule
		req  *Request
		want bool
	}{
		{"utm nested", UTMIs("campaign", "summer_sale"), nested, true},
		{"utm nested value case", UTMIs("campaign", "SUMMER_SALE"), nested, true},
		{"utm nested key case is exact", UTMIs("source", "newsletter"), nested, false},
		{"utm nested rule key case is exact", UTMIs("SOURCE", "newsletter"), nested, false},
		{"utm prefixed key", UTMIs("utm_campaign", "summer_sale"), nested, true},
		{"utm flat", UTMIs("campaign", "SUMMER_SALE"), flat, true},
		{"utm flat prefixed key", UTMIs("utm_campaign", "summer_sale"), flat, true},
		{"utm flat key case is exact", UTMIs("source", "newsletter"), flat, false},
		{"utm nested params to a flat flow", UTMIs("campaign", "summer_sale"), nestedToFlat, false},
		{"utm flat params to a nested flow", UTMIs("campaign", "summer_sale"), flatToNested, false},
		{"utm other value", UTMIs("campaign", "winter"), nested, false},
		{"utm absent", UTMIs("medium", "email"), nested, false},
		{"utm not a map", UTMIs("campaign", "summer_sale"), odd, false},
		{"utm number", UTMIs("content", "42"), numeric, true},
		{"utm empty value never matches", UTMIs("medium", ""), nested, false},
		{"utm nil request", UTMIs("campaign", "x"), nil, false},
		{"utm no params", UTMIs("campaign", "x"), &Request{}, false},
		{"language case", LanguageIs("fr"), fr, true},
		{"language other", LanguageIs("en"), fr, false},
		{"language empty", LanguageIs(""), &Request{}, false},
		{"pos", PointOfSaleIs("site/fr"), fr, true},
		{"pos other", PointOfSaleIs("site/de"), fr, false},
		{"param", ParamIs("loggedInState", "loggedIn"), fr, true},
		{"param case matters", ParamIs("loggedInState", "loggedin"), fr, false},
		{"param number", ParamIs("n", "7"), numeric, true},
		{"param bool", ParamIs("b", "true"), numeric, true},
		{"param array", ParamIs("k", ""), odd, false},
		{"param absent", ParamIs("nope", ""), fr, false},
		{"param nil request", ParamIs("k", "v"), nil, false},
		{"returning", Returning(), returning, true},
		{"first call", Returning(), &Request{CallCount: 1}, false},
		{"call count at least", CallCountAtLeast(3), returning, true},
		{"call count below", CallCountAtLeast(4), returning, false},
		{"has event", HasEvent("identity"), identified, true},
		{"has no event", HasEvent("ORDER_CHECKOUT"), identified, false},
		{"has event nil", HasEvent("VIEW"), nil, false},
		{"viewed", Viewed("/booking"), identified, true},
		{"viewed another page", Viewed("/"), identified, false},
		{"viewed is exact", Viewed("/BOOKING"), identified, false},
		{"viewed needs a VIEW", Viewed("/booking"), &Request{Events: []EventRecord{{Type: "CLICK", Body: map[string]any{"page": "/booking"}}}}, false},
		{"viewed nil", Viewed("/booking"), nil, false},
		{"all", All(LanguageIs("fr"), PointOfSaleIs("site/fr")), fr, true},
		{"all one fails", All(LanguageIs("fr"), PointOfSaleIs("x")), fr, false},
		{"all empty", All(), fr, true},
		{"all nil rule skipped", All(nil, LanguageIs("fr")), fr, true},
		{"any", Any(LanguageIs("en"), PointOfSaleIs("site/fr")), fr, true},
		{"any none", Any(LanguageIs("en"), PointOfSaleIs("x")), fr, false},
		{"any empty", Any(), fr, false},
		{"not", Not(Returning()), &Request{CallCount: 1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.rule(tc.req))
		})
	}
}

// TestRulesOverHTTP checks that rules see what the sandbox knows: UTM in the flow's shape,
// call counts per identity and flow, and the browser's events.
func TestRulesOverHTTP(t *testing.T) {
	srv := start(t, WithFlows(
		Define("home_page_banner").
			Returns("default").
			When(UTMIs("campaign", "summer_sale"), "summer").
			When(HasEvent("IDENTITY"), "member").
			When(Returning(), "welcome back"),
		Define("other").Returns("other"),
		Define("flat").WithUTMShape(UTMFlat).Returns("flat").When(UTMIs("campaign", "summer_sale"), "summer"),
	))
	utmNested := map[string]any{"utm": map[string]any{"campaign": "summer_sale"}}
	utmFlat := map[string]any{"utm_campaign": "summer_sale"}
	id := createBrowser(t, srv)
	email := "jane@example.com"

	steps := []struct {
		name string
		body string
		want string
	}{
		{"first call", body(t, "browserId", id), "default"},
		{"other flow does not count", body(t, "browserId", id, "friendlyId", "other"), "other"},
		{"second call", body(t, "browserId", id), "welcome back"},
		{"utm nested wins", body(t, "browserId", id, "params", utmNested), "summer"},
		{"utm flat does not reach a nested flow", body(t, "browserId", id, "params", utmFlat), "welcome back"},
		{"utm flat reaches a flat flow", body(t, "browserId", id, "friendlyId", "flat", "params", utmFlat), "summer"},
		{"utm nested does not reach a flat flow", body(t, "browserId", id, "friendlyId", "flat", "params", utmNested), "flat"},
		{"email is another identity", body(t, "browserId", nil, "email", email), "default"},
		{"email returns", body(t, "browserId", nil, "email", "JANE@example.com"), "welcome back"},
	}
	for _, st := range steps {
		resp, b := callFlows(t, srv, st.body)
		require.Equal(t, 200, resp.StatusCode, "%s: %s", st.name, b)
		assert.Equal(t, `"`+st.want+`"`, string(b), st.name)
	}

	resp, b := do(t, srv, "POST", PathEvents, "application/json", identityEvent(t, id))
	require.Equal(t, 201, resp.StatusCode, "%s", b)
	_, b = callFlows(t, srv, body(t, "browserId", id))
	assert.Equal(t, `"member"`, string(b))
	calls := srv.Sandbox.Calls()
	last := calls[len(calls)-1]
	require.Len(t, last.Request.Events, 1)
	assert.Equal(t, "IDENTITY", last.Request.Events[0].Type)
	assert.Equal(t, 5, last.Request.CallCount)

	srv.Sandbox.Reset()
	_, b = callFlows(t, srv, body(t, "browserId", id))
	assert.Equal(t, `"default"`, string(b), "Reset forgets call counts and events")
}

func TestRulePanicIsAnError(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").When(func(*Request) bool { panic("boom") }, 1)))
	resp, b := callFlows(t, srv, body(t))
	require.Equal(t, 500, resp.StatusCode)
	e := errorBody(t, b)
	assert.Equal(t, CodeRulePanic, e.Code)
	assert.Contains(t, e.DeveloperMessage, "boom")
}
