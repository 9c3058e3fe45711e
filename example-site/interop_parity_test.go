package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// wireParityDoc is the document whose table lists every difference the parity test allows.
const wireParityDoc = "../docs/wire-parity.md"

// wireDifferences are the known differences between the library's requests and Engage's
// server SDK's for the same visitor and inputs (TestWireParityWithEngage), by the path of the
// differing value in the compared records ("*" matches one path segment), each with its
// reason. The table of docs/wire-parity.md lists the same paths: a difference that is not
// here fails the test, and so does an entry that no longer differs (remove it from both).
var wireDifferences = map[string]string{
	"*/callFlows/headers/User-Agent": "the library forwards the visitor's User-Agent, as the Cloud SDK does " +
		"(crawler detection and device data see the visitor); Engage's server build sends node's own",
	"*/callFlows/headers/X-Sc-Correlation-Id": "the library sends a correlation ID per flow call, as the Cloud SDK does; Engage sends none",
	"*/*/headers/Accept": "the library asks for application/json, as the API documentation shows; " +
		"the SDKs' fetch sends */*. The API answers JSON either way",
	"*/callFlows/body/params/utm": "the library nests the visit's UTM parameters in params.utm, as the Cloud SDK " +
		"does since it stopped flattening params (CDK-171); personalize.WithUTMShape(personalize.UTMFlat) sends Engage's shape",
	"*/callFlows/body/params/utm_*": "Engage flattens nested params with _ (params.utm_campaign); see params/utm",
	"*/callFlows/body/params/referrer": "the library sends the request's Referer as params.referrer, as Sitecore's " +
		"JSS/Content SDK middleware does; neither SDK adds one",
	"*/*/body/requested_at": "the library stamps every event with requested_at, as the Cloud SDK does; Engage 1.4.3 sends none",
	"*/*/body/page": "the library names the page by its path (/flights/lisbon), unique per page; Engage's " +
		"browser build infers the path's last segment (lisbon, \"Home Page\" for /), and its server build sends what the site gives",
	"next/cookie": "the library renews the cookie when a flow runs (or an event needs a new browser ID), not on a page that only sends events; " +
		"Engage's server build renews it on every request the site calls handleCookie for",
}

// parityPage is one page of a parity scenario.
type parityPage struct {
	Key      string // "landing" or "next": the records' first path segment
	URL      string // path and query
	Referer  string // the request's Referer
	Flow     string // a flow the page runs
	Identity bool   // the page sends the IDENTITY event
	// Through the Edge only (TestWireParityWithCloudSDK):
	Variants    []string // the flow's variant IDs (pageVariantIds)
	PageVariant string   // the page variant its VIEW names (ext.pageVariantId)
	Track       bool     // the page sends a custom event (parityTrack)
}

// The visitor and inputs of the parity scenarios, the same for both sides.
const (
	parityClientKey = "parity-client-key"
	parityBrowserID = "2a80eb01-91fc-43ac-8ae0-0ed8ec190c8b"
	parityGuestRef  = "5b1f7c3e-2d4a-4c8e-9f60-1a2b3c4d5e6f" // the recorder's show.json answers it
	parityExternal  = "https://www.google.com/search?q=lisbon+flights"
)

// parityGuest is the IDENTITY event's guest, as the library takes it and as Engage takes it.
var (
	parityGuest = personalize.Guest{
		Identifiers: []personalize.GuestIdentifier{{ID: "GA-1001", Provider: "GO_AIRWAYS", Expiry: time.Date(2030, 12, 31, 23, 59, 0, 0, time.UTC)}},
		Email:       "ada@example.com",
		FirstName:   "Ada",
		LastName:    "Lovelace",
		DateOfBirth: time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC),
		Street:      []string{"12 St James's Square"},
		State:       "Middlesex",
	}
	parityEngageGuest = map[string]any{
		"identifiers": []map[string]any{{"id": "GA-1001", "provider": "GO_AIRWAYS", "expiryDate": "2030-12-31T23:59"}},
		"email":       "ada@example.com",
		"firstName":   "Ada",
		"lastName":    "Lovelace",
		"dob":         "1815-12-10T00:00",
		"street":      []string{"12 St James's Square"},
		"state":       "Middlesex",
	}
)

