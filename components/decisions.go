package components

import (
	"github.com/a-h/templ"

	"github.com/go-personalize/personalize/personalize"
)

// OffersDecision returns a Decision that renders the result's offers with Offers and the
// given props (their Offers field is replaced). Offers with nothing to show (no name, text,
// image or link, e.g. {"message": "No flow executed"}) are left out; a result without any
// other renders the fallback.
func OffersDecision(list OffersProps) func(*personalize.Result) templ.Component {
	return func(res *personalize.Result) templ.Component {
		offers := Showable(res.Offers())
		if len(offers) == 0 {
			return nil
		}
		p := list
		p.Offers = offers
		return Offers(p)
	}
}

// BannerDecision returns a Decision that renders the result's first offer with something to
// show with Banner and the given props (their Offer field is replaced); a result without one
// renders the fallback.
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
	for i, o := range offers {
		if !showable(o) {
			out := append([]personalize.Offer(nil), offers[:i]...)
			for _, o := range offers[i+1:] {
				if showable(o) {
					out = append(out, o)
				}
			}
			return out
		}
	}
	return offers
}

func showable(o personalize.Offer) bool {
	return o.Name() != "" || o.Description() != "" || o.ImageURL() != "" || o.TrackingURL() != "" || o.URL() != ""
}

// OffersSlot is a Slot for friendlyID that renders the decision's offers with Offers (list
// gives the list's props; its Offers field is replaced), or fallback.
func OffersSlot(friendlyID string, fallback templ.Component, list OffersProps) templ.Component {
	return Slot(SlotProps{FriendlyID: friendlyID, Decision: OffersDecision(list), Fallback: fallback})
}

// BannerSlot is a Slot for friendlyID that renders the decision's first offer with Banner
// (banner gives the banner's props; its Offer field is replaced), or fallback.
func BannerSlot(friendlyID string, fallback templ.Component, banner BannerProps) templ.Component {
	return Slot(SlotProps{FriendlyID: friendlyID, Decision: BannerDecision(banner), Fallback: fallback})
}
