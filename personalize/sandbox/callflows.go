package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-personalize/sdk/internal/browserid"
)

// MaxBodySize is the largest request body the sandbox reads (callFlows and events); a larger
// one answers 413.
const MaxBodySize = 1 << 20

// serveCallFlows answers POST /v2/callFlows.
func (s *Sandbox) serveCallFlows(w http.ResponseWriter, r *http.Request) {
	s.serveFlow(w, r, false)
}

// serveFlow answers a flow call: POST /v2/callFlows, or, when edge, the Edge's POST
// /v1/personalize, whose query names the context and site and whose body has clientKey and
// pointOfSale "" and may have guestRef and variants. Every request is recorded, rejected ones
// too, before the answer is written so a caller that got its answer finds the record.
func (s *Sandbox) serveFlow(w http.ResponseWriter, r *http.Request, edge bool) {
	call := CallRecord{Time: time.Now(), Path: r.URL.Path, Header: r.Header.Clone()}

	raw, apiErr := readJSONBody(w, r, true)
	call.Body, call.BodySize = capped(raw), len(raw)
	var target edgeTarget
	if edge {
		q, qErr := edgeQuery(r.URL.RawQuery, paramContextID, paramSiteID)
		target = edgeTarget{contextID: q.Get(paramContextID), siteName: q.Get(paramSiteID)}
		if apiErr == nil {
			apiErr = qErr
		}
	}
	var (
		req     Request
		members map[string]json.RawMessage
	)
	if apiErr == nil {
		req, members, apiErr = parseCallFlows(raw, edge)
	}
	req.ContextID, req.SiteName = target.contextID, target.siteName
	// The answers to an unknown client key (or context or site), point of sale, channel,
	// language or flow are undocumented: refused with AnswerStrict, answered 200 {} with
	// AnswerLenient.
	v := verdict{lenient: s.answers == AnswerLenient}
	switch {
	case apiErr != nil:
	case edge:
		apiErr = v.undocumented(s.checkEdgeSite(target, true))
	case !s.knownClientKey(req.ClientKey):
		apiErr = v.undocumented(newAPIError(http.StatusUnauthorized, CodeInvalidClientKey, "Unauthorized",
			"sandbox: unknown clientKey "+fmt.Sprintf("%q", truncate(req.ClientKey, 80))))
	}
	if apiErr == nil {
		apiErr = validateCallFlows(&req)
	}
	if apiErr == nil && edge {
		apiErr = v.undocumented(s.checkEdgeCallSettings(&req, members))
	} else if apiErr == nil {
		apiErr = v.undocumented(s.checkCallSettings(&req))
	}

	s.cfgMu.RLock()
	fault := s.global
	fl := s.flows[req.FriendlyID]
	flowFault, overridden := s.flowFaults[req.FriendlyID]
	s.cfgMu.RUnlock()

	if apiErr == nil && fl == nil {
		apiErr = v.undocumented(newAPIError(http.StatusNotFound, CodeFlowNotFound, "Not Found",
			fmt.Sprintf("sandbox: no flow with friendlyId %q", truncate(req.FriendlyID, 120))))
	}
	status, body := http.StatusOK, []byte(nil)
	switch {
	case apiErr == nil && v.noted != nil:
		// AnswerLenient: no personalization, and the record says what was wrong.
		body, call.Code = emptyResponse, v.noted.body.Code
	case apiErr == nil:
		req.UTMShape = fl.utmShape
		if !overridden {
			flowFault = fl.fault
		}
		fault = merge(fault, flowFault)
		call.KnownBrowser = s.identify(&req)
		if fault.needsAnswer() {
			t, err := fl.choose(&req)
			if err != nil {
				apiErr = newAPIError(http.StatusInternalServerError, CodeRulePanic, "Internal Server Error", err.Error())
			} else {
				body = s.renderResponse(r, &req, t)
			}
		}
	}
	if apiErr != nil {
		status, body = apiErr.status, apiErr.json()
		call.Code = apiErr.body.Code
	}
	call.FriendlyID = req.FriendlyID
	call.Request = req
	call.Fault = fault.String()
	status, body = fault.outcome(status, body)
	call.Status, call.Response, call.ResponseSize = status, capped(body), len(body)
	s.recordCall(call, fl != nil)

	s.answer(w, r, fault, status, body)
}

// readJSONBody reads a request body of at most MaxBodySize bytes that must be JSON: the
// method must be POST and, when strict, the Content-Type application/json.
func readJSONBody(w http.ResponseWriter, r *http.Request, strict bool) ([]byte, *apiError) {
	if e := onlyMethod(w, r, http.MethodPost, r.URL.Path); e != nil {
		return nil, e
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" && (strict || mt != "text/plain") {
		return nil, newAPIError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Unsupported Media Type",
			"sandbox: Content-Type must be application/json")
	}
	if r.ContentLength > MaxBodySize {
		return nil, tooLarge()
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge()
		}
		return nil, newAPIError(http.StatusBadRequest, CodeInvalidJSON, "Bad Request",
			"sandbox: the body could not be read")
	}
	return raw, nil
}

