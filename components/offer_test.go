package components_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

func offer(fields map[string]any) personalize.Offer { return personalize.NewOffer(fields) }

func TestOfferCard(t *testing.T) {
	ctx := context.Background()
	o := offer(map[string]any{
		"trackingUrl": "https://api.example.com/v3/trackers/abc",
		"Name":        "Ancillary seat",
		"description": "Pick your seat",
		"imageUrl":    "https://img.example.com/seat.png",
	})

	t.Run("call to action", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.OfferCard(components.OfferCardProps{Offer: o, ID: "seat", Class: "card", Attributes: templ.Attributes{"data-position": "2"}}))
		card := one(t, doc, "article")
		assert.Equal(t, "seat", attr(card, "id"))
		assert.Equal(t, "personalize-offer card", attr(card, "class"))
		assert.Equal(t, components.TestIDOfferCard, attr(card, "data-testid"))
		assert.Equal(t, "2", attr(card, "data-position"))

		img := one(t, card, "img.personalize-offer__image")
		assert.Equal(t, "https://img.example.com/seat.png", attr(img, "src"))
		assert.Equal(t, "Ancillary seat", attr(img, "alt"))
		assert.Equal(t, "lazy", attr(img, "loading"))

		assert.Equal(t, "Ancillary seat", text(one(t, card, "h3.personalize-offer__name")))
		assert.Equal(t, "Pick your seat", text(one(t, card, "p.personalize-offer__description")))

		a := one(t, card, "a")
		assert.True(t, hasClass(a, "personalize-offer__cta"))
		assert.Equal(t, "https://api.example.com/v3/trackers/abc", attr(a, "href"))
		assert.Equal(t, "nofollow", attr(a, "rel"))
		assert.Equal(t, components.DefaultCTA, text(a))
		assert.Equal(t, components.DefaultCTA+": Ancillary seat", attr(a, "aria-label"))
	})

	t.Run("whole card link", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.OfferCard(components.OfferCardProps{Offer: o, LinkWholeCard: true, CTA: "Book"}))
		a := one(t, doc, "article > a.personalize-offer__link")
		assert.Equal(t, "https://api.example.com/v3/trackers/abc", attr(a, "href"))
		assert.Len(t, find(a, "img"), 1)
		assert.Len(t, find(a, "h3"), 1)
		assert.Len(t, find(doc, "a"), 1, "one link per card")
	})

	t.Run("custom text and footer", func(t *testing.T) {
		footer := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, `<span class="price">€12</span>`)
			return err
		})
		doc := renderDoc(t, ctx, components.OfferCard(components.OfferCardProps{Offer: o, CTA: "Book now", Footer: footer, TestID: "seat-card"}))
		assert.Equal(t, "Book now", text(one(t, doc, "a.personalize-offer__cta")))
		assert.Equal(t, "seat-card", attr(one(t, doc, "article"), "data-testid"))
		assert.Equal(t, "€12", text(one(t, doc, "article .personalize-offer__footer .price")))
	})

	t.Run("own URL without a tracking link", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.OfferCard(components.OfferCardProps{Offer: offer(map[string]any{"name": "Bag", "url": "/booking/bag"})}))
		a := one(t, doc, "a")
		assert.Equal(t, "/booking/bag", attr(a, "href"))
		_, hasRel := lookupAttr(a, "rel")
		assert.False(t, hasRel, "only tracking links are nofollow")
	})

	t.Run("no link, no image", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.OfferCard(components.OfferCardProps{Offer: offer(map[string]any{"name": "Bag"})}))
		assert.Empty(t, find(doc, "a"))
		assert.Empty(t, find(doc, "img"))
		assert.Equal(t, "Bag", text(one(t, doc, "h3")))
	})
}

func TestOfferList(t *testing.T) {
	ctx := context.Background()
	offers := []personalize.Offer{
		offer(map[string]any{"name": "One", "trackingUrl": "https://api.example.com/v3/trackers/1"}),
		offer(map[string]any{"name": "Two", "trackingUrl": "https://api.example.com/v3/trackers/2"}),
	}

	t.Run("heading labels the section", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.OfferList(components.OfferListProps{Offers: offers, Heading: "For you", ID: "recs"}))
		section := one(t, doc, "section.personalize-offers")
		assert.Equal(t, components.TestIDOfferList, attr(section, "data-testid"))
		assert.Equal(t, "recs-heading", attr(section, "aria-labelledby"))
		assert.Equal(t, "For you", text(one(t, section, "h2#recs-heading")))
		items := find(section, "ul.personalize-offers__list > li.personalize-offers__item > article")
		require.Len(t, items, 2)
		assert.Equal(t, "One", text(one(t, items[0], "h3")))
		assert.Equal(t, "https://api.example.com/v3/trackers/2", attr(one(t, items[1], "a"), "href"))
	})

	t.Run("label without heading", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.OfferList(components.OfferListProps{Offers: offers, Label: "Offers"}))
		section := one(t, doc, "section")
		assert.Equal(t, "Offers", attr(section, "aria-label"))
		assert.Empty(t, find(section, "h2"))
	})

	t.Run("custom header, footer and card", func(t *testing.T) {
		header := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, `<h3 class="mine">Picked</h3>`)
			return err
		})
		card := func(o personalize.Offer, i int) templ.Component {
			if i == 1 {
				return nil
			}
			return components.TrackingLink(components.LinkProps{Offer: o, Class: "tile"})
		}
		doc := renderDoc(t, ctx, components.OfferList(components.OfferListProps{Offers: offers, Heading: "ignored", Header: header, Footer: header, Card: card}))
		assert.Len(t, find(doc, "h3.mine"), 2)
		assert.Empty(t, find(doc, "h2"))
		li := find(doc, "li")
		require.Len(t, li, 1, "a nil card is skipped")
		assert.Equal(t, "personalize-link tile", attr(one(t, li[0], "a"), "class"))
	})

	t.Run("no offers renders nothing", func(t *testing.T) {
		assert.Empty(t, render(t, ctx, components.OfferList(components.OfferListProps{Heading: "For you"})))
	})
}

