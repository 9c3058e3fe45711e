package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// eventAccepted is the answer to an accepted event: {"status":"OK","ref":"<uuid>"} for POST
// /v1.2/events, with the version and client key too for GET /v1.2/event/create.json (the
// documentation shows {"status":"OK","version":"1.2", ...}).
type eventAccepted struct {
	Status    string `json:"status"`
	Version   string `json:"version,omitempty"`
	ClientKey string `json:"client_key,omitempty"`
	Ref       string `json:"ref"`
}

// serveEvents answers POST /v1.2/events (the Stream API), whose body is the event object
// with its client_key.
func (s *Sandbox) serveEvents(w http.ResponseWriter, r *http.Request) {
	raw, apiErr := readJSONBody(w, r, false)
	s.serveEvent(w, r, raw, apiErr, eventSource{})
}

// serveEventCreate answers GET /v1.2/event/create.json?client_key=K&message=<event>, the
// documented direct HTTP form of the Stream API: the event object is the URL-encoded message
// parameter and the client key the client_key parameter (a client_key in the message is not
// read). It checks and records the event as POST /v1.2/events does.
func (s *Sandbox) serveEventCreate(w http.ResponseWriter, r *http.Request) {
	src := eventSource{query: true}
	var raw []byte
	apiErr := onlyMethod(w, r, http.MethodGet, PathEventCreate)
	if apiErr == nil {
		if q, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			apiErr = newAPIError(http.StatusBadRequest, CodeInvalidField, "Bad Request",
				"sandbox: the query string is not URL-encoded (client_key=K&message=<URL-encoded JSON event>)")
		} else if msg := q.Get("message"); len(msg) > MaxBodySize {
			apiErr = tooLarge()
		} else {
			raw, src.clientKey = []byte(msg), q.Get("client_key")
		}
	}
	s.serveEvent(w, r, raw, apiErr, src)
}

// eventSource says where an event's client key is: in the event (POST) or in the query (GET);
// or, for the Edge's events, that client_key and pos are "" and the query names the context
// and site instead.
type eventSource struct {
	query     bool
	clientKey string      // the query's, when query
	edge      *edgeTarget // the Edge's query, for POST /v1/events/v1.2/events
}

// serveEvent checks and answers an event. The body must be one JSON object with a known
// client key (401) and the fields every event needs: type (upper-case), browser_id, channel
// (a documented one), language (ISO 639-1), currency, page and pos, all non-empty strings
// (400); an IDENTITY event also needs identifiers, a non-empty array of {id, provider}, and
// its dob and expiry_date must be in the form YYYY-MM-DDThh:mm (400). The browser_id must be
// one the sandbox created (404, as the real API answers for an unknown browser). An accepted
// event is answered 201 and recorded: kept (Events), or dropped (DroppedEvents) when its pos
// is not a declared point of sale or, with AnswerLenient, when it has a problem whose answer
// is undocumented. Through the Edge (src.edge) a known context and site stand for the client
// key, and client_key and pos must be "" (checkEdgeEvent). The fault of SetFault and the one
// of SetEventsFault apply, composed as a flow's.
func (s *Sandbox) serveEvent(w http.ResponseWriter, r *http.Request, raw []byte, apiErr *apiError, src eventSource) {
	s.cfgMu.RLock()
	fault := merge(s.global, s.eventsFault)
	s.cfgMu.RUnlock()

	now := time.Now()
	var (
		ev      EventRecord
		dropped *apiError
		key     string
	)
	if apiErr == nil {
		ev, key, dropped, apiErr = s.checkEvent(raw, src)
	}
	status, body := http.StatusCreated, []byte(nil)
	switch {
	case apiErr != nil:
		status, body = apiErr.status, apiErr.json()
	case fault.needsAnswer():
		ev.Time, ev.Raw, ev.Ref = now, append(json.RawMessage(nil), raw...), uuid.NewString()
		ev.Header = r.Header.Clone()
		if dropped != nil {
			eb := dropped.body
			ev.Dropped = &eb
		}
		answer := eventAccepted{Status: "OK", Ref: ev.Ref}
		if src.query {
			answer.Version, answer.ClientKey = "1.2", key
		}
		body, _ = json.Marshal(answer)
		s.recordEvent(ev)
	}
	status, body = fault.outcome(status, body)
	s.answer(w, r, fault, status, body)
}

