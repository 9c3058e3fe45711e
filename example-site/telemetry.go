package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalizeotel"
)

// Defaults and bounds of the site's telemetry.
const (
	// defaultServiceName is the service.name of the site's spans and metrics
	// (OTEL_SERVICE_NAME).
	defaultServiceName = "go-airways"
	// telemetryCloseTimeout bounds the flush of the spans still buffered at shutdown, after
	// the client has delivered (or given up on) the events still queued, whose spans join
	// them.
	telemetryCloseTimeout = 3 * time.Second
)

// The exporters OTEL_TRACES_EXPORTER can name, besides none.
const (
	tracesConsole = "console" // pretty-printed JSON, to stderr
	tracesOTLP    = "otlp"    // OTLP over HTTP with protobuf (otlptracehttp)
)

// loadTelemetry reads the OpenTelemetry variables of the environment into c, as the
// OpenTelemetry specification names them, and reports the bad ones with bad: OTEL_SERVICE_NAME,
// OTEL_TRACES_EXPORTER (none, the default; console; otlp; or console,otlp) and, for otlp,
// the protocol, which must be http/protobuf. The OTLP exporter reads the rest of its
// variables itself (OTEL_EXPORTER_OTLP_ENDPOINT, ..._HEADERS, ..._TIMEOUT...), and the SDK
// its sampler's (OTEL_TRACES_SAMPLER) and batching's (OTEL_BSP_*).
func (c *Config) loadTelemetry(env func(string) string, bad func(format string, args ...any)) {
	c.ServiceName = or(env("OTEL_SERVICE_NAME"), defaultServiceName)
	raw := env("OTEL_TRACES_EXPORTER")
	none := false
	for name := range strings.SplitSeq(strings.ToLower(raw), ",") {
		switch name = strings.TrimSpace(name); name {
		case "", "none":
			none = none || name == "none"
		case tracesConsole, tracesOTLP:
			if !slices.Contains(c.TracesExporters, name) {
				c.TracesExporters = append(c.TracesExporters, name)
			}
		default:
			bad("OTEL_TRACES_EXPORTER: %q is not an exporter the site has (want none, console or otlp; or console,otlp)", name)
		}
	}
	if none && len(c.TracesExporters) > 0 {
		bad("OTEL_TRACES_EXPORTER: %q names none and an exporter: want one or the other", raw)
	}
	if slices.Contains(c.TracesExporters, tracesOTLP) {
		key := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
		proto := env(key)
		if proto == "" {
			key = "OTEL_EXPORTER_OTLP_PROTOCOL"
			proto = env(key)
		}
		if proto != "" && proto != "http/protobuf" {
			bad("%s: %q is not supported: the site exports OTLP over HTTP with protobuf (http/protobuf, the default)", key, proto)
		}
	}
}

// telemetry is the site's OpenTelemetry: the personalize client's metrics (personalizeotel),
// served in the Prometheus format at /metrics from a registry of the site's own; and, when
// OTEL_TRACES_EXPORTER names an exporter, a span for every request (otelhttp) with the
// client's spans as its children. It sets no global provider or propagator: several sites
// can run in one process (the tests do).
type telemetry struct {
	registry *prometheus.Registry
	meters   *sdkmetric.MeterProvider
	// spans is nil when no traces are exported: the instrumentation then gets a no-op
	// tracer provider, and requests are not wrapped at all.
	spans *sdktrace.TracerProvider
	inst  *personalizeotel.Instrumentation
	// gauges is the client's registration for the observable instruments.
	gauges metric.Registration
}

// newTelemetry builds the site's meter provider, and its tracer provider when cfg exports
// traces; nothing in it starts a goroutine but the span batchers of the exporters.
func newTelemetry(cfg Config) (*telemetry, error) {
	res, err := resource.New(context.Background(),
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName)),
		resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("example-site: telemetry resource: %w", err)
	}
	t := &telemetry{registry: prometheus.NewRegistry()}
	// The Go runtime's and the process's own series, as every Go service's /metrics has.
	t.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(t.registry),
		// Prometheus names: dots become underscores, units and _total are suffixed (the
		// default, said so that a change of the default does not rename the series).
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	if err != nil {
		return nil, fmt.Errorf("example-site: prometheus exporter: %w", err)
	}
	t.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res))

	var tp trace.TracerProvider = tracenoop.NewTracerProvider()
	if len(cfg.TracesExporters) > 0 {
		opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
		for _, name := range cfg.TracesExporters {
			exp, err := newSpanExporter(name, cfg.traceOutput)
			if err != nil {
				_ = t.meters.Shutdown(context.Background())
				return nil, err
			}
			// Batched: no request waits for an export; the batch goes out every 5 s
			// (OTEL_BSP_SCHEDULE_DELAY) and at shutdown.
			opts = append(opts, sdktrace.WithBatcher(exp))
		}
		t.spans = sdktrace.NewTracerProvider(opts...)
		tp = t.spans
	}
	if t.inst, err = personalizeotel.New(personalizeotel.WithTracerProvider(tp), personalizeotel.WithMeterProvider(t.meters)); err != nil {
		_ = t.close(context.Background())
		return nil, fmt.Errorf("example-site: %w", err)
	}
	return t, nil
}