func TestBanner(t *testing.T) {
	ctx := context.Background()
	o := offer(map[string]any{
		"trackingUrl": "https://api.example.com/v3/trackers/hero",
		"title":       "Summer sale",
		"text":        "Up to 30% off",
		"image":       "/img/hero.jpg",
	})

	t.Run("from the offer", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.Banner(components.BannerProps{Offer: o, ID: "hero", CTA: "Shop now"}))
		s := one(t, doc, "section.personalize-banner")
		assert.Equal(t, components.TestIDBanner, attr(s, "data-testid"))
		assert.Equal(t, "hero-title", attr(s, "aria-labelledby"))
		assert.Equal(t, "Summer sale", text(one(t, s, "h2#hero-title")))
		assert.Equal(t, "Up to 30% off", text(one(t, s, "p.personalize-banner__text")))
		img := one(t, s, "img.personalize-banner__image")
		assert.Equal(t, "/img/hero.jpg", attr(img, "src"))
		assert.Equal(t, "Summer sale", attr(img, "alt"))
		a := one(t, s, "a.personalize-banner__cta")
		assert.Equal(t, "https://api.example.com/v3/trackers/hero", attr(a, "href"))
		assert.Equal(t, "Shop now", text(a))
	})

	t.Run("props override the offer", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.Banner(components.BannerProps{Offer: o, Title: "Mine", Text: "Our text"}))
		assert.Equal(t, "Mine", text(one(t, doc, "h2")))
		assert.Equal(t, "Our text", text(one(t, doc, "p")))
	})
}

// TestEscaping: HTML and script in offer fields come out as text, never as markup.
func TestEscaping(t *testing.T) {
	ctx := context.Background()
	const script = `<script>alert("x")</script>`
	const markup = `<b onmouseover="alert(1)">bold</b>`
	o := offer(map[string]any{
		"trackingUrl": `https://api.example.com/v3/trackers/x"><script>alert(1)</script>`,
		"name":        script,
		"description": markup,
		"imageUrl":    `https://img.example.com/a.png"onerror="alert(1)`,
	})
	comps := map[string]templ.Component{
		"offer card":    components.OfferCard(components.OfferCardProps{Offer: o}),
		"whole card":    components.OfferCard(components.OfferCardProps{Offer: o, LinkWholeCard: true}),
		"offer list":    components.OfferList(components.OfferListProps{Offers: []personalize.Offer{o}, Heading: script}),
		"banner":        components.Banner(components.BannerProps{Offer: o}),
		"tracking link": components.TrackingLink(components.LinkProps{Offer: o}),
	}
	for name, c := range comps {
		t.Run(name, func(t *testing.T) {
			doc := renderDoc(t, ctx, c)
			assert.Empty(t, find(doc, "script"), "no <script> element")
			assert.Empty(t, find(doc, "b"), "no <b> element")
			assert.Empty(t, find(doc, "[onmouseover], [onerror]"), "no event handler attribute")
			if name == "tracking link" {
				return
			}
			assert.Contains(t, text(doc), script, "the script is shown as text")
			if h := find(doc, "h2, h3"); len(h) > 0 {
				assert.Equal(t, script, text(h[0]))
			}
			if p := find(doc, "p"); len(p) > 0 {
				assert.Equal(t, markup, text(p...))
			}
			if img := find(doc, "img"); len(img) > 0 {
				assert.Equal(t, script, attr(img[0], "alt"))
				assert.Equal(t, `https://img.example.com/a.png"onerror="alert(1)`, attr(img[0], "src"))
			}
		})
	}
}

func TestOfferListRendersAtMostMaxItems(t *testing.T) {
	offers := make([]personalize.Offer, 100)
	for i := range offers {
		offers[i] = offer(map[string]any{"name": fmt.Sprint("Offer ", i), "trackingUrl": fmt.Sprint("/offers/", i)})
	}
	cards := func(p components.OfferListProps) []*html.Node {
		p.Offers = offers
		return find(renderDoc(t, context.Background(), components.OfferList(p)), "li.personalize-offers__item")
	}
	got := cards(components.OfferListProps{})
	require.Len(t, got, components.DefaultMaxItems, "a hundred offers, the default number of cards")
	assert.Equal(t, "Offer 0", text(one(t, got[0], "h3")), "the first ones, in order")
	assert.Len(t, cards(components.OfferListProps{MaxItems: 3}), 3)
	assert.Len(t, cards(components.OfferListProps{MaxItems: -1}), components.DefaultMaxItems, "below zero: the default")
	assert.Len(t, cards(components.OfferListProps{MaxItems: 500}), 100, "no more than there are")

	skipEven := func(o personalize.Offer, i int) templ.Component {
		if i%2 == 0 {
			return nil
		}
		return components.OfferCard(components.OfferCardProps{Offer: o})
	}
	got = cards(components.OfferListProps{MaxItems: 5, Card: skipEven})
	require.Len(t, got, 5, "skipped offers do not count")
	assert.Equal(t, "Offer 9", text(one(t, got[4], "h3")))
}
