package components_test

import (
	"context"
	"io"
	"testing"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/personalize/components"
	"github.com/go-personalize/personalize/personalize"
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
		doc := renderDoc(t, ctx, components.Offer(components.OfferProps{Offer: o, ID: "seat", Class: "card", Attributes: templ.Attributes{"data-position": "2"}}))
		card := doc.Find("article")
		require.Equal(t, 1, card.Length())
		assert.Equal(t, "seat", attr(card, "id"))
		assert.Equal(t, "personalize-offer card", attr(card, "class"))
		assert.Equal(t, components.TestIDOffer, attr(card, "data-testid"))
		assert.Equal(t, "2", attr(card, "data-position"))

		img := card.Find("img.personalize-offer__image")
		require.Equal(t, 1, img.Length())
		assert.Equal(t, "https://img.example.com/seat.png", attr(img, "src"))
		assert.Equal(t, "Ancillary seat", attr(img, "alt"))
		assert.Equal(t, "lazy", attr(img, "loading"))

		assert.Equal(t, "Ancillary seat", text(card.Find("h3.personalize-offer__name")))
		assert.Equal(t, "Pick your seat", text(card.Find("p.personalize-offer__description")))

		a := card.Find("a")
		require.Equal(t, 1, a.Length())
		assert.True(t, a.HasClass("personalize-offer__cta"))
		assert.Equal(t, "https://api.example.com/v3/trackers/abc", attr(a, "href"))
		assert.Equal(t, "nofollow", attr(a, "rel"))
		assert.Equal(t, components.DefaultCTA, text(a))
		assert.Equal(t, components.DefaultCTA+": Ancillary seat", attr(a, "aria-label"))
	})

	t.Run("whole card link", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.Offer(components.OfferProps{Offer: o, LinkWholeCard: true, CTA: "Book"}))
		a := doc.Find("article > a.personalize-offer__link")
		require.Equal(t, 1, a.Length())
		assert.Equal(t, "https://api.example.com/v3/trackers/abc", attr(a, "href"))
		assert.Equal(t, 1, a.Find("img").Length())
		assert.Equal(t, 1, a.Find("h3").Length())
		assert.Equal(t, 1, doc.Find("a").Length(), "one link per card")
	})

	t.Run("custom text and footer", func(t *testing.T) {
		footer := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, `<span class="price">€12</span>`)
			return err
		})
		doc := renderDoc(t, ctx, components.Offer(components.OfferProps{Offer: o, CTA: "Book now", Footer: footer, TestID: "seat-card"}))
		assert.Equal(t, "Book now", text(doc.Find("a.personalize-offer__cta")))
		assert.Equal(t, "seat-card", attr(doc.Find("article"), "data-testid"))
		assert.Equal(t, "€12", text(doc.Find("article .personalize-offer__footer .price")))
	})

	t.Run("own URL without a tracking link", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.Offer(components.OfferProps{Offer: offer(map[string]any{"name": "Bag", "url": "/booking/bag"})}))
		a := doc.Find("a")
		assert.Equal(t, "/booking/bag", attr(a, "href"))
		_, hasRel := a.Attr("rel")
		assert.False(t, hasRel, "only tracking links are nofollow")
	})

	t.Run("no link, no image", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.Offer(components.OfferProps{Offer: offer(map[string]any{"name": "Bag"})}))
		assert.Equal(t, 0, doc.Find("a").Length())
		assert.Equal(t, 0, doc.Find("img").Length())
		assert.Equal(t, "Bag", text(doc.Find("h3")))
	})
}

