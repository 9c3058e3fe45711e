package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edgeQ is the query the Cloud SDK sends to the Edge's personalize and events endpoints.
func edgeQ(contextID, site string) string {
	return "?sitecoreContextId=" + url.QueryEscape(contextID) + "&siteId=" + url.QueryEscape(site)
}

// defaultQ is edgeQ for the default site.
var defaultQ = edgeQ(DefaultContextID, DefaultSiteName)

// createQ and showQ are the queries of the Edge's create.json and show.json, as the Cloud SDK
// sends them.
var (
	createQ = "?sitecoreContextId=" + DefaultContextID + "&client_key="
	showQ   = "?sitecoreContextId=" + DefaultContextID + "&client_key=&api_token="
)

func showPath(browserID string) string {
	return PathEdgeBrowser + browserID + edgeShowSuffix
}

// edgeBody builds a /v1/personalize body as the Cloud SDK sends it (personalizer.ts
// mapPersonalizeInputToEPData), with fields changed by kv pairs (a nil value removes one).
func edgeBody(t *testing.T, kv ...any) string {
	t.Helper()
	base := []any{"clientKey", "", "pointOfSale", "", "guestRef", "", "language", "EN"}
	return body(t, append(base, kv...)...)
}

// edgeEvent builds an Edge events body for browser id, client_key and pos "" (base-event.ts).
func edgeEvent(t *testing.T, id string, kv ...any) string {
	t.Helper()
	return event(t, id, append([]any{"client_key", "", "pos", ""}, kv...)...)
}

// edgeErrorBody decodes an error object of the Edge's browser endpoints, refusing any other
// field.
func edgeErrorBody(t *testing.T, b []byte) EdgeErrorBody {
	t.Helper()
	var e EdgeErrorBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&e), "Edge error object: %s", b)
	assert.Equal(t, "ERROR", e.Status)
	assert.Equal(t, "1.2", e.Version)
	assert.True(t, strings.HasPrefix(e.ErrorMsg, "sandbox: "), e.ErrorMsg)
	assert.Equal(t, moreInfoURL, e.MoreInfo)
	return e
}

// edgeCreate creates a browser through the Edge and returns its ID and guest reference.
func edgeCreate(t *testing.T, srv endpoint) (id, guestRef string) {
	t.Helper()
	resp, b := do(t, srv, http.MethodGet, PathEdgeBrowserCreate+createQ, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	got := decode[map[string]string](t, b)
	return got["ref"], got["customer_ref"]
}

// edgeShow looks a browser's guest reference up through the Edge.
func edgeShow(t *testing.T, srv endpoint, id string) string {
	t.Helper()
	resp, b := do(t, srv, http.MethodGet, showPath(id)+showQ, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	var shown struct {
		Customer struct {
			Ref string `json:"ref"`
		} `json:"customer"`
	}
	require.NoError(t, json.Unmarshal(b, &shown))
	return shown.Customer.Ref
}

func TestEdgeBrowserCreate(t *testing.T) {
	tests := []struct {
		name    string
		answers Answers
		method  string
		query   string
		status  int
		code    string
	}{
		{name: "as the Cloud SDK asks", query: createQ, status: 200},
		{name: "lenient without client_key", answers: AnswerLenient, query: "?sitecoreContextId=" + DefaultContextID, status: 200},
		{name: "lenient with a client key", answers: AnswerLenient, query: createQ + "k", status: 200},
		{name: "no client_key", query: "?sitecoreContextId=" + DefaultContextID, status: 400, code: CodeMissingField},
		{name: "a client key", query: createQ + DefaultClientKey, status: 400, code: CodeInvalidField},
		{name: "no context", query: "?client_key=", status: 400, code: CodeMissingField},
		{name: "blank context", query: "?sitecoreContextId=%20&client_key=", status: 400, code: CodeMissingField},
		{name: "unknown context", query: "?sitecoreContextId=nope&client_key=", status: 401, code: CodeInvalidContextID},
		{name: "a client key is no context", query: "?sitecoreContextId=" + DefaultClientKey + "&client_key=", status: 401, code: CodeInvalidContextID},
		{name: "lenient unknown context", answers: AnswerLenient, query: "?sitecoreContextId=nope", status: 401, code: CodeInvalidContextID},
		{name: "not URL-encoded", query: "?sitecoreContextId=%zz&client_key=", status: 400, code: CodeInvalidField},
		{name: "post", method: http.MethodPost, query: createQ, status: 405, code: CodeMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, WithUndocumentedAnswers(tc.answers))
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			resp, b := do(t, srv, method, PathEdgeBrowserCreate+tc.query, "", "")
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			if tc.status != 200 {
				assert.Equal(t, tc.code, edgeErrorBody(t, b).Code)
				assert.Empty(t, srv.Sandbox.Browsers())
				return
			}
			var got map[string]any
			require.NoError(t, json.Unmarshal(b, &got))
			assert.Equal(t, []string{"client_key", "customer_ref", "ref", "status", "version"}, slices.Sorted(maps.Keys(got)),
				"the fields of EPResponse (core interfaces.ts)")
			assert.Equal(t, "OK", got["status"])
			assert.Equal(t, "1.2", got["version"])
			assert.Equal(t, "", got["client_key"])
			ref, err := uuid.Parse(got["ref"].(string))
			require.NoError(t, err)
			assert.Equal(t, uuid.Version(4), ref.Version())
			guest, err := uuid.Parse(got["customer_ref"].(string))
			require.NoError(t, err)
			assert.Equal(t, uuid.Version(4), guest.Version())
			assert.NotEqual(t, ref, guest)
			assert.Equal(t, []string{ref.String()}, srv.Sandbox.Browsers(), "listed as a direct create lists it")
			assert.True(t, srv.Sandbox.KnowsBrowser(ref.String()))
			assert.Equal(t, guest.String(), srv.Sandbox.GuestRef(ref.String()))
		})
	}
}