// TestWireParityWithEngage sends the same visit through the library (middleware, a flow, VIEW
// and IDENTITY events) and through Engage's server SDK run with node, both to a recording
// server standing in for the API, and compares what they sent as JSON values: every
// difference must be a known one (wireDifferences, docs/wire-parity.md).
//
// The visit: a landing page from an external referrer with UTM parameters (one of them in
// mixed case), which runs a flow; then a second page, reached from the first, which sends an
// IDENTITY event with email, names, date of birth, street, state and an identifier with an
// expiry date. Channel WEB, language en, currency EUR, one point of sale, one browser ID.
func TestWireParityWithEngage(t *testing.T) {
	t.Parallel() // node and a local server: mostly waiting
	node := requireSDKs(t)

	lib, libSite := recordLibraryVisit(t)
	pages := parityPages(libSite)
	eng := recordEngageVisit(t, node, pages, libSite)

	libRecords := wireRecords(t, lib.requests(), lib.cookies, pages)
	engRecords := wireRecords(t, eng.requests(), eng.cookies, pages)
	t.Run("the library sends the target format", func(t *testing.T) {
		checkLibraryTarget(t, libRecords)
	})
	compareWire(t, libRecords, engRecords, wireComparison{
		Other: "Engage", Allowed: wireDifferences, Doc: wireParityDoc, Table: "wireDifferences",
		Header: []string{"field", "docs", "Engage", "Cloud SDK", "this library"},
	})
}

// wireComparison says what compareWire compares the library's records with.
type wireComparison struct {
	// Other names the SDK the library is compared with.
	Other string
	// Allowed are the known differences, by the path of the differing value in the records
	// ("*" matches one path segment), each with its reason; Table names the variable.
	Allowed map[string]string
	Table   string
	// Doc is the document whose table, with the columns Header, lists the same paths in
	// its first column.
	Doc    string
	Header []string
}

// compareWire compares the library's records with the other SDK's as JSON values: every
// difference must be a known one (c.Allowed), every known one must still differ, and the
// table of c.Doc must list exactly the known ones.
func compareWire(t *testing.T, lib, other map[string]any, c wireComparison) {
	t.Helper()
	var diffs []wireDiff
	diffJSON("", lib, other, &diffs)
	matched := map[string]bool{}
	for _, d := range diffs {
		pattern := allowedDifference(c.Allowed, d.Path)
		if pattern == "" {
			t.Errorf("%s differs, and is not a known difference:\n  library: %s\n  %s: %s\nfix it, or add it with its reason to %s and to the table of %s",
				d.Path, show(d.Library), c.Other, show(d.Other), c.Table, c.Doc)
			continue
		}
		matched[pattern] = true
		t.Logf("known difference %s (%s)\n  library: %s\n  %s: %s", d.Path, pattern, show(d.Library), c.Other, show(d.Other))
	}
	for pattern := range c.Allowed {
		if !matched[pattern] {
			t.Errorf("%s no longer differs: remove it from %s and from the table of %s", pattern, c.Table, c.Doc)
		}
	}
	if t.Failed() {
		l, _ := json.MarshalIndent(lib, "", "  ")
		o, _ := json.MarshalIndent(other, "", "  ")
		t.Logf("the library's requests:\n%s\n%s's requests:\n%s", l, c.Other, o)
	}

	t.Run(strings.TrimPrefix(c.Doc, "../")+" lists every known difference", func(t *testing.T) {
		rows := docTableFields(t, c.Doc, c.Header)
		for pattern := range c.Allowed {
			assert.Contains(t, rows, pattern, "%s is in %s, not in the table of %s", pattern, c.Table, c.Doc)
		}
		for _, f := range rows {
			assert.Contains(t, c.Allowed, f, "%s is in the table of %s, not in %s", f, c.Doc, c.Table)
		}
	})
}

// parityPages is the visit, for the site at siteURL.
func parityPages(siteURL string) []parityPage {
	landing := "/flights/lisbon?utm_source=newsletter&UTM_Campaign=spring%20sale&utm_medium=email"
	return []parityPage{
		{Key: "landing", URL: landing, Referer: parityExternal, Flow: interopFlow},
		{Key: "next", URL: "/account", Referer: siteURL + landing, Identity: true},
	}
}

// wireRecorder stands in for the API, the regional one and the Sitecore Edge proxy: it
// records every request and answers as the API does (a flow's answer, 201 for an event, the
// guest ref parityGuestRef for show.json).
type wireRecorder struct {
	URL string

	mu      sync.Mutex
	page    string // the page being played (setPage), "" before the first
	reqs    []wireRequest
	cookies map[string][]string // the visitor's cookie lines the site set, by record key (page/kind)
}

