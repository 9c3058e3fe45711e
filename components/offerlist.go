package components

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/personalize"
)

// OfferListProps are the props of OfferList, a list of offer cards.
type OfferListProps struct {
	// Offers are the offers to list, in order. With none, OfferList renders nothing.
	Offers []personalize.Offer
	// MaxItems is the most cards the list renders, the first ones in order (a Card that
	// returns nil does not count). Zero or less means DefaultMaxItems: an answer's size is the
	// API's to choose, a page's is the site's, and a list of thousands of cards is no page.
	MaxItems int
	// Heading, when set, is the list's visible <h2>.
	Heading string
	// Header, when set, replaces the heading with the caller's markup.
	Header templ.Component
	// Footer, when set, is rendered after the list.
	Footer templ.Component
	// Label names the list's <section> for assistive technology when it has no heading.
	Label string
	// CTA, LinkWholeCard and Links are passed to each card (see OfferCardProps).
	CTA           string
	LinkWholeCard bool
	Links         LinkPolicy
	// Card, when set, renders each offer instead of the default OfferCard; the list markup
	// (<ul>, <li>) stays. It may return nil to skip an offer.
	Card func(o personalize.Offer, i int) templ.Component
	// ID, Class and Attributes go on the root <section>; Class adds to "personalize-offers".
	ID         string
	Class      string
	Attributes templ.Attributes
	// TestID is the root's data-testid (TestIDOfferList when empty).
	TestID string
}

// OfferList renders offers as a list of cards: a <section> holding an optional heading and a
// <ul> with one <li> per offer, each an OfferCard (or the props' Card). With no offers it
// renders nothing; inside a Slot, an empty decision renders the slot's fallback instead.
//
//	<section class="personalize-offers" data-testid="personalize-offers" aria-labelledby="{id}-heading">
//		<h2 id="{id}-heading" class="personalize-offers__heading">{heading}</h2>
//		<ul class="personalize-offers__list">
//			<li class="personalize-offers__item"><article class="personalize-offer" ...>...</article></li>
//		</ul>
//		{footer}
//	</section>
func OfferList(p OfferListProps) templ.Component {
	return templ.ComponentFunc(p.render)
}

func (p OfferListProps) render(ctx context.Context, w io.Writer) error {
	ctx, m, b, err := beginComponent(ctx, w)
	if err != nil {
		return err
	}
	v := newOfferListView(p)
	if v.items() > 0 {
		m.offerList(ctx, &p, &v)
	}
	return m.end(b)
}

// offerListView is what the list shows, built from the props. Class and TestID are the props'
// own ("" for the defaults, written as static strings). The cards are Offers, rendered as
// default cards, unless the props have a Card: then they are Custom.
type offerListView struct {
	Class, TestID string
	HeadingID     bool // the heading has an ID, the list's ID + "-heading"
	Offers        []personalize.Offer
	Custom        []templ.Component
}

func newOfferListView(p OfferListProps) offerListView {
	v := offerListView{
		Class:     strings.TrimSpace(p.Class),
		TestID:    ownTestID(p.TestID, TestIDOfferList),
		HeadingID: p.Heading != "" && p.Header == nil && p.ID != "",
	}
	limit := p.MaxItems
	if limit <= 0 {
		limit = DefaultMaxItems
	}
	if p.Card == nil {
		v.Offers = p.Offers[:min(len(p.Offers), limit)]
		return v
	}
	// The Card of each offer is asked for before anything is written: a Card that returns nil
	// does not count, and a list of none renders nothing.
	for i, o := range p.Offers {
		if len(v.Custom) == limit {
			break
		}
		if c := p.Card(o, i); c != nil {
			if v.Custom == nil {
				v.Custom = make([]templ.Component, 0, min(len(p.Offers)-i, limit))
			}
			v.Custom = append(v.Custom, c)
		}
	}
	return v
}

// heading writes an <h2> of text: with an ID when withID, the component's ID and suffix (its
// end, with the closing quote), and then rest, the rest of the tag (its class).
func (m *markup) heading(withID bool, id, suffix, rest, text string) {
	m.raw("<h2")
	if withID {
		m.raw(` id="`)
		m.text(id)
		m.raw(suffix)
	}
	m.raw(rest)
	m.text(text)
	m.raw("</h2>")
}

// items is the number of cards of the list.
func (v *offerListView) items() int { return len(v.Offers) + len(v.Custom) }

// offerList writes the list of p, of at least one card.
func (m *markup) offerList(ctx context.Context, p *OfferListProps, v *offerListView) {
	attrs := m.spread(ctx, "section", p.Attributes)
	m.open(&offerListRoot, p.ID, v.Class)
	m.testID(&offerListRoot, v.TestID)
	if v.HeadingID {
		m.raw(` aria-labelledby="`)
		m.text(p.ID)
		m.raw(`-heading"`)
	} else if p.Label != "" {
		m.attr(` aria-label="`, p.Label)
	}
	m.endSpread(attrs)
	m.raw(">")
	if p.Header != nil {
		m.component(ctx, p.Header)
	} else if p.Heading != "" {
		m.heading(v.HeadingID, p.ID, `-heading"`, ` class="personalize-offers__heading">`, p.Heading)
	}
	m.raw(`<ul class="personalize-offers__list">`)
	for _, o := range v.Offers {
		m.raw(`<li class="personalize-offers__item">`)
		card := newOfferCardView(ctx, OfferCardProps{Offer: o, CTA: p.CTA, LinkWholeCard: p.LinkWholeCard, Links: p.Links})
		m.offerCard(ctx, &card)
		m.raw("</li>")
	}
	for _, c := range v.Custom {
		m.raw(`<li class="personalize-offers__item">`)
		m.component(ctx, c)
		m.raw("</li>")
	}
	m.raw("</ul>")
	if p.Footer != nil {
		m.component(ctx, p.Footer)
	}
	m.raw("</section>")
}
