// Package middleware is the net/http middleware a site puts in front of its pages to
// personalize them with Sitecore Personalize: it identifies the visitor the way Sitecore
// expects, remembers where the visit came from, and never creates guests or cookies it should
// not. It is a plain func(http.Handler) http.Handler, so it works with net/http, chi and any
// other router; it imports none.
//
// For every request it puts a personalization page into the context, so handlers and
// components call personalize.Flow(ctx, "home_page_banner"), personalize.Prefetch,
// personalize.Track and personalize.Identify. All of it is lazy: a request that asks for no
// flow reads one cookie and pays for nothing else.
//
// # Browser ID
//
// The visitor's Sitecore browser ID lives in the cookie bid_<clientKey>, the name the Sitecore
// Engage browser SDK uses, so both share one visitor; for a client made with
// personalize.WithEdge it lives in sc_cid, the Cloud SDK's, beside the visitor's guest ref in
// sc_cid_personalize, and the Cloud SDK's legacy sc_<contextId> cookies are moved to them
// (Options.Cookies chooses the preset; Options.CookieName changes the name;
// Options.LegacyCookieNames are read and migrated). The guest ref cookie follows the browser ID
// cookie: set with the same attributes whenever a flow runs, with the guest ref of a browser
// the Edge created, or one the page looked up. Only well-formed IDs are accepted. When a
// flow is called and there is no valid ID, one is created through Sitecore
// (CreateWithSitecore, the default) or locally (MintLocally), at most once per request, and
// the cookie is set on the same response: Path=/, Max-Age 730 days renewed whenever a flow
// runs, SameSite=None; Secure on HTTPS requests (as the Sitecore browser SDKs set it) and
// SameSite=Lax on plain HTTP, HttpOnly and Domain as configured. The new ID is
// visible at once through BrowserID and the page. An ID created for an event
// (personalize.Track on a page that calls no flow) gets its cookie too: Track does not wait
// for it, the header writer does. If the response's headers were already sent
// (a handler that flushed early while a prefetched flow was still creating the ID), the cookie
// is skipped with a warning; the header writer otherwise waits for an ID being created, within
// the page's budget, so flush after personalize.Prefetch, not before it.
//
// # Campaign and sessions
//
// Every utm_* query parameter is collected (UTM): names without regard to case, values decoded
// once, bad values dropped, at most MaxUTMKeys keys of MaxUTMValueBytes bytes. The visit's
// campaign (VisitCampaign) is kept in a gorilla/sessions session: the last non-empty UTM set of
// the visit and the landing referrer, so a visitor who landed from ?utm_campaign=summer_sale is
// still in that campaign on the next page, and flows receive it as params.utm. The session is
// decoded only when a flow is called or UTM parameters arrive, and saved before the response's
// headers go out; a session that cannot be decoded starts a new visit. A visit with nothing to
// keep (no UTM parameters, no referrer from another site) has no session: no cookie is set, and
// nothing is encrypted or signed for it; the store is asked for a session only when the
// request carries the session's cookie, and a session cookie that holds nothing to keep is
// deleted. Visits end after
// Options.VisitTimeout (30 minutes, sliding) without a personalized request; an unchanged
// session is saved again at most 30 times per timeout (once a minute by default), so a visit
// may end up to a minute early.
//
// The default store is a cookie store (HttpOnly, SameSite=Lax) with Options.SessionKeys; it
// signs and encrypts the values, which are kept as a short query string rather than gob. Every
// instance of a site must share the keys; without keys, random ones are made at start and a
// warning logged. To keep sessions server-side, pass any sessions.Store, for example one backed
// by Redis (github.com/rbcervilla/redisstore or github.com/boj/redistore), shared by all
// instances:
//
//	store, err := redisstore.NewRedisStore(ctx, redisClient)
//	// handle err
//	mw, err := middleware.New(client, middleware.Options{SessionStore: store})
//
// The middleware sets the session's cookie options (Path, Domain, MaxAge = visit timeout,
// HttpOnly, SameSite, Secure) on every save; server-side stores use MaxAge as the entry's
// lifetime.
//
// # Consent, bots and prefetch
//
// With Options.Consent returning false, no cookie is set, no browser created and no session
// read or written; flows report "no consent" (personalize.ErrNoVisitor) so slots render their
// defaults, and Blocked(ctx) returns BlockedNoConsent.
// Options.AllowKnownIdentitiesWithoutConsent still lets flows called with an email or
// identifiers identity run. Crawlers (github.com/x-way/crawlerdetect, or Options.IsBot) and
// speculative prefetches (Sec-Purpose: prefetch; the older Purpose, X-Moz and X-Purpose headers
// except on mobile browsers, which send them on real navigations) are treated the same way
// unless Options.PersonalizeBots or Options.PersonalizePrefetch say otherwise (BlockedBot,
// BlockedPrefetch). A prerender (Sec-Purpose: prefetch;prerender) is personalized: the visitor
// sees it without a new request. A request without a User-Agent is not counted as a crawler
// (isbot's rule): httptest.NewRequest sends none, so a site's first test sees personalization.
// Scripts that do send one, such as curl, Go's http.Client ("Go-http-client/1.1") and headless
// Chrome, count as crawlers; the first such request is logged once, at warn, with what to do
// about it (send a browser's User-Agent in tests, or set Options.PersonalizeBots). A handler
// that serves crawlers something else asks:
//
//	if middleware.Blocked(r.Context()) == middleware.BlockedBot {
//		// render the page's default content, without personalization
//	}
//
// # Page view events
//
// With Options.SendViewEvents, the middleware sends a VIEW event (POST /v1.2/events) for every
// page view that personalization covers, so that Personalize can attribute page view goals to
// the browser's session: a GET request (not HEAD) answered 2xx with an HTML body
// (Content-Type text/html, or sniffed as HTML when the handler set none), from a visitor who
// consented, is neither a bot nor a prefetch, and has a browser ID, from the cookie or
// created during this request by a flow (or an event). A browser is never created just for a
// VIEW: a first visit to a page that calls no flow sends none. The event carries the
// request's path as its page, the Referer as referrer, and the request's own utm_* parameters
// as top-level utm_* keys (not the visit's campaign: the Stream API keeps the session).
//
// The decision is made when the response's headers go out, and the event is queued on the
// client's event queue, which sends it off the request path: the response never waits for the
// API, and when the queue is full the event is dropped and counted (Client.EventStats). There
// is nothing to set up; close the client at shutdown so that what is queued is delivered:
//
//	mw, err := middleware.New(client, middleware.Options{SendViewEvents: true, ...})
//	if err != nil { ... }
//	// ... serve; then, after the server's Shutdown:
//	if err := client.Close(shutdownCtx); err != nil { ... } // delivers what is queued
//
// Handlers send other events for the same visitor with personalize.Track and
// personalize.Identify.
//
// # Caching
//
// A response for which a flow was called, and any response that sets a cookie (the browser
// ID, the session, or one the handler set, such as a sign-in's), gets Cache-Control: private,
// no-store (or Options.CacheControl) unless the handler set its own, and Vary: Cookie, so no
// shared cache serves one visitor's page, or cookie, to another. A response that sets a cookie
// is never left public: unless the handler's Cache-Control says private or no-store, its
// "public" gives way to "private".
//
// # Server-Timing and the debug handler
//
// With Options.ServerTiming, a response for which a flow ran says how long its flows took,
// from the first call's start to the last one's end, in a Server-Timing header that browsers'
// developer tools show:
//
//	Server-Timing: personalize;dur=52.3;desc="3 flows"
//
// It is off by default: every visitor (and any script on the page) can read it.
//
// Middleware.DebugHandler(authorize) is a handler to mount on a path of your own; it shows
// the visitor who requests it their browser ID, the visit's campaign, their latest flow calls
// with their outcome and the reason a slot showed its default content, their latest events,
// and which flows are isolated, as HTML or JSON (?format=json). It refuses every request
// that authorize does not accept (a nil authorize refuses all), never shows one visitor's
// record to another (the record is found by the browser ID of the requesting visitor's
// cookie), and changes nothing. The middleware records nothing until DebugHandler is called;
// from then on it keeps a bounded record (20 flow calls and 20 events for each of the 1024
// visitors seen last):
//
//	mux.Handle("GET /_personalize/debug", mw.DebugHandler(func(r *http.Request) bool {
//		return isAdmin(r) // your own check: a signed-in administrator, a token, the internal network
//	}))
//
// For traces and metrics of the same, see package
// github.com/go-personalize/sdk/personalizeotel; put the tracing middleware (otelhttp) in
// front of this one, so that the flow calls' spans are children of the request's.
//
// # Behind a TLS-terminating proxy
//
// With SecureAuto, cookies are Secure when the request came over TLS. Behind a proxy that
// terminates TLS the site sees plain HTTP: set Options.TrustedProxies to the number of proxies
// in front of the site that append to X-Forwarded-Proto (1 behind a load balancer, 2 behind a
// CDN and a load balancer), and the value the outermost of them wrote decides; values before
// it came from the visitor and are ignored. Or set Secure to SecureAlways on a site served
// only over HTTPS. Without either, the site behind such a proxy sets the browser ID cookie
// SameSite=Lax without Secure, and so downgrades the cookie a browser SDK set as
// SameSite=None; Secure each time it renews it: the visitor stays one, but the cookie is no
// longer sent on cross-site requests (an embedded frame, a cross-site POST).
//
// # Hostile requests
//
// HEAD requests are not personalized (BlockedHEAD): their answer has no body. A User-Agent
// over 512 bytes is taken for a script without running crawler detection on it, whose cost
// grows with the agent; the personalize client forwards at most 512 bytes of it, and no
// referrer over 1 KiB. A campaign too big for its session cookie keeps its most telling UTM
// parameters (campaign, source, medium, term, content) and drops the rest.
//
// # Setup with net/http
//
//	client, err := personalize.New(clientKey, personalize.WithRegion(personalize.RegionEU),
//		personalize.WithPointOfSale("my-site"))
//	if err != nil { ... }
//	mw, err := middleware.New(client, middleware.Options{
//		SessionKeys: [][]byte{hashKey64, blockKey32},
//		Consent:     func(r *http.Request) bool { return hasConsentCookie(r) },
//	})
//	if err != nil { ... }
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /{$}", home) // calls personalize.Flow(r.Context(), "home_page_banner")
//	mux.Handle("GET /static/", http.FileServerFS(static))
//	log.Fatal(http.ListenAndServe(addr, mw.Handler(mux)))
//
// # Setup with chi
//
// chi's own middleware package is also called middleware, so import one of them under another
// name (here chi's):
//
//	import (
//		"github.com/go-chi/chi/v5"
//		chimw "github.com/go-chi/chi/v5/middleware"
//		"github.com/go-personalize/sdk/middleware"
//	)
//
//	r := chi.NewRouter()
//	r.Use(chimw.RealIP, chimw.Recoverer)
//	r.Use(mw.Handler)
//	r.Get("/", home)
//	r.Handle("/static/*", http.StripPrefix("/static/", http.FileServerFS(static)))
//
// Mount it in a chi group (r.Group(func(r chi.Router) { r.Use(mw.Handler); ... })) to keep it
// off routes that never personalize, though it costs those routes little either way (well
// under a microsecond and four allocations).
package middleware
