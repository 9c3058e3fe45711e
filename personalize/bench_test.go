package personalize_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-personalize/personalize/internal/bareref"
	"github.com/go-personalize/personalize/personalize"
	"github.com/go-personalize/personalize/personalize/sandbox"
	"github.com/stretchr/testify/require"
)

var pageFlows = []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}

// benchSandbox serves the seed's four offers for every flow of the home page.
func benchSandbox(b *testing.B) *sandbox.Server {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	require.NoError(b, err)
	var flows []*sandbox.FlowDef
	for _, id := range append([]string{"ancillary_offers"}, pageFlows...) {
		flows = append(flows, sandbox.Flow(id).Returns(jsonRaw(raw)))
	}
	return sandbox.Start(b, sandbox.WithFlows(flows...))
}

func bareBody() bareref.Body {
	return bareref.Body{ClientKey: sandbox.DefaultClientKey, Channel: "WEB", Language: "en", CurrencyCode: "EUR",
		PointOfSale: "airline.example", BrowserID: seedBrowserID, FriendlyID: "ancillary_offers"}
}

// BenchmarkCallFlow compares one flow call of the client with the bare net/http reference,
// both against the sandbox on loopback. Compare ns/op of the two sub-benchmarks.
func BenchmarkCallFlow(b *testing.B) {
	srv := benchSandbox(b)
	b.Run("client", func(b *testing.B) {
		c := sandboxClient(b, srv, personalize.WithBreaker(personalize.BreakerSettings{}))
		req := personalize.FlowRequest{FriendlyID: "ancillary_offers", Identity: personalize.BrowserID(seedBrowserID)}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := c.CallFlow(context.Background(), req)
				if err != nil || len(res.Offers()) != 4 {
					b.Fatalf("call failed: %v", err)
				}
			}
		})
	})
	b.Run("bare", func(b *testing.B) {
		hc := bareref.NewHTTPClient()
		b.Cleanup(hc.CloseIdleConnections)
		body := bareBody()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v, err := bareref.CallFlow(context.Background(), hc, srv.URL, body)
				if err != nil || len(v.([]any)) != 4 {
					b.Fatalf("call failed: %v", err)
				}
			}
		})
	})
}

// BenchmarkPage3Flows compares a page with three slots (prefetch, then each flow) with the bare
// reference making the same three calls in parallel.
func BenchmarkPage3Flows(b *testing.B) {
	srv := benchSandbox(b)
	b.Run("page", func(b *testing.B) {
		c := sandboxClient(b, srv)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p := personalize.NewPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
				ctx := personalize.WithPage(context.Background(), p)
				personalize.Prefetch(ctx, pageFlows...)
				for _, id := range pageFlows {
					if res, err := personalize.Flow(ctx, id); err != nil || len(res.Offers()) != 4 {
						b.Fatalf("flow failed: %v", err)
					}
				}
				p.Close()
			}
		})
	})
	b.Run("bare", func(b *testing.B) {
		hc := bareref.NewHTTPClient()
		b.Cleanup(hc.CloseIdleConnections)
		body := bareBody()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				for _, v := range bareref.CallFlows(context.Background(), hc, srv.URL, body, pageFlows...) {
					if v == nil {
						b.Fatal("call failed")
					}
				}
			}
		})
	})
}

// BenchmarkFlowMemoized is a flow asked for again on the same page: no I/O.
func BenchmarkFlowMemoized(b *testing.B) {
	srv := benchSandbox(b)
	c := sandboxClient(b, srv)
	p := personalize.NewPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
	b.Cleanup(p.Close)
	ctx := personalize.WithPage(context.Background(), p)
	_, err := personalize.Flow(ctx, "home_page_banner")
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := personalize.Flow(ctx, "home_page_banner"); err != nil {
			b.Fatal(err)
		}
	}
}
