package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eachAnswers runs f once per Answers (personalizetest.EachAnswers, which these in-package
// tests cannot import).
func eachAnswers(t *testing.T, f func(t *testing.T, answers Answers)) {
	for _, a := range []Answers{AnswerStrict, AnswerLenient} {
		t.Run(a.String(), func(t *testing.T) { f(t, a) })
	}
}

func TestPointsOfSale(t *testing.T) {
	eachAnswers(t, func(t *testing.T, answers Answers) {
		lenient := answers == AnswerLenient
		srv := start(t, WithPointsOfSale("airline.example", "airline.example/ch"), WithUndocumentedAnswers(answers),
			WithFlows(Define("home_page_banner").Returns("ok").When(HasEvent("VIEW"), "viewed")))
		id := createBrowser(t, srv)

		// Documented: an event with a point of sale the tenant does not have is answered 201
		// and does not appear.
		resp, b := do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id, "pos", "other.example"))
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", b)
		ref := decode[map[string]string](t, b)["ref"]
		assert.Empty(t, srv.Sandbox.Events(), "the event is invisible")
		dropped := srv.Sandbox.DroppedEvents()
		require.Len(t, dropped, 1)
		assert.Equal(t, ref, dropped[0].Ref)
		require.NotNil(t, dropped[0].Dropped)
		assert.Equal(t, CodeUnknownPointOfSale, dropped[0].Dropped.Code)
		assert.Contains(t, dropped[0].Dropped.DeveloperMessage, `"other.example"`)
		resp, b = eventCreate(t, srv, DefaultClientKey, event(t, id, "pos", "other.example"))
		require.Equal(t, http.StatusCreated, resp.StatusCode, "the GET form too: %s", b)
		assert.Len(t, srv.Sandbox.DroppedEvents(), 2)
		_, b = callFlows(t, srv, body(t, "browserId", id, "pointOfSale", "airline.example"))
		assert.Equal(t, `"ok"`, string(b), "the flow's rules do not see dropped events")

		// Undocumented: a flow called with an unknown point of sale.
		resp, b = callFlows(t, srv, body(t, "browserId", id, "pointOfSale", "other.example"))
		last := srv.Sandbox.Calls()[len(srv.Sandbox.Calls())-1]
		assert.Equal(t, CodeUnknownPointOfSale, last.Code)
		if lenient {
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, `{}`, string(b), "no personalization")
		} else {
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, CodeUnknownPointOfSale, errorBody(t, b).Code)
		}

		// A name in another case: unknown, unless lenient.
		resp, b = callFlows(t, srv, body(t, "browserId", id, "pointOfSale", "AIRLINE.EXAMPLE"))
		if lenient {
			assert.Equal(t, `"ok"`, string(b))
		} else {
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)
		}
		resp, _ = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id, "pos", "Airline.Example/CH"))
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		assert.Len(t, srv.Sandbox.Events(), map[bool]int{false: 0, true: 1}[lenient])

		// A declared point of sale: kept, and seen.
		resp, _ = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id, "pos", "airline.example/ch"))
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		events := srv.Sandbox.Events()
		require.NotEmpty(t, events)
		assert.Nil(t, events[len(events)-1].Dropped)
		_, b = callFlows(t, srv, body(t, "browserId", id, "pointOfSale", "airline.example"))
		assert.Equal(t, `"viewed"`, string(b))

		srv.Sandbox.Reset()
		assert.Empty(t, srv.Sandbox.DroppedEvents(), "Reset forgets dropped events too")
	})
	assert.Panics(t, func() { WithPointsOfSale() })
	assert.Panics(t, func() { WithPointsOfSale("", " ") })
}

// Without WithPointsOfSale any non-empty point of sale is known, as before.
func TestAnyPointOfSaleByDefault(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns("ok")))
	id := createBrowser(t, srv)
	for _, pos := range []string{"goairways.example", "airline.example", "goairways/nl"} {
		resp, b := callFlows(t, srv, body(t, "pointOfSale", pos))
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", pos, b)
		resp, b = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id, "pos", pos))
		assert.Equal(t, http.StatusCreated, resp.StatusCode, "%s: %s", pos, b)
	}
	assert.Len(t, srv.Sandbox.Events(), 3)
	assert.Empty(t, srv.Sandbox.DroppedEvents())
}

