// Package personalize calls Sitecore Personalize flows from Go servers, in the request that
// renders the page.
//
// A Client speaks the flow execution API (POST /v2/callFlows) as documented: it validates a
// request before sending it (exactly one identity, a friendly ID), fills in the site's channel,
// language, currency and point of sale, puts the visit's UTM parameters into params.utm, and
// turns every failure into an error that says why (see the Err* sentinels, *APIError and
// OutcomeOf). A circuit breaker fails calls fast while the API keeps failing, and one retry is
// made only when it cannot do harm (a connection that was never made, a 503) and time allows.
//
//	client, err := personalize.New("my-client-key",
//		personalize.WithRegion(personalize.RegionEU),
//		personalize.WithPointOfSale("mysite/ireland"),
//	)
//	res, err := client.CallFlow(ctx, personalize.FlowRequest{
//		FriendlyID: "home_page_banner",
//		Identity:   personalize.BrowserID(browserID),
//	})
//	for _, offer := range res.Offers() { ... offer.Name(), offer.TrackingURL() ... }
//
// # Pages
//
// A Page holds the flow calls of one request, carried in its context (WithPage, FromContext);
// the middleware package makes one for every request. Prefetch starts calls in parallel; Flow
// returns a call's result, waiting for it or starting it. Each friendly ID is called at most
// once per page however many components ask, and all calls share the page's time budget (400ms
// by default, WithBudget): a flow that has not answered by then is cancelled and reported as
// ErrTimeout, and the page renders its default content.
//
//	personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer") // both start now
//	res, err := personalize.Flow(ctx, "home_page_banner")            // waits for the first
//	if err != nil || res.Empty() {
//		// render the default content
//	}
//
// Results are free-form JSON composed by the experience's API response template: Result keeps
// it raw, decodes it into your own type (Decode, DecodeAs), and reads the common offer shapes
// (Offers).
//
// # Events
//
// Personalize computes experiences' goals (page views, custom events, conversions) from the
// events of a browser's session, sent to the Stream API (POST /v1.2/events): a site that only
// calls flows shows executions but no goal data. An Event carries the base fields every event
// needs (browser_id, channel, client_key, currency, language, page, pos, requested_at, the
// client's defaults filling the empty ones) and one of three kinds: a page view (NewViewEvent:
// page, referrer and the page's UTM parameters as top-level utm_* keys), an IDENTITY event
// (NewIdentityEvent: the Guest's identifiers, at least one {id, provider}, and optional email
// and names) that links the browser to a known guest, or a custom event of any other
// upper-case type with up to MaxExtAttributes flat ext attributes. Events are validated before
// anything is sent (ErrInvalidRequest).
//
// Client.SendEvent sends one event and waits for the answer. Pages should not wait: a Sender
// (NewSender) takes events into a bounded queue without ever blocking and sends them with a
// small pool of workers, retrying once on a connection failure or a 5xx; when the queue is
// full new events are dropped and counted, so memory never grows (Sender.Stats counts sent,
// failed, dropped). Close delivers what is queued before its deadline and reports what it
// could not (*UndeliveredError). Attach the Sender to the client (Client.SetSender), and the
// page helpers send for the visitor of the request, filling in its browser ID:
//
//	sender, err := personalize.NewSender(client, personalize.SenderOptions{})
//	client.SetSender(sender)
//	defer sender.Close(ctx) // at shutdown, after the HTTP server's Shutdown
//
//	// in handlers:
//	personalize.Identify(ctx, personalize.Guest{ // after a sign-in
//		Identifiers: []personalize.GuestIdentifier{{ID: user.ID, Provider: "my_site"}},
//		FirstName:   user.FirstName,
//	})
//	personalize.Track(ctx, "ADD_TO_CART", map[string]any{"sku": "BAG-20KG"})
//
// A page's SendView and Enqueue do the same for page views and any Event; the middleware
// package sends a VIEW for every personalized page view with its SendViewEvents option. An
// event sent for a visitor who has no browser ID yet creates one, as a flow would; visitors
// who get no personalization (no consent, bots, prefetches) send no events (ErrNoVisitor).
// Events do not pass the client's circuit breaker: failing events never stop
// personalization, and flows failing never drop goal data.
//
// No email address or identifier value is ever logged or put into an error.
package personalize
