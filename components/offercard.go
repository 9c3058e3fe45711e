package components

import (
	"cmp"
	"context"
	"strings"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/personalize"
)

// OfferCardProps are the props of OfferCard, a card for one offer.
type OfferCardProps struct {
	// Offer is the offer to show: its name, description, image and tracking link.
	Offer personalize.Offer
	// CTA is the text of the call to action (DefaultCTA when empty).
	CTA string
	// LinkWholeCard makes the whole card one link instead of showing a call to action.
	LinkWholeCard bool
	// Links says which links may reach the page (the zero value allows any safe link).
	Links LinkPolicy
	// Footer, when set, is rendered at the end of the card (a price, a badge).
	Footer templ.Component
	// ID, Class and Attributes go on the root <article>; Class adds to "personalize-offer".
	ID         string
	Class      string
	Attributes templ.Attributes
	// TestID is the root's data-testid (TestIDOfferCard when empty).
	TestID string
}

// offerCardView is what the card template shows, built from the props in Go. Class and
// TestID are the props' own ("" for the defaults, which the template writes as static
// strings).
type offerCardView struct {
	ID, Class, TestID string
	Attributes        templ.Attributes
	Name, Description string
	Image             string
	Link              link
	CTA, CTALabel     string
	WholeCard         bool
	Footer            templ.Component
}

func newOfferCardView(ctx context.Context, p OfferCardProps) offerCardView {
	o := p.Offer
	v := offerCardView{
		ID:          p.ID,
		Class:       strings.TrimSpace(p.Class),
		TestID:      ownTestID(p.TestID, TestIDOfferCard),
		Attributes:  p.Attributes,
		Name:        o.Name(),
		Description: o.Description(),
		Image:       safeImage(o.ImageURL()),
		Link:        p.Links.resolveLink(ctx, o.TrackingURL(), o.URL()),
		CTA:         cmp.Or(p.CTA, DefaultCTA),
		WholeCard:   p.LinkWholeCard,
		Footer:      p.Footer,
	}
	v.CTALabel = ctaLabel(v.CTA, v.Name)
	return v
}

// ctaLabel names a call to action after its offer, so a list of "View offer" links reads
// apart to a screen reader; it starts with the visible text, as WCAG 2.5.3 asks.
func ctaLabel(cta, name string) string {
	if name == "" {
		return ""
	}
	return cta + ": " + name
}
