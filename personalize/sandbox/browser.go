package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// browserCreated is the answer of browser/create.json.
type browserCreated struct {
	Status      string `json:"status"`
	Version     string `json:"version"`
	ClientKey   string `json:"client_key"`
	Ref         string `json:"ref"`
	CustomerRef string `json:"customer_ref"`
}

// serveBrowserCreate answers GET /v1.2/browser/create.json?client_key=K&message={}: a new
// browser ID (ref) and guest reference (customer_ref), both UUID v4; the Edge's show.json
// answers the same guest reference for the browser. An unknown or missing client key answers
// 401, as the real API does.
func (s *Sandbox) serveBrowserCreate(w http.ResponseWriter, r *http.Request) {
	s.cfgMu.RLock()
	fault := s.global
	s.cfgMu.RUnlock()

	status, body := http.StatusOK, []byte(nil)
	key := r.URL.Query().Get("client_key")
	switch e := onlyMethod(w, r, http.MethodGet, PathBrowserCreate); {
	case e != nil:
		status, body = e.status, e.json()
	case !s.knownClientKey(key):
		e := newAPIError(http.StatusUnauthorized, CodeInvalidClientKey, "Unauthorized",
			fmt.Sprintf("sandbox: unknown client_key %q", truncate(key, 80)))
		status, body = e.status, e.json()
	case fault.needsAnswer():
		id, guest := s.newBrowser()
		body, _ = json.Marshal(browserCreated{
			Status:      "OK",
			Version:     "1.2",
			ClientKey:   key,
			Ref:         id,
			CustomerRef: guest,
		})
	}
	status, body = fault.outcome(status, body)
	s.answer(w, r, fault, status, body)
}
