package components_test

import (
	"context"
	"os"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

// An offer card: the offer's fields are escaped as text, the call to action links through its
// tracking URL.
func ExampleOfferCard() {
	o := personalize.NewOffer(map[string]any{
		"trackingUrl":        "https://api-engage-eu.sitecorecloud.io/v3/trackers/eyJjaGFubmVsIj",
		"Name":               "Ancillary seat",
		"imageURLForTesting": "https://png.icons8.com/dotty/50/000000/flight-seat.png",
	})
	_ = components.OfferCard(components.OfferCardProps{Offer: o, CTA: "Choose a seat"}).Render(context.Background(), os.Stdout)
	// Output:
	// <article class="personalize-offer" data-testid="personalize-offer"><img class="personalize-offer__image" src="https://png.icons8.com/dotty/50/000000/flight-seat.png" alt="Ancillary seat" loading="lazy" decoding="async"> <h3 class="personalize-offer__name">Ancillary seat</h3><a class="personalize-offer__cta" href="https://api-engage-eu.sitecorecloud.io/v3/trackers/eyJjaGFubmVsIj" rel="nofollow" aria-label="Choose a seat: Ancillary seat">Choose a seat</a></article>
}

// A slot with no decision (here: no page in the context) renders its fallback, marked as such.
func ExampleSlot_fallback() {
	fallback := components.OfferList(components.OfferListProps{
		Offers: []personalize.Offer{personalize.NewOffer(map[string]any{"name": "Travel insurance", "url": "/insurance"})},
	})
	slot := components.Slot(components.SlotProps{
		FriendlyID: "ancillary_offers",
		Decision:   components.OfferListDecision(components.OfferListProps{Heading: "Add to your trip"}),
		Fallback:   fallback,
	})
	_ = slot.Render(context.Background(), os.Stdout)
	// Output:
	// <div class="personalize-slot" data-personalize-slot="ancillary_offers" data-personalize-state="fallback" data-testid="personalize-slot"><section class="personalize-offers" data-testid="personalize-offers"><ul class="personalize-offers__list"><li class="personalize-offers__item"><article class="personalize-offer" data-testid="personalize-offer"><h3 class="personalize-offer__name">Travel insurance</h3><a class="personalize-offer__cta" href="/insurance" aria-label="View offer: Travel insurance">View offer</a></article></li></ul></section></div>
}
