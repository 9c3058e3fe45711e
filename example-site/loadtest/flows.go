package main

import (
	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// homeFlows are the sandbox's default flows: the three flows of the home page, answering
// small, realistic decisions with tracking links (as a tenant's API response templates
// would), the same for every visitor so both targets of a comparison get the same answers.
func homeFlows() []*sandbox.FlowDef {
	offer := func(name, image, dest string) map[string]any {
		return map[string]any{"Name": name, "imageURLForTesting": image,
			"trackingUrl": sandbox.TrackerPlaceholder, "destination": dest}
	}
	return []*sandbox.FlowDef{
		sandbox.Define(bareref.FlowBanner).Returns(map[string]any{
			"title":       "Fly for less",
			"text":        "Fares to 120 destinations, every day.",
			"image":       "/static/banner.jpg",
			"trackingUrl": sandbox.TrackerPlaceholder,
			"destination": "/flights",
		}),
		sandbox.Define(bareref.FlowDestinations).Returns([]any{
			offer("Lisbon", "/static/lisbon.jpg", "/flights?to=LIS"),
			offer("Reykjavik", "/static/reykjavik.jpg", "/flights?to=KEF"),
			offer("Kyoto", "/static/kyoto.jpg", "/flights?to=KIX"),
		}),
		sandbox.Define(bareref.FlowNewsletter).Returns(map[string]any{
			"title":       "10% off your next trip",
			"text":        "Subscribe and get our deals every Friday.",
			"trackingUrl": sandbox.TrackerPlaceholder,
			"destination": "/newsletter",
		}),
	}
}

// bigAnswerOffers is how many offers the sandbox's -big-answer flow answers: about 1 MiB, just
// under the client's size cap, as in the attack of issue 13.
const bigAnswerOffers = 23000

// manyOffers is n small offers, each with a name, a text and a link.
func manyOffers(n int) []any {
	offers := make([]any, n)
	for i := range offers {
		offers[i] = map[string]any{"name": "Offer", "text": "x", "url": "/booking"}
	}
	return offers
}
