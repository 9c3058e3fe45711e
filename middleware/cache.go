package middleware

import (
	"net/http"
	"strings"
)

// cacheHeaders marks a response that is one visitor's: the configured Cache-Control unless the
// handler chose its own, and Vary: Cookie so that a cache allowed to keep it (by the handler's
// own Cache-Control) never serves one visitor's page to another. A response that sets a
// cookie (cookie) must not be stored by a shared cache whatever the handler said: unless its
// Cache-Control already says private or no-store, "public" gives way to "private" (a
// handler's max-age still lets the visitor's own browser keep it).
func (m *Middleware) cacheHeaders(h http.Header, cookie bool) {
	switch cc := h.Values("Cache-Control"); {
	case len(cc) == 0:
		h.Set("Cache-Control", m.cfg.cacheControl)
	case cookie && !hasDirective(cc, "private") && !hasDirective(cc, "no-store"):
		directives := []string{"private"}
		for _, line := range cc {
			for d := range strings.SplitSeq(line, ",") {
				if d = strings.TrimSpace(d); d != "" && !strings.EqualFold(d, "public") {
					directives = append(directives, d)
				}
			}
		}
		h.Set("Cache-Control", strings.Join(directives, ", "))
	}
	if !varies(h, "Cookie") {
		h.Add("Vary", "Cookie")
	}
}

// hasDirective reports whether the Cache-Control lines hold the directive (without regard to
// case, with or without a value).
func hasDirective(lines []string, directive string) bool {
	for _, line := range lines {
		for line != "" {
			var d string
			d, line, _ = strings.Cut(line, ",")
			name, _, _ := strings.Cut(d, "=")
			if strings.EqualFold(strings.TrimSpace(name), directive) {
				return true
			}
		}
	}
	return false
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
