package middleware

import (
	"net/http"
	"strings"
)

// cacheHeaders marks a response for which a flow ran: the configured Cache-Control unless the
// handler chose its own, and Vary: Cookie so that a cache allowed to keep it (by the handler's
// own Cache-Control) never serves one visitor's page to another.
func (m *Middleware) cacheHeaders(h http.Header) {
	if len(h["Cache-Control"]) == 0 {
		h.Set("Cache-Control", m.cfg.cacheControl)
	}
	if !varies(h, "Cookie") {
		h.Add("Vary", "Cookie")
	}
}

// varies reports whether the Vary headers already name field (or "*").
func varies(h http.Header, field string) bool {
	for _, line := range h["Vary"] {
		for line != "" {
			var f string
			f, line, _ = strings.Cut(line, ",")
			f = strings.TrimSpace(f)
			if f == "*" || strings.EqualFold(f, field) {
				return true
			}
		}
	}
	return false
}
