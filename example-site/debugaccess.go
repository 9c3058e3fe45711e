package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// debugMounted reports whether the debug routes (/_personalize and below) are
// served: always in sandbox mode, which runs on a developer's machine; in tenant mode only
// when PERSONALIZE_DEBUG_TOKEN is set, since a real site must not show its internals to
// anyone who asks.
func (c Config) debugMounted() bool {
	return c.Mode == ModeSandbox || c.DebugToken != ""
}

// requireDebugToken lets a request through to next only when it carries the debug token,
// as the password of HTTP Basic authentication (any user name; browsers ask for it) or as a
// bearer token. With no token configured (sandbox mode only) every request passes. A refusal
// is a 401 that names the scheme and is never stored.
func requireDebugToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	allowed := tokenCheck(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed(r) {
			h := w.Header()
			h.Set("WWW-Authenticate", `Basic realm="go-personalize debug", charset="UTF-8"`)
			h.Set("Cache-Control", "no-store")
			http.Error(w, "401 unauthorized: the debug pages need PERSONALIZE_DEBUG_TOKEN", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// debugAllowed is the authorization check the library's debug handler is given: the same
// rule as requireDebugToken's, which sits in front of it to ask browsers for the token.
func debugAllowed(c Config) func(*http.Request) bool {
	if !c.debugMounted() {
		return func(*http.Request) bool { return false }
	}
	if c.DebugToken == "" {
		return func(*http.Request) bool { return true } // sandbox mode, on a developer's machine
	}
	return tokenCheck(c.DebugToken)
}

// tokenCheck reports whether a request carries token. Hashing both sides makes the
// comparison take the same time whatever the length of the guess.
func tokenCheck(token string) func(*http.Request) bool {
	want := sha256.Sum256([]byte(token))
	return func(r *http.Request) bool {
		got := sha256.Sum256([]byte(presentedToken(r)))
		return subtle.ConstantTimeCompare(got[:], want[:]) == 1
	}
}

// presentedToken is the token r carries: a Basic password or a bearer token; "" when none.
func presentedToken(r *http.Request) string {
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	return ""
}
