package middleware

import (
	"net/http"
	"strings"

	"github.com/go-personalize/sdk/internal/browserid"
	"github.com/go-personalize/sdk/internal/seam"
)

// cookieValues calls yield with the value of every cookie called name in the request's Cookie
// headers, in order, until yield returns false.
func cookieValues(h http.Header, name string, yield func(string) bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || strings.TrimSpace(k) != name {
				continue
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if !yield(v) {
				return
			}
		}
	}
}

// cookieBrowserID returns the first well-formed browser ID in a cookie called name, or "".
// Malformed, overlong, empty and foreign values are ignored. It runs on every request, so it
// looks for the name directly instead of splitting the header into pairs, and allocates
// nothing.
func cookieBrowserID(h http.Header, name string) string {
	for _, line := range h["Cookie"] {
		for i := 0; i < len(line); {
			j := strings.Index(line[i:], name)
			if j < 0 {
				break
			}
			j += i
			i = j + len(name)
			// The name must start a pair: at the start of the line or after "; ". Inside a
			// value it is preceded by something else, since values hold no ';'.
			k := j
			for k > 0 && isSpace(line[k-1]) {
				k--
			}
			if k > 0 && line[k-1] != ';' {
				continue
			}
			v := strings.TrimLeft(line[i:], " \t\r\n")
			if v == "" || v[0] != '=' {
				continue
			}
			v = v[1:]
			if end := strings.IndexByte(v, ';'); end >= 0 {
				v = v[:end]
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if browserid.Valid(v) {
				// A UUID's hex digits are case-insensitive; Sitecore hands them out in lower
				// case, and the API gets them so (ToLower allocates only for upper case).
				return strings.ToLower(v)
			}
		}
	}
	return ""
}

// isSpace reports whether c is white space around a cookie pair, as net/http trims it.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// hasCookie reports whether the request carries a cookie called name, whatever its value.
func hasCookie(h http.Header, name string) bool {
	found := false
	cookieValues(h, name, func(string) bool {
		found = true
		return false
	})
	return found
}

// readBrowserID returns the visitor's browser ID from the cookie, or from the first legacy
// cookie that holds a valid one.
func (m *Middleware) readBrowserID(h http.Header) string {
	if len(h["Cookie"]) == 0 {
		return ""
	}
	if id := cookieBrowserID(h, m.cfg.cookieName); id != "" {
		return id
	}
	for _, name := range m.cfg.legacy {
		if id := cookieBrowserID(h, name); id != "" {
			return id
		}
	}
	return ""
}

// SecureCookies reports whether the middleware marks the cookies it sets on the response to
// r Secure, by Options.Secure and, with SecureAuto, by r.TLS and the X-Forwarded-Proto value
// the outermost of the TrustedProxies wrote. A site's own cookies that call it follow the same
// rule as the browser ID and session cookies, behind a TLS-terminating proxy too.
func (m *Middleware) SecureCookies(r *http.Request) bool { return m.secure(r) }

// secure reports whether cookies set on the response to r are marked Secure.
func (m *Middleware) secure(r *http.Request) bool {
	switch m.cfg.secure {
	case SecureAlways:
		return true
	case SecureNever:
		return false
	}
	if r.TLS != nil {
		return true
	}
	return m.cfg.proxies > 0 && strings.EqualFold(forwardedProto(r.Header, m.cfg.proxies), "https")
}

// forwardedProto is the X-Forwarded-Proto value the outermost of the trusted proxies wrote:
// the proxies-th from the end of all the header's values (the first one when there are
// fewer), "" when there is none.
func forwardedProto(h http.Header, proxies int) string {
	var values []string
	for _, line := range h.Values("X-Forwarded-Proto") {
		for v := range strings.SplitSeq(line, ",") {
			values = append(values, strings.TrimSpace(v))
		}
	}
	if len(values) == 0 {
		return ""
	}
	return values[max(len(values)-proxies, 0)]
}

// browserSameSite is the browser ID cookie's SameSite on a response: the configured mode, or
// by default None on a Secure response (as Engage and the Cloud SDK set the cookie; the
// server cannot see a cookie's attributes, so it sets theirs) and Lax otherwise.
func (m *Middleware) browserSameSite(secure bool) http.SameSite {
	switch {
	case m.cfg.sameSite != 0:
		return m.cfg.sameSite
	case secure:
		return http.SameSiteNoneMode
	default:
		return http.SameSiteLaxMode
	}
}

// setBrowserCookie sets (or renews) the browser ID cookie and deletes the legacy cookies the
// request carried, so the visitor ends up with one cookie under the configured name.
func (m *Middleware) setBrowserCookie(h http.Header, r *http.Request, id string) {
	m.setVisitorCookie(h, r, m.cfg.cookieName, id, m.cfg.legacy)
}

// setVisitorCookie sets (or renews) one of the visitor's cookies, the browser ID's or the guest
// ref's, with their shared attributes, and deletes those of the legacy names the request
// carried.
func (m *Middleware) setVisitorCookie(h http.Header, r *http.Request, name, value string, legacy []string) {
	secure := m.secure(r)
	sameSite := m.browserSameSite(secure)
	c := http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Domain:   m.cfg.domain,
		MaxAge:   m.cfg.maxAge,
		Secure:   secure,
		HttpOnly: m.cfg.httpOnly,
		SameSite: sameSite,
	}
	h.Add("Set-Cookie", c.String())
	for _, old := range legacy {
		if !hasCookie(r.Header, old) {
			continue
		}
		gone := http.Cookie{Name: old, Path: "/", Domain: m.cfg.domain, MaxAge: -1, Secure: secure, SameSite: sameSite}
		h.Add("Set-Cookie", gone.String())
	}
}

// readGuestRef returns the visitor's guest ref from the guest ref cookie, or from the first
// legacy one that holds a valid one; "" when there is none.
func (m *Middleware) readGuestRef(h http.Header) string {
	if ref := cookieGuestRef(h, m.cfg.guestCookie); ref != "" {
		return ref
	}
	for _, name := range m.cfg.guestLegacy {
		if ref := cookieGuestRef(h, name); ref != "" {
			return ref
		}
	}
	return ""
}

// cookieGuestRef returns the first well-formed guest ref in a cookie called name, or "".
func cookieGuestRef(h http.Header, name string) string {
	ref := ""
	cookieValues(h, name, func(v string) bool {
		if browserid.ValidGuestRef(v) {
			ref = v
			return false
		}
		return true
	})
	return ref
}

// guestFor is the guest ref to keep for browser id: the one the page learned, else the
// cookie's when the browser is the cookie's.
func (st *request) guestFor(p seam.Page, id string) string {
	if p != nil {
		if ref := p.GuestRef(); ref != "" {
			return ref
		}
	}
	if id == st.cookieID {
		return st.cookieGuest
	}
	return ""
}

// setGuestCookie sets (or renews) the guest ref cookie beside the browser ID cookie, with the
// same attributes, as the Cloud SDK sets sc_cid_personalize, and deletes the legacy guest ref
// cookies the request carried. Without a guest ref nothing changes: a legacy cookie that
// holds the only one there is stays until the page learns it.
func (m *Middleware) setGuestCookie(h http.Header, r *http.Request, ref string) {
	if ref != "" {
		m.setVisitorCookie(h, r, m.cfg.guestCookie, ref, m.cfg.guestLegacy)
	}
}