// TestEdgeGuestRefs: a browser's guest reference is the same through every endpoint and stays
// the same: create.json's customer_ref (direct or Edge), then show.json; a browser the sandbox
// was told of gets one on its first show.json.
func TestEdgeGuestRefs(t *testing.T) {
	srv := start(t)

	edgeID, edgeGuest := edgeCreate(t, srv)
	assert.Equal(t, edgeGuest, edgeShow(t, srv, edgeID), "create.json then show.json: one guest")
	assert.Equal(t, edgeGuest, edgeShow(t, srv, strings.ToUpper(edgeID)), "browser IDs are UUIDs: case does not matter")

	resp, b := do(t, srv, http.MethodGet, PathBrowserCreate+"?client_key="+DefaultClientKey, "", "")
	require.Equal(t, 200, resp.StatusCode, "%s", b)
	direct := decode[map[string]string](t, b)
	assert.Equal(t, direct["customer_ref"], edgeShow(t, srv, direct["ref"]), "a browser created directly has the guest its create.json named")

	srv.Sandbox.AddBrowser(testBrowserID)
	assert.Empty(t, srv.Sandbox.GuestRef(testBrowserID), "no guest until one is looked up")
	first := edgeShow(t, srv, testBrowserID)
	_, err := uuid.Parse(first)
	require.NoError(t, err)
	assert.Equal(t, first, edgeShow(t, srv, testBrowserID), "stable")
	assert.Equal(t, first, srv.Sandbox.GuestRef(testBrowserID))
	assert.NotEqual(t, edgeGuest, first)

	srv.Sandbox.Reset()
	assert.Equal(t, edgeGuest, edgeShow(t, srv, edgeID), "guest references survive Reset, as known browsers do")
	assert.Empty(t, srv.Sandbox.GuestRef("00000000-0000-4000-8000-000000000000"))
}

func TestEdgeShow(t *testing.T) {
	const unknown = "00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name    string
		answers Answers
		method  string
		path    string // "" for the known browser's show.json
		query   string
		status  int
		code    string // for a 404 NOT_FOUND, a Sitecore error object; else an Edge one
	}{
		{name: "as the Cloud SDK asks", query: showQ, status: 200},
		{name: "lenient without client_key and api_token", answers: AnswerLenient, query: "?sitecoreContextId=" + DefaultContextID, status: 200},
		{name: "no api_token", query: "?sitecoreContextId=" + DefaultContextID + "&client_key=", status: 400, code: CodeMissingField},
		{name: "an api_token", query: showQ + "tok", status: 400, code: CodeInvalidField},
		{name: "no context", query: "?client_key=&api_token=", status: 400, code: CodeMissingField},
		{name: "unknown context", query: "?sitecoreContextId=nope&client_key=&api_token=", status: 401, code: CodeInvalidContextID},
		{name: "unknown browser", path: showPath(unknown), query: showQ, status: 404, code: CodeUnknownBrowser},
		{name: "not a UUID", path: showPath("x"), query: showQ, status: 404, code: CodeUnknownBrowser},
		{name: "post", method: http.MethodPost, query: showQ, status: 405, code: CodeMethodNotAllowed},
		{name: "no browser ID", path: PathEdgeBrowser + "show.json", query: showQ, status: 404, code: CodeNotFound},
		{name: "another file", path: PathEdgeBrowser + testBrowserID + "/other.json", query: showQ, status: 404, code: CodeNotFound},
		{name: "two segments", path: PathEdgeBrowser + "a/" + testBrowserID + "/show.json", query: showQ, status: 404, code: CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, WithUndocumentedAnswers(tc.answers))
			srv.Sandbox.AddBrowser(testBrowserID)
			method, path := tc.method, tc.path
			if method == "" {
				method = http.MethodGet
			}
			if path == "" {
				path = showPath(testBrowserID)
			}
			resp, b := do(t, srv, method, path+tc.query, "", "")
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			switch {
			case tc.code == CodeNotFound:
				assert.Equal(t, CodeNotFound, errorBody(t, b).Code, "no endpoint")
				return
			case tc.status != 200:
				assert.Equal(t, tc.code, edgeErrorBody(t, b).Code)
				return
			}
			guest := srv.Sandbox.GuestRef(testBrowserID)
			require.NotEmpty(t, guest)
			assert.JSONEq(t, `{"status":"OK","version":"1.2","clientKey":"","ref":"`+testBrowserID+`","customer":{"ref":"`+guest+`"}}`, string(b),
				"GetGuestRefResponse (core fetch-guest-id-from-edge-proxy.ts)")
		})
	}
}

