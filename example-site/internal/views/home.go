package views

import (
	"context"
	"io"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

// HomeView is the home page.
type HomeView struct {
	Meta
	// Subscribed shows the thank-you note of the newsletter sign-up.
	Subscribed bool
}

// Hero is the home page's hero, from the banner flow's decision or the default.
type Hero struct {
	Title, Text, CTA string
	// Badge is the small label above the title ("Summer sale"); Theme picks the colours
	// ("summer", "returning", "" for the default).
	Badge, Theme string
	Image        string
	// Offer gives the call to action's link: its tracking URL, or its own URL.
	Offer personalize.Offer
}

// heroFrom makes the hero of a banner decision, false when the offer has no title.
func heroFrom(o personalize.Offer) (Hero, bool) {
	h := Hero{
		Title: o.Name(),
		Text:  o.Description(),
		CTA:   o.Text("cta"),
		Badge: o.Text("badge"),
		Theme: o.Text("theme"),
		Image: o.ImageURL(),
		Offer: o,
	}
	if h.CTA == "" {
		h.CTA = "Book now"
	}
	if h.Theme == "" {
		h.Theme = "default"
	}
	return h, h.Title != ""
}

// defaultHero is the hero when Personalize gives no decision.
func defaultHero() Hero {
	return Hero{
		Title: "See Europe from €39",
		Text:  "Direct flights from Amsterdam to 60 cities, with a cabin bag included in every fare.",
		CTA:   "Find a flight",
		Theme: "default",
		Image: "/static/img/hero-plane.svg",
		Offer: personalize.NewOffer(map[string]any{"url": "/booking"}),
	}
}

// heroSlot is the home_page_banner slot.
func heroSlot(links Links) templ.Component {
	return components.Slot(components.SlotProps{
		FriendlyID: FlowHomeBanner,
		Class:      "hero-slot",
		TestID:     "slot-home-banner",
		Decision: func(res *personalize.Result) templ.Component {
			offers := res.Offers()
			if len(offers) == 0 {
				return nil
			}
			h, ok := heroFrom(links.Local(offers[0]))
			if !ok {
				return nil
			}
			return heroSection(h)
		},
		Fallback: lazy(func() templ.Component { return heroSection(defaultHero()) }),
	})
}

// defaultDestinations are the destination cards shown when Personalize gives no decision.
func defaultDestinations() []personalize.Offer {
	return []personalize.Offer{
		personalize.NewOffer(map[string]any{"name": "Lisbon", "description": "Yellow trams, tiled façades and sunsets over the Tagus.", "price": "from €59", "duration": "2 h 50", "imageUrl": "/static/img/lisbon.svg", "url": "/booking?to=lisbon"}),
		personalize.NewOffer(map[string]any{"name": "Barcelona", "description": "Gaudí by day, tapas by night, the beach in between.", "price": "from €64", "duration": "2 h 15", "imageUrl": "/static/img/barcelona.svg", "url": "/booking?to=barcelona"}),
		personalize.NewOffer(map[string]any{"name": "Copenhagen", "description": "Harbour swims, cinnamon buns and bikes everywhere.", "price": "from €49", "duration": "1 h 20", "imageUrl": "/static/img/copenhagen.svg", "url": "/booking?to=copenhagen"}),
	}
}

// destinationCard is one destination, the library's Offer card with the fare as its footer.
func destinationCard(o personalize.Offer, _ int) templ.Component {
	return components.OfferCard(components.OfferCardProps{
		Offer:      o,
		CTA:        "See fares",
		Class:      "card destination",
		Footer:     fare(o.Text("price"), o.Text("duration")),
		Attributes: templ.Attributes{"data-offer-name": o.Name()},
	})
}

func destinationList(offers []personalize.Offer) templ.Component {
	return components.OfferList(components.OfferListProps{
		Offers: offers,
		Label:  "Recommended destinations",
		Class:  "destinations",
		Card:   destinationCard,
	})
}

// destinationsSlot is the recommended_destinations slot.
func destinationsSlot(links Links) templ.Component {
	return components.Slot(components.SlotProps{
		FriendlyID: FlowDestinations,
		TestID:     "slot-destinations",
		Decision: func(res *personalize.Result) templ.Component {
			offers := components.Showable(res.Offers())
			if len(offers) == 0 {
				return nil
			}
			return destinationList(links.All(offers))
		},
		Fallback: lazy(func() templ.Component { return destinationList(defaultDestinations()) }),
	})
}

// newsletterSlot is the newsletter_offer slot, shown with the library's Banner.
func newsletterSlot(links Links) templ.Component {
	return components.Slot(components.SlotProps{
		FriendlyID: FlowNewsletter,
		TestID:     "slot-newsletter",
		Decision: func(res *personalize.Result) templ.Component {
			offers := res.Offers()
			if len(offers) == 0 || offers[0].Name() == "" {
				return nil
			}
			return newsletterBanner(links.Local(offers[0]))
		},
		Fallback: lazy(func() templ.Component {
			return newsletterBanner(personalize.NewOffer(map[string]any{
				"title": "Join 40,000 travellers on our fare alerts",
				"text":  "Two emails a month with the lowest fares we have. Unsubscribe in one click.",
				"cta":   "Sign me up",
				"url":   "/?subscribed=1",
			}))
		}),
	})
}

func newsletterBanner(o personalize.Offer) templ.Component {
	theme := o.Text("theme")
	if theme == "" {
		theme = "default"
	}
	return components.Banner(components.BannerProps{
		Offer:      o,
		CTA:        or(o.Text("cta"), "Sign me up"),
		ID:         "newsletter",
		Class:      "newsletter",
		Extra:      badge(o.Text("badge")),
		Attributes: templ.Attributes{"data-theme": theme},
	})
}

// lazy is the component build returns, made only when it renders: a slot's default content
// is built for the pages that show it, not for every page.
func lazy(build func() templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return build().Render(ctx, w)
	})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
