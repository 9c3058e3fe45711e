package personalizeotel_test

import (
	"context"
	"fmt"
	"log"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/go-personalize/sdk/personalizeotel"
)

// Instrumenting a client: its hooks go to personalize.New, then the client is registered for
// the gauges. In production, leave out the With...Provider options to use the providers the
// application installed (otel.SetTracerProvider, otel.SetMeterProvider), and put the request
// tracing middleware (otelhttp) in front of the personalize middleware, so that flow calls
// become children of the request's span.
func Example() {
	spans := tracetest.NewInMemoryExporter() // in production: an OTLP exporter, batched
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())

	inst, err := personalizeotel.New(personalizeotel.WithTracerProvider(tp), personalizeotel.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}),
	)))
	defer srv.Close()
	client, err := personalize.New(sandbox.DefaultClientKey,
		personalize.WithBaseURL(srv.URL), // in production: personalize.WithRegion(...)
		personalize.WithPointOfSale("airline.example"),
		personalize.WithHooks(inst.Hooks()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(context.Background())
	reg, err := inst.Register(client) // personalize.events.queued, personalize.flow.isolated
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister()

	ctx, request := tp.Tracer("example").Start(context.Background(), "GET /")
	_, err = client.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "home_page_banner",
		Identity: personalize.ByBrowserID("a38b230c-11eb-4cf9-8d5d-274e9f344925")})
	request.End()
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range spans.GetSpans() {
		for _, kv := range s.Attributes {
			if kv.Key == personalizeotel.AttrOutcome {
				fmt.Println(s.Name, kv.Value.AsString(), s.Parent.SpanID() == request.SpanContext().SpanID())
			}
		}
	}
	// Output: personalize.flow home_page_banner decision true
}