func TestEdgeEvents(t *testing.T) {
	tests := []struct {
		name     string
		answers  Answers
		opts     []Option
		query    string // defaultQ when ""
		body     func(t *testing.T, id string) string
		status   int
		code     string
		dropped  string // the code of a 201 event that is dropped
		checkRec func(t *testing.T, ev EventRecord)
	}{
		{name: "a page view as the Cloud SDK sends it", body: func(t *testing.T, id string) string {
			return edgeEvent(t, id, "ext", map[string]any{"pageVariantId": "a1b2_en_default"}, "requested_at", "2026-01-02T03:04:05.000Z")
		}, status: 201, checkRec: func(t *testing.T, ev EventRecord) {
			assert.Equal(t, "VIEW", ev.Type)
			assert.Equal(t, DefaultContextID, ev.ContextID)
			assert.Equal(t, DefaultSiteName, ev.SiteName)
			assert.Equal(t, "", ev.ClientKey)
			assert.Equal(t, "a1b2_en_default", ev.PageVariantID)
		}},
		{name: "the points of sale are not the Edge's", opts: []Option{WithPointsOfSale("goairways.example")},
			body: func(t *testing.T, id string) string { return edgeEvent(t, id) }, status: 201},
		{name: "an identity", body: func(t *testing.T, id string) string {
			return identityEvent(t, id, "client_key", "", "pos", "")
		}, status: 201, checkRec: func(t *testing.T, ev EventRecord) {
			assert.Equal(t, "IDENTITY", ev.Type)
			assert.Empty(t, ev.PageVariantID)
		}},
		{name: "no siteId", query: "?sitecoreContextId=" + DefaultContextID, body: func(t *testing.T, id string) string { return edgeEvent(t, id) }, status: 400, code: CodeMissingField},
		{name: "no context", query: "?siteId=" + DefaultSiteName, body: func(t *testing.T, id string) string { return edgeEvent(t, id) }, status: 400, code: CodeMissingField},
		{name: "unknown context", query: edgeQ("nope", DefaultSiteName), body: func(t *testing.T, id string) string { return edgeEvent(t, id) }, status: 401, code: CodeInvalidContextID},
		{name: "unknown site", query: edgeQ(DefaultContextID, "nope"), body: func(t *testing.T, id string) string { return edgeEvent(t, id) }, status: 400, code: CodeUnknownSite},
		{name: "site name in another case", query: edgeQ(DefaultContextID, strings.ToUpper(DefaultSiteName)), body: func(t *testing.T, id string) string { return edgeEvent(t, id) }, status: 400, code: CodeUnknownSite},
		{name: "lenient unknown site", answers: AnswerLenient, query: edgeQ(DefaultContextID, "nope"), body: func(t *testing.T, id string) string { return edgeEvent(t, id) }, status: 201, dropped: CodeUnknownSite},
		{name: "a client key", body: func(t *testing.T, id string) string { return edgeEvent(t, id, "client_key", DefaultClientKey) }, status: 400, code: CodeInvalidField},
		{name: "a point of sale", body: func(t *testing.T, id string) string { return edgeEvent(t, id, "pos", "goairways.example") }, status: 400, code: CodeInvalidField},
		{name: "lenient a point of sale", answers: AnswerLenient, body: func(t *testing.T, id string) string { return edgeEvent(t, id, "pos", "x") }, status: 201, dropped: CodeInvalidField},
		{name: "no client_key", body: func(t *testing.T, id string) string { return edgeEvent(t, id, "client_key", nil) }, status: 400, code: CodeMissingField},
		{name: "no pos", body: func(t *testing.T, id string) string { return edgeEvent(t, id, "pos", nil) }, status: 400, code: CodeMissingField},
		{name: "lenient no client_key and pos", answers: AnswerLenient, body: func(t *testing.T, id string) string {
			return edgeEvent(t, id, "client_key", nil, "pos", nil)
		}, status: 201},
		{name: "no channel", body: func(t *testing.T, id string) string { return edgeEvent(t, id, "channel", nil) }, status: 400, code: CodeMissingField},
		{name: "no type", body: func(t *testing.T, id string) string { return edgeEvent(t, id, "type", nil) }, status: 400, code: CodeMissingField},
		{name: "unknown browser", body: func(t *testing.T, _ string) string { return edgeEvent(t, testBrowserID) }, status: 404, code: CodeUnknownBrowser},
		{name: "not an object", body: func(*testing.T, string) string { return "[]" }, status: 400, code: CodeInvalidJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, append(tc.opts, WithUndocumentedAnswers(tc.answers))...)
			id, _ := edgeCreate(t, srv)
			q := tc.query
			if q == "" {
				q = defaultQ
			}
			sent := tc.body(t, id)
			req, err := http.NewRequest(http.MethodPost, srv.URL+PathEdgeEvents+q, strings.NewReader(sent))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Client-Software-ID", "@sitecore-cloudsdk/events 0.6.1") // sendEvent.ts
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			if tc.status != 201 {
				assert.Equal(t, tc.code, errorBody(t, b).Code)
				assert.Empty(t, srv.Sandbox.Events())
				assert.Empty(t, srv.Sandbox.DroppedEvents())
				return
			}
			answer := decode[map[string]string](t, b)
			assert.Equal(t, "OK", answer["status"])
			kept, dropped := srv.Sandbox.Events(), srv.Sandbox.DroppedEvents()
			var ev EventRecord
			if tc.dropped != "" {
				require.Empty(t, kept)
				require.Len(t, dropped, 1)
				ev = dropped[0]
				assert.Equal(t, tc.dropped, ev.Dropped.Code)
			} else {
				require.Empty(t, dropped)
				require.Len(t, kept, 1)
				ev = kept[0]
				assert.Nil(t, ev.Dropped)
			}
			assert.Equal(t, answer["ref"], ev.Ref)
			assert.Equal(t, id, ev.BrowserID)
			assert.JSONEq(t, sent, string(ev.Raw))
			assert.Equal(t, "@sitecore-cloudsdk/events 0.6.1", ev.Header.Get("X-Client-Software-ID"))
			if tc.checkRec != nil {
				tc.checkRec(t, ev)
			}
		})
	}
}

