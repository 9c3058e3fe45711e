package bareref_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// These benchmarks put the library beside the bare reference, side by side in one run, so
// that their ratio is what counts: compare ns/op and allocs/op of each pair's sub-benchmarks.

const benchBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

var pageFlows = []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}

// seedOffers is the four-offer answer of Sitecore's documentation.
func seedOffers(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "personalize", "testdata", "seed", "response_offers.json"))
	require.NoError(b, err)
	return raw
}

// benchSandbox serves the seed's four offers for every flow of the home page.
func benchSandbox(b *testing.B) *sandbox.Server {
	b.Helper()
	raw := seedOffers(b)
	var flows []*sandbox.FlowDef
	for _, id := range append([]string{"ancillary_offers"}, pageFlows...) {
		flows = append(flows, sandbox.Define(id).Returns(json.RawMessage(raw)))
	}
	return personalizetest.NewSandbox(b, sandbox.WithFlows(flows...))
}

func bareBody() bareref.Body {
	return bareref.Body{ClientKey: sandbox.DefaultClientKey, Channel: "WEB", Language: "en", CurrencyCode: "EUR",
		PointOfSale: personalizetest.PointOfSale, BrowserID: benchBrowserID, FriendlyID: "ancillary_offers"}
}

// BenchmarkCallFlow is one flow call of the client and of the bare reference, both against the
// sandbox on loopback.
func BenchmarkCallFlow(b *testing.B) {
	srv := benchSandbox(b)
	b.Run("client", func(b *testing.B) {
		c := personalizetest.NewClient(b, srv, personalize.WithBreaker(personalize.BreakerSettings{Disabled: true}))
		req := personalize.FlowRequest{FriendlyID: "ancillary_offers", Identity: personalize.ByBrowserID(benchBrowserID)}
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

// BenchmarkPage3Flows is a page with three slots (prefetch, then each flow) beside the bare
// reference making the same three calls in parallel.
func BenchmarkPage3Flows(b *testing.B) {
	srv := benchSandbox(b)
	b.Run("page", func(b *testing.B) {
		c := personalizetest.NewClient(b, srv)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: benchBrowserID})
				personalize.Prefetch(ctx, pageFlows...)
				for _, id := range pageFlows {
					if res, err := personalize.Flow(ctx, id); err != nil || len(res.Offers()) != 4 {
						b.Fatalf("flow failed: %v", err)
					}
				}
				done()
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

// cannedRT answers every request with the same body, in memory: the network's cost out of
// the way, what is left is the client's own.
type cannedRT struct{ body []byte }

func (c cannedRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: 200, ContentLength: int64(len(c.body)), Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

// BenchmarkCallFlowOverhead is the client's own CPU per call beside the bare reference's, both
// over an in-memory transport: validation, breaker, deadline, decoding and offers on one side,
// a plain request and json.Decode on the other.
func BenchmarkCallFlowOverhead(b *testing.B) {
	hc := &http.Client{Transport: cannedRT{seedOffers(b)}}
	b.Run("client", func(b *testing.B) {
		c, err := personalize.New("k", personalize.WithBaseURL("http://x"), personalize.WithHTTPClient(hc), personalize.WithPointOfSale("p"))
		require.NoError(b, err)
		req := personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(benchBrowserID)}
		b.ReportAllocs()
		for b.Loop() {
			res, err := c.CallFlow(context.Background(), req)
			if err != nil || len(res.Offers()) != 4 {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		body := bareBody()
		b.ReportAllocs()
		for b.Loop() {
			v, err := bareref.CallFlow(context.Background(), hc, "http://x", body)
			if err != nil || len(v.([]any)) != 4 {
				b.Fatal(err)
			}
		}
	})
}
