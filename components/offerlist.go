package components

import (
	"context"
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

// offerListView is what the list template shows, built from the props in Go. Class and
// TestID are the props' own ("" for the defaults, which the template writes as static
// strings).
type offerListView struct {
	ID, Class, TestID  string
	Attributes         templ.Attributes
	Heading, HeadingID string
	Header, Footer     templ.Component
	Label              string
	Items              []listItem
}

// listItem is one <li> of the list: the props' Card for the offer, or the default card's view
// (rendered by offerCard, without an OfferCard component per offer).
type listItem struct {
	Custom templ.Component
	Card   offerCardView
}

func newOfferListView(ctx context.Context, p OfferListProps) offerListView {
	v := offerListView{
		ID:         p.ID,
		Class:      strings.TrimSpace(p.Class),
		TestID:     ownTestID(p.TestID, TestIDOfferList),
		Attributes: p.Attributes,
		Heading:    p.Heading,
		Header:     p.Header,
		Footer:     p.Footer,
		Label:      p.Label,
	}
	limit := p.MaxItems
	if limit <= 0 {
		limit = DefaultMaxItems
	}
	if v.Heading != "" && v.Header == nil && v.ID != "" {
		v.HeadingID = v.ID + "-heading"
	}
	v.Items = make([]listItem, 0, min(len(p.Offers), limit))
	for i, o := range p.Offers {
		if len(v.Items) == limit {
			break
		}
		if p.Card == nil {
			v.Items = append(v.Items, listItem{Card: newOfferCardView(ctx, OfferCardProps{Offer: o, CTA: p.CTA, LinkWholeCard: p.LinkWholeCard, Links: p.Links})})
		} else if c := p.Card(o, i); c != nil {
			v.Items = append(v.Items, listItem{Custom: c})
		}
	}
	return v
}
