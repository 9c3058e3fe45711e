package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-personalize/sdk/personalize"

	"github.com/go-personalize/sdk/example-site/internal/views"
)

// signInPage is GET /signin: the demo member, and a button to sign in as them.
func (s *site) signInPage(w http.ResponseWriter, r *http.Request) {
	m := demoMember()
	v := views.SignInView{
		Meta: s.meta(r, "Sign in", "Sign in to the Go Airways Club."),
		Demo: views.Member{FirstName: m.FirstName, Name: m.Name(), Email: m.Email, ID: m.ID},
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, views.SignIn(v))
}

// signIn is POST /signin: it signs the demo member in (their cookie), tells Personalize who
// this browser is with an IDENTITY event, and goes home, where the banner greets them.
//
// The event is queued, never awaited: the home page may run its flows before the sandbox or
// the tenant has the event, and then shows the usual banner until the next page. The site's
// own header knows the member at once from the cookie.
func (s *site) signIn(w http.ResponseWriter, r *http.Request) {
	m := demoMember()
	if err := s.members.signIn(w, r, m); err != nil {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "signing in", slog.Any("error", err))
		s.serverError(w, r)
		return
	}
	if s.cfg.Events {
		err := personalize.Identify(r.Context(), personalize.Guest{
			Identifiers: []personalize.GuestIdentifier{{ID: m.ID, Provider: m.Provider}},
			Email:       m.Email,
			FirstName:   m.FirstName,
			LastName:    m.LastName,
		})
		if err != nil {
			// A visitor without consent or a bot: signed in all the same. The error holds no
			// value of the guest.
			s.logger.LogAttrs(r.Context(), slog.LevelInfo, "IDENTITY event not sent", slog.Any("error", err))
		}
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signOut is POST /signout. Personalize keeps the browser linked to the guest (the real API
// does too); only the site's sign-in ends.
func (s *site) signOut(w http.ResponseWriter, r *http.Request) {
	s.members.signOut(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// sameOrigin guards the forms that change state (sign-in, sign-out) against cross-site
// request forgery, as fits a demo whose cookies are SameSite=Lax already: the browser must
// say the request came from this site. Sec-Fetch-Site (which scripts cannot set) must be
// same-origin; without it, the Origin, or else the Referer, must name this host. A request
// with none of them is refused.
func (s *site) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fromThisSite(r) {
			s.errorPage(w, r, http.StatusForbidden, "Forbidden", "This form can only be sent from Go Airways itself.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func fromThisSite(r *http.Request) bool {
	if v := r.Header.Values("Sec-Fetch-Site"); len(v) > 0 {
		return len(v) == 1 && v[0] == "same-origin"
	}
	if o := r.Header.Values("Origin"); len(o) > 0 {
		return len(o) == 1 && sameHost(o[0], r.Host)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return sameHost(ref, r.Host)
	}
	return false
}

// sameHost reports whether the http(s) URL raw names host (host[:port]).
func sameHost(raw, host string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		strings.EqualFold(u.Host, host)
}
