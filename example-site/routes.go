package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
)

// routes is the site's router. Pages that personalize sit behind the personalize
// middleware (which also sends their VIEW events), and so do the sign-in forms, which send
// IDENTITY events for the visitor; the sandbox (in sandbox mode), the assets and the health
// check and /metrics do not. With traces exported, a request's span wraps everything,
// personalize middleware included, so that its flow calls are the span's children.
func (s *site) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.tel.traceRequests, s.logRequests, s.recoverPanics, securityHeaders, chimw.GetHead) // HEAD is answered like GET, without a body
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)

	r.Get("/healthz", healthz)
	if s.cfg.debugMounted() {
		// Prometheus: the client's metrics (personalizeotel). Not personalized; mounted and
		// protected like the debug routes.
		r.Method(http.MethodGet, "/metrics", requireDebugToken(s.cfg.DebugToken, s.tel.metricsHandler(s.logger)))
	}
	if s.cfg.debugMounted() {
		// Memory and goroutines, for load runs; not personalized.
		r.Method(http.MethodGet, "/_personalize/metrics", requireDebugToken(s.cfg.DebugToken, http.HandlerFunc(s.metrics)))
		// The library's debug handler: this visitor's latest flow calls and events, their
		// campaign, each flow's isolation. Outside the middleware, so that reading it sets
		// no cookie and creates no browser.
		r.Method(http.MethodGet, "/_personalize", requireDebugToken(s.cfg.DebugToken, s.mw.DebugHandler(debugAllowed(s.cfg))))
	}
	r.Method(http.MethodGet, "/static/*", s.static)
	if s.sandbox != nil {
		// The Personalize API emulator, called by the site's own client and followed by
		// visitors clicking tracking links.
		r.Handle("/v2/*", s.sandbox)
		r.Handle("/v1.2/*", s.sandbox)
		r.Handle("/v3/*", s.sandbox)
		r.Handle("/v1/*", s.sandbox) // its Sitecore Edge endpoints (PERSONALIZE_SANDBOX_TRANSPORT=edge)
	}

	r.Group(func(r chi.Router) {
		r.Use(s.mw.Handler)
		r.Get("/", s.home)
		r.Get("/booking", s.booking)
		if s.cfg.debugMounted() {
			r.Method(http.MethodGet, "/_personalize/flows", requireDebugToken(s.cfg.DebugToken, http.HandlerFunc(s.debug)))
		}
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
