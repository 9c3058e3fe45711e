package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// eventAccepted is the answer to an accepted event.
type eventAccepted struct {
	Status string `json:"status"`
	Ref    string `json:"ref"`
}

// serveEvents answers POST /v1.2/events (the Stream API). The body must be one JSON object
// with a known client_key (401) and the fields every event needs: type (upper-case), browser_id,
// channel, language, currency, page and pos, all non-empty strings (400); an IDENTITY event
// also needs identifiers, a non-empty array of {id, provider} (400). The browser_id must be one
// the sandbox created (404, as the real API answers for an unknown browser). An accepted event
// is recorded and answered 201 {"status":"OK","ref":"<uuid>"}. The fault of SetFault and the
// one of SetEventsFault apply, composed as a flow's.
func (s *Sandbox) serveEvents(w http.ResponseWriter, r *http.Request) {
	s.cfgMu.RLock()
	fault := merge(s.global, s.eventsFault)
	s.cfgMu.RUnlock()

	now := time.Now()
	raw, apiErr := readJSONBody(w, r, false)
	var ev EventRecord
	if apiErr == nil {
		ev, apiErr = s.checkEvent(raw)
	}
	status, body := http.StatusCreated, []byte(nil)
	switch {
	case apiErr != nil:
		status, body = apiErr.status, apiErr.json()
	case fault.needsAnswer():
		ev.Time, ev.Raw, ev.Ref = now, append(json.RawMessage(nil), raw...), uuid.NewString()
		body, _ = json.Marshal(eventAccepted{Status: "OK", Ref: ev.Ref})
		s.recordEvent(ev)
	}
	status, body = fault.outcome(status, body)
	s.answer(w, r, fault, status, body)
}

// requiredEventFields are the fields every event must carry as non-empty strings
// (personalize-api.md section 4), besides client_key.
var requiredEventFields = [...]string{"type", "browser_id", "channel", "language", "currency", "page", "pos"}

// checkEvent decodes and validates an event body: 400 for a body that is not an object, a
// field of the wrong type, a missing required field, a type that is not upper-case or an
// IDENTITY without identifiers; 401 for an unknown client_key; 404 for an unknown browser.
func (s *Sandbox) checkEvent(raw []byte) (EventRecord, *apiError) {
	var ev EventRecord
	if _, apiErr := decodeObject(raw); apiErr != nil {
		return ev, apiErr
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev.Body); err != nil || ev.Body == nil {
		return ev, newAPIError(http.StatusBadRequest, CodeInvalidJSON, "Bad Request",
			"sandbox: the body must be one JSON object")
	}
	var vals [len(requiredEventFields)]string
	for i, name := range requiredEventFields {
		v, apiErr := eventString(ev.Body, name)
		if apiErr != nil {
			return ev, apiErr
		}
		vals[i] = v
	}
	clientKey, apiErr := eventString(ev.Body, "client_key")
	if apiErr != nil {
		return ev, apiErr
	}
	// Browser IDs are UUIDs: matched without regard to case, recorded in the lower case
	// browser/create.json hands out.
	ev.Type, ev.BrowserID = vals[0], strings.ToLower(vals[1])
	if !s.knownClientKey(clientKey) {
		return ev, newAPIError(http.StatusUnauthorized, CodeInvalidClientKey, "Unauthorized",
			fmt.Sprintf("sandbox: unknown client_key %q", truncate(clientKey, 80)))
	}
	for i, name := range requiredEventFields {
		if strings.TrimSpace(vals[i]) == "" {
			return ev, missingField(name)
		}
	}
	if !upperCaseType(ev.Type) {
		return ev, newAPIError(http.StatusBadRequest, CodeInvalidField, "Bad Request",
			fmt.Sprintf("sandbox: type %q must be upper-case letters, digits and underscores (VIEW, IDENTITY, ADD_TO_CART)", truncate(ev.Type, 80)))
	}
	if ev.Type == typeIdentity {
		if apiErr := checkIdentifiers(ev.Body["identifiers"]); apiErr != nil {
			return ev, apiErr
		}
	}
	if !s.KnowsBrowser(ev.BrowserID) {
		return ev, newAPIError(http.StatusNotFound, CodeUnknownBrowser, "Not Found",
			"sandbox: browser_id was not created by this API (browser/create.json)")
	}
	return ev, nil
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
	s.events.push(ev)
	if b, ok := s.browsers.get(strings.ToLower(ev.BrowserID)); ok {
		b.events = append(b.events, ev)
		if len(b.events) > MaxBrowserEvents {
			b.events = append(b.events[:0:0], b.events[len(b.events)-MaxBrowserEvents:]...)
		}
	}
}
