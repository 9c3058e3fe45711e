package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
)

// routes is the site's router. Pages that personalize sit behind the personalize
// middleware (which also sends their VIEW events), and so do the sign-in forms, which send
// IDENTITY events for the visitor; the sandbox (in sandbox mode), the assets and the health
// check do not.
func (s *site) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.logRequests, s.recoverPanics, securityHeaders, chimw.GetHead) // HEAD is answered like GET, without a body
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)

	r.Get("/healthz", healthz)
	r.Get("/_personalize/metrics", s.metrics) // memory and goroutines, for load runs; not personalized
	r.Method(http.MethodGet, "/static/*", s.static)
	if s.sandbox != nil {
		// The Personalize API emulator, called by the site's own client and followed by
		// visitors clicking tracking links.
		r.Handle("/v2/*", s.sandbox)
		r.Handle("/v1.2/*", s.sandbox)
		r.Handle("/v3/*", s.sandbox)
	}

	r.Group(func(r chi.Router) {
		r.Use(s.mw.Handler)
		r.Get("/", s.home)
		r.Get("/booking", s.booking)
		r.Get("/_personalize", s.debug)
		r.Get("/signin", s.signInPage)
		r.With(s.sameOrigin).Post("/signin", s.signIn)
		r.With(s.sameOrigin).Post("/signout", s.signOut)
	})
	return r
}

// securityHeaders sets headers every response should carry. Pages run no script; images
// may come from the tenant's offers over https.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}
