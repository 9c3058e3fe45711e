package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Paths of the Sitecore Edge proxy (edge-platform.sitecorecloud.io) the sandbox answers, as the
// Cloud SDK calls them (see "Sitecore Edge endpoints" in the package documentation). A guest
// reference is read at PathEdgeBrowser + {browserId} + "/show.json".
const (
	PathEdgePersonalize   = "/v1/personalize"
	PathEdgeBrowserCreate = "/v1/events/v1.2/browser/create.json"
	PathEdgeBrowser       = "/v1/events/v1.2/browser/"
	PathEdgeEvents        = "/v1/events/v1.2/events"
)

// edgeShowSuffix ends the path of a guest reference lookup.
const edgeShowSuffix = "/show.json"

// The Edge site a sandbox accepts when WithEdgeSites is not given.
const (
	DefaultContextID = "sandbox-context-id"
	DefaultSiteName  = "sandbox-site"
)

// EdgeSite is a site the sandbox's Edge endpoints accept: the sitecoreContextId a client is
// configured with and the name of one of its sites (the siteId parameter).
type EdgeSite struct {
	ContextID string
	SiteName  string
}

// WithEdgeSites sets the context IDs and site names the Edge endpoints accept, replacing
// DefaultContextID and DefaultSiteName. A context with several sites is listed once per site.
// It panics without a site, or on a site whose context ID or name is blank.
func WithEdgeSites(sites ...EdgeSite) Option {
	if len(sites) == 0 {
		panic("sandbox: WithEdgeSites needs at least one site")
	}
	m := make(map[string]map[string]bool, len(sites))
	for _, site := range sites {
		if strings.TrimSpace(site.ContextID) == "" || strings.TrimSpace(site.SiteName) == "" {
			panic(fmt.Sprintf("sandbox: WithEdgeSites: %+v needs a context ID and a site name", site))
		}
		if m[site.ContextID] == nil {
			m[site.ContextID] = make(map[string]bool)
		}
		m[site.ContextID][site.SiteName] = true
	}
	return func(s *Sandbox) { s.edgeSites = m }
}

// EdgeErrorBody is the error object of the Edge's browser endpoints (create.json and
// show.json): the fields the Cloud SDK reads from a failed show.json (error_msg, moreInfo)
// beside the status, version and clientKey of its answers (core's
// fetch-guest-id-from-edge-proxy.ts, GetGuestRefResponseError). Status is "ERROR" and Code is
// one of the Code* constants: both are the sandbox's own.
type EdgeErrorBody struct {
	Status    string `json:"status"`
	Version   string `json:"version"`
	ClientKey string `json:"clientKey"`
	Code      string `json:"code"`
	ErrorMsg  string `json:"error_msg"`
	MoreInfo  string `json:"moreInfo"`
}

// edgeErrorJSON is e in the shape of EdgeErrorBody.
func edgeErrorJSON(e *apiError) []byte {
	b, _ := json.Marshal(EdgeErrorBody{ // strings only: always marshals
		Status:   "ERROR",
		Version:  "1.2",
		Code:     e.body.Code,
		ErrorMsg: e.body.DeveloperMessage,
		MoreInfo: e.body.MoreInfoURL,
	})
	return b
}

// guestShown is the answer of show.json (core's fetch-guest-id-from-edge-proxy.ts,
// GetGuestRefResponse).
type guestShown struct {
	Status    string `json:"status"`
	Version   string `json:"version"`
	ClientKey string `json:"clientKey"`
	Ref       string `json:"ref"`
	Customer  struct {
		Ref string `json:"ref"`
	} `json:"customer"`
}

// edgeTarget is what an Edge request's query names: the context (tenant) and the site (point
// of sale).
type edgeTarget struct {
	contextID string
	siteName  string
}

// Query parameters of the Edge endpoints.
const (
	paramContextID = "sitecoreContextId"
	paramSiteID    = "siteId"
	paramClientKey = "client_key"
	paramAPIToken  = "api_token"
)

// edgeQuery parses an Edge request's query string. The parameters named in required must be
// present and not blank (400 MISSING_FIELD); a query that is not URL-encoded is refused (400
// INVALID_FIELD). Of a repeated parameter the first counts.
func edgeQuery(rawQuery string, required ...string) (url.Values, *apiError) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, CodeInvalidField, "Bad Request",
			"sandbox: the query string is not URL-encoded (sitecoreContextId=C&siteId=S)")
	}
	for _, name := range required {
		if strings.TrimSpace(q.Get(name)) == "" {
			return q, missingField(name)
		}
	}
	return q, nil
}

