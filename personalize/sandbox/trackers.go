package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxTokenLen bounds the tokens the tracker decodes.
const maxTokenLen = 8 << 10

var errBadToken = errors.New("sandbox: bad tracking token")

// decodeToken reads a tracking link's token: base64url (padding optional) of a JSON object.
func decodeToken(tok string) (trackerToken, error) {
	var t trackerToken
	tok = strings.TrimRight(tok, "=")
	if tok == "" || len(tok) > maxTokenLen {
		return t, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return t, errBadToken
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &t) != nil {
		return t, errBadToken
	}
	return t, nil
}

// serveTracker answers GET /v3/trackers/{token}: it records the click and redirects (302) to
// the offer's destination. The destination must be a site path ("/..." but not "//...") or an
// http(s) URL that an offer of the sandbox named; anything else (javascript:, data:, a host no
// offer named) goes to "/", so a tracking link is never an open redirect.
func (s *Sandbox) serveTracker(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		badTracker(w, http.StatusMethodNotAllowed, "Tracking links are followed with GET.")
		return
	}
	tok := strings.TrimPrefix(r.URL.Path, PathTrackers)
	t, err := decodeToken(tok)
	if err != nil {
		badTracker(w, http.StatusBadRequest, "This tracking link is not valid.")
		return
	}
	dest := "/"
	if d, ok := safeDestination(t.Destination); ok && (d[0] == '/' || s.namedDestination(d)) {
		dest = d
	}
	if r.Method == http.MethodGet {
		s.recordClick(ClickRecord{
			Time:        time.Now(),
			Token:       tok,
			BrowserID:   t.BrowserID,
			FriendlyID:  t.FriendlyID,
			OfferName:   t.Offer,
			Destination: dest,
		})
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, dest, http.StatusFound)
}

// safeDestination accepts a site path ("/x", not "//x" or "/\x") or an absolute http(s) URL
// without user info, free of control characters, spaces and backslashes.
func safeDestination(d string) (string, bool) {
	if d == "" || len(d) > 4096 {
		return "", false
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	if d[0] == '/' {
		return d, len(d) == 1 || d[1] != '/'
	}
	u, err := url.Parse(d)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		return "", false
	}
	return d, true
}

// namedDestination reports whether a flow's offer or WithTrackerDestination named d.
func (s *Sandbox) namedDestination(d string) bool {
	s.cfgMu.RLock()
	named := s.destinations[d]
	s.cfgMu.RUnlock()
	if named {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.minted.get(d)
	return ok
}

func (s *Sandbox) recordClick(c ClickRecord) {
	s.mu.Lock()
	offer, ok := s.tokens.get(c.Token)
	s.mu.Unlock()
	if ok {
		dec := json.NewDecoder(bytes.NewReader(offer))
		dec.UseNumber()
		_ = dec.Decode(&c.Offer) // the offer was valid JSON when the flow was added
	}
	s.mu.Lock()
	s.clicks.push(c)
	s.mu.Unlock()
}

// badTracker answers a small HTML page: tracking links are followed by people.
func badTracker(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html>\n<meta charset=\"utf-8\">\n<title>Tracking link</title>\n<p>" +
		msg + " <a href=\"/\">Go to the home page</a>.</p>\n"))
}