type wireRequest struct {
	Page         string // the page being played when the request came
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         any
}

// parityPagePath is where a side that plays its pages in another process (node) says which
// page it plays next: GET parityPagePath?key=<page key>. It is not recorded.
const parityPagePath = "/__parity/page"

// setPage says which page the requests that come from now on belong to.
func (rec *wireRecorder) setPage(key string) {
	rec.mu.Lock()
	rec.page = key
	rec.mu.Unlock()
}

func startWireRecorder(t *testing.T) *wireRecorder {
	t.Helper()
	rec := &wireRecorder{cookies: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == parityPagePath {
			rec.setPage(r.URL.Query().Get("key"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		req := wireRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
		if b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20)); len(b) > 0 {
			if err := json.Unmarshal(b, &req.Body); err != nil {
				req.Body = "not JSON: " + string(b)
			}
		}
		rec.mu.Lock()
		req.Page = rec.page
		rec.reqs = append(rec.reqs, req)
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch p := r.URL.Path; {
		case r.Method == http.MethodPost && (p == "/v2/callFlows" || p == sandbox.PathEdgePersonalize):
			_, _ = io.WriteString(w, `{"title":"Fly for less"}`)
		case r.Method == http.MethodPost && (p == "/v1.2/events" || p == sandbox.PathEdgeEvents):
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"status":"OK","version":"1.2","ref":"10000000-0000-4000-8000-000000000001"}`)
		case r.Method == http.MethodGet && (p == "/v1.2/browser/create.json" || p == sandbox.PathEdgeBrowserCreate):
			// Neither side should ask: the visitor has a browser ID.
			_, _ = fmt.Fprintf(w, `{"status":"OK","version":"1.2","ref":%q,"customer_ref":%q}`, parityBrowserID, parityGuestRef)
		case r.Method == http.MethodGet && p == sandbox.PathEdgeBrowser+parityBrowserID+"/show.json":
			_, _ = fmt.Fprintf(w, `{"status":"OK","version":"1.2","clientKey":"","ref":%q,"customer":{"ref":%q}}`, parityBrowserID, parityGuestRef)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

func (rec *wireRecorder) requests() []wireRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.reqs)
}

// recordLibraryVisit plays the visit against a site built with the library (the middleware
// with SendViewEvents, personalize.Flow, personalize.Identify), served over TLS as in
// production, and returns what the API received and the site's URL.
func recordLibraryVisit(t *testing.T) (*wireRecorder, string) {
	t.Helper()
	rec := startWireRecorder(t)
	client, err := personalize.New(parityClientKey,
		personalize.WithBaseURL(rec.URL),
		personalize.WithPointOfSale(interopPOS),
		personalize.WithChannel("WEB"),
		personalize.WithLanguage("en"),
		personalize.WithCurrency("EUR"),
	)
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = client.Close(context.Background())
		}
	})
	mw, err := middleware.New(client, middleware.Options{SessionKeys: [][]byte{[]byte(testSessionKeys)}, SendViewEvents: true})
	require.NoError(t, err)
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>parity</title><p>page</p>")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /flights/lisbon", func(w http.ResponseWriter, r *http.Request) {
		_, err := personalize.Flow(r.Context(), interopFlow)
		assert.NoError(t, err, "the flow")
		page(w, r)
	})
	mux.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, personalize.Identify(r.Context(), parityGuest), "the IDENTITY event")
		page(w, r)
	})
	site := httptest.NewTLSServer(mw.Handler(mux))
	t.Cleanup(site.Close)
	visitor := []*http.Cookie{{Name: middleware.CookiePrefix + parityClientKey, Value: parityBrowserID, Path: "/"}}
	playLibraryVisit(t, rec, site, visitor, parityPages(site.URL), "cookie", middleware.CookiePrefix+parityClientKey)
	// Events leave through the client's queue: Close delivers them.
	ctx, cancel := context.WithTimeout(context.Background(), eventDeadline)
	defer cancel()
	require.NoError(t, client.Close(ctx), "delivering the events")
	closed = true
	return rec, site.URL
}

// playLibraryVisit plays pages against site as a browser would: with a desktop Chrome
// User-Agent, the page's Referer, and a cookie jar that holds the visitor's cookies and those
// the site sets. It tells rec which page it plays, and keeps in rec.cookies the Set-Cookie
// lines of the cookies names (keepCookieLines).
func playLibraryVisit(t *testing.T, rec *wireRecorder, site *httptest.Server, visitor []*http.Cookie, pages []parityPage, kind string, names ...string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	siteURL, err := url.Parse(site.URL)
	require.NoError(t, err)
	jar.SetCookies(siteURL, visitor)
	hc := site.Client()
	hc.Jar = jar
	for _, p := range pages {
		rec.setPage(p.Key)
		req, err := http.NewRequest(http.MethodGet, site.URL+p.URL, nil)
		require.NoError(t, err)
		req.Header.Set("User-Agent", browserUA)
		req.Header.Set("Referer", p.Referer)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, p.URL)
		keepCookieLines(rec, p.Key, resp.Header.Values("Set-Cookie"), kind, names...)
	}
}

// keepCookieLines keeps in rec.cookies, of a page's Set-Cookie lines, those of the cookies
// names: under page/kind when there is one name, under page/<name> when there are several.
func keepCookieLines(rec *wireRecorder, page string, lines []string, kind string, names ...string) {
	for _, l := range lines {
		name, _, _ := cookieAttrs(l)
		if !slices.Contains(names, name) {
			continue
		}
		key := page + "/" + kind
		if len(names) > 1 {
			key = page + "/" + name
		}
		rec.cookies[key] = append(rec.cookies[key], l)
	}
}

// recordEngageVisit plays the same visit with Engage's server SDK (engage-server.mjs, node)
// against a recorder of its own.
func recordEngageVisit(t *testing.T, node string, pages []parityPage, siteURL string) *wireRecorder {
	t.Helper()
	rec := startWireRecorder(t)
	u, err := url.Parse(siteURL)
	require.NoError(t, err)
	type page struct {
		URL        string         `json:"url"`
		Referer    string         `json:"referer,omitempty"`
		FriendlyID string         `json:"friendlyId,omitempty"`
		Identity   map[string]any `json:"identity,omitempty"`
	}
	in := map[string]any{
		"targetURL": rec.URL, "clientKey": parityClientKey, "pointOfSale": interopPOS,
		"channel": "WEB", "language": "EN", "currency": "EUR",
		"host": u.Host, "cookie": middleware.CookiePrefix + parityClientKey + "=" + parityBrowserID, "userAgent": browserUA,
	}
	var ps []page
	for _, p := range pages {
		pg := page{URL: p.URL, Referer: p.Referer, FriendlyID: p.Flow}
		if p.Identity {
			pg.Identity = parityEngageGuest
		}
		ps = append(ps, pg)
	}
	in["pages"] = ps
	stdin, err := json.Marshal(in)
	require.NoError(t, err)
	var out struct {
		Version string `json:"version"`
		Pages   []struct {
			SetCookie []string `json:"setCookie"`
		} `json:"pages"`
	}
	raw := runNode(t, node, "engage-server.mjs", stdin)
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	require.Equal(t, engageVersion, out.Version, "the Engage that ran")
	require.Len(t, out.Pages, len(pages))
	for i, p := range pages {
		keepCookieLines(rec, p.Key, out.Pages[i].SetCookie, "cookie", middleware.CookiePrefix+parityClientKey)
	}
	return rec
}

// The headers compared: the ones either side sets on purpose (the transport's own, such as
// Accept-Encoding or Connection, are not the SDKs' choice).
var parityHeaders = []string{"Content-Type", "Accept", "User-Agent", "X-Library-Version", "X-Sc-Correlation-Id", "X-Client-Software-Id"}

var (
	bareVersion   = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	correlationID = regexp.MustCompile(`^[0-9a-f]{32}$`)
	isoMillis     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

// wireRecords turns a side's requests and cookies into the records compared: by page and
// kind ("landing/callFlows", "landing/VIEW", "next/IDENTITY", "landing/cookie"...; through
// the Edge "landing/personalize", "landing/show.json"), values that differ by nature
// replaced by what they are (the visitor's User-Agent or the sender's own, a bare version,
// 32 hex digits, a timestamp, the visitor's browser ID and guest ref). A request that fits
// no page is kept as "unexpected/..." so that it shows as a difference.
func wireRecords(t *testing.T, reqs []wireRequest, cookies map[string][]string, pages []parityPage) map[string]any {
	t.Helper()
	out := map[string]any{}
	put := func(key string, v any) {
		k := key
		for n := 2; out[k] != nil; n++ {
			k = fmt.Sprintf("%s#%d", key, n)
		}
		out[k] = v
	}
	for _, r := range reqs {
		rec := map[string]any{"request": r.Method + " " + r.Path, "headers": normalizeHeaders(r.Header), "body": normalizeBody(r.Body)}
		if len(r.Query) > 0 {
			rec["query"] = r.Query
		}
		body, _ := r.Body.(map[string]any)
		switch {
		case r.Method == http.MethodPost && (r.Path == "/v2/callFlows" || r.Path == sandbox.PathEdgePersonalize):
			kind := path.Base(r.Path)
			key := "unexpected/" + kind
			for _, p := range pages {
				if p.Flow != "" && body["friendlyId"] == p.Flow {
					key = p.Key + "/" + kind
				}
			}
			put(key, rec)
		case r.Method == http.MethodPost && (r.Path == "/v1.2/events" || r.Path == sandbox.PathEdgeEvents):
			key := fmt.Sprintf("unexpected/%v", body["type"])
			for _, p := range pages {
				u, _ := url.Parse(p.URL)
				if body["page"] == u.Path || body["page"] == path.Base(u.Path) {
					key = fmt.Sprintf("%s/%v", p.Key, body["type"])
				}
			}
			put(key, rec)
		case r.Method == http.MethodGet && strings.HasPrefix(r.Path, sandbox.PathEdgeBrowser) && strings.HasSuffix(r.Path, "/show.json") && r.Page != "":
			rec["request"] = strings.Replace(rec["request"].(string), parityBrowserID, "<the browser ID>", 1)
			put(r.Page+"/show.json", rec)
		default:
			put("unexpected/"+r.Method+" "+r.Path, rec)
		}
	}
	for key, lines := range cookies {
		for _, l := range lines {
			put(key, normalizeCookie(l))
		}
	}
	return out
}

func normalizeHeaders(h http.Header) map[string]any {
	out := map[string]any{}
	for _, name := range parityHeaders {
		v := h.Get(name)
		if v == "" {
			continue
		}
		switch {
		case name == "User-Agent" && v == browserUA:
			v = "<the visitor's User-Agent>"
		case name == "User-Agent":
			v = "<the sender's own>"
		case name == "X-Library-Version" && bareVersion.MatchString(v):
			v = "<a bare version>"
		case name == "X-Sc-Correlation-Id" && correlationID.MatchString(v):
			v = "<32 hex digits>"
		}
		out[name] = v
	}
	return out
}

func normalizeBody(b any) any {
	m, ok := b.(map[string]any)
	if !ok {
		return b
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok && k == "requested_at" && isoMillis.MatchString(s) {
			v = "<ISO 8601, UTC, milliseconds>"
		}
		out[k] = v
	}
	return out
}

// normalizeCookie makes a Set-Cookie line a record: its name, value and attributes (names
// lower-cased, SameSite's value too, flags true, a date replaced by what it is).
func normalizeCookie(line string) map[string]any {
	name, value, attrs := cookieAttrs(line)
	switch value {
	case parityBrowserID:
		value = "<the browser ID>"
	case parityGuestRef:
		value = "<the guest ref>"
	}
	out := map[string]any{"name": name, "value": value}
	for k, v := range attrs {
		switch {
		case v == "":
			out[k] = true
		case k == "samesite":
			out[k] = strings.ToLower(v)
		case k == "expires":
			out[k] = "<a date>"
		default:
			out[k] = v
		}
	}
	return out
}

// checkLibraryTarget checks the library's side of the wire against the format the SDKs and
// the API documentation agree on, with messages that say what is wrong; the comparison with
// Engage covers the same ground value by value.
func checkLibraryTarget(t *testing.T, recs map[string]any) {
	// get reads a value by its path: the record's key (page/kind) and the path inside it.
	get := func(p string) any {
		segs := strings.Split(p, "/")
		if len(segs) < 2 {
			return nil
		}
		var v any = recs[segs[0]+"/"+segs[1]]
		for _, seg := range segs[2:] {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[seg]
		}
		return v
	}
	flows := "landing/callFlows"
	require.NotNil(t, get(flows), "the library called the flow")
	assert.Equal(t, "<the visitor's User-Agent>", get(flows+"/headers/User-Agent"), "callFlows forwards the visitor's User-Agent unchanged")
	assert.Equal(t, "<a bare version>", get(flows+"/headers/X-Library-Version"), "X-Library-Version is a bare version")
	assert.Equal(t, "<32 hex digits>", get(flows+"/headers/X-Sc-Correlation-Id"), "each flow call has a correlation ID")
	assert.Equal(t, interopPOS, get(flows+"/body/pointOfSale"), "pointOfSale is always sent")
	assert.Equal(t, "EN", get(flows+"/body/language"), "language in upper case on flows")
	wantUTM := map[string]any{"source": "newsletter", "campaign": "spring sale", "medium": "email"}
	assert.Equal(t, wantUTM, get(flows+"/body/params/utm"), "params.utm: keys lower-cased, without the prefix, values decoded")
	for k, v := range wantUTM {
		assert.Equal(t, v, get("landing/VIEW/body/utm_"+k), "the VIEW carries utm_%s as the flow carries utm.%s", k, k)
	}
	assert.Equal(t, "EN", get("landing/VIEW/body/language"), "language in upper case on events")
	assert.Equal(t, interopPOS, get("landing/VIEW/body/pos"))
	assert.Equal(t, parityExternal, get("landing/VIEW/body/referrer"), "the landing VIEW names the external referrer")
	assert.Nil(t, get("next/VIEW/body/referrer"), "a later page's VIEW has no referrer")
	assert.Equal(t, "1815-12-10T00:00", get("next/IDENTITY/body/dob"), "dob as YYYY-MM-DDThh:mm")
	ids, _ := get("next/IDENTITY/body/identifiers").([]any)
	require.Len(t, ids, 1, "the IDENTITY's identifiers")
	id, _ := ids[0].(map[string]any)
	assert.Equal(t, "2030-12-31T23:59", id["expiry_date"], "expiry_date as YYYY-MM-DDThh:mm")
	assert.Equal(t, "none", get("landing/cookie/samesite"), "the browser ID cookie is SameSite=None over TLS")
	assert.Equal(t, true, get("landing/cookie/secure"), "and Secure")
	for k := range recs {
		assert.False(t, strings.HasPrefix(k, "unexpected/"), "the library sent %s", k)
	}
}

// wireDiff is one value that differs between the two sides' records; absent is a side that
// has no value there.
type wireDiff struct {
	Path           string
	Library, Other any
}

type absentValue struct{}

func (absentValue) String() string { return "(absent)" }

var absent absentValue

// diffJSON appends the differences between a and b, JSON values, to out: objects key by key,
// arrays of one length element by element, anything else as a whole.
func diffJSON(at string, a, b any, out *[]wireDiff) {
	join := func(k string) string {
		if at == "" {
			return k
		}
		return at + "/" + k
	}
	a, b = canonical(a), canonical(b)
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		for _, k := range sorted {
			av, ina := am[k]
			bv, inb := bm[k]
			switch {
			case !ina:
				*out = append(*out, wireDiff{Path: join(k), Library: absent, Other: bv})
			case !inb:
				*out = append(*out, wireDiff{Path: join(k), Library: av, Other: absent})
			default:
				diffJSON(join(k), av, bv, out)
			}
		}
		return
	}
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok && len(as) == len(bs) {
		for i := range as {
			diffJSON(join(fmt.Sprint(i)), as[i], bs[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, wireDiff{Path: at, Library: a, Other: b})
	}
}

// canonical turns a Go value into the JSON value it encodes as (maps of any, []any, float64).
func canonical(v any) any {
	switch v.(type) {
	case nil, bool, float64, string, map[string]any, []any:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// allowedDifference returns the pattern of allowed that path matches, "" when none.
func allowedDifference(allowed map[string]string, p string) string {
	for pattern := range allowed {
		if ok, _ := path.Match(pattern, p); ok {
			return pattern
		}
	}
	return ""
}

func show(v any) string {
	if v == absent {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// docTableFields returns the first column of the table of doc whose header line has the
// columns header (the rows after it, up to the first line that is not a row), without its
// backticks.
func docTableFields(t *testing.T, doc string, header []string) []string {
	t.Helper()
	b, err := os.ReadFile(doc)
	require.NoError(t, err)
	var fields []string
	in := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case !in && slices.Equal(cells, header):
			in = true
		case in && strings.HasPrefix(line, "|"):
			f := strings.Trim(cells[0], "`")
			if strings.Trim(f, "-: ") == "" {
				continue // the separator line
			}
			fields = append(fields, f)
		case in:
			return fields
		}
	}
	require.True(t, in, "%s has no table with the columns %s", doc, strings.Join(header, ", "))
	return fields
}
