// Package personalizeotel instruments a go-personalize client with OpenTelemetry: a span for
// every flow call, browser creation and event, and metrics of their outcomes, through the
// OpenTelemetry API. It is a module of its own (github.com/go-personalize/sdk/personalizeotel),
// as otelhttp and otelpgx are, so that the library itself depends on no part of
// OpenTelemetry; it plugs into the client's hooks (personalize.WithHooks).
//
//	inst, err := personalizeotel.New() // the global providers: otel.SetTracerProvider, SetMeterProvider
//	if err != nil { ... }
//	client, err := personalize.New(clientKey, personalize.WithRegion(personalize.RegionEU),
//		personalize.WithHooks(inst.Hooks()))
//	if err != nil { ... }
//	reg, err := inst.Register(client) // the gauges
//	if err != nil { ... }
//	defer reg.Unregister()
//
// Until the application installs providers, the global ones are no-ops: the hooks then cost a
// few hundred nanoseconds per call and record nothing (docs/performance.md has the figures).
//
// # Traces
//
// Spans are children of the span in the context the work ran for: a page's flow calls and
// browser creation, of the request's span as it was in the request's context when the
// middleware got it (so put the tracing middleware, e.g. otelhttp.NewHandler, in front of
// the personalize middleware); Client.CallFlow's, of the caller's span. Events delivered by
// the client's queue after the request keep only the request's span context (Hooks.Detach),
// and join its trace. Spans are made when the work is over, with its start and end times;
// their attributes are set after they start, so a sampler sees their name and kind only.
//
//	span                               kind      when
//	personalize.flow <friendly ID>     client    a flow call, also one not made (no visitor, breaker open)
//	personalize.browser.create         client    a call of browser creation (a new visitor)
//	personalize.browser.guest_ref      client    a guest ref look-up through the Sitecore Edge proxy
//	                                             (outcome "found"); it counts no browser
//	personalize.event <TYPE>           client    an event sent, or that failed; internal when nothing was
//	                                             sent (dropped, invalid; the type reads "(invalid)" then)
//
// A failed call's span has status Error, with the failure's kind (the sentinel error's text,
// or the API's HTTP status and error code) as its description, never the error's own text,
// which may quote what the API echoed back. A visitor who gets no personalization (no consent,
// a bot: outcome no_visitor) and one who went away (canceled) are not failures.
//
// Span attributes:
//
//	personalize.flow.friendly_id   string   the flow's friendly ID
//	personalize.outcome            string   decision, timeout, breaker_open, api_error, invalid_request,
//	                                        no_visitor, error, canceled, shed, local_timeout; browser creation: created or why not
//	personalize.identity.kind      string   browserId, email or identifiers: the kind, never the value
//	personalize.attempts           int      HTTP requests sent (0, 1 or 2)
//	http.response.status_code      int      the last answer's status, when there was one
//	personalize.page.budget_left   double   seconds of the page's budget left when the call began (page calls only)
//	personalize.isolation.state    string   the flow's circuit breaker then: closed, open, half_open
//	personalize.transport          string   direct (the API's host), when a request was sent
//	personalize.correlation_id     string   the call's x-sc-correlation-id, for Sitecore support
//	personalize.event.type         string   the event's type (VIEW, IDENTITY, ADD_TO_CART...)
//	personalize.event.outcome      string   sent, failed, dropped, invalid
//	personalize.cache              string   the decision cache's part (personalize.Caching): miss, hit, stale,
//	                                        revalidated, shared; only for flows with a cache policy
//	personalize.cache.age          double   seconds: the age of the entry served (hit, stale, revalidated)
//	error.type                     string   the outcome, on failures
//
// No attribute, span name or status ever holds an email address, an identifier value or a
// browser ID (personalize.EventInfo carries the browser ID: it is not exported). The requests
// to the API carry no trace context (traceparent): Sitecore documents no support for it, and
// the client adds none, whatever propagator the application installed. (A transport of your
// own, such as otelhttp.NewTransport given through personalize.WithHTTPClient, would add it.)
//
// # Metrics
//
//	name                           instrument                unit        attributes
//	personalize.flow.duration      histogram                 s           the same as personalize.flow.calls
//	personalize.flow.calls         counter                   {call}      personalize.flow.friendly_id, personalize.outcome,
//	                                                                     and personalize.cache for a flow with a cache policy
//	personalize.flow.isolated      observable up-down count  {flow}      personalize.flow.friendly_id: 1 per flow isolated now
//	personalize.browsers.created   counter                   {browser}   personalize.outcome (created, or why not)
//	personalize.events.queued      observable up-down count  {event}     none: events waiting in the queue
//	personalize.events.sent        counter                   {event}     personalize.event.type
//	personalize.events.failed      counter                   {event}     personalize.event.type
//	personalize.events.dropped     counter                   {event}     personalize.event.type
//	personalize.events.invalid     counter                   {event}     personalize.event.type
//
// The duration histogram's buckets are 5 ms to 2.5 s, finer around the default page budget
// (400 ms). The observable ones are read from the client registered with Register
// (Client.EventStats, Client.Isolated) at each collection; personalize.flow.isolated lists
// browser creation as "browser/create.json" when it is isolated. Friendly IDs and event types
// come from the site's code; a site that made them up per request would grow the number of
// series (the SDK caps them, 2000 per instrument by default).
//
// For the names: span and metric names follow the OpenTelemetry semantic conventions' style
// (a dotted namespace of the library's own, units in UCUM, durations in seconds), with the
// conventions' own attributes where one exists (http.response.status_code, error.type).
package personalizeotel