// requiredEventFields are the fields every event must carry as non-empty strings
// (personalize-api.md section 4), besides client_key.
var requiredEventFields = [...]string{"type", "browser_id", "channel", "language", "currency", "page", "pos"}

// documentedEventField reports whether the documentation gives the answer to an event
// without this field: 400 for an event without browser_id or type.
func documentedEventField(name string) bool { return name == "type" || name == "browser_id" }

// checkEvent decodes and validates an event, in this order: 400 for a body that is not an
// object or a field of the wrong type; 401 for an unknown client key; 400 for a missing
// required field, a type that is not upper-case, an unknown channel, an invalid language, or an
// IDENTITY without identifiers or with a date not in the form YYYY-MM-DDThh:mm; 404 for an
// unknown browser. It returns the client key, and, for an event to answer 201 but drop, why.
// With AnswerLenient only the documented refusals (no browser_id or type, an unknown browser)
// and a body that is not an object refuse; the other problems drop the event.
func (s *Sandbox) checkEvent(raw []byte, src eventSource) (ev EventRecord, clientKey string, dropped, refused *apiError) {
	if _, apiErr := decodeObject(raw); apiErr != nil {
		return ev, "", nil, apiErr
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev.Body); err != nil || ev.Body == nil {
		return ev, "", nil, newAPIError(http.StatusBadRequest, CodeInvalidJSON, "Bad Request",
			"sandbox: the body must be one JSON object")
	}
	v := verdict{lenient: s.answers == AnswerLenient}
	check := func(e *apiError, documented bool) *apiError {
		if documented {
			return e
		}
		return v.undocumented(e)
	}
	var vals [len(requiredEventFields)]string
	for i, name := range requiredEventFields {
		str, apiErr := eventString(ev.Body, name)
		if e := check(apiErr, documentedEventField(name)); e != nil {
			return ev, "", nil, e
		}
		vals[i] = str
	}
	// Browser IDs are UUIDs: matched without regard to case, recorded in the lower case
	// browser/create.json hands out.
	ev.Type, ev.BrowserID = vals[0], strings.ToLower(vals[1])
	clientKey = src.clientKey
	if !src.query {
		var apiErr *apiError
		clientKey, apiErr = eventString(ev.Body, "client_key")
		if e := check(apiErr, false); e != nil {
			return ev, "", nil, e
		}
	}
	ev.ClientKey = clientKey
	if src.edge != nil {
		ev.ContextID, ev.SiteName = src.edge.contextID, src.edge.siteName
		if e := check(s.checkEdgeEvent(ev.Body, *src.edge, clientKey, vals[6]), false); e != nil {
			return ev, clientKey, nil, e
		}
	} else if !s.knownClientKey(clientKey) {
		e := newAPIError(http.StatusUnauthorized, CodeInvalidClientKey, "Unauthorized",
			fmt.Sprintf("sandbox: unknown client_key %q", truncate(clientKey, 80)))
		if e := check(e, false); e != nil {
			return ev, clientKey, nil, e
		}
	}
	for i, name := range requiredEventFields {
		if name == "pos" && src.edge != nil {
			continue // "" through the Edge: checked by checkEdgeEvent
		}
		if strings.TrimSpace(vals[i]) == "" {
			if e := check(missingField(name), documentedEventField(name)); e != nil {
				return ev, clientKey, nil, e
			}
		}
	}
	var problem *apiError
	switch channel, lang := vals[2], vals[3]; {
	case ev.Type != "" && !upperCaseType(ev.Type):
		problem = newAPIError(http.StatusBadRequest, CodeInvalidField, "Bad Request",
			fmt.Sprintf("sandbox: type %q must be upper-case letters, digits and underscores (VIEW, IDENTITY, ADD_TO_CART)", truncate(ev.Type, 80)))
	case channel != "" && checkChannel("channel", channel) != nil:
		problem = checkChannel("channel", channel)
	case lang != "" && checkLanguage("language", lang) != nil:
		problem = checkLanguage("language", lang)
	case ev.Type == typeIdentity:
		problem = checkIdentifiers(ev.Body["identifiers"])
		if problem == nil {
			problem = checkIdentityFields(ev.Body)
		}
	}
	if e := check(problem, false); e != nil {
		return ev, clientKey, nil, e
	}
	if !s.KnowsBrowser(ev.BrowserID) {
		return ev, clientKey, nil, newAPIError(http.StatusNotFound, CodeUnknownBrowser, "Not Found",
			"sandbox: browser_id was not created by this API (browser/create.json)")
	}
	ev.PageVariantID = pageVariantID(ev)
	if v.noted != nil {
		return ev, clientKey, v.noted, nil
	}
	// Documented: an event with a pos the tenant does not have is answered 201 and dropped.
	// Through the Edge the site names the point of sale.
	if pos := vals[6]; src.edge == nil && !s.knownPointOfSale(pos) {
		return ev, clientKey, unknownPointOfSale("pos", pos), nil
	}
	return ev, clientKey, nil, nil
}

