package components

import (
	"cmp"
	"context"
	"io"
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

// OfferCard renders one offer as a card: an <article> with the offer's image (alt text and
// lazy loading), name, description and a call to action linking through its tracking URL, or,
// with LinkWholeCard, the whole card as one link. Offer fields are escaped as text; links go
// through templ's URL sanitisation and the props' LinkPolicy. An offer whose links are not
// allowed is shown without a link.
//
//	<article class="personalize-offer" data-testid="personalize-offer">
//		<img class="personalize-offer__image" src="..." alt="{name}" loading="lazy" decoding="async">
//		<h3 class="personalize-offer__name">{name}</h3>
//		<p class="personalize-offer__description">{description}</p>
//		<a class="personalize-offer__cta" href="{tracking URL}" rel="nofollow" aria-label="{cta}: {name}">{cta}</a>
//		<div class="personalize-offer__footer">{footer}</div>
//	</article>
func OfferCard(p OfferCardProps) templ.Component {
	return templ.ComponentFunc(p.render)
}

func (p OfferCardProps) render(ctx context.Context, w io.Writer) error {
	ctx, m, b, err := beginComponent(ctx, w)
	if err != nil {
		return err
	}
	v := newOfferCardView(ctx, p)
	m.offerCard(ctx, &v)
	return m.end(b)
}

// offerCardView is what a card shows, built from the props. Class and TestID are the props'
// own ("" for the defaults, written as static strings).
type offerCardView struct {
	ID, Class, TestID string
	Attributes        templ.Attributes
	Name, Description string
	Image             string
	Link              link
	CTA               string
	WholeCard         bool
	Footer            templ.Component
}

func newOfferCardView(ctx context.Context, p OfferCardProps) offerCardView {
	o := p.Offer
	return offerCardView{
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
}

// offerCard writes a card, which OfferList does for each offer without making an OfferCard of
// it. ctx is the card's: templ's context, without children.
func (m *markup) offerCard(ctx context.Context, v *offerCardView) {
	if !m.check(ctx) {
		return
	}
	attrs := m.spread(ctx, "article", v.Attributes)
	m.open(&offerCardRoot, v.ID, v.Class)
	m.testID(&offerCardRoot, v.TestID)
	m.endSpread(attrs)
	m.raw(">")
	if v.WholeCard && v.Link.Href != "" {
		m.raw(`<a class="personalize-offer__link" href="`)
		m.url(v.Link.Href)
		m.raw(`"`)
		if v.Link.Tracked {
			m.raw(` rel="nofollow"`)
		}
		if v.Name != "" {
			m.attr(` aria-label="`, v.Name)
		}
		m.raw(">")
		m.offerCardBody(ctx, v)
		m.raw("</a>")
	} else {
		m.offerCardBody(ctx, v)
		if v.Link.Href != "" {
			m.cta(`<a class="personalize-offer__cta" href="`, v.Link, v.CTA, v.Name)
		}
	}
	if v.Footer != nil {
		m.raw(`<div class="personalize-offer__footer">`)
		m.component(ctx, v.Footer)
		m.raw("</div>")
	}
	m.raw("</article>")
}

// offerCardBody writes a card's image, name and description.
func (m *markup) offerCardBody(ctx context.Context, v *offerCardView) {
	if !m.check(ctx) {
		return
	}
	if v.Image != "" {
		m.raw(`<img class="personalize-offer__image" src="`)
		m.url(v.Image)
		m.attr(`" alt="`, v.Name)
		// The space after the tag is the templates' (and the golden files').
		m.raw(` loading="lazy" decoding="async"> `)
	}
	if v.Name != "" {
		m.raw(`<h3 class="personalize-offer__name">`)
		m.text(v.Name)
		m.raw("</h3>")
	}
	if v.Description != "" {
		m.raw(`<p class="personalize-offer__description">`)
		m.text(v.Description)
		m.raw("</p>")
	}
}

// cta writes a call to action to l, with the text cta; open is the tag up to its href's value.
// Its aria-label names it after its offer ("View offer: Seat"), so a list of "View offer" links
// reads apart to a screen reader; it starts with the visible text, as WCAG 2.5.3 asks. There is
// none when the offer has no name.
func (m *markup) cta(open string, l link, cta, name string) {
	m.raw(open)
	m.url(l.Href)
	m.raw(`"`)
	if l.Tracked {
		m.raw(` rel="nofollow"`)
	}
	if name != "" {
		m.raw(` aria-label="`)
		m.text(cta)
		m.raw(": ")
		m.text(name)
		m.raw(`"`)
	}
	m.raw(">")
	m.text(cta)
	m.raw("</a>")
}
