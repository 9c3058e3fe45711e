package components

import (
	"slices"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/personalize"
)

// OfferListDecision returns a Decision that renders the result's offers with OfferList and the
// given props (their Offers field is replaced). Offers with nothing to show (no name, text,
// image or link, e.g. {"message": "No flow executed"}) are left out; a result without any
// other renders the fallback.
//
//	components.Slot(components.SlotProps{
//		FriendlyID: "ancillary_offers",
//		Decision:   components.OfferListDecision(components.OfferListProps{Heading: "Add to your trip"}),
//		Fallback:   defaultOffers(),
//	})
func OfferListDecision(list OfferListProps) func(*personalize.Result) templ.Component {
	return func(res *personalize.Result) templ.Component {
		offers := Showable(res.Offers())
		if len(offers) == 0 {
			return nil
		}
		p := list
		p.Offers = offers
		return OfferList(p)
	}
}

// BannerDecision returns a Decision that renders the result's first offer with something to
// show with Banner and the given props (their Offer field is replaced); a result without one
// renders the fallback.
//
//	components.Slot(components.SlotProps{
//		FriendlyID: "home_page_banner",
//		Decision:   components.BannerDecision(components.BannerProps{CTA: "Shop now"}),
//		Fallback:   defaultBanner(),
//	})
func BannerDecision(banner BannerProps) func(*personalize.Result) templ.Component {
	return func(res *personalize.Result) templ.Component {
		offers := Showable(res.Offers())
		if len(offers) == 0 {
			return nil
		}
		p := banner
		p.Offer = offers[0]
		return Banner(p)
	}
}

// Showable returns the offers that have something the default components can show: a name,
// a description, an image or a link. It returns offers itself when all of them do.
func Showable(offers []personalize.Offer) []personalize.Offer {
	if !slices.ContainsFunc(offers, hidden) {
		return offers
	}
	return slices.DeleteFunc(slices.Clone(offers), hidden)
}

// hidden reports whether the offer has nothing the default components can show.
func hidden(o personalize.Offer) bool {
	return o.Name() == "" && o.Description() == "" && o.ImageURL() == "" && o.TrackingURL() == "" && o.URL() == ""
}