// Every situation the documentation leaves open is refused with AnswerStrict and let pass
// with AnswerLenient: 200 {} for a flow, 201 and dropped for an event; the record says what
// was wrong either way.
func TestUndocumentedAnswers(t *testing.T) {
	flowCases := []struct {
		name   string
		body   func(t *testing.T) string
		status int
		code   string
	}{
		{"unknown client key", func(t *testing.T) string { return body(t, "clientKey", "nope") }, 401, CodeInvalidClientKey},
		{"unknown flow", func(t *testing.T) string { return body(t, "friendlyId", "nope") }, 404, CodeFlowNotFound},
		{"no point of sale", func(t *testing.T) string { return body(t, "pointOfSale", nil) }, 400, CodeMissingField},
		{"bad language", func(t *testing.T) string { return body(t, "language", "en-US") }, 400, CodeInvalidField},
		{"unknown channel", func(t *testing.T) string { return body(t, "channel", "Web") }, 400, CodeInvalidField},
	}
	eventCases := []struct {
		name   string
		body   func(t *testing.T, id string) string
		status int
		code   string
	}{
		{"unknown client key", func(t *testing.T, id string) string { return event(t, id, "client_key", "nope") }, 401, CodeInvalidClientKey},
		{"no channel", func(t *testing.T, id string) string { return event(t, id, "channel", nil) }, 400, CodeMissingField},
		{"no pos", func(t *testing.T, id string) string { return event(t, id, "pos", "") }, 400, CodeMissingField},
		{"page not a string", func(t *testing.T, id string) string { return event(t, id, "page", 1) }, 400, CodeInvalidField},
		{"lower-case type", func(t *testing.T, id string) string { return event(t, id, "type", "view") }, 400, CodeInvalidField},
		{"bad language", func(t *testing.T, id string) string { return event(t, id, "language", "eng") }, 400, CodeInvalidField},
		{"unknown channel", func(t *testing.T, id string) string { return event(t, id, "channel", "APP") }, 400, CodeInvalidField},
		{"identity without identifiers", func(t *testing.T, id string) string { return identityEvent(t, id, "identifiers", nil) }, 400, CodeMissingField},
		{"date-only dob", func(t *testing.T, id string) string { return identityEvent(t, id, "dob", "1990-05-17") }, 400, CodeInvalidDate},
		{"street a string", func(t *testing.T, id string) string { return identityEvent(t, id, "street", "1 Main St") }, 400, CodeInvalidField},
	}
	// What the documentation answers is answered so with either.
	documented := []struct {
		name   string
		body   func(t *testing.T, id string) string
		status int
		code   string
	}{
		{"event without type", func(t *testing.T, id string) string { return event(t, id, "type", nil) }, 400, CodeMissingField},
		{"event type not a string", func(t *testing.T, id string) string { return event(t, id, "type", 1) }, 400, CodeInvalidField},
		{"event without browser_id", func(t *testing.T, id string) string { return event(t, id, "browser_id", "") }, 400, CodeMissingField},
		{"event of an unknown browser", func(t *testing.T, id string) string { return event(t, testBrowserID) }, 404, CodeUnknownBrowser},
		{"event that is not JSON", func(t *testing.T, id string) string { return "{" }, 400, CodeInvalidJSON},
	}

	eachAnswers(t, func(t *testing.T, answers Answers) {
		lenient := answers == AnswerLenient
		srv := start(t, WithUndocumentedAnswers(answers), WithFlows(Define("home_page_banner").Returns("ok")))
		id := createBrowser(t, srv)
		for _, tc := range flowCases {
			t.Run("flow "+tc.name, func(t *testing.T) {
				resp, b := callFlows(t, srv, tc.body(t))
				calls := srv.Sandbox.Calls()
				last := calls[len(calls)-1]
				assert.Equal(t, tc.code, last.Code, "the record says what was wrong")
				assert.Equal(t, resp.StatusCode, last.Status)
				if lenient {
					assert.Equal(t, http.StatusOK, resp.StatusCode)
					assert.Equal(t, `{}`, string(b))
					assert.Zero(t, last.Request.CallCount, "not counted as a call of the identity")
					return
				}
				require.Equal(t, tc.status, resp.StatusCode, "%s", b)
				assert.Equal(t, tc.code, errorBody(t, b).Code)
			})
		}
		for _, tc := range eventCases {
			t.Run("event "+tc.name, func(t *testing.T) {
				kept, dropped := len(srv.Sandbox.Events()), len(srv.Sandbox.DroppedEvents())
				resp, b := do(t, srv, http.MethodPost, PathEvents, "application/json", tc.body(t, id))
				assert.Len(t, srv.Sandbox.Events(), kept, "never kept")
				if lenient {
					require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", b)
					all := srv.Sandbox.DroppedEvents()
					require.Len(t, all, dropped+1)
					require.NotNil(t, all[dropped].Dropped)
					assert.Equal(t, tc.code, all[dropped].Dropped.Code)
					assert.Equal(t, tc.status, all[dropped].Dropped.Status, "the answer AnswerStrict gives")
					return
				}
				require.Equal(t, tc.status, resp.StatusCode, "%s", b)
				assert.Equal(t, tc.code, errorBody(t, b).Code)
				assert.Len(t, srv.Sandbox.DroppedEvents(), dropped)
			})
		}
		for _, tc := range documented {
			t.Run(tc.name, func(t *testing.T) {
				resp, b := do(t, srv, http.MethodPost, PathEvents, "application/json", tc.body(t, id))
				require.Equal(t, tc.status, resp.StatusCode, "%s", b)
				assert.Equal(t, tc.code, errorBody(t, b).Code)
			})
		}
		resp, b := callFlows(t, srv, body(t, "friendlyId", nil))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a body the API cannot run is refused either way: %s", b)
		if !lenient {
			return
		}
		// With AnswerLenient, a documented refusal wins over an undocumented problem.
		resp, b = callFlows(t, srv, body(t, "browserId", "x", "pointOfSale", nil, "clientKey", "nope"))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)
		assert.Equal(t, CodeInvalidBrowserID, errorBody(t, b).Code)
		resp, b = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, testBrowserID, "language", "x"))
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", b)
		resp, b = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, id, "browser_id", "", "client_key", "nope"))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)
		assert.Equal(t, CodeMissingField, errorBody(t, b).Code)
	})
	assert.Panics(t, func() { WithUndocumentedAnswers(7) })
	assert.Equal(t, "strict", AnswerStrict.String())
	assert.Equal(t, "lenient", AnswerLenient.String())
	assert.Equal(t, "Answers(7)", Answers(7).String())
}