// newSpanExporter makes the exporter OTEL_TRACES_EXPORTER names: console writes to w
// (os.Stderr when nil), otlp to the collector the OTEL_EXPORTER_OTLP_* variables name
// (http://localhost:4318 by default).
func newSpanExporter(name string, w io.Writer) (sdktrace.SpanExporter, error) {
	switch name {
	case tracesConsole:
		if w == nil {
			w = os.Stderr
		}
		exp, err := stdouttrace.New(stdouttrace.WithWriter(w), stdouttrace.WithPrettyPrint())
		if err != nil {
			return nil, fmt.Errorf("example-site: console span exporter: %w", err)
		}
		return exp, nil
	case tracesOTLP:
		// New connects to nothing: the first batch does.
		exp, err := otlptracehttp.New(context.Background())
		if err != nil {
			return nil, fmt.Errorf("example-site: OTLP span exporter: %w", err)
		}
		return exp, nil
	}
	return nil, fmt.Errorf("example-site: unknown span exporter %q", name)
}

// hooks are the personalize client's hooks that make its spans and metrics.
func (t *telemetry) hooks() personalize.Option { return personalize.WithHooks(t.inst.Hooks()) }

// register observes the client's gauges (events queued, flows isolated) at each scrape,
// until close.
func (t *telemetry) register(client *personalize.Client) error {
	reg, err := t.inst.Register(client)
	if err != nil {
		return fmt.Errorf("example-site: %w", err)
	}
	t.gauges = reg
	return nil
}

// traceRequests is the site's outermost middleware: with traces exported, every request but
// the quiet ones (untraced) gets a server span, named after its method and chi route
// ("GET /booking"; "GET" alone for a request no route matched: never a raw path or query),
// continuing the trace of an incoming W3C traceparent. The personalize middleware runs
// inside it, so a page's flow calls are children of the request's span. Without traces it
// is nothing at all: next itself.
func (t *telemetry) traceRequests(next http.Handler) http.Handler {
	if t.spans == nil {
		return next
	}
	// otelhttp names the span "GET" when it starts (no route is known yet) and renames it
	// from r.Pattern, which chi sets while routing, when the handler returns. Its HTTP
	// metrics are not kept: /metrics has the same series whether traces are on or off.
	return otelhttp.NewHandler(next, "",
		otelhttp.WithTracerProvider(t.spans),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced(r.URL.Path) }))
}

// untraced reports whether requests to p get no span: those the request log keeps at debug
// level (the sandbox's API, which stands for Sitecore's servers, and health checks), and
// Prometheus's scrapes.
func untraced(p string) bool {
	return quietPath(p) || p == "/metrics"
}

// metricsHandler serves the registry in the Prometheus text format (or OpenMetrics, or
// compressed, as the scraper asks). Errors of a collector are logged and the rest is served.
func (t *telemetry) metricsHandler(logger *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// close ends the client's registration, flushes the spans still buffered and shuts both
// providers down, within ctx. Call it once the client is closed: the events it delivered on
// closing have spans too.
func (t *telemetry) close(ctx context.Context) error {
	var errs []error
	if t.gauges != nil {
		errs = append(errs, t.gauges.Unregister())
	}
	if t.spans != nil {
		errs = append(errs, t.spans.Shutdown(ctx))
	}
	errs = append(errs, t.meters.Shutdown(ctx))
	return errors.Join(errs...)
}

// closeTelemetry flushes the spans still buffered and shuts the telemetry down, within
// telemetryCloseTimeout; it logs what could not be flushed (an OTLP collector that does not
// answer, say).
func (s *site) closeTelemetry() {
	ctx, cancel := context.WithTimeout(context.Background(), telemetryCloseTimeout)
	defer cancel()
	if err := s.tel.close(ctx); err != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "telemetry not flushed at shutdown", slog.Any("error", err))
	}
}