func tooLarge() *apiError {
	return newAPIError(http.StatusRequestEntityTooLarge, CodePayloadTooLarge, "Payload Too Large",
		fmt.Sprintf("sandbox: the body is over %d bytes", MaxBodySize))
}

// decodeObject decodes raw, which must be exactly one JSON object, into its members.
func decodeObject(raw []byte) (map[string]json.RawMessage, *apiError) {
	trimmed := bytes.TrimSpace(raw)
	var m map[string]json.RawMessage
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &m) != nil || m == nil {
		return nil, newAPIError(http.StatusBadRequest, CodeInvalidJSON, "Bad Request",
			"sandbox: the body must be one JSON object")
	}
	return m, nil
}

// parseCallFlows decodes a flow call's body, a JSON object whose known fields have the right
// types, and returns its members too. Unknown fields are ignored, as the API does: guestRef
// and variants are known only through the Edge (edge), where the Cloud SDK sends them
// (personalizer.ts, EPCallFlowsBody).
func parseCallFlows(raw []byte, edge bool) (Request, map[string]json.RawMessage, *apiError) {
	var req Request
	m, apiErr := decodeObject(raw)
	if apiErr != nil {
		return req, nil, apiErr
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"clientKey", &req.ClientKey},
		{"channel", &req.Channel},
		{"language", &req.Language},
		{"currencyCode", &req.CurrencyCode},
		{"pointOfSale", &req.PointOfSale},
		{"friendlyId", &req.FriendlyID},
		{"browserId", &req.BrowserID},
		{"email", &req.Email},
	} {
		if err := stringField(m, f.name, f.dst); err != nil {
			return req, m, err
		}
	}
	if v, ok := m["identifiers"]; ok && !isNull(v) {
		var ids map[string]json.RawMessage
		if json.Unmarshal(v, &ids) != nil || ids == nil {
			return req, m, invalidField("identifiers", "an object {id, provider}")
		}
		req.Identifiers = &Identifiers{}
		if stringField(ids, "id", &req.Identifiers.ID) != nil || stringField(ids, "provider", &req.Identifiers.Provider) != nil {
			return req, m, invalidField("identifiers", "an object whose id and provider are strings")
		}
	}
	if v, ok := m["params"]; ok && !isNull(v) {
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if dec.Decode(&req.Params) != nil || req.Params == nil {
			return req, m, invalidField("params", "an object")
		}
	}
	if !edge {
		return req, m, nil
	}
	if err := stringField(m, "guestRef", &req.GuestRef); err != nil {
		return req, m, err
	}
	if v, ok := m["variants"]; ok && !isNull(v) {
		variants, ok := parseVariants(v)
		if !ok {
			return req, m, invalidField("variants", `an array of non-empty strings (variant IDs, ["<pageId>_en_default"])`)
		}
		req.Variants = variants
	}
	return req, m, nil
}

// parseVariants decodes a variants field: an array of non-empty strings.
func parseVariants(v json.RawMessage) ([]string, bool) {
	var list []*string // a null element decodes to nil, not ""
	if json.Unmarshal(v, &list) != nil || list == nil {
		return nil, false
	}
	out := make([]string, len(list))
	for i, p := range list {
		if p == nil || *p == "" {
			return nil, false
		}
		out[i] = *p
	}
	return out, true
}

// checkCallSettings checks a decoded body's point of sale (required, and one of
// WithPointsOfSale when they are declared), channel and language (optional: the documentation
// says channel defaults to WEB, and the Cloud SDK may leave language out).
func (s *Sandbox) checkCallSettings(req *Request) *apiError {
	switch {
	case strings.TrimSpace(req.PointOfSale) == "":
		return missingField("pointOfSale")
	case !s.knownPointOfSale(req.PointOfSale):
		return unknownPointOfSale("pointOfSale", req.PointOfSale)
	case req.Channel != "" && checkChannel("channel", req.Channel) != nil:
		return checkChannel("channel", req.Channel)
	case req.Language != "" && checkLanguage("language", req.Language) != nil:
		return checkLanguage("language", req.Language)
	}
	return nil
}

// checkEdgeCallSettings checks what checkCallSettings checks of a flow call through the
// Edge: clientKey and pointOfSale must be "" (edgeEmpty), the channel and language as for
// callFlows.
func (s *Sandbox) checkEdgeCallSettings(req *Request, members map[string]json.RawMessage) *apiError {
	for _, f := range []struct{ name, value string }{{"clientKey", req.ClientKey}, {"pointOfSale", req.PointOfSale}} {
		v, ok := members[f.name]
		if e := s.edgeEmpty(f.name, f.value, ok && !isNull(v)); e != nil {
			return e
		}
	}
	switch {
	case req.Channel != "" && checkChannel("channel", req.Channel) != nil:
		return checkChannel("channel", req.Channel)
	case req.Language != "" && checkLanguage("language", req.Language) != nil:
		return checkLanguage("language", req.Language)
	}
	return nil
}