// edgeEmpty checks a field the Cloud SDK always sends empty through the Edge (clientKey and
// pointOfSale of a flow call, client_key and pos of an event, the client_key and api_token
// parameters): the Edge names the tenant and point of sale from the context ID and site. A
// non-empty value is refused (400 INVALID_FIELD), and so, with AnswerStrict, is a missing one
// (400 MISSING_FIELD).
func (s *Sandbox) edgeEmpty(name, value string, present bool) *apiError {
	switch {
	case value != "":
		return newAPIError(http.StatusBadRequest, CodeInvalidField, "Bad Request",
			fmt.Sprintf(`sandbox: %s must be "" through the Sitecore Edge, as the Cloud SDK sends it (the context ID and site name the tenant and point of sale), got %q`,
				name, truncate(value, 80)))
	case !present && s.answers == AnswerStrict:
		return newAPIError(http.StatusBadRequest, CodeMissingField, "Bad Request",
			fmt.Sprintf(`sandbox: %s is required through the Sitecore Edge, as "" (the Cloud SDK always sends it)`, name))
	}
	return nil
}

// emptyParams checks, with AnswerStrict, the query parameters the Cloud SDK sends empty
// (client_key=, api_token=); with AnswerLenient they are not read.
func (s *Sandbox) emptyParams(q url.Values, names ...string) *apiError {
	if s.answers == AnswerLenient {
		return nil
	}
	for _, name := range names {
		vs, ok := q[name]
		if e := s.edgeEmpty(name, strings.Join(vs, ""), ok); e != nil {
			return e
		}
	}
	return nil
}

// checkEdgeSite checks an Edge request's context ID (401 INVALID_CONTEXT_ID when unknown)
// and, when needSite, that the site is one of the context's (400 UNKNOWN_SITE). Names are
// matched exactly.
func (s *Sandbox) checkEdgeSite(t edgeTarget, needSite bool) *apiError {
	sites, ok := s.edgeSites[t.contextID]
	if !ok {
		return newAPIError(http.StatusUnauthorized, CodeInvalidContextID, "Unauthorized",
			fmt.Sprintf("sandbox: unknown sitecoreContextId %q (WithEdgeSites)", truncate(t.contextID, 80)))
	}
	if needSite && !sites[t.siteName] {
		return newAPIError(http.StatusBadRequest, CodeUnknownSite, "Bad Request",
			fmt.Sprintf("sandbox: siteId %q is not a site of sitecoreContextId %q (WithEdgeSites)",
				truncate(t.siteName, 80), truncate(t.contextID, 80)))
	}
	return nil
}

// serveEdgeBrowserCreate answers GET /v1/events/v1.2/browser/create.json?sitecoreContextId=C
// &client_key=: a new browser, as the direct browser/create.json makes it, and its guest
// reference: {"status":"OK","version":"1.2","client_key":"","ref":<browser>,
// "customer_ref":<guest>} (core's fetch-browser-id-from-edge-proxy.ts reads ref and
// customer_ref, interfaces.ts EPResponse). Errors are EdgeErrorBody objects.
func (s *Sandbox) serveEdgeBrowserCreate(w http.ResponseWriter, r *http.Request) {
	s.cfgMu.RLock()
	fault := s.global
	s.cfgMu.RUnlock()

	apiErr := onlyMethod(w, r, http.MethodGet, PathEdgeBrowserCreate)
	var q url.Values
	if apiErr == nil {
		q, apiErr = edgeQuery(r.URL.RawQuery, paramContextID)
	}
	if apiErr == nil {
		apiErr = s.emptyParams(q, paramClientKey)
	}
	if apiErr == nil {
		apiErr = s.checkEdgeSite(edgeTarget{contextID: q.Get(paramContextID)}, false)
	}
	status, body := http.StatusOK, []byte(nil)
	switch {
	case apiErr != nil:
		status, body = apiErr.status, edgeErrorJSON(apiErr)
	case fault.needsAnswer():
		id, guest := s.newBrowser()
		body, _ = json.Marshal(browserCreated{Status: "OK", Version: "1.2", Ref: id, CustomerRef: guest})
	}
	status, body = fault.outcome(status, body)
	s.answer(w, r, fault, status, body)
}