func TestOffersList(t *testing.T) {
	ctx := context.Background()
	offers := []personalize.Offer{
		offer(map[string]any{"name": "One", "trackingUrl": "https://api.example.com/v3/trackers/1"}),
		offer(map[string]any{"name": "Two", "trackingUrl": "https://api.example.com/v3/trackers/2"}),
	}

	t.Run("heading labels the section", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.Offers(components.OffersProps{Offers: offers, Heading: "For you", ID: "recs"}))
		section := doc.Find("section.personalize-offers")
		require.Equal(t, 1, section.Length())
		assert.Equal(t, components.TestIDOffers, attr(section, "data-testid"))
		assert.Equal(t, "recs-heading", attr(section, "aria-labelledby"))
		h2 := section.Find("h2#recs-heading")
		assert.Equal(t, "For you", text(h2))
		items := section.Find("ul.personalize-offers__list > li.personalize-offers__item > article")
		require.Equal(t, 2, items.Length())
		assert.Equal(t, "One", text(items.Eq(0).Find("h3")))
		assert.Equal(t, "https://api.example.com/v3/trackers/2", attr(items.Eq(1).Find("a"), "href"))
	})

	t.Run("label without heading", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.Offers(components.OffersProps{Offers: offers, Label: "Offers"}))
		section := doc.Find("section")
		assert.Equal(t, "Offers", attr(section, "aria-label"))
		assert.Equal(t, 0, section.Find("h2").Length())
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
		doc := renderDoc(t, ctx, components.Offers(components.OffersProps{Offers: offers, Heading: "ignored", Header: header, Footer: header, Card: card}))
		assert.Equal(t, 2, doc.Find("h3.mine").Length())
		assert.Equal(t, 0, doc.Find("h2").Length())
		li := doc.Find("li")
		require.Equal(t, 1, li.Length(), "a nil card is skipped")
		assert.Equal(t, "personalize-link tile", attr(li.Find("a"), "class"))
	})

	t.Run("no offers renders nothing", func(t *testing.T) {
		assert.Empty(t, render(t, ctx, components.Offers(components.OffersProps{Heading: "For you"})))
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
		s := doc.Find("section.personalize-banner")
		require.Equal(t, 1, s.Length())
		assert.Equal(t, components.TestIDBanner, attr(s, "data-testid"))
		assert.Equal(t, "hero-title", attr(s, "aria-labelledby"))
		assert.Equal(t, "Summer sale", text(s.Find("h2#hero-title")))
		assert.Equal(t, "Up to 30% off", text(s.Find("p.personalize-banner__text")))
		img := s.Find("img.personalize-banner__image")
		assert.Equal(t, "/img/hero.jpg", attr(img, "src"))
		assert.Equal(t, "Summer sale", attr(img, "alt"))
		a := s.Find("a.personalize-banner__cta")
		assert.Equal(t, "https://api.example.com/v3/trackers/hero", attr(a, "href"))
		assert.Equal(t, "Shop now", text(a))
	})

	t.Run("props override the offer", func(t *testing.T) {
		doc := renderDoc(t, ctx, components.Banner(components.BannerProps{Offer: o, Title: "Mine", Text: "Our text"}))
		assert.Equal(t, "Mine", text(doc.Find("h2")))
		assert.Equal(t, "Our text", text(doc.Find("p")))
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
		"offer":         components.Offer(components.OfferProps{Offer: o}),
		"whole card":    components.Offer(components.OfferProps{Offer: o, LinkWholeCard: true}),
		"offers":        components.Offers(components.OffersProps{Offers: []personalize.Offer{o}, Heading: script}),
		"banner":        components.Banner(components.BannerProps{Offer: o}),
		"tracking link": components.TrackingLink(components.LinkProps{Offer: o}),
	}
	for name, c := range comps {
		t.Run(name, func(t *testing.T) {
			doc := renderDoc(t, ctx, c)
			assert.Equal(t, 0, doc.Find("script").Length(), "no <script> element")
			assert.Equal(t, 0, doc.Find("b").Length(), "no <b> element")
			assert.Equal(t, 0, doc.Find("[onmouseover], [onerror]").Length(), "no event handler attribute")
			if name == "tracking link" {
				return
			}
			assert.Contains(t, doc.Text(), script, "the script is shown as text")
			if h := doc.Find("h2, h3").First(); h.Length() > 0 {
				assert.Equal(t, script, text(h))
			}
			if p := doc.Find("p"); p.Length() > 0 {
				assert.Equal(t, markup, text(p))
			}
			if img := doc.Find("img"); img.Length() > 0 {
				assert.Equal(t, script, attr(img, "alt"))
				assert.Equal(t, `https://img.example.com/a.png"onerror="alert(1)`, attr(img, "src"))
			}
		})
	}
}
