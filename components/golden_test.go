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
