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
// No email address or identifier value is ever logged or put into an error.
package personalize
