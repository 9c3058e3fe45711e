// Package sandbox emulates the Sitecore Personalize API on loopback, so tests and the example
// site run with no Sitecore tenant.
//
// It answers the endpoints a server-side integration calls:
//
//	POST /v2/callFlows              run a flow (validated as the real API does)
//	GET  /v1.2/browser/create.json  create a browser ID (?client_key=K&message={})
//	POST /v1.2/events               send an event (Stream API)
//	GET  /v1.2/event/create.json    send an event (?client_key=K&message=<URL-encoded event>)
//	GET  /v3/trackers/{token}       follow an offer's tracking link (records a click, 302)
//
// and the same through the Sitecore Edge proxy, as the Cloud SDK and XM Cloud sites call it
// (see Sitecore Edge endpoints):
//
//	POST /v1/personalize                           run a flow
//	GET  /v1/events/v1.2/browser/create.json       create a browser ID and its guest
//	GET  /v1/events/v1.2/browser/{id}/show.json    read a browser's guest reference
//	POST /v1/events/v1.2/events                    send an event
//
// Everything a request does is recorded (Calls, Browsers, Events, DroppedEvents, Clicks) for
// tests and debug pages, and faults can be injected for every request or per flow.
//
// The sandbox is as strict as the real API, so that a client bug passes here only if it
// would pass on a tenant: where Sitecore documents an answer it gives that answer, and where
// it does not it refuses (see Assumptions), unless told to answer the other plausible way.
//
// # In tests
//
// Start gives a server on 127.0.0.1 that is closed when the test ends; point the client at
// its URL with the same options production uses:
//
//	srv := personalizetest.NewSandbox(t, sandbox.WithFlows(
//		sandbox.Define("home_page_banner").
//			Returns(map[string]any{"title": "Fly for less"}).
//			When(sandbox.UTMIs("campaign", "summer_sale"), map[string]any{"title": "Summer sale"}),
//	))
//	client, err := personalize.New(sandbox.DefaultClientKey,
//		personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale("example"))
//	...
//	srv.Sandbox.SetFlowFault("home_page_banner", sandbox.Fault{Status: 503})
//	require.Equal(t, 2, srv.Sandbox.CallCount("home_page_banner"))
//
// NewServer(New(...)) does the same without a testing.TB; Close it when done. Close ends
// requests held by Hang faults and waits for the others.
//
// # Mounted in a site
//
// A Sandbox is an http.Handler. Mount it at the root of the site's mux under its path
// prefixes, and point the client at the site's own URL:
//
//	sb := sandbox.New(sandbox.WithFlows(flows...))
//	for _, p := range sb.Routes() { // "/v2/callFlows", "/v1.2/browser/create.json", ...
//		mux.Handle(p, sb)
//	}
//	// with chi: r.Handle("/v2/*", sb); r.Handle("/v1.2/*", sb); r.Handle("/v3/*", sb)
//	// and, for the Edge endpoints, r.Handle("/v1/*", sb)
//
// Tracking links are minted with the base URL of the request that called the flow (https when
// it came over TLS or X-Forwarded-Proto says so); when the sandbox is mounted under a prefix
// (http.StripPrefix), give the public base with WithPublicURL. Call Sandbox.Close before the
// site shuts down: http.Server.Shutdown does not end requests a Hang fault holds.
//
// # What the endpoints check
//
// callFlows requires Content-Type application/json (415), a body of at most MaxBodySize (413)
// holding one JSON object whose known fields have the right types (400), a known clientKey
// (401), a non-empty friendlyId (400), exactly one of browserId, email and identifiers
// {id, provider} (400), a UUID-shaped browserId (400), a pointOfSale (400; one of
// WithPointsOfSale when they are declared), a channel among the documented ones (AIRPORT_KIOSK,
// BRANCH, CALL_CENTER, EMAIL, GDS, KIOSK, MOBILE_APP, MOBILE_WEB, SMS, OFFLINE, OTA, OTHER, WEB,
// exactly; optional, as the API defaults it to WEB), a language that is a two-letter ISO 639-1
// code in either case (optional; 400) and a defined flow (404). Whether the real API accepts a
// browser ID it never created is an open question: the sandbox accepts any UUID and records
// whether it knew it (CallRecord.KnownBrowser). Browser IDs are UUIDs, so they are matched
// without regard to case and recorded in the lower case browser/create.json hands out.
//
// browser/create.json answers 401 for an unknown client key. events (POST /v1.2/events, and
// GET /v1.2/event/create.json, whose client key is the client_key parameter and whose event is
// the message parameter) require a known client key (401), then the fields the Stream API
// requires of every event as non-empty strings: type, browser_id, channel, language, currency,
// page and pos (400 MISSING_FIELD, or INVALID_FIELD when not a string). The type must be
// upper-case (VIEW, IDENTITY, ADD_TO_CART), the channel and language as for callFlows (400). An
// IDENTITY event needs identifiers, a non-empty array of {id, provider} with non-empty strings
// (400); its dob and its identifiers' expiry_date, when present, must be dates in the form
// YYYY-MM-DDThh:mm, exactly what both SDKs' isShortISODateString accepts ("1983-04-15T00:00";
// not "1983-04-15", not "2027-01-02T03:04:05.000Z"; 400 INVALID_DATE); street must be an
// array of strings and the other guest fields (email, firstname, state, ...) strings (400).
// Last, the browser_id must be one the sandbox created (404, as the real API answers for an
// unknown browser). An accepted event answers 201 and is kept (Events), except one whose pos is
// not among WithPointsOfSale: the real API answers it 201 too but the event never appears, so
// the sandbox records it in DroppedEvents, and the flows' rules do not see it. Errors carry
// Sitecore's error object {"status", "code", "message", "developerMessage", "moreInfoUrl"} with
// the Code* constants of this package as codes.
//
// # Points of sale
//
// WithPointsOfSale declares the tenant's points of sale, matched exactly. Without it the
// sandbox knows any non-empty point of sale, so a site or test that never declared them keeps
// working, and a missing or blank one is still refused. A test that wants a misconfigured
// point of sale caught declares the right ones:
//
//	srv := personalizetest.NewSandbox(t, sandbox.WithPointsOfSale("goairways.example"), ...)
//	// a client WithPointOfSale("goairways.exmaple"): flows 400, events 201 but dropped
//	require.Empty(t, srv.Sandbox.DroppedEvents())
//
// # Assumptions
//
// Sitecore documents few answers of these endpoints: 401 for a wrong client key when creating
// a browser ID; for an event, 400 without browser_id or type, 404 for an unknown browser and
// 201 (but an invisible event) for a wrong pos; and, in general, 400 when validation fails,
// 404 not found and 415 for a wrong media type. No error code is documented: every code of
// this package is the sandbox's own. Every other answer is an assumption. With AnswerStrict
// (the default) the sandbox refuses as listed; WithUndocumentedAnswers(AnswerLenient) answers
// the other plausible way: 200 {} (no personalization) for a flow call, 201 for an event that
// is then dropped (DroppedEvents). Either way the record says what was wrong
// (CallRecord.Code, EventRecord.Dropped), and a client's tests should pass with both
// (personalizetest.EachAnswers). Situation: strict answer (why); lenient answer.
//
// callFlows:
//   - unknown or missing clientKey: 401 INVALID_CLIENT_KEY (as browser creation documents for a
//     wrong key); 200 {}.
//   - unknown friendlyId: 404 FLOW_NOT_FOUND (the generic 404 "not found"); 200 {}, as an API
//     that runs no flow and decides nothing would answer.
//   - missing or blank pointOfSale: 400 MISSING_FIELD (required for direct calls; the Engage
//     SDK refuses to call without one, MV-0003); 200 {}.
//   - pointOfSale not among WithPointsOfSale: 400 UNKNOWN_POINT_OF_SALE (it "must be the name of
//     a point of sale that exists in the tenant"); 200 {}. A name that differs only in case
//     is unknown (names are the tenant's strings); with AnswerLenient it matches.
//   - channel not one of the documented ones, exactly (web, DESKTOP): 400 INVALID_FIELD (the
//     data object lists them, upper-case); 200 {}.
//   - language not a two-letter ISO 639-1 code (en-GB, eng, xx): 400 INVALID_FIELD (documented
//     as a 2-letter ISO 639 code; either case is accepted, as the documentation says upper-case
//     and its examples use lower case); 200 {}.
//   - no channel or language: accepted, not switched (channel defaults to WEB; the Cloud SDK
//     may leave language out).
//   - a body that is not one JSON object, a known field of the wrong type, no friendlyId, not
//     exactly one of browserId, email and identifiers, a browserId that is not a UUID, an email
//     without "@": 400, not switched (the documented 400 for a failed validation).
//   - a UUID browserId the sandbox never created: accepted, not switched, and recorded
//     (CallRecord.KnownBrowser); the real API might answer 404 or make a new guest.
//   - a body over MaxBodySize: 413, not switched (no limit is documented; the sandbox bounds
//     its memory).
//
// events, POST /v1.2/events and GET /v1.2/event/create.json:
//   - unknown or missing client key: 401 INVALID_CLIENT_KEY (as browser creation documents);
//     201, dropped.
//   - channel, language, currency, page or pos missing or blank, or a field that must be a
//     string and is not: 400 MISSING_FIELD or INVALID_FIELD (documented as required); 201,
//     dropped (the CDP 2.1 reference says later events with the same channel, pos and
//     browser_id need only a type).
//   - type not upper-case: 400 INVALID_FIELD ("string (uppercase)"); 201, dropped.
//   - channel or language invalid: as for callFlows, 400 INVALID_FIELD; 201, dropped.
//   - IDENTITY without identifiers, or one without id or provider: 400 (required; both SDKs
//     refuse before sending); 201, dropped.
//   - dob or expiry_date not in the form YYYY-MM-DDThh:mm (a date only, a full timestamp, a
//     day that does not exist, ""): 400 INVALID_DATE (the CDP 2.1 data model; both SDKs refuse
//     before sending, IV-0002, IV-0004); 201, dropped (the legacy reference's example
//     expiry_date is a full timestamp, 2025-04-15T08:39:44.868Z).
//   - street not an array of strings, another guest field not a string: 400 INVALID_FIELD (the
//     IDENTITY reference: street is an "array of strings", string[] in both SDKs); 201,
//     dropped.
//   - the answer's body: POST 201 {"status":"OK","ref":"<uuid>"}; GET 201 {"status":"OK",
//     "version":"1.2","client_key":"K","ref":"<uuid>"} (the documentation shows the status
//     and version only).
//
// Documented, in both: an event without browser_id or type, 400; of an unknown browser, 404;
// with a pos not among WithPointsOfSale, 201 and dropped. With AnswerLenient a documented
// refusal wins over an undocumented problem of the same request.
//
// # Sitecore Edge endpoints
//
// XM Cloud sites and the Cloud SDK reach Personalize through the Sitecore Edge proxy
// (https://edge-platform.sitecorecloud.io) with a context ID and a site name instead of a
// client key and a point of sale. The sandbox answers its paths beside the direct ones, with
// the same flows, rules, records and faults:
//
//	POST /v1/personalize?sitecoreContextId=C&siteId=S
//	GET  /v1/events/v1.2/browser/create.json?sitecoreContextId=C&client_key=
//	GET  /v1/events/v1.2/browser/{browserId}/show.json?sitecoreContextId=C&client_key=&api_token=
//	POST /v1/events/v1.2/events?sitecoreContextId=C&siteId=S
//
// A client uses the sandbox's URL as its Edge URL. The sandbox accepts DefaultContextID with
// its site DefaultSiteName, or the sites of WithEdgeSites:
//
//	sb := sandbox.New(sandbox.WithEdgeSites(sandbox.EdgeSite{ContextID: "ctx", SiteName: "go-airways"}))
//
// What is real, read from Sitecore/Cloud-SDK 0.6.1 (packages/...) and Sitecore/content-sdk:
//   - the paths and query parameters: core/src/lib/browser-id/construct-get-browser-id-url.ts,
//     core/src/lib/guest-id/fetch-guest-id-from-edge-proxy.ts,
//     events/src/lib/events/send-event/sendEvent.ts,
//     personalize/src/lib/personalization/send-call-flows-request.ts.
//   - create.json answers {"ref", "customer_ref", "status", "version", "client_key"} (core's
//     interfaces.ts EPResponse; fetch-browser-id-from-edge-proxy.ts reads ref and
//     customer_ref): here status "OK", version "1.2", client_key "", as the direct
//     browser/create.json answers, the browser listed in Browsers and known (KnowsBrowser).
//   - show.json answers {"status", "version", "clientKey", "ref", "customer": {"ref"}}, and a
//     failure a non-2xx status with error_msg and moreInfo (fetch-guest-id-from-edge-proxy.ts).
//   - events carry client_key "" and pos "" (events/src/lib/events/base-event.ts), and a VIEW
//     the page variant as ext.pageVariantId (page-view/page-view-event.ts), recorded as
//     EventRecord.PageVariantID.
//   - a flow call's body has clientKey "" and pointOfSale "", guestRef, variants (the page or
//     component variant IDs), and browserId only without email or identifiers
//     (personalize/src/lib/personalization/personalizer.ts, mapPersonalizeInputToEPData).
//   - the flow of an embedded (page) or component experience answers {"variantId": "<id>"},
//     which JSS uses only when it is one of the variants it offered (content-sdk
//     packages/nextjs/src/middleware/personalize-middleware.ts): FlowDef.ReturnsVariant.
//
// Everything else is invented, as Sitecore documents none of it. Situation: strict answer;
// lenient answer (WithUndocumentedAnswers(AnswerLenient)).
//   - a missing or blank sitecoreContextId, or siteId on personalize and events: 400
//     MISSING_FIELD; a query string that is not URL-encoded: 400 INVALID_FIELD. Not switched.
//   - an unknown sitecoreContextId: 401 INVALID_CONTEXT_ID (the context ID stands for the
//     client key); a flow call 200 {}, an event 201 and dropped; create.json and show.json
//     refuse in both modes.
//   - a siteId that is not a site of the context (names match exactly): 400 UNKNOWN_SITE;
//     200 {}, or 201 and dropped.
//   - a non-empty clientKey or pointOfSale of a flow call, client_key or pos of an event: 400
//     INVALID_FIELD (the Edge names the tenant and point of sale); 200 {}, or 201 and dropped.
//     One missing (or null): 400 MISSING_FIELD, as the SDK always sends them; accepted.
//   - the client_key parameter of create.json and show.json and show.json's api_token: 400
//     MISSING_FIELD when missing, 400 INVALID_FIELD when not empty; not read.
//   - show.json of a browser the sandbox does not know: 404 UNKNOWN_BROWSER, as an event of
//     one. A browser either create.json made keeps the customer_ref it answered; one the
//     sandbox was told of (AddBrowser) gets a guest reference on its first show.json, the same
//     ever after (Sandbox.GuestRef).
//   - create.json and show.json answer errors with EdgeErrorBody: {"status": "ERROR",
//     "version": "1.2", "clientKey": "", "code", "error_msg", "moreInfo"}, code one of this
//     package's. Personalize and events answer errors with Sitecore's error object, as the
//     direct endpoints (the Cloud SDK's FailedCalledFlowsResponse has its fields). Injected
//     faults answer as on the direct endpoints.
//   - an accepted event answers 201 {"status":"OK","ref":"<uuid>"}, as POST /v1.2/events.
//   - guestRef must be a string and variants an array of non-empty strings (400
//     INVALID_FIELD); guestRef is recorded, not checked against the browser's guest. The
//     direct /v2/callFlows ignores both: the public documentation does not name them.
//   - an event's point of sale is not checked against WithPointsOfSale: the site names it.
//
// Otherwise the Edge endpoints check what the direct ones check, in the same order. Records
// say where a request came: CallRecord.Path is PathEdgePersonalize, Request.ContextID,
// SiteName, GuestRef and Variants hold the query and body, and EventRecord.ContextID,
// SiteName and ClientKey the event's. The Edge paths start with /v1/, not /v1.2/: Routes
// names them exactly (and the prefix /v1/events/v1.2/browser/ of show.json), so they do not
// collide with the direct paths or with a site's own paths under /v1/ in one http.ServeMux.
//
// # Flows and rules
//
// Define("id").Returns(v) sets a flow's default response; When(rule, v) adds responses chosen by
// rules, tried in order (first match wins). Rules see the decoded body and what the sandbox
// knows of the caller (Request): UTMIs, LanguageIs, PointOfSaleIs, ParamIs, Returning,
// CallCountAtLeast, HasEvent, Viewed, combined with All, Any and Not.
//
// ReturnsVariant(pick) makes a flow answer an Edge call that offers variants with
// {"variantId": pick(request)} when pick returns one of them (VariantAt(i) picks by position),
// and as without it otherwise.
//
// Call counts are per identity (browser ID, email or identifier) and flow. HasEvent and
// Viewed read the events the browser sent (Request.Events): a flow can answer differently once
// the browser sent an IDENTITY event (the guest signed in) or viewed a page.
//
// A flow reads UTM parameters in one shape, as a Personalize condition reads
// request.params.utm.campaign or request.params.utm_campaign: params.utm.<key> (UTMNested,
// the default, which the personalize package and the Cloud SDK send) or, for a flow defined
// WithUTMShape(UTMFlat), params.utm_<key> (the Engage SDK's flattened params). Keys match
// exactly, lower-case as the SDKs send them: a client that sends the other shape, or
// utm_Source, params.UTM or "Campaign", does not reach the flow's UTM rules. Values match
// without regard to case.
//
// # Guest placeholders
//
// A string value of a response may hold "{{guest.<field>}}" placeholders, e.g.
//
//	Define("home_page_banner").
//		Returns(map[string]any{"title": "Fly for less"}).
//		When(HasEvent("IDENTITY"), map[string]any{"title": "Welcome back, {{guest.firstname}}"})
//
// Each is replaced by that top-level field of the latest IDENTITY event the browser sent
// (firstname, lastname, email, or any other field whose value is a string, number or boolean;
// the name is matched without regard to case), or by "" when there is no such event or field.
// The value is inserted as data: the string is decoded, filled in and encoded again as JSON,
// with nothing HTML-escaped (the page that shows it escapes it). Object keys are left alone, and
// so is text that is not a complete placeholder (a field name is letters, digits and
// underscores). Placeholders work the same in flows files. Events come only with a browserId
// identity, so calls by email or identifiers get "".
//
// # Tracking links
//
// An offer asks for a tracking link with "trackingUrl": "{tracker}" (TrackerPlaceholder), or
// by having a "destination" and no trackingUrl. Offers are the top-level object, the objects
// of a top-level array, and the objects (or objects in arrays) under the top-level object's
// keys. The sandbox replaces the placeholder with {base}/v3/trackers/{token}, where token is
// base64url (no padding) of {"channel", "clientKey", "browserId", "friendlyId", "offer",
// "destination"} like the "eyJjaGFubmVsIj..." tokens of Sitecore's documentation. Every other
// byte of the response is sent as defined ("nonDependent": "false" stays a string).
//
// Following a link records a ClickRecord and redirects (302) to the offer's destination (or, without
// one, to what WithTrackerDestination returns). Only a site path ("/x", not "//x") or an
// http(s) URL that an offer of the sandbox named is followed; anything else (javascript:,
// data:, a host no offer named) goes to "/", so a tracking link is never an open redirect.
//
// # Flows files
//
// A site ships its demo flows as JSON, read with LoadFlowsFile:
//
//	{ "flows": [
//	  { "friendlyId": "home_page_banner",
//	    "utmShape": "nested",
//	    "response": {"title": "Fly for less", "trackingUrl": "{tracker}", "destination": "/flights"},
//	    "rules": [
//	      {"when": {"utm": {"campaign": "summer_sale"}}, "response": {"title": "Summer sale"}},
//	      {"when": {"returning": true}, "response": {"title": "Welcome back"}},
//	      {"when": {"event": "IDENTITY"}, "response": {"title": "Welcome, {{guest.firstname}}"}},
//	      {"when": {"viewed": "/booking"}, "response": {"title": "Still thinking about it?"}},
//	      {"when": {"language": "fr", "pointOfSale": "site/fr", "params": {"k": "v"},
//	                "callCountAtLeast": 3}, "response": {"title": "Bonjour"}}
//	    ],
//	    "fault": {"latency": "100ms", "status": 503} },
//	  { "friendlyId": "component_x_en", "response": {}, "variant": -1 }
//	] }
//
// Every condition in one "when" must hold; "returning": false matches a first call; "event"
// is HasEvent and "viewed" is Viewed. "utmShape" is "nested" (the default) or "flat"
// (WithUTMShape). "variant": i is ReturnsVariant(VariantAt(i)). A fault
// has "latency" (a Go duration string), "status" (400-599), "malformed", "oversized" (bytes),
// "errorObject", "hang", "reset" and "empty". Unknown fields, a flow without "friendlyId" or
// "response", a friendly ID defined twice and a "when" without a condition are errors that
// name the flow and rule. testdata/flows.json in this package is a complete example.
//
// # Faults
//
// Fault{Latency, Status, Malformed, Oversized, ErrorObject, Hang, Reset, Empty}: SetFault applies
// to every flow call, browser create, guest lookup and events request, direct and through the
// Edge (not tracking links); SetFlowFault and FlowDef.WithFault to one flow's calls on either
// endpoint; SetEventsFault to events only (e.g. a Stream API answering in
// 200ms while flows answer at once). Latency composes with the others and adds up between the
// global and the flow's or events' fault; the global failure wins over the other.
//
// # Records and limits
//
// The sandbox keeps the last MaxRecords calls, events, dropped events, clicks and created
// browser IDs, knows at most MaxBrowsers browser IDs and MaxBrowserEvents events per browser,
// and records request and response bodies up to MaxRecordedBody bytes, so memory stays flat
// under a long soak. Reset clears the records and call counts but keeps flows, faults and known browsers.
package sandbox
