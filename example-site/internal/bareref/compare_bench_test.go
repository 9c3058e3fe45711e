package bareref_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/internal/benchcpu"
	"github.com/go-personalize/sdk/internal/cannedapi"
	"github.com/go-personalize/sdk/personalize"
)

// These benchmarks put the library beside the bare reference, side by side in one run, so
// that their ratio is what counts: compare cpu-ns/op (the process's CPU per operation, see
// internal/benchcpu), ns/op and allocs/op of each pair's sub-benchmarks. Each runs twice:
//
//   - memory: every flow answered in memory (an http.RoundTripper, internal/cannedapi): no
//     network and no server, so what is measured is the caller's own CPU;
//   - loopback: the same answers from a server on 127.0.0.1 in this process, through the
//     library's own transport and the reference's plain one. The server's CPU (a few µs per
//     call, the same for both) is in the measured process: the loopback ratios are diluted
//     by it, the memory ones are not. scripts/perf.sh measures with the API in another
//     process.

const benchBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

var pageFlows = []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}

// seedOffers is the four-offer answer of Sitecore's documentation.
func seedOffers(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "personalize", "testdata", "seed", "response_offers.json"))
	require.NoError(b, err)
	return raw
}

// benchAPI is how a benchmark reaches the API.
type benchAPI struct {
	name string
	url  string
	// bare is the reference's HTTP client; opts the library client's options (its own
	// transport over loopback).
	bare func() *http.Client
	opts []personalize.Option
}

// benchAPIs answer the seed's four offers for every flow, in memory and over loopback.
func benchAPIs(b *testing.B) []benchAPI {
	b.Helper()
	api := cannedapi.New(cannedapi.Options{Default: seedOffers(b)})
	srv := httptest.NewServer(api)
	b.Cleanup(srv.Close)
	return []benchAPI{
		{name: "memory", url: "http://api.invalid", bare: api.Client, opts: []personalize.Option{personalize.WithHTTPClient(api.Client())}},
		{name: "loopback", url: srv.URL, bare: bareref.NewHTTPClient},
	}
}

func (a benchAPI) client(b *testing.B) *personalize.Client {
	b.Helper()
	c, err := personalize.New("bench-client-key", append([]personalize.Option{personalize.WithBaseURL(a.url),
		personalize.WithPointOfSale("airline.example"), personalize.WithLogger(slog.New(slog.DiscardHandler))}, a.opts...)...)
	require.NoError(b, err)
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func (a benchAPI) bareClient(b *testing.B) *http.Client {
	hc := a.bare()
	b.Cleanup(hc.CloseIdleConnections)
	return hc
}

func bareBody() bareref.Body {
	return bareref.Body{ClientKey: "bench-client-key", Channel: "WEB", Language: "en", CurrencyCode: "EUR",
		PointOfSale: "airline.example", BrowserID: benchBrowserID, FriendlyID: "ancillary_offers"}
}

// parallel runs op in b.RunParallel and reports cpu-ns/op beside ns/op. A failed op fails
// the benchmark and ends its goroutine.
func parallel(b *testing.B, op func() error) {
	b.ReportAllocs()
	stop := benchcpu.Start(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	stop()
}

// BenchmarkCallFlow is one flow call of the client (validation, breaker, deadline, decoding
// and the offers) and of the bare reference (a plain request and json.Decode).
func BenchmarkCallFlow(b *testing.B) {
	for _, api := range benchAPIs(b) {
		b.Run(api.name+"/client", func(b *testing.B) {
			c := api.client(b)
			req := personalize.FlowRequest{FriendlyID: "ancillary_offers", Identity: personalize.ByBrowserID(benchBrowserID)}
			parallel(b, func() error {
				res, err := c.CallFlow(context.Background(), req)
				if err == nil && len(res.Offers()) != 4 {
					err = io.ErrUnexpectedEOF
				}
				return err
			})
		})
		b.Run(api.name+"/bare", func(b *testing.B) {
			hc := api.bareClient(b)
			body := bareBody()
			parallel(b, func() error {
				v, err := bareref.CallFlow(context.Background(), hc, api.url, body)
				if err == nil && len(v.([]any)) != 4 {
					err = io.ErrUnexpectedEOF
				}
				return err
			})
		})
	}
}

// BenchmarkPage3Flows is a page with three slots (prefetch, then each flow) beside the bare
// reference making the same three calls in parallel.
func BenchmarkPage3Flows(b *testing.B) {
	for _, api := range benchAPIs(b) {
		b.Run(api.name+"/page", func(b *testing.B) {
			c := api.client(b)
			parallel(b, func() error {
				ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: benchBrowserID})
				defer done()
				personalize.Prefetch(ctx, pageFlows...)
				for _, id := range pageFlows {
					if res, err := personalize.Flow(ctx, id); err != nil || len(res.Offers()) != 4 {
						return cmpErr(err)
					}
				}
				return nil
			})
		})
		b.Run(api.name+"/bare", func(b *testing.B) {
			hc := api.bareClient(b)
			body := bareBody()
			parallel(b, func() error {
				for _, v := range bareref.CallFlows(context.Background(), hc, api.url, body, pageFlows...) {
					if v == nil {
						return io.ErrUnexpectedEOF
					}
				}
				return nil
			})
		})
	}
}

// cmpErr is err, or io.ErrUnexpectedEOF for an answer without its four offers.
func cmpErr(err error) error {
	if err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
