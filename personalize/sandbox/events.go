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

// serveEvents answers POST /v1.2/events (the Stream API): a JSON object with type and
// browser_id (400 without), a known client_key (401), a browser_id the sandbox created (404,
// as the real API answers for an unknown browser), channel and pos (400). An accepted event
// is recorded and answered 201 {"status":"OK","ref":"<uuid>"}.
func (s *Sandbox) serveEvents(w http.ResponseWriter, r *http.Request) {
	s.cfgMu.RLock()
	fault := s.global
	s.cfgMu.RUnlock()

	now := time.Now()
	raw, apiErr := readJSONBody(w, r, false)
	var ev Event
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

// checkEvent decodes and validates an event body.
func (s *Sandbox) checkEvent(raw []byte) (Event, *apiError) {
	var ev Event
	if _, apiErr := decodeObject(raw); apiErr != nil {
		return ev, apiErr
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev.Body); err != nil || ev.Body == nil {
		return ev, newAPIError(http.StatusBadRequest, CodeInvalidJSON, "Bad Request",
			"sandbox: the body must be one JSON object")
	}
	field := func(name string) (string, *apiError) {
		v, ok := ev.Body[name]
		if !ok || v == nil {
			return "", nil
		}
		str, ok := v.(string)
		if !ok {
			return "", invalidField(name, "a string")
		}
		return str, nil
	}
	var vals [5]string
	for i, name := range []string{"type", "browser_id", "client_key", "channel", "pos"} {
		v, apiErr := field(name)
		if apiErr != nil {
			return ev, apiErr
		}
		vals[i] = v
	}
	ev.Type, ev.BrowserID = vals[0], vals[1]
	for i, name := range []string{"type", "browser_id"} {
		if strings.TrimSpace(vals[i]) == "" {
			return ev, missingField(name)
		}
	}
	if !s.knownClientKey(vals[2]) {
		return ev, newAPIError(http.StatusUnauthorized, CodeInvalidClientKey, "Unauthorized",
			fmt.Sprintf("sandbox: unknown client_key %q", truncate(vals[2], 80)))
	}
	if !s.KnowsBrowser(ev.BrowserID) {
		return ev, newAPIError(http.StatusNotFound, CodeUnknownBrowser, "Not Found",
			"sandbox: browser_id was not created by this API (browser/create.json)")
	}
	for i, name := range []string{"channel", "pos"} {
		if strings.TrimSpace(vals[3+i]) == "" {
			return ev, missingField(name)
		}
	}
	return ev, nil
}

func missingField(name string) *apiError {
	return newAPIError(http.StatusBadRequest, CodeMissingField, "Bad Request",
		"sandbox: "+name+" is required")
}

func (s *Sandbox) recordEvent(ev Event) {
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
