package components_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/personalize/components"
	"github.com/go-personalize/personalize/personalize"
	"github.com/go-personalize/personalize/personalize/sandbox"
)

// BenchmarkSlotFourOffers renders a slot of the seed's four offers from a page whose result is
// already memoized: the rendering alone, no I/O.
func BenchmarkSlotFourOffers(b *testing.B) {
	e := newEnv(b, []*sandbox.FlowDef{sandbox.Flow("ancillary_offers").Returns(seedOffers())}, personalize.WithBudget(slowBudget))
	ctx := e.pageContext(b)
	res, err := personalize.Flow(ctx, "ancillary_offers")
	require.NoError(b, err)
	require.Len(b, res.Offers(), 4)
	slot := components.OffersSlot("ancillary_offers", fallback, components.OffersProps{Heading: "Add to your trip"})
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

// BenchmarkOffersFourOffers renders the Offers list of four offers directly.
func BenchmarkOffersFourOffers(b *testing.B) {
	offers := make([]personalize.Offer, 0, 4)
	for i, o := range seedOffers() {
		o["trackingUrl"] = "https://api-engage-eu.sitecorecloud.io/v3/trackers/" + seedNames[i]
		offers = append(offers, personalize.NewOffer(o))
	}
	list := components.Offers(components.OffersProps{Offers: offers, Heading: "Add to your trip"})
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