// TestEdgeEventsReachTheFlows: events sent through the Edge are the browser's events, which
// flow rules see on either endpoint.
func TestEdgeEventsReachTheFlows(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}).
		When(HasEvent("IDENTITY"), map[string]any{"title": "Welcome back, {{guest.firstname}}"})))
	id, _ := edgeCreate(t, srv)
	resp, b := do(t, srv, http.MethodPost, PathEdgeEvents+defaultQ, "application/json", identityEvent(t, id, "client_key", "", "pos", ""))
	require.Equal(t, 201, resp.StatusCode, "%s", b)
	for _, c := range []struct{ path, body string }{
		{PathEdgePersonalize + defaultQ, edgeBody(t, "browserId", id)},
		{PathCallFlows, body(t, "browserId", id)},
	} {
		resp, b := do(t, srv, http.MethodPost, c.path, "application/json", c.body)
		require.Equal(t, 200, resp.StatusCode, "%s", b)
		assert.JSONEq(t, `{"title":"Welcome back, Ada"}`, string(b), c.path)
	}
}

func TestEdgePersonalize(t *testing.T) {
	flows := WithFlows(Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}))
	tests := []struct {
		name    string
		answers Answers
		query   string // defaultQ when ""
		body    string
		status  int
		code    string // the error code, or the code a lenient 200 {} records
	}{
		{name: "as the Cloud SDK sends it", body: edgeBody(t), status: 200},
		{name: "with a guest and variants", body: edgeBody(t, "guestRef", "3d3f5b8e-8a1e-4b51-9a1b-2f8b4c6d7e8f", "variants", []string{"a_en_default", "a_en_v1"}), status: 200},
		{name: "by email", body: edgeBody(t, "browserId", nil, "email", "ada@example.com"), status: 200},
		{name: "null variants", body: edgeBody(t, "variants", nil), status: 200},
		{name: "lenient without clientKey and pointOfSale", answers: AnswerLenient, body: edgeBody(t, "clientKey", nil, "pointOfSale", nil), status: 200},
		{name: "no clientKey", body: edgeBody(t, "clientKey", nil), status: 400, code: CodeMissingField},
		{name: "no pointOfSale", body: edgeBody(t, "pointOfSale", nil), status: 400, code: CodeMissingField},
		{name: "a client key", body: edgeBody(t, "clientKey", DefaultClientKey), status: 400, code: CodeInvalidField},
		{name: "lenient a client key", answers: AnswerLenient, body: edgeBody(t, "clientKey", DefaultClientKey), status: 200, code: CodeInvalidField},
		{name: "a point of sale", body: edgeBody(t, "pointOfSale", "goairways.example"), status: 400, code: CodeInvalidField},
		{name: "no siteId", query: "?sitecoreContextId=" + DefaultContextID, body: edgeBody(t), status: 400, code: CodeMissingField},
		{name: "no context", query: "?siteId=" + DefaultSiteName, body: edgeBody(t), status: 400, code: CodeMissingField},
		{name: "no query", query: "?", body: edgeBody(t), status: 400, code: CodeMissingField},
		{name: "unknown context", query: edgeQ("nope", DefaultSiteName), body: edgeBody(t), status: 401, code: CodeInvalidContextID},
		{name: "lenient unknown context", answers: AnswerLenient, query: edgeQ("nope", DefaultSiteName), body: edgeBody(t), status: 200, code: CodeInvalidContextID},
		{name: "unknown site", query: edgeQ(DefaultContextID, "nope"), body: edgeBody(t), status: 400, code: CodeUnknownSite},
		{name: "not URL-encoded", query: "?sitecoreContextId=a;b", body: edgeBody(t), status: 400, code: CodeInvalidField},
		{name: "variants not an array", body: edgeBody(t, "variants", "a_en_default"), status: 400, code: CodeInvalidField},
		{name: "variants of numbers", body: edgeBody(t, "variants", []any{1}), status: 400, code: CodeInvalidField},
		{name: "a null variant", body: edgeBody(t, "variants", []any{"a", nil}), status: 400, code: CodeInvalidField},
		{name: "an empty variant", body: edgeBody(t, "variants", []any{""}), status: 400, code: CodeInvalidField},
		{name: "guestRef not a string", body: edgeBody(t, "guestRef", 1), status: 400, code: CodeInvalidField},
		{name: "no identity", body: edgeBody(t, "browserId", nil), status: 400, code: CodeInvalidIdentity},
		{name: "a lower-case channel", body: edgeBody(t, "channel", "web"), status: 400, code: CodeInvalidField},
		{name: "unknown flow", body: edgeBody(t, "friendlyId", "nope"), status: 404, code: CodeFlowNotFound},
		{name: "text/plain", body: "-", status: 415, code: CodeUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, flows, WithUndocumentedAnswers(tc.answers))
			q := tc.query
			if q == "" {
				q = defaultQ
			}
			ct, sent := "application/json", tc.body
			if sent == "-" {
				ct, sent = "text/plain", edgeBody(t)
			}
			resp, b := do(t, srv, http.MethodPost, PathEdgePersonalize+q, ct, sent)
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			calls := srv.Sandbox.Calls()
			require.Len(t, calls, 1, "every call is recorded")
			c := calls[0]
			assert.Equal(t, PathEdgePersonalize, c.Path)
			assert.Equal(t, tc.status, c.Status)
			assert.Equal(t, tc.code, c.Code)
			assert.Equal(t, 1, srv.Sandbox.CallCount(""))
			if q == defaultQ {
				assert.Equal(t, DefaultContextID, c.Request.ContextID, "recorded, whatever was wrong")
				assert.Equal(t, DefaultSiteName, c.Request.SiteName)
			}
			switch {
			case tc.status == 200 && tc.code != "":
				assert.Equal(t, `{}`, string(b), "lenient: no personalization")
			case tc.status == 200:
				assert.JSONEq(t, `{"title":"Fly for less"}`, string(b))
				assert.Equal(t, DefaultContextID, c.Request.ContextID)
				assert.Equal(t, DefaultSiteName, c.Request.SiteName)
				var sentBody map[string]any
				require.NoError(t, json.Unmarshal([]byte(sent), &sentBody))
				guest, _ := sentBody["guestRef"].(string)
				assert.Equal(t, guest, c.Request.GuestRef)
				var variants []string
				if v, ok := sentBody["variants"].([]any); ok {
					for _, s := range v {
						variants = append(variants, s.(string))
					}
				}
				assert.Equal(t, variants, c.Request.Variants)
				assert.Equal(t, 1, srv.Sandbox.CallCount("home_page_banner"))
			default:
				e := errorBody(t, b)
				assert.Equal(t, tc.code, e.Code)
				assert.Equal(t, tc.status, e.Status)
			}
		})
	}
}

