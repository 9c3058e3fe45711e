package personalizeotel_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/go-personalize/sdk/internal/cannedapi"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalizeotel"
)

// instrumentations are the three setups compared: no hooks at all, the hooks with no-op
// providers (what an application that installs none gets), and the real SDK recording every
// span (batched to an exporter that discards) and every measurement (a manual reader).
func instrumentations(b *testing.B) map[string][]personalize.Option {
	b.Helper()
	noop, err := personalizeotel.New(personalizeotel.WithTracerProvider(tracenoop.NewTracerProvider()),
		personalizeotel.WithMeterProvider(metricnoop.NewMeterProvider()))
	require.NoError(b, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	sdk, err := personalizeotel.New(personalizeotel.WithTracerProvider(tp), personalizeotel.WithMeterProvider(mp))
	require.NoError(b, err)
	return map[string][]personalize.Option{
		"none": nil,
		"noop": {personalize.WithHooks(noop.Hooks())},
		"sdk":  {personalize.WithHooks(sdk.Hooks())},
	}
}

func benchClient(b *testing.B, opts []personalize.Option) *personalize.Client {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "personalize", "testdata", "seed", "response_offers.json"))
	require.NoError(b, err)
	// Every flow answered in memory with Sitecore's documented four-offer answer: the network
	// out of the way, what is measured is the client's CPU and the instrumentation's.
	api := cannedapi.New(cannedapi.Options{Default: raw})
	c, err := personalize.New("k", append([]personalize.Option{personalize.WithBaseURL("http://x"),
		personalize.WithHTTPClient(api.Client()), personalize.WithPointOfSale("p"),
		personalize.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	require.NoError(b, err)
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

var benchCases = []string{"none", "noop", "sdk"}

// BenchmarkInstrumentation: one flow call (CallFlow) and a page of three flows (Page3Flows),
// with no instrumentation, with no-op providers and with the SDK installed. The calls have no
// parent span: each is a root, which the SDK's default sampler records.
func BenchmarkInstrumentation(b *testing.B) {
	setups := instrumentations(b)
	for _, name := range benchCases {
		c := benchClient(b, setups[name])
		b.Run("CallFlow/"+name, func(b *testing.B) {
			req := personalize.FlowRequest{FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(browserID)}
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.CallFlow(context.Background(), req)
				if err != nil || len(res.Offers()) != 4 {
					b.Fatal(err)
				}
			}
		})
		b.Run("Page3Flows/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: browserID, Path: "/"})
				personalize.Prefetch(ctx, homeFlows...)
				for _, id := range homeFlows {
					if _, err := personalize.Flow(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
				done()
			}
		})
	}
}
