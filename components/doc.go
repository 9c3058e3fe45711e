// Package components holds templ components that render Sitecore Personalize decisions into
// HTML: a personalized slot with its fallback, offer cards and lists, a banner for a single
// decision, and tracking links.
//
// # Slots
//
// A Slot asks the page in the context (the middleware starts one for every request,
// personalize.StartPage one without it) for a flow's result, awaiting a prefetched call or
// starting one, and renders the decision, or the fallback when there is none. Its Decision
// says how: BannerDecision shows the first offer with Banner, OfferListDecision (the default)
// the offers with OfferList, and a function of the site's own may decode the result into its
// own types (personalize.Result.Decode):
//
//	@components.Slot(components.SlotProps{
//		FriendlyID: "home_page_banner",
//		Decision:   components.BannerDecision(components.BannerProps{CTA: "Shop now"}),
//		Fallback:   defaultBanner(),
//	})
//
//	@components.Slot(components.SlotProps{
//		FriendlyID: "ancillary_offers",
//		Decision:   components.OfferListDecision(components.OfferListProps{Heading: "Add to your trip"}),
//		Fallback:   defaultOffers(),
//	})
//
// The fallback is rendered on any failure (timeout, API error, breaker open, no page, no
// consent) and when the result holds nothing to show (an empty answer, or a Decision that
// returns nil). A slot never panics and never shows an error: a Decision that panics or
// fails is logged with the page's client logger and the fallback is shown. The decision is
// rendered into a buffer before anything is written, so a failure half-way leaves no partial
// markup. Each flow is called at most once per page however many slots show it. The slot's
// root <div> says what happened:
//
//	<div class="personalize-slot" data-personalize-slot="home_page_banner"
//	     data-personalize-state="decision" data-testid="personalize-slot">...</div>
//
// With no Fallback, the slot's children are the fallback:
//
//	@components.Slot(components.SlotProps{FriendlyID: "newsletter_offer"}) {
//		<p>Sign up for our newsletter.</p>
//	}
//
// # Offers, banners and links
//
// OfferList renders a <section> with a <ul> of OfferCards; each card is an <article> with the
// offer's image (alt text = its name, loading="lazy"), name, description and a call to action
// (or, with LinkWholeCard, the whole card) linking through the offer's tracking URL. It renders
// at most MaxItems cards (DefaultMaxItems, 24, unless set): the work a page does for an answer
// stays bounded whatever the answer holds (the client keeps at most 100 offers). Banner
// renders one decision as a hero. Every component takes a props struct with ID, Class and
// Attributes for its root element and a TestID for its data-testid; extra markup goes in
// templ.Component fields (Header, Footer, Extra, Card). The components are templ.Components
// that write their markup in Go, not from templ templates: a slot renders its cards for every
// page, and a template's per-component and per-attribute allocations were most of what a slot
// cost. They write what templ writes (the same escaping, templ's URL sanitisation, templ's
// rendering of spread Attributes), and render the site's components with templ's context,
// without children. Class names start with "personalize-" (BEM style, e.g.
// personalize-offer__cta) for sites to style; the markup has no inline scripts or styles.
//
// Offer fields are escaped as text: HTML or script in a name or description is shown, never
// run. TrackingLink and the cards' links send every URL through templ's URL sanitisation
// (never templ.SafeURL), so javascript:, data:, vbscript: and other schemes never reach the
// page. A LinkPolicy may also restrict tracking links to the API's own host or an
// allow-list; an offer whose link is not allowed falls back to its own URL when that is a path
// on the site, or renders without a link. Tracking links carry rel="nofollow" so crawlers do
// not register clicks.
//
// # Streaming
//
// A page can send its head and the content above a slot before the slot waits for its flow,
// so the time to first byte does not wait for Personalize: render with templ's streaming
// handler and flush after the content above the slot:
//
//	templ bookingPage() {
//		<!DOCTYPE html>
//		<html>
//			<head><title>Booking</title></head>
//			<body>
//				<h1>Your booking</h1>
//				@templ.Flush()
//				@components.Slot(components.SlotProps{FriendlyID: "ancillary_offers", Fallback: defaultOffers()})
//			</body>
//		</html>
//	}
//
//	func booking(w http.ResponseWriter, r *http.Request) {
//		personalize.Prefetch(r.Context(), "ancillary_offers") // before the first byte
//		templ.Handler(bookingPage(), templ.WithStreaming()).ServeHTTP(w, r)
//	}
//
// Order matters. Headers, and so the browser ID cookie, go out with the first byte written,
// and a flush writes. A new visitor's browser ID is created only when a flow first runs (not
// for pages that personalize nothing), so start the page's flows before anything is written:
// call personalize.Prefetch first thing in the handler. It starts the flows, and with them the
// browser ID's creation, in parallel with the handler's own work. The middleware's response
// writer sets the cookie at the first write (or flush): when a flow has run and the ID is
// still being created, it waits for it (within the page's budget) so the cookie goes out with
// the headers. A flow first asked for by a slot below a flush point would create the ID after
// the headers are gone: the page still renders, but this response carries no cookie (the
// middleware logs it) and the next request creates another browser. Prefetching also makes
// all of a page's slots wait for one round trip, not one each.
//
// Without a flush point the response is buffered as usual: templ.Handler without
// WithStreaming renders the whole page before writing it.
package components