// TestEdgeSites: WithEdgeSites replaces the default site; a context may have several sites,
// and a site belongs to its context only.
func TestEdgeSites(t *testing.T) {
	srv := start(t, WithEdgeSites(
		EdgeSite{ContextID: "ctx-a", SiteName: "go-airways"},
		EdgeSite{ContextID: "ctx-a", SiteName: "go-airways-fr"},
		EdgeSite{ContextID: "ctx-b", SiteName: "other"},
	), WithFlows(Define("home_page_banner").Returns(1)))
	tests := []struct {
		contextID, site string
		status          int
	}{
		{"ctx-a", "go-airways", 200},
		{"ctx-a", "go-airways-fr", 200},
		{"ctx-b", "other", 200},
		{"ctx-a", "other", 400},
		{"ctx-b", "go-airways", 400},
		{DefaultContextID, DefaultSiteName, 401},
		{"CTX-A", "go-airways", 401},
	}
	for _, tc := range tests {
		t.Run(tc.contextID+"/"+tc.site, func(t *testing.T) {
			resp, b := do(t, srv, http.MethodPost, PathEdgePersonalize+edgeQ(tc.contextID, tc.site), "application/json", edgeBody(t))
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			resp, b = do(t, srv, http.MethodGet, PathEdgeBrowserCreate+"?client_key=&sitecoreContextId="+url.QueryEscape(tc.contextID), "", "")
			want := 200
			if tc.status == 401 {
				want = 401
			}
			require.Equal(t, want, resp.StatusCode, "create.json names no site: %s", b)
		})
	}
	for _, bad := range [][]EdgeSite{nil, {{ContextID: "c"}}, {{SiteName: "s"}}, {{ContextID: " ", SiteName: "s"}}} {
		assert.Panics(t, func() { WithEdgeSites(bad...) }, "%+v", bad)
	}
}