// A flow that reads flat UTM parameters (WithUTMShape(UTMFlat)) reads only those, with their
// keys exactly as sent.
func TestFlatUTMFlow(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").WithUTMShape(UTMFlat).Returns("default").
		When(UTMIs("campaign", "summer_sale"), "summer")))
	for params, want := range map[string]string{
		`{"utm_campaign":"summer_sale"}`:          "summer",
		`{"utm":{"campaign":"summer_sale"}}`:      "default",
		`{"utm_Campaign":"summer_sale"}`:          "default",
		`{"UTM_CAMPAIGN":"summer_sale"}`:          "default",
		`{"utm":{"utm_campaign":"summer_sale"}}`:  "default",
		`{"utm_campaign":"SUMMER_SALE","x":true}`: "summer",
	} {
		var p map[string]any
		require.NoError(t, json.Unmarshal([]byte(params), &p))
		_, b := callFlows(t, srv, body(t, "params", p))
		assert.Equal(t, `"`+want+`"`, string(b), params)
	}
	calls := srv.Sandbox.Calls()
	assert.Equal(t, UTMFlat, calls[0].Request.UTMShape, "recorded with the flow's shape")
	assert.Panics(t, func() { Define("x").WithUTMShape(9) })
	assert.Equal(t, "nested", UTMNested.String())
	assert.Equal(t, "flat", UTMFlat.String())
	assert.Equal(t, "UTMShape(9)", UTMShape(9).String())
}

// shortDate accepts exactly what the SDKs' isShortISODateString accepts; the expectations are
// what Node.js answers for each.
func TestShortDateIsTheSDKs(t *testing.T) {
	for s, want := range map[string]bool{
		"2024-01-01T10:00":    true,
		"2024-02-29T10:00":    true,
		"2023-02-29T10:00":    false,
		"2024-02-30T10:00":    false,
		"2024-01-01T24:00":    false,
		"2024-01-01T1:00":     false,
		"2024-01-01":          false,
		"2024-01-01T10:00:00": false,
		"2024-01-01T10:00Z":   false,
		"0000-01-01T00:00":    true,
		"9999-12-31T23:59":    true,
		"+002024-01-01T10:00": false,
		"2024-13-01T10:00":    false,
		"2024-1-01T10:00":     false,
		"2024-01-01 10:00":    false,
		"2024-01-01t10:00":    false,
		"1990-01-01T10:60":    false,
		"1990-00-01T10:00":    false,
		"1990-01-00T10:00":    false,
		"1900-02-29T00:00":    false,
		"2000-02-29T00:00":    true,
		"":                    false,
	} {
		assert.Equal(t, want, shortDate(s), "%q", s)
	}
}

func TestLoadFlowsUTMShape(t *testing.T) {
	_, err := LoadFlows(strings.NewReader(`{"flows":[{"friendlyId":"a","response":1,"utmShape":"Flat"}]}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"utmShape" must be "nested" or "flat"`)
	flows, err := LoadFlows(strings.NewReader(`{"flows":[{"friendlyId":"a","response":1,"utmShape":"nested"},{"friendlyId":"b","response":1,"utmShape":"flat"}]}`))
	require.NoError(t, err)
	assert.Equal(t, UTMNested, flows[0].utmShape)
	assert.Equal(t, UTMFlat, flows[1].utmShape)
}