// validateCallFlows checks what the API requires of a decoded body.
func validateCallFlows(req *Request) *apiError {
	if strings.TrimSpace(req.FriendlyID) == "" {
		return newAPIError(http.StatusBadRequest, CodeMissingField, "Bad Request",
			"sandbox: friendlyId is required")
	}
	n := 0
	if req.BrowserID != "" {
		n++
	}
	if req.Email != "" {
		n++
	}
	if req.Identifiers != nil {
		n++
	}
	if n != 1 {
		return newAPIError(http.StatusBadRequest, CodeInvalidIdentity, "Bad Request",
			fmt.Sprintf("sandbox: exactly one of browserId, email and identifiers is required, got %d", n))
	}
	switch {
	case req.BrowserID != "" && !browserid.Valid(req.BrowserID):
		return newAPIError(http.StatusBadRequest, CodeInvalidBrowserID, "Bad Request",
			"sandbox: browserId must be a UUID (8-4-4-4-12 hexadecimal digits)")
	case req.Email != "" && !strings.Contains(req.Email, "@"):
		return newAPIError(http.StatusBadRequest, CodeInvalidIdentity, "Bad Request",
			"sandbox: email is not an email address")
	case req.Identifiers != nil && (req.Identifiers.ID == "" || req.Identifiers.Provider == ""):
		return newAPIError(http.StatusBadRequest, CodeInvalidIdentity, "Bad Request",
			"sandbox: identifiers need both an id and a provider")
	}
	return nil
}

func stringField(m map[string]json.RawMessage, name string, dst *string) *apiError {
	v, ok := m[name]
	if !ok || isNull(v) {
		return nil
	}
	if json.Unmarshal(v, dst) != nil {
		return invalidField(name, "a string")
	}
	return nil
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func invalidField(name, want string) *apiError {
	return newAPIError(http.StatusBadRequest, CodeInvalidField, "Bad Request",
		fmt.Sprintf("sandbox: %s must be %s", name, want))
}

// identify counts this call for the request's identity and gives the request the browser's
// events. It reports whether the browser ID is one the sandbox knows.
func (s *Sandbox) identify(req *Request) (known bool) {
	key := req.identityKey() + "\x00" + req.FriendlyID
	s.mu.Lock()
	defer s.mu.Unlock()
	n, _ := s.identities.get(key)
	n++
	s.identities.set(key, n)
	req.CallCount = n
	if req.BrowserID != "" {
		// A UUID: matched without regard to case, recorded in lower case.
		req.BrowserID = strings.ToLower(req.BrowserID)
		if b, ok := s.browsers.get(req.BrowserID); ok {
			known = true
			req.Events = append([]EventRecord(nil), b.events...)
		}
	}
	return known
}

func (s *Sandbox) recordCall(c CallRecord, defined bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.push(c)
	s.totalCalls++
	if defined {
		s.callCounts[c.FriendlyID]++
	}
}

// trackerToken is what a tracking link's token holds, base64url-encoded JSON like the
// "eyJjaGFubmVsIj..." tokens of Sitecore's documentation.
type trackerToken struct {
	Channel     string `json:"channel"`
	ClientKey   string `json:"clientKey"`
	BrowserID   string `json:"browserId"`
	FriendlyID  string `json:"friendlyId"`
	Offer       string `json:"offer"`
	Destination string `json:"destination"`
}

func (t trackerToken) encode() string {
	b, _ := json.Marshal(t) // strings only: always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// renderResponse writes the flow's response with a tracking link minted for each offer that
// asks for one and guest placeholders filled from the browser's latest IDENTITY event.
func (s *Sandbox) renderResponse(r *http.Request, req *Request, t *template) []byte {
	if len(t.holes) == 0 {
		return t.raw
	}
	base := s.baseURL(r)
	var (
		identity     map[string]any
		identityRead bool
	)
	var buf bytes.Buffer
	buf.Grow(len(t.raw) + len(t.holes)*256)
	t.render(&buf, func(h *hole) string {
		dest := h.destination
		if dest == "" && s.trackerDest != nil {
			var offer map[string]any
			if json.Unmarshal(h.offer, &offer) == nil {
				dest = s.trackerDest(offer)
			}
		}
		token := trackerToken{
			Channel:     req.Channel,
			ClientKey:   req.ClientKey,
			BrowserID:   req.BrowserID,
			FriendlyID:  req.FriendlyID,
			Offer:       h.name,
			Destination: dest,
		}.encode()
		s.mu.Lock()
		s.tokens.set(token, h.offer)
		if dest != "" && dest != h.destination {
			s.minted.set(dest, struct{}{})
		}
		s.mu.Unlock()
		return base + PathTrackers + token
	}, func(name string) string {
		if !identityRead {
			identity, identityRead = latestIdentity(req.Events), true
		}
		return guestValue(identity, name)
	})
	return buf.Bytes()
}

// baseURL is the base of minted links: WithPublicURL, or the request's scheme and host.
func (s *Sandbox) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0]), "https") {
		scheme = "https"
	}
	host := r.Host
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

// validHost accepts host names, IPv4 and bracketed IPv6 addresses with an optional port.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}