// checkEdgeEvent checks what an event sent through the Edge has instead of a client key and
// point of sale: a known context ID (401) and site (400), and client_key and pos "" as the
// Cloud SDK sends them (base-event.ts; edgeEmpty).
func (s *Sandbox) checkEdgeEvent(body map[string]any, t edgeTarget, clientKey, pos string) *apiError {
	if e := s.checkEdgeSite(t, true); e != nil {
		return e
	}
	if e := s.edgeEmpty("client_key", clientKey, body["client_key"] != nil); e != nil {
		return e
	}
	return s.edgeEmpty("pos", pos, body["pos"] != nil)
}

// pageVariantID is a VIEW event's ext.pageVariantId, "" when it has none.
func pageVariantID(ev EventRecord) string {
	if ev.Type != "VIEW" {
		return ""
	}
	ext, _ := ev.Body["ext"].(map[string]any)
	id, _ := ext["pageVariantId"].(string)
	return id
}

// typeIdentity is the type of the event that links a browser to a known guest.
const typeIdentity = "IDENTITY"

// eventString returns a field of an event that must be a string when present ("" when absent
// or null).
func eventString(body map[string]any, name string) (string, *apiError) {
	v, ok := body[name]
	if !ok || v == nil {
		return "", nil
	}
	str, ok := v.(string)
	if !ok {
		return "", invalidField(name, "a string")
	}
	return str, nil
}

// upperCaseType: an upper-case letter, then upper-case letters, digits and underscores.
func upperCaseType(t string) bool {
	if t == "" || t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkIdentifiers checks an IDENTITY event's identifiers: a non-empty array of objects whose
// id and provider are non-empty strings.
func checkIdentifiers(v any) *apiError {
	if v == nil {
		return missingField("identifiers")
	}
	list, ok := v.([]any)
	if !ok {
		return invalidField("identifiers", "an array of {id, provider}")
	}
	if len(list) == 0 {
		return newAPIError(http.StatusBadRequest, CodeMissingField, "Bad Request",
			"sandbox: identifiers must hold at least one {id, provider}")
	}
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return invalidField(fmt.Sprintf("identifiers[%d]", i), "an object {id, provider}")
		}
		for _, name := range []string{"id", "provider"} {
			str, ok := obj[name].(string)
			if !ok || strings.TrimSpace(str) == "" {
				return invalidField(fmt.Sprintf("identifiers[%d].%s", i, name), "a non-empty string")
			}
		}
	}
	return nil
}

func missingField(name string) *apiError {
	return newAPIError(http.StatusBadRequest, CodeMissingField, "Bad Request",
		"sandbox: "+name+" is required")
}

func (s *Sandbox) recordEvent(ev EventRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.Dropped != nil {
		s.dropped.push(ev)
		return
	}
	s.events.push(ev)
	if b, ok := s.browsers.get(strings.ToLower(ev.BrowserID)); ok {
		b.events = append(b.events, ev)
		if len(b.events) > MaxBrowserEvents {
			b.events = append(b.events[:0:0], b.events[len(b.events)-MaxBrowserEvents:]...)
		}
	}
}
