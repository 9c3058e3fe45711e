package components_test

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata with the current output")

// goldenOffers are fixed offers for the golden files (the seed's, with fixed tracking links).
func goldenOffers() []personalize.Offer {
	return []personalize.Offer{
		offer(map[string]any{"trackingUrl": "https://api-engage-eu.sitecorecloud.io/v3/trackers/eyJjaGFubmVsIj", "Name": "Ancillary bundle", "imageURLForTesting": "https://png.icons8.com/ios/50/000000/cardboard-box.png"}),
		offer(map[string]any{"trackingUrl": "https://api-engage-eu.sitecorecloud.io/v3/trackers/eyJjaGFubmVsIk", "Name": "Ancillary seat", "imageURLForTesting": "https://png.icons8.com/dotty/50/000000/flight-seat.png", "description": "Choose your seat"}),
	}
}

// goldenScript is a script an attribute calls: its function is rendered before the element.
var goldenScript = templ.ComponentScript{Name: "__templ_track_1", Function: "function __templ_track_1(){track()}", Call: "__templ_track_1()"}

// TestGolden compares the default markup with testdata/*.golden.html. On a difference it
// writes the output beside the golden file as *.actual.html; go test -update rewrites the
// golden files.
func TestGolden(t *testing.T) {
	offers := goldenOffers()
	tests := []struct {
		name string
		c    templ.Component
	}{
		{"offer", components.OfferCard(components.OfferCardProps{Offer: offers[1]})},
		{"offer_whole_card", components.OfferCard(components.OfferCardProps{Offer: offers[1], LinkWholeCard: true, ID: "seat", Class: "card"})},
		{"offers", components.OfferList(components.OfferListProps{Offers: offers, Heading: "Add to your trip", ID: "ancillaries", CTA: "Add"})},
		{"banner", components.Banner(components.BannerProps{Offer: offers[0], ID: "hero", Text: "Everything you need, in one box", CTA: "See the bundle"})},
		{"tracking_link", templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			return components.TrackingLink(components.LinkProps{Offer: offers[0]}).Render(templ.WithChildren(ctx, templ.Raw("Ancillary bundle")), w)
		})},
		// The props that change the markup: IDs, classes, test IDs, attributes (a script's
		// function goes before the element), the site's own markup, text to escape.
		{"offers_props", components.OfferList(components.OfferListProps{Offers: goldenOffers(), Label: "Extras", ID: "x&y", Class: "  wide  dark ",
			TestID: "extras", Attributes: templ.Attributes{"data-position": "top", "hidden": true, "onmouseover": goldenScript},
			Footer: templ.Raw(`<p class="more">More</p>`), LinkWholeCard: true})},
		{"offers_cards", components.OfferList(components.OfferListProps{Offers: goldenOffers(), Heading: "Yours", Header: templ.Raw("<h2>Mine</h2>"),
			Card: func(o personalize.Offer, i int) templ.Component {
				if i == 0 {
					return nil
				}
				return components.OfferCard(components.OfferCardProps{Offer: o, Class: "card", TestID: "card", ID: "c1",
					Attributes: templ.Attributes{"data-offer-name": o.Name()}, Footer: templ.Raw(`<span class="price">€12</span>`)})
			}})},
		{"offer_escaped", components.OfferCard(components.OfferCardProps{Offer: offer(map[string]any{"Name": `Tom & "Jerry's" <b>`,
			"description": "<script>alert(1)</script>", "imageUrl": "https://img.example.com/a.png?x=1&y=2", "url": "/booking?a=1&b=2"}), CTA: "Go & see"})},
		{"banner_props", components.Banner(components.BannerProps{Offer: goldenOffers()[1], ID: "news", Class: "newsletter", TestID: "news",
			Attributes: templ.Attributes{"data-theme": "dark", "onclick": goldenScript}, Extra: templ.Raw(`<p class="badge">New</p>`)})},
		{"slot_props", components.Slot(components.SlotProps{FriendlyID: "newsletter_offer", ID: "n", Class: " hero-slot ", TestID: "slot-n",
			Attributes: templ.Attributes{"data-x": "1 & 2"}, Fallback: components.TrackingLink(components.LinkProps{URL: "/signup?a=1&b=2", ID: "l", Class: "button", TestID: "cta",
				Attributes: templ.Attributes{"target": "_blank"}})})},
		// With no page in the context the slot has no decision: its fallback markup.
		{"slot_fallback", components.Slot(components.SlotProps{
			FriendlyID: "ancillary_offers",
			Fallback:   components.OfferList(components.OfferListProps{Offers: offers[:1], Heading: "Popular extras"}),
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, context.Background(), tt.c) + "\n"
			golden := filepath.Join("testdata", tt.name+".golden.html")
			actual := filepath.Join("testdata", tt.name+".actual.html")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				_ = os.Remove(actual)
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create the golden file")
			if string(want) != got {
				require.NoError(t, os.WriteFile(actual, []byte(got), 0o644))
				t.Fatalf("markup differs from %s; the output is in %s (go test -update accepts it)\nwant: %s\ngot:  %s", golden, actual, want, got)
			}
			_ = os.Remove(actual)
		})
	}
}
