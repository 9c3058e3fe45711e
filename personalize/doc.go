// Package personalize calls Sitecore Personalize flows from Go servers, in the request that
// renders the page, and sends the events Personalize computes goals from.
//
// A Client speaks the flow execution API (POST /v2/callFlows) as documented, and as Sitecore's
// own SDKs do (docs/wire-parity.md): it validates a request before sending it (exactly one
// identity, a friendly ID, a point of sale, which flow calls need), fills in the site's
// channel, language (upper case, as the SDKs send it), currency and point of sale, puts the
// visit's UTM parameters into params.utm, forwards the visitor's User-Agent unchanged (the
// library names itself in X-Library-Version), gives each call a correlation ID
// (x-sc-correlation-id, also in CallInfo and the logs), and
// turns every failure into an error that says why (see the Err* sentinels, *APIError and
// OutcomeOf; errors wrap their causes, so errors.Is also finds context.DeadlineExceeded and
// context.Canceled). Each flow has a circuit breaker of its own: a flow that keeps failing
// fails fast, and the page's other flows are not slowed (BreakerSettings); an answer's
// Retry-After is honoured. One retry is made only when it cannot do harm (a connection that
// was never made, a 503 without Retry-After) and time allows.
//
//	client, err := personalize.New("my-client-key",
//		personalize.WithRegion(personalize.RegionEU),
//		personalize.WithPointOfSale("mysite/ireland"),
//	)
//	if err != nil { ... }
//	defer client.Close(ctx) // at shutdown: delivers the events still queued
//
// # Pages
//
// A page holds the flow calls of one request, carried in its context; the middleware package
// starts one for every request (StartPage does it without the middleware). Prefetch starts
// calls in parallel; Flow returns a call's result, waiting for it or starting it. Each
// friendly ID is called at most once per page however many components ask, and all calls share
// the page's time budget (DefaultBudget, WithBudget): a flow that has not answered by then is
// cancelled and reported as ErrTimeout, and the page renders its default content. A call ends
// at the earliest of the caller's context, the page's budget and the client's timeout, and a
// result that is ready is always returned.
//
//	personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer") // both start now
//	res, err := personalize.Flow(ctx, "home_page_banner")            // waits for the first
//	if err != nil || res.Empty() {
//		// render the default content
//	}
//	for _, offer := range res.Offers() { ... offer.Name(), offer.TrackingURL() ... }
//
// A flow call may name another identity (WithIdentity), add custom params (WithParams), or
// override a Setting: WithChannel, WithLanguage, WithCurrency and WithPointOfSale set the
// client's defaults when given to New, and one call's when given to Flow, Track or Identify.
//
// Results are free-form JSON composed by the experience's API response template: Result keeps
// it raw, decodes it into your own type (Decode), and reads the common offer shapes (Offers).
// Client.CallFlow calls a flow directly, outside any page.
//
// # Events
//
// Personalize computes experiences' goals (page views, custom events, conversions) from the
// events of a browser's session, sent to the Stream API (POST /v1.2/events): a site that only
// calls flows shows executions but no goal data. Track sends a custom event for the page's
// visitor, Identify an IDENTITY event that links the browser to a known guest, and the
// middleware's SendViewEvents option a VIEW for every personalized page view:
//
//	personalize.Identify(ctx, personalize.Guest{ // after a sign-in
//		Identifiers: []personalize.GuestIdentifier{{ID: user.ID, Provider: "my_site"}},
//		FirstName:   user.FirstName,
//	})
//	personalize.Track(ctx, "ADD_TO_CART", map[string]any{"sku": "BAG-20KG"})
//
// Events carry the base fields every event needs (browser_id, channel, client_key, currency,
// language, page, pos, requested_at), the client's defaults filling the empty ones, and are
// validated before anything is queued (ErrInvalidRequest). Track and Identify never wait for
// the API: the client takes events into a bounded queue (4096) and sends them with workers
// that start as events wait, 16 at a time and then doubling at most once per round trip, up
// to 512 sending at once, and stop when idle (WithEvents tunes both), retrying once on a
// connection failure or a 5xx. The API takes one event per request, so the workers are what
// keeps up with a site's rate: at 5,700 pages a second and an events API of 50ms, about 285
// requests are in flight, sharing a few connections over HTTP/2. When the queue is full new
// events are dropped and counted, so memory never grows (EventStats).
// Client.Close delivers what is queued before its deadline and reports what it could not
// (*UndeliveredError). An event sent for a visitor who has no browser ID yet creates one, as a
// flow would; visitors who get no personalization (no consent, bots, prefetches) send no
// events (ErrNoVisitor). Client.SendEvent sends one Event and waits for the answer, outside
// any page.
//
// Events do not pass the client's circuit breaker: failing events never stop personalization,
// and flows failing never drop goal data.
//
// # Connections
//
// The client's own transport (without WithHTTPClient) keeps as many idle connections to the
// API as a site uses at its peak, up to DefaultMaxIdleConns (4096: 1,000 pages at a time of
// three flows, and their events; WithMaxIdleConns), closing those idle for 90s; resumes TLS
// sessions instead of making full handshakes; and speaks HTTP/2 when the API offers it. A call
// its caller stops waiting for (the visitor left, the page's budget ran out) returns at once,
// but when it has an HTTP/1.1 connection its request finishes in the background, for the
// client's timeout at most, so that the connection goes back to the pool instead of being
// closed: over HTTP/1.1 a cancelled request costs its connection, and with TLS the next call
// pays a handshake. At most as many finish at a time as the pool keeps connections; Close ends
// them. A call abandoned before it had a connection is not sent.
//
// # Overload
//
// A site short of CPU makes its calls late, and a call that times out because of that says
// nothing about the API. A timed-out call whose time went mostly in the site's own process
// (before the transport took the request, and from having a connection to writing the
// request, against the time connecting and waiting for the API), or that timed out while
// the process's goroutines queued for the CPU (64 or more per GOMAXPROCS ready to run, as
// after a cold start at full traffic, when every call makes a TLS handshake on a swamped
// core), fails with ErrLocalTimeout (which is also an ErrTimeout) and OutcomeLocalTimeout, is
// logged at warn (the 1st, 2nd, 4th... time), and is not counted by the flow's breaker; a
// call the API held, or that could not connect, while the CPU kept up, is OutcomeTimeout and
// counts. So an overloaded site sheds load in the ways it
// always did, without reporting the API as failing: every page waits at most its budget
// (DefaultBudget) and then renders its default content, WithLimits sheds calls beyond the
// calls in flight or per second it allows (OutcomeShed), and the decision cache serves
// visitors' last decisions (CacheStale). To see it, count CallInfo.Outcome in a hook
// (personalizeotel records it on every call's span and metric): local_timeout against timeout
// tells the site's own queueing from the API's slowness, and the Go runtime's
// /sched/latencies:seconds metric (runtime/metrics) shows how long goroutines waited for a CPU.
//
// # The decision cache
//
// By default every page calls the API for every flow, and a slow or failing API means the
// default content. WithCaching keeps visitors' decisions for the flows it names, under a
// policy per flow:
//
//	personalize.WithCaching(personalize.Caching{Flows: map[string]personalize.CachePolicy{
//		"home_page_banner": personalize.StaleOnFailure(10 * time.Minute), // the last decision when a call fails
//		"footer_offers":    personalize.StaleWhileRevalidate(time.Hour),  // at once, refreshed in the background
//		"welcome_modal":    personalize.FreshFor(30 * time.Minute),       // once per visit
//	}})
//
// StaleOnFailure still calls the API for every page (every execution is counted in
// Sitecore) and serves the visitor's last decision only when the call fails;
// StaleWhileRevalidate serves it at once and refreshes it beside the page; FreshFor serves it
// without calling while it is fresh, which Sitecore then does not count as an execution. An
// entry belongs to one visitor and to everything the decision depends on (the whole request:
// identity, channel, language, currency, point of sale, UTM, params); an IDENTITY event drops
// the visitor's entries. Concurrent calls of a visitor for the same cached flow share one API
// call. The entries live in a MemoryStore (bounded by entries and bytes) unless Caching.Store
// names another: package github.com/go-personalize/sdk/personalizeredis keeps them in Redis,
// shared by a site's servers. A store that fails or is slow is a miss within
// Caching.StoreTimeout. CallInfo.Cache and Result.Cache say what the cache did.
//
// WithLimits caps the flow calls in flight and per second: beyond them calls are shed
// (ErrShed), to the cache or the default content.
//
// # XM Cloud and the Sitecore Edge proxy
//
// By default a client calls a regional API host with a client key (WithRegion, WithBaseURL).
// WithEdge sends every call through the Sitecore Edge proxy instead, with the site's context
// ID and name, as the Cloud SDK and XM Cloud's JSS and Content SDK heads do; New then takes an
// empty client key and no point of sale:
//
//	client, err := personalize.New("", personalize.WithEdge(contextID, siteName))
//
// Everything else works the same. Through the Edge, flows may also send the visitor's guest
// ref (FlowRequest.GuestRef; pages send the one the middleware keeps in sc_cid_personalize,
// looking it up once with Client.GuestRef when it has none) and the variant IDs an experience
// chooses from (WithVariants per flow, SetVariants per page); SetPageVariant names the
// variant shown in the page's VIEW event. Package github.com/go-personalize/sdk/xmcloud builds
// XM Cloud's friendly IDs and variant IDs. The repository's docs/edge.md lists each request
// with the Sitecore source it follows.
//
// # Observability
//
// Hooks (WithHooks) are called after every flow call (CallInfo: outcome, duration, status,
// attempts, the page's budget left, the flow's isolation, the transport, the correlation ID,
// the error), every browser creation (BrowserInfo) and every event's fate (EventInfo: sent,
// failed, dropped or invalid), with the context the work ran for, so that a tracing hook
// parents its span on the request's span. WithHooks may be given several times; every set
// runs, in order. Hooks must be fast and safe for concurrent use; a client without hooks pays
// one atomic load per call for them. Events delivered by the queue after the request get the
// context their set's Detach made of the request's when they were queued (only its trace
// span context, say), or context.Background(): the client never keeps a request's context
// past the request. Client.Isolated lists the flows whose calls fail fast right now, for
// gauges and debug pages.
//
// The module github.com/go-personalize/sdk/personalizeotel turns the hooks into
// OpenTelemetry spans and metrics; this package depends on no part of OpenTelemetry, and its
// requests to the API carry no trace context (Sitecore documents none). The middleware's
// Options.ServerTiming and Middleware.DebugHandler show the same for one response and one
// visitor.
//
// No email address or identifier value is ever logged, put into an error or given to a hook.
// EventInfo.BrowserID identifies the visitor, so that a debug page can show visitors their
// own events: instrumentation must not export it.
package personalize