// parseShowPath returns the browser ID of a show.json path,
// /v1/events/v1.2/browser/{browserId}/show.json: one non-empty path segment.
func parseShowPath(p string) (browserID string, ok bool) {
	rest, ok := strings.CutPrefix(p, PathEdgeBrowser)
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, edgeShowSuffix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// serveEdgeShow answers GET /v1/events/v1.2/browser/{browserId}/show.json?sitecoreContextId=C
// &client_key=&api_token=: the browser's guest reference, {"status":"OK","version":"1.2",
// "clientKey":"","ref":<browser>,"customer":{"ref":<guest>}} (core's
// fetch-guest-id-from-edge-proxy.ts). A browser the sandbox knows but did not give a guest
// (AddBrowser) gets one on its first lookup, the same ever after. An unknown browser answers
// 404 UNKNOWN_BROWSER. Errors are EdgeErrorBody objects. Any other path under PathEdgeBrowser
// is no endpoint (404 NOT_FOUND).
func (s *Sandbox) serveEdgeShow(w http.ResponseWriter, r *http.Request) {
	id, ok := parseShowPath(r.URL.Path)
	if !ok {
		notFound(w, r)
		return
	}
	s.cfgMu.RLock()
	fault := s.global
	s.cfgMu.RUnlock()

	apiErr := onlyMethod(w, r, http.MethodGet, PathEdgeBrowser+"{browserId}"+edgeShowSuffix)
	var q url.Values
	if apiErr == nil {
		q, apiErr = edgeQuery(r.URL.RawQuery, paramContextID)
	}
	if apiErr == nil {
		apiErr = s.emptyParams(q, paramClientKey, paramAPIToken)
	}
	if apiErr == nil {
		apiErr = s.checkEdgeSite(edgeTarget{contextID: q.Get(paramContextID)}, false)
	}
	var shown guestShown
	if apiErr == nil {
		shown.Ref, shown.Customer.Ref, ok = s.guestOf(id)
		if !ok {
			apiErr = newAPIError(http.StatusNotFound, CodeUnknownBrowser, "Not Found",
				fmt.Sprintf("sandbox: browser %q was not created by this sandbox (browser/create.json)", truncate(id, 80)))
		}
	}
	status, body := http.StatusOK, []byte(nil)
	if apiErr != nil {
		status, body = apiErr.status, edgeErrorJSON(apiErr)
	} else {
		shown.Status, shown.Version = "OK", "1.2"
		body, _ = json.Marshal(shown) // strings only: always marshals
	}
	status, body = fault.outcome(status, body)
	s.answer(w, r, fault, status, body)
}

// serveEdgeEvents answers POST /v1/events/v1.2/events?sitecoreContextId=C&siteId=S: an event
// as POST /v1.2/events takes it, but with client_key and pos "" (the Edge resolves the tenant
// and point of sale from the context and site), checked and recorded the same way, with the
// context ID and site name.
func (s *Sandbox) serveEdgeEvents(w http.ResponseWriter, r *http.Request) {
	raw, apiErr := readJSONBody(w, r, false)
	src := eventSource{edge: &edgeTarget{}}
	if apiErr == nil {
		var q url.Values
		q, apiErr = edgeQuery(r.URL.RawQuery, paramContextID, paramSiteID)
		src.edge.contextID, src.edge.siteName = q.Get(paramContextID), q.Get(paramSiteID)
	}
	s.serveEvent(w, r, raw, apiErr, src)
}

// serveEdgePersonalize answers POST /v1/personalize?sitecoreContextId=C&siteId=S: a flow call
// as POST /v2/callFlows takes it, with clientKey and pointOfSale "", and guestRef and
// variants read.
func (s *Sandbox) serveEdgePersonalize(w http.ResponseWriter, r *http.Request) {
	s.serveFlow(w, r, true)
}

// newBrowser makes a browser and its guest reference, both UUID v4, and lists the browser in
// Browsers.
func (s *Sandbox) newBrowser() (id, guestRef string) {
	id, guestRef = uuid.NewString(), uuid.NewString()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.browsers.set(id, &browserState{guestRef: guestRef})
	s.browserList.push(id)
	return id, guestRef
}

// guestOf returns a known browser's ID (lower case) and guest reference, giving it one when it
// has none yet.
func (s *Sandbox) guestOf(browserID string) (id, guestRef string, ok bool) {
	id = strings.ToLower(browserID)
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.browsers.get(id)
	if !ok {
		return "", "", false
	}
	if b.guestRef == "" {
		b.guestRef = uuid.NewString()
	}
	return id, b.guestRef, true
}

// GuestRef returns the guest reference of a browser the sandbox knows: the customer_ref its
// browser/create.json answered, or the one show.json gave it. It is "" for an unknown browser
// and for one added with AddBrowser whose guest was never looked up.
func (s *Sandbox) GuestRef(browserID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.browsers.get(strings.ToLower(browserID)); ok {
		return b.guestRef
	}
	return ""
}

// notFound answers a path that is no endpoint.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, newAPIError(http.StatusNotFound, CodeNotFound, "Not Found",
		"sandbox: no endpoint at "+truncate(r.URL.Path, 200)))
}
