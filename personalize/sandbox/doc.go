// Package sandbox emulates the Sitecore Personalize API on loopback, so tests and the example
// site run with no Sitecore tenant.
//
// It answers the endpoints a server-side integration calls:
//
//	POST /v2/callFlows              run a flow (validated as the real API does)
//	GET  /v1.2/browser/create.json  create a browser ID (?client_key=K&message={})
//	POST /v1.2/events               send an event (Stream API)
//	GET  /v3/trackers/{token}       follow an offer's tracking link (records a click, 302)
//
// Everything a request does is recorded (Calls, Browsers, Events, Clicks) for tests and
// debug pages, and faults can be injected for every request or per flow.
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
// (401: personalize-api.md lists 401 for a bad key), a non-empty friendlyId (400), exactly one
// of browserId, email and identifiers {id, provider} (400), a UUID-shaped browserId (400) and a
// defined flow (404). Whether the real API accepts a browser ID it never created is an open
// question: the sandbox accepts any UUID and records whether it knew it
// (CallRecord.KnownBrowser). Browser IDs are UUIDs, so they are matched without regard to
// case and recorded in the lower case browser/create.json hands out.
// browser/create.json answers 401 for an unknown client key. events requires a known
// client_key (401), then the fields the Stream API requires of every event as non-empty
// strings: type, browser_id, channel, language, currency, page and pos (400 MISSING_FIELD, or
// INVALID_FIELD when not a string); the type must be upper-case (VIEW, IDENTITY, ADD_TO_CART;
// 400), and an IDENTITY event needs identifiers, a non-empty array of {id, provider} with
// non-empty strings (400). Last, the browser_id must be one the sandbox created (404, as the
// real API answers for an unknown browser). An accepted event answers 201. Errors carry
// Sitecore's error object {"status", "code", "message", "developerMessage", "moreInfoUrl"} with
// the Code* constants of this package as codes.
//
// # Flows and rules
//
// Define("id").Returns(v) sets a flow's default response; When(rule, v) adds responses chosen by
// rules, tried in order (first match wins). Rules see the decoded body and what the sandbox
// knows of the caller (Request): UTM, Language, PointOfSale, Param, Returning,
// CallCountAtLeast, HasEvent, Viewed, combined with All, Any and Not. Call counts are per
// identity (browser ID, email or identifier) and flow. HasEvent and Viewed read the events the
// browser sent (Request.Events): a flow can answer differently once the browser sent an
// IDENTITY event (the guest signed in) or viewed a page.
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
//	    "response": {"title": "Fly for less", "trackingUrl": "{tracker}", "destination": "/flights"},
//	    "rules": [
//	      {"when": {"utm": {"campaign": "summer_sale"}}, "response": {"title": "Summer sale"}},
//	      {"when": {"returning": true}, "response": {"title": "Welcome back"}},
//	      {"when": {"event": "IDENTITY"}, "response": {"title": "Welcome, {{guest.firstname}}"}},
//	      {"when": {"viewed": "/booking"}, "response": {"title": "Still thinking about it?"}},
//	      {"when": {"language": "fr", "pointOfSale": "site/fr", "params": {"k": "v"},
//	                "callCountAtLeast": 3}, "response": {"title": "Bonjour"}}
//	    ],
//	    "fault": {"latency": "100ms", "status": 503} }
//	] }
//
// Every condition in one "when" must hold; "returning": false matches a first call; "event"
// is HasEvent and "viewed" is Viewed. A fault
// has "latency" (a Go duration string), "status" (400-599), "malformed", "oversized" (bytes),
// "errorObject", "hang", "reset" and "empty". Unknown fields, a flow without "friendlyId" or
// "response", a friendly ID defined twice and a "when" without a condition are errors that
// name the flow and rule. testdata/flows.json in this package is a complete example.
//
// # Faults
//
// Fault{Latency, Status, Malformed, Oversized, ErrorObject, Hang, Reset, Empty}: SetFault applies
// to every callFlows, browser create and events request (not tracking links); SetFlowFault and
// FlowDef.WithFault to one flow; SetEventsFault to events only (e.g. a Stream API answering in
// 200ms while flows answer at once). Latency composes with the others and adds up between the
// global and the flow's or events' fault; the global failure wins over the other.
//
// # Records and limits
//
// The sandbox keeps the last MaxRecords calls, events, clicks and created browser IDs,
// knows at most MaxBrowsers browser IDs and MaxBrowserEvents events per browser, and records
// request and response bodies up to MaxRecordedBody bytes, so memory stays flat under a long
// soak. Reset clears the records and call counts but keeps flows, faults and known browsers.
package sandbox
