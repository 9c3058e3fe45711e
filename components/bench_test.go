package components_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// BenchmarkSlotFourOffers renders a slot of the seed's four offers from a page whose result is
// already memoized: the rendering alone, no I/O.
func BenchmarkSlotFourOffers(b *testing.B) {
	e := newEnv(b, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers())}, personalize.WithBudget(slowBudget))
	ctx := e.pageContext(b)
	res, err := personalize.Flow(ctx, "ancillary_offers")
	require.NoError(b, err)
	require.Len(b, res.Offers(), 4)
	slot := components.Slot(components.SlotProps{
		FriendlyID: "ancillary_offers",
		Decision:   components.OfferListDecision(components.OfferListProps{Heading: "Add to your trip"}),
		Fallback:   fallback,
	})
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := slot.Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.Equal(b, 1, e.srv.Sandbox.CallCount("ancillary_offers"), "no I/O while rendering")
	require.Contains(b, buf.String(), `data-personalize-state="decision"`)
}

// BenchmarkOfferListFourOffers renders an OfferList of four offers directly.
func BenchmarkOfferListFourOffers(b *testing.B) {
	offers := make([]personalize.Offer, 0, 4)
	for i, o := range seedOffers() {
		o["trackingUrl"] = "https://api-engage-eu.sitecorecloud.io/v3/trackers/" + seedNames[i]
		offers = append(offers, personalize.NewOffer(o))
	}
	list := components.OfferList(components.OfferListProps{Offers: offers, Heading: "Add to your trip"})
	ctx := context.Background()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := list.Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
}