// TestReturnsVariant: a flow answers an Edge call that offers variants with one of them, and
// answers as it would without ReturnsVariant otherwise.
func TestReturnsVariant(t *testing.T) {
	pickCampaign := func(r *Request) string {
		if r.UTM("campaign") == "summer_sale" {
			return VariantAt(-1)(r)
		}
		return ""
	}
	srv := start(t, WithFlows(
		Define("embedded_page_en").Returns(map[string]any{"title": "default"}).
			When(UTMIs("campaign", "winter"), map[string]any{"title": "winter"}).
			ReturnsVariant(pickCampaign),
		Define("last").ReturnsVariant(VariantAt(-1)),
		Define("outsider").Returns(0).ReturnsVariant(func(*Request) string { return "not_offered" }),
		Define("panics").ReturnsVariant(func(r *Request) string { return r.Variants[99] }),
		Define("injected").ReturnsVariant(VariantAt(0)),
	))
	offered := []string{"page_en_default", "page_en_v1", "page_en_v2"}
	utm := func(c string) map[string]any { return map[string]any{"utm": map[string]any{"campaign": c}} }
	tests := []struct {
		name   string
		path   string // PathEdgePersonalize when ""
		body   string
		status int
		want   string
	}{
		{name: "the pick's variant", body: edgeBody(t, "friendlyId", "embedded_page_en", "variants", offered, "params", utm("summer_sale")), status: 200, want: `{"variantId":"page_en_v2"}`},
		{name: "no pick: the rules", body: edgeBody(t, "friendlyId", "embedded_page_en", "variants", offered, "params", utm("winter")), status: 200, want: `{"title":"winter"}`},
		{name: "no pick: the default", body: edgeBody(t, "friendlyId", "embedded_page_en", "variants", offered), status: 200, want: `{"title":"default"}`},
		{name: "no variants offered", body: edgeBody(t, "friendlyId", "embedded_page_en", "params", utm("summer_sale")), status: 200, want: `{"title":"default"}`},
		{name: "no variants on callFlows", path: PathCallFlows, body: body(t, "friendlyId", "embedded_page_en", "variants", offered, "params", utm("summer_sale")), status: 200, want: `{"title":"default"}`},
		{name: "a component experience's variant", body: edgeBody(t, "friendlyId", "last", "variants", []string{"c1_default", "c1_v1"}), status: 200, want: `{"variantId":"c1_v1"}`},
		{name: "one variant", body: edgeBody(t, "friendlyId", "last", "variants", []string{"c1_default"}), status: 200, want: `{"variantId":"c1_default"}`},
		{name: "not offered: the default", body: edgeBody(t, "friendlyId", "outsider", "variants", offered), status: 200, want: `0`},
		{name: "a pick that panics", body: edgeBody(t, "friendlyId", "panics", "variants", offered), status: 500},
		{name: "the ID is data", body: edgeBody(t, "friendlyId", "injected", "variants", []string{`{{guest.firstname}}"<>`}), status: 200, want: `{"variantId":"{{guest.firstname}}\"\u003c\u003e"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = PathEdgePersonalize + defaultQ
			}
			resp, b := do(t, srv, http.MethodPost, path, "application/json", tc.body)
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			if tc.status != 200 {
				assert.Equal(t, CodeRulePanic, errorBody(t, b).Code)
				return
			}
			assert.Equal(t, tc.want, string(b))
		})
	}
	assert.Panics(t, func() { Define("x").ReturnsVariant(nil) })
}

func TestVariantAt(t *testing.T) {
	r := &Request{Variants: []string{"a", "b", "c"}}
	tests := []struct {
		i    int
		want string
	}{{0, "a"}, {2, "c"}, {3, ""}, {-1, "c"}, {-3, "a"}, {-4, ""}}
	for _, tc := range tests {
		pick := VariantAt(tc.i)
		for range 2 { // a pick is called once per request: it must not change
			assert.Equal(t, tc.want, pick(r), "VariantAt(%d)", tc.i)
		}
		assert.Empty(t, pick(&Request{}), "no variants")
		assert.Empty(t, pick(nil))
	}
}

func TestReturnsVariantInFlowsFiles(t *testing.T) {
	flows, err := LoadFlows(strings.NewReader(`{"flows": [
		{"friendlyId": "component_x", "response": {}, "variant": -1},
		{"friendlyId": "plain", "response": {"title": "t"}}]}`))
	require.NoError(t, err)
	srv := start(t, WithFlows(flows...))
	for friendlyID, want := range map[string]string{"component_x": `{"variantId":"c_v1"}`, "plain": `{"title":"t"}`} {
		resp, b := do(t, srv, http.MethodPost, PathEdgePersonalize+defaultQ, "application/json",
			edgeBody(t, "friendlyId", friendlyID, "variants", []string{"c_default", "c_v1"}))
		require.Equal(t, 200, resp.StatusCode, "%s", b)
		assert.JSONEq(t, want, string(b), friendlyID)
	}
	_, err = LoadFlows(strings.NewReader(`{"flows": [{"friendlyId": "x", "response": {}, "variant": "last"}]}`))
	require.Error(t, err, "an index, not a name")
}

// TestEdgeFaults: the faults of SetFault, SetEventsFault and SetFlowFault apply to the Edge's
// endpoints as to the direct ones.
func TestEdgeFaults(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns(1), Define("other").Returns(2)))
	id, _ := edgeCreate(t, srv)
	type req struct{ name, method, path, body string }
	reqs := []req{
		{"create", http.MethodGet, PathEdgeBrowserCreate + createQ, ""},
		{"show", http.MethodGet, showPath(id) + showQ, ""},
		{"events", http.MethodPost, PathEdgeEvents + defaultQ, edgeEvent(t, id)},
		{"personalize", http.MethodPost, PathEdgePersonalize + defaultQ, edgeBody(t, "browserId", id)},
		{"personalize other", http.MethodPost, PathEdgePersonalize + defaultQ, edgeBody(t, "browserId", id, "friendlyId", "other")},
	}
	normal := map[string]int{"create": 200, "show": 200, "events": 201, "personalize": 200, "personalize other": 200}
	tests := []struct {
		name    string
		set     func(sb *Sandbox)
		faulted []string
	}{
		{"none", func(*Sandbox) {}, nil},
		{"SetFault", func(sb *Sandbox) { sb.SetFault(Fault{Status: 503}) }, []string{"create", "show", "events", "personalize", "personalize other"}},
		{"SetEventsFault", func(sb *Sandbox) { sb.SetEventsFault(Fault{Status: 503}) }, []string{"events"}},
		{"SetFlowFault", func(sb *Sandbox) { sb.SetFlowFault("home_page_banner", Fault{Status: 503}) }, []string{"personalize"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.set(srv.Sandbox)
			t.Cleanup(func() {
				srv.Sandbox.SetFault(Fault{})
				srv.Sandbox.SetEventsFault(Fault{})
				srv.Sandbox.SetFlowFault("home_page_banner", Fault{})
			})
			for _, r := range reqs {
				resp, b := do(t, srv, r.method, r.path, "application/json", r.body)
				if slices.Contains(tc.faulted, r.name) {
					require.Equal(t, 503, resp.StatusCode, "%s: %s", r.name, b)
					assert.Equal(t, CodeFault, errorBody(t, b).Code, r.name)
					assert.Equal(t, "1", resp.Header.Get("Retry-After"))
				} else {
					require.Equal(t, normal[r.name], resp.StatusCode, "%s: %s", r.name, b)
				}
			}
		})
	}
	for _, c := range srv.Sandbox.Calls() {
		if c.Status == 503 {
			assert.Equal(t, "status=503", c.Fault, "the record names the fault")
		}
	}
}

// TestEdgeRoutesInAServeMux: the sandbox's routes, Edge and direct, mount in one ServeMux beside
// a site's own handlers under /v1/ and /, and each request reaches the handler meant for it.
func TestEdgeRoutesInAServeMux(t *testing.T) {
	sb := New(WithFlows(Define("home_page_banner").Returns(1)))
	mux := http.NewServeMux()
	require.NotPanics(t, func() {
		for _, p := range sb.Routes() {
			mux.Handle(p, sb)
		}
		mux.HandleFunc("/v1/events/v1.2/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "site v1.2") })
		mux.HandleFunc("/v1/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "site v1") })
		mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "site") })
	})
	hs := httptest.NewUnstartedServer(mux)
	t.Cleanup(hs.Close)
	hs.Start()
	require.True(t, strings.HasPrefix(hs.URL, "http://127.0.0.1:"), hs.URL)

	get := func(t *testing.T, method, path, reqBody string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(reqBody))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hs.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, b := get(t, http.MethodGet, PathEdgeBrowserCreate+createQ, "")
	require.Equal(t, 200, code, b)
	id := decode[map[string]string](t, []byte(b))["ref"]
	tests := []struct {
		method, path, body string
		status             int
		site               string // the site's handler's answer, when it is the one meant
	}{
		{http.MethodGet, showPath(id) + showQ, "", 200, ""},
		{http.MethodPost, PathEdgeEvents + defaultQ, edgeEvent(t, id), 201, ""},
		{http.MethodPost, PathEdgePersonalize + defaultQ, edgeBody(t, "browserId", id), 200, ""},
		{http.MethodPost, PathCallFlows, body(t, "browserId", id), 200, ""},
		{http.MethodPost, PathEvents, event(t, id), 201, ""},
		{http.MethodGet, PathBrowserCreate + "?client_key=" + DefaultClientKey, "", 200, ""},
		{http.MethodGet, "/v1/events/v1.2/other", "", 200, "site v1.2"},
		{http.MethodGet, "/v1/other", "", 200, "site v1"},
		{http.MethodGet, "/v1.2/other", "", 200, "site"},
		{http.MethodGet, "/flights", "", 200, "site"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			code, b := get(t, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, code, b)
			if tc.site != "" {
				assert.Equal(t, tc.site, b)
			} else {
				assert.True(t, json.Valid([]byte(b)), "the sandbox's answer: %s", b)
			}
		})
	}
}

func TestParseShowPath(t *testing.T) {
	tests := []struct {
		path, id string
		ok       bool
	}{
		{showPath(testBrowserID), testBrowserID, true},
		{showPath("x"), "x", true},
		{PathEdgeBrowser + "show.json", "", false},
		{PathEdgeBrowser + "/show.json", "", false},
		{PathEdgeBrowser + "a/b/show.json", "", false},
		{PathEdgeBrowser + testBrowserID + "/show.jsonx", "", false},
		{PathEdgeBrowser + testBrowserID, "", false},
		{PathEdgeBrowserCreate, "", false},
		{"/v1.2/browser/" + testBrowserID + "/show.json", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		id, ok := parseShowPath(tc.path)
		assert.Equal(t, tc.ok, ok, tc.path)
		assert.Equal(t, tc.id, id, tc.path)
	}
}

// FuzzEdgeQuery: any query string (and browser path segment) on every Edge endpoint gets an
// answer or an error object of the endpoint's shape, never a 5xx; a browser is created only
// by a 200 create.json.
func FuzzEdgeQuery(f *testing.F) {
	for _, q := range []string{
		"sitecoreContextId=" + DefaultContextID + "&siteId=" + DefaultSiteName + "&client_key=&api_token=",
		"sitecoreContextId=" + DefaultContextID + "&client_key=",
		"sitecoreContextId=&siteId=",
		"sitecoreContextId=" + DefaultContextID + "&sitecoreContextId=x&siteId=" + DefaultSiteName,
		"sitecoreContextId=%zz",
		"siteId=a;b",
		"client_key=k&api_token=t",
		"",
	} {
		f.Add(q, fuzzBrowserID)
	}
	f.Add("sitecoreContextId="+DefaultContextID, "x/y")
	f.Add("sitecoreContextId="+DefaultContextID, "")
	f.Add("sitecoreContextId="+DefaultContextID, "%2F")
	sandboxes := []*Sandbox{
		New(WithFlows(Define("home_page_banner").ReturnsVariant(VariantAt(0)))),
		New(WithUndocumentedAnswers(AnswerLenient), WithFlows(Define("home_page_banner"))),
	}
	for _, sb := range sandboxes {
		sb.AddBrowser(fuzzBrowserID)
	}
	personalize := `{"clientKey":"","pointOfSale":"","channel":"WEB","language":"EN","friendlyId":"home_page_banner","browserId":"` + fuzzBrowserID + `","variants":["v"]}`
	ev := `{"type":"VIEW",` + strings.Replace(strings.Replace(fuzzEventBase, `"sandbox-client-key"`, `""`, 1), `"pos":"p"`, `"pos":""`, 1) + `}`
	f.Fuzz(func(t *testing.T, query, segment string) {
		for _, sb := range sandboxes {
			for _, c := range []struct {
				method, path, body string
				edgeShape          bool
			}{
				{http.MethodGet, PathEdgeBrowserCreate, "", true},
				{http.MethodGet, PathEdgeBrowser + segment + edgeShowSuffix, "", true},
				{http.MethodPost, PathEdgeEvents, ev, false},
				{http.MethodPost, PathEdgePersonalize, personalize, false},
			} {
				req := httptest.NewRequest(c.method, "/", strings.NewReader(c.body))
				req.URL.Path, req.URL.RawQuery = c.path, query
				req.Header.Set("Content-Type", "application/json")
				browsers := len(sb.Browsers())
				rec := httptest.NewRecorder()
				sb.ServeHTTP(rec, req)
				b := rec.Body.Bytes()
				if rec.Code >= 500 || rec.Code < 200 || !json.Valid(b) {
					t.Fatalf("%s %s?%s: status %d: %s", c.method, c.path, query, rec.Code, b)
				}
				if created := len(sb.Browsers()) - browsers; created != 0 && (c.path != PathEdgeBrowserCreate || rec.Code != 200 || created != 1) {
					t.Fatalf("%s?%s: %d browsers created, status %d", c.path, query, created, rec.Code)
				}
				if rec.Code < 400 {
					continue
				}
				var code string
				if _, show := parseShowPath(c.path); c.edgeShape && (show || c.path == PathEdgeBrowserCreate) {
					var e EdgeErrorBody
					if err := json.Unmarshal(b, &e); err != nil || e.Status != "ERROR" || e.ErrorMsg == "" {
						t.Fatalf("not an Edge error object: %s", b)
					}
					code = e.Code
				} else {
					var e ErrorBody
					if err := json.Unmarshal(b, &e); err != nil || e.Status != rec.Code {
						t.Fatalf("not an error object: %s", b)
					}
					code = e.Code
				}
				if code == "" {
					t.Fatalf("no code: %s", b)
				}
			}
		}
	})
}

// FuzzEdgePersonalize is FuzzCallFlows for the Edge's /v1/personalize, whose body may carry
// guestRef and variants: any body gets a flow answer or an error object, never a 5xx, and a
// variant answered is one the body offered.
func FuzzEdgePersonalize(f *testing.F) {
	f.Add([]byte(`{"clientKey":"","pointOfSale":"","friendlyId":"home_page_banner","browserId":"` + fuzzBrowserID + `","guestRef":"g","variants":["a","b"]}`))
	f.Add([]byte(`{"clientKey":"","pointOfSale":"","friendlyId":"home_page_banner","email":"a@b","variants":[null,1,""]}`))
	f.Add([]byte(`{"clientKey":"k","pointOfSale":"p","friendlyId":"home_page_banner","email":"a@b","variants":"a","guestRef":{}}`))
	f.Add([]byte(`{"friendlyId":"home_page_banner","email":"a@b","variants":[]}`))
	f.Add([]byte(`{"variants":["\u0000","{{guest.x}}"]}`))
	flows := WithFlows(Define("home_page_banner").Returns(map[string]any{"title": "t"}).ReturnsVariant(VariantAt(-1)))
	sandboxes := []*Sandbox{New(flows), New(flows, WithUndocumentedAnswers(AnswerLenient))}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sb := range sandboxes {
			rec := serve(sb, http.MethodPost, PathEdgePersonalize+defaultQ, string(body))
			b := rec.Body.Bytes()
			if rec.Code >= 500 || rec.Code < 200 || !json.Valid(b) {
				t.Fatalf("status %d: %s", rec.Code, b)
			}
			calls := sb.Calls()
			c := calls[len(calls)-1]
			if rec.Code != 200 {
				var e ErrorBody
				if err := json.Unmarshal(b, &e); err != nil || e.Status != rec.Code || e.Code == "" {
					t.Fatalf("not an error object: %s", b)
				}
				continue
			}
			var answer struct {
				VariantID *string `json:"variantId"`
			}
			if json.Unmarshal(b, &answer) == nil && answer.VariantID != nil && !slices.Contains(c.Request.Variants, *answer.VariantID) {
				t.Fatalf("answered variant %q, offered %q", *answer.VariantID, c.Request.Variants)
			}
		}
	})
}
