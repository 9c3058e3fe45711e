package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/go-personalize/sdk/personalize/sandbox"

	"github.com/go-personalize/sdk/example-site/internal/views"
)

// scrape gets /metrics as the visitor (with its headers: the debug token) and parses the
// Prometheus text format.
func scrape(t *testing.T, v *visitor) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := v.get("/metrics")
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET /metrics: %s", body)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4"), resp.Header.Get("Content-Type"))
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "%s", body)
	return fams
}

// series returns the value of the one series of the family name whose labels include
// labels: a counter's or gauge's value, a histogram's count. It fails the test when none
// matches, or several do.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := lookupSeries(t, fams, name, labels...)
	require.True(t, ok, "no series %s%v", name, labels)
	return v
}

// lookupSeries is series, with false when no series matches.
func lookupSeries(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
	var found []*dto.Metric
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && have[labels[i]] == labels[i+1]
		}
		if match {
			found = append(found, m)
		}
	}
	require.LessOrEqual(t, len(found), 1, "several series %s%v", name, labels)
	if len(found) == 0 {
		return 0, false
	}
	m := found[0]
	switch fam.GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue(), true
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue(), true
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount()), true
	}
	t.Fatalf("%s: unexpected type %v", name, fam.GetType())
	return 0, false
}

// flow and outcome are the label names of the flow series.
const (
	labelFlow    = "personalize_flow_friendly_id"
	labelOutcome = "personalize_outcome"
	labelEvent   = "personalize_event_type"
)

// TestPrometheusMetrics: a consenting visitor (the site asks for no consent: everyone consents) with a
// browser's User-Agent sees two home pages and two booking pages; /metrics then counts each
// flow of each page once, with its duration, the one browser created, and, once the client
// has delivered them, the events the sandbox received.
func TestPrometheusMetrics(t *testing.T) {
	ts := startSite(t, nil)
	v := ts.newVisitor(t)
	for _, path := range []string{"/", "/booking", "/", "/booking?added=seat"} {
		doc := v.page(path)
		assert.Positive(t, doc.Find(`[data-personalize-state="decision"]`).Length(), "%s is personalized", path)
	}

	fams := scrape(t, v)
	for _, id := range []string{views.FlowHomeBanner, views.FlowDestinations, views.FlowNewsletter, views.FlowAncillaries} {
		// Two pages of each kind, one call of each of their flows per page.
		assert.Equal(t, 2.0, series(t, fams, "personalize_flow_calls_total", labelFlow, id, labelOutcome, "decision"), id)
		assert.Equal(t, 2.0, series(t, fams, "personalize_flow_duration_seconds", labelFlow, id, labelOutcome, "decision"), "%s: the histogram's count", id)
	}
	assert.Len(t, fams["personalize_flow_calls_total"].GetMetric(), 4, "one series per flow: every call was a decision")
	assert.Equal(t, dto.MetricType_HISTOGRAM, fams["personalize_flow_duration_seconds"].GetType())
	assert.Equal(t, 1.0, series(t, fams, "personalize_browsers_created_total", labelOutcome, "created"), "one visitor, one browser ID")
	_, isolated := fams["personalize_flow_isolated"]
	assert.False(t, isolated, "no flow is isolated")
	assert.Equal(t, 1.0, series(t, fams, "target_info", "service_name", defaultServiceName))
	for _, l := range fams["personalize_flow_calls_total"].GetMetric()[0].GetLabel() {
		if l.GetName() == "otel_scope_name" {
			assert.Equal(t, "github.com/go-personalize/sdk/personalizeotel", l.GetValue())
		}
	}
	assert.Contains(t, fams, "go_goroutines", "the Go runtime's series")

	flushEvents(t, ts) // the client delivers its events and closes
	fams = scrape(t, v)
	sb := ts.sandbox(t)
	require.Len(t, eventsOf(sb, "VIEW"), 4, "a VIEW per page")
	require.Len(t, eventsOf(sb, eventAddToTrip), 1)
	assert.Equal(t, 4.0, series(t, fams, "personalize_events_sent_total", labelEvent, "VIEW"))
	assert.Equal(t, 1.0, series(t, fams, "personalize_events_sent_total", labelEvent, eventAddToTrip))
	assert.Equal(t, 0.0, series(t, fams, "personalize_events_queued"), "nothing left in the queue")
	_, failed := fams["personalize_events_failed_total"]
	assert.False(t, failed, "no event failed")

	v.page("/") // the client is closed: its VIEW is dropped, and counted
	fams = scrape(t, v)
	assert.Equal(t, 1.0, series(t, fams, "personalize_events_dropped_total", labelEvent, "VIEW"))
	assert.Equal(t, 3.0, series(t, fams, "personalize_flow_calls_total", labelFlow, views.FlowHomeBanner, labelOutcome, "decision"), "flows still work after Close")
}

// TestPrometheusIsolatedFlow: a flow that keeps failing is counted by its outcome, and shows as
// isolated once its breaker opens (after five failures), from the client's gauge.
func TestPrometheusIsolatedFlow(t *testing.T) {
	ts := startSite(t, map[string]string{"PERSONALIZE_BREAKER_OPEN_FOR": "30s"}) // stays open for the test
	ts.sandbox(t).SetFlowFault(views.FlowHomeBanner, sandbox.Fault{Status: http.StatusInternalServerError})
	v := ts.newVisitor(t)
	for range 6 {
		v.page("/")
	}
	fams := scrape(t, v)
	assert.Equal(t, 5.0, series(t, fams, "personalize_flow_calls_total", labelFlow, views.FlowHomeBanner, labelOutcome, "api_error"))
	assert.Equal(t, 1.0, series(t, fams, "personalize_flow_calls_total", labelFlow, views.FlowHomeBanner, labelOutcome, "breaker_open"))
	assert.Equal(t, 6.0, series(t, fams, "personalize_flow_calls_total", labelFlow, views.FlowNewsletter, labelOutcome, "decision"))
	assert.Equal(t, 1.0, series(t, fams, "personalize_flow_isolated", labelFlow, views.FlowHomeBanner))
	assert.Len(t, fams["personalize_flow_isolated"].GetMetric(), 1, "the other flows are not isolated")
}

// TestPrometheusAccess: /metrics follows the debug routes' rule. Sandbox mode: open, or behind
// PERSONALIZE_DEBUG_TOKEN when it is set. Tenant mode: absent (404) without the token, behind
// it with. It is never personalized: no cookie, no browser created.
func TestPrometheusAccess(t *testing.T) {
	tenant := startTenant(t)
	withToken := func(env map[string]string) map[string]string {
		env["PERSONALIZE_DEBUG_TOKEN"] = testDebugToken
		return env
	}
	tests := []struct {
		name    string
		env     map[string]string
		noToken int // the status without the token
	}{
		{"sandbox mode", map[string]string{}, http.StatusOK},
		{"sandbox mode with a token", withToken(map[string]string{}), http.StatusUnauthorized},
		{"tenant mode", tenantSiteEnv(tenant.URL), http.StatusNotFound},
		{"tenant mode with a token", withToken(tenantSiteEnv(tenant.URL)), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startSite(t, tt.env)
			v := ts.newVisitor(t)
			resp, _ := v.get("/metrics")
			assert.Equal(t, tt.noToken, resp.StatusCode, "without the token")
			assert.Empty(t, resp.Header.Values("Set-Cookie"), "not personalized")
			if tt.noToken == http.StatusUnauthorized {
				assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
				resp, _ = v.get("/metrics", "Authorization", "Bearer "+testDebugToken[:len(testDebugToken)-1]+"0")
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a wrong token")
				v.header = http.Header{"Authorization": {"Bearer " + testDebugToken}}
			}
			if tt.noToken != http.StatusNotFound {
				resp, body := v.get("/metrics")
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
				assert.Empty(t, resp.Header.Values("Set-Cookie"), "not personalized")
				assert.Contains(t, string(body), "target_info{")
			}
			assert.Empty(t, v.cookie("bid_"+ts.site.cfg.ClientKey), "no browser ID cookie")
			if ts.site.sandbox != nil {
				assert.Empty(t, ts.site.sandbox.Browsers(), "no browser created")
			}
		})
	}
	assert.Empty(t, tenant.Sandbox.Browsers(), "no browser created in the tenant")
}

// exportedSpan is a span as the console exporter writes it (stdouttrace's JSON).
type exportedSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct {
		TraceID, SpanID string
		Remote          bool
	}
	SpanKind   int // trace.SpanKind: 2 server, 3 client
	Attributes []struct {
		Key   string
		Value struct{ Value any }
	}
	Resource []struct {
		Key   string
		Value struct{ Value any }
	}
}

func (s exportedSpan) attr(key string) any {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.Value
		}
	}
	return nil
}

const (
	spanKindServer = 2
	spanKindClient = 3
	noSpanID       = "0000000000000000"
)

// decodeSpans reads the console exporter's output: pretty-printed JSON objects, one a span.
func decodeSpans(t *testing.T, out string) []exportedSpan {
	t.Helper()
	var spans []exportedSpan
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var s exportedSpan
		require.NoError(t, dec.Decode(&s))
		spans = append(spans, s)
	}
	return spans
}

// startTracedSite starts the site of env with its console exporter writing to the returned
// buffer.
func startTracedSite(t *testing.T, env map[string]string) (*testSite, *lockedBuffer) {
	t.Helper()
	cfg, err := loadConfig(envOf(env))
	require.NoError(t, err)
	out := &lockedBuffer{}
	cfg.traceOutput = out
	return serveSite(t, cfg, slog.New(slog.DiscardHandler)), out
}

// stopSite shuts the site down as serve does, once its events are delivered: the server
// waits for the requests in flight (their spans end), then the site closes its client and
// flushes its spans.
func stopSite(t *testing.T, ts *testSite) {
	t.Helper()
	flushEvents(t, ts) // while the sandbox, in the same server, still answers
	ts.srv.Close()
	ts.site.close()
}

// TestTracesConsole: with OTEL_TRACES_EXPORTER=console, a home page is one server span named
// after its route, with its three flow calls, the visitor's browser creation and its VIEW
// event as children; an incoming traceparent is continued; the sandbox's API, health checks
// and scrapes have no spans; a request no route matched is named by its method alone.
func TestTracesConsole(t *testing.T) {
	ts, out := startTracedSite(t, map[string]string{"OTEL_TRACES_EXPORTER": "console"})
	require.NotNil(t, ts.site.tel.spans)
	v := ts.newVisitor(t)
	v.page("/")
	const parentTrace, parentSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	resp, _ := v.get("/booking?fare=summer", "traceparent", "00-"+parentTrace+"-"+parentSpan+"-01")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = v.get("/no-such-page?token=secret")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	v.get("/healthz")
	v.get("/metrics")
	stopSite(t, ts)

	spans := decodeSpans(t, out.String())
	byName := map[string][]exportedSpan{}
	for _, s := range spans {
		byName[s.Name] = append(byName[s.Name], s)
		assert.NotContains(t, s.Name, "?", "no query in a span name")
		assert.NotContains(t, s.Name, "no-such-page", "no raw path in a span name")
	}
	names := make([]string, 0, len(byName))
	for n, ss := range byName {
		names = append(names, n)
		want := 1
		if n == "personalize.event VIEW" {
			want = 2 // one per page
		}
		assert.Len(t, ss, want, n)
	}
	assert.ElementsMatch(t, []string{
		"GET /", "personalize.flow home_page_banner", "personalize.flow recommended_destinations", "personalize.flow newsletter_offer",
		"personalize.browser.create", "personalize.event VIEW",
		"GET /booking", "personalize.flow ancillary_offers",
		"GET",
	}, names, "the sandbox's API, /healthz and /metrics have no spans")

	home := byName["GET /"][0]
	assert.Equal(t, spanKindServer, home.SpanKind)
	assert.Equal(t, noSpanID, home.Parent.SpanID, "a root span")
	assert.Equal(t, "/", home.attr("url.path"))
	assert.EqualValues(t, http.StatusOK, home.attr("http.response.status_code"))
	for _, n := range []string{"personalize.flow home_page_banner", "personalize.flow recommended_destinations", "personalize.flow newsletter_offer", "personalize.browser.create"} {
		s := byName[n][0]
		assert.Equal(t, spanKindClient, s.SpanKind, n)
		assert.Equal(t, home.SpanContext.TraceID, s.SpanContext.TraceID, "%s is in the page's trace", n)
		assert.Equal(t, home.SpanContext.SpanID, s.Parent.SpanID, "%s is a child of the page's span", n)
	}
	banner := byName["personalize.flow home_page_banner"][0]
	assert.Equal(t, "home_page_banner", banner.attr("personalize.flow.friendly_id"))
	assert.Equal(t, "decision", banner.attr("personalize.outcome"))
	assert.Equal(t, "browserId", banner.attr("personalize.identity.kind"))
	var serviceName any
	for _, a := range banner.Resource {
		if a.Key == "service.name" {
			serviceName = a.Value.Value
		}
	}
	assert.Equal(t, defaultServiceName, serviceName)

	booking := byName["GET /booking"][0]
	assert.Equal(t, parentTrace, booking.SpanContext.TraceID, "the incoming trace is continued")
	assert.Equal(t, parentSpan, booking.Parent.SpanID)
	assert.True(t, booking.Parent.Remote)
	ancillaries := byName["personalize.flow ancillary_offers"][0]
	assert.Equal(t, booking.SpanContext.SpanID, ancillaries.Parent.SpanID)

	var viewParents []string
	for _, s := range byName["personalize.event VIEW"] {
		assert.Equal(t, "sent", s.attr("personalize.event.outcome"))
		viewParents = append(viewParents, s.Parent.SpanID)
	}
	assert.ElementsMatch(t, []string{home.SpanContext.SpanID, booking.SpanContext.SpanID}, viewParents,
		"each page's VIEW event, delivered after the page, joins the page's trace")

	notFound := byName["GET"][0]
	assert.Equal(t, "/no-such-page", notFound.attr("url.path"))
	assert.EqualValues(t, http.StatusNotFound, notFound.attr("http.response.status_code"))
}

// TestTracesOff: without OTEL_TRACES_EXPORTER (or with none), no tracer provider exists, the
// site's handler is not wrapped, and nothing is written, even to a console writer.
func TestTracesOff(t *testing.T) {
	for _, value := range []string{"", "none", " None "} {
		t.Run("OTEL_TRACES_EXPORTER="+value, func(t *testing.T) {
			ts, out := startTracedSite(t, map[string]string{"OTEL_TRACES_EXPORTER": value})
			assert.Nil(t, ts.site.tel.spans, "no tracer provider")
			assert.Empty(t, ts.site.cfg.TracesExporters)
			next := http.NewServeMux()
			assert.Same(t, next, ts.site.tel.traceRequests(next), "requests are not wrapped")
			v := ts.newVisitor(t)
			v.page("/")
			stopSite(t, ts)
			assert.Empty(t, out.String(), "no span written")
		})
	}
}

// TestTelemetryConfig reads the OpenTelemetry variables, as TestLoadConfig does the others.
func TestTelemetryConfig(t *testing.T) {
	tests := []struct {
		env         map[string]string
		exporters   []string
		serviceName string
	}{
		{map[string]string{}, nil, "go-airways"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_SERVICE_NAME": "airways-eu"}, nil, "airways-eu"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "Console"}, []string{"console"}, "go-airways"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, []string{"otlp"}, "go-airways"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, []string{"otlp"}, "go-airways"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp, console,otlp"}, []string{"otlp", "console"}, "go-airways"},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, nil, "go-airways"}, // not exporting: not read
	}
	for _, tt := range tests {
		cfg, err := loadConfig(envOf(tt.env))
		require.NoError(t, err, "%v", tt.env)
		assert.Equal(t, tt.exporters, cfg.TracesExporters, "%v", tt.env)
		assert.Equal(t, tt.serviceName, cfg.ServiceName, "%v", tt.env)
	}
}

// TestTelemetryConfigStopsTheSite: an unknown exporter is a configuration error (the cases
// are in TestLoadConfigErrors), so the site does not start.
func TestTelemetryConfigStopsTheSite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, envOf(map[string]string{"ADDR": "127.0.0.1:0", "OTEL_TRACES_EXPORTER": "zipkin"}), io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `example-site: bad configuration: OTEL_TRACES_EXPORTER: "zipkin" is not an exporter the site has`)
}

// otlpReceiver is an OTLP/HTTP trace receiver: the part of a collector the site talks to.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string]otlpSpan // by name
}

type otlpSpan struct {
	traceID, spanID, parentID string
	service                   string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	var req collectortrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(b, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				o.spans[s.GetName()] = otlpSpan{
					traceID: hex.EncodeToString(s.GetTraceId()), spanID: hex.EncodeToString(s.GetSpanId()),
					parentID: hex.EncodeToString(s.GetParentSpanId()), service: service,
				}
			}
		}
	}
	o.mu.Unlock()
	resp, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// TestTracesOTLP: with OTEL_TRACES_EXPORTER=otlp the site sends its spans to the collector
// that OTEL_EXPORTER_OTLP_ENDPOINT names, as OTLP/HTTP protobuf, with OTEL_SERVICE_NAME; the
// batch still buffered is flushed at shutdown.
func TestTracesOTLP(t *testing.T) {
	receiver := &otlpReceiver{spans: map[string]otlpSpan{}}
	collector := httptest.NewServer(receiver)
	t.Cleanup(collector.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL) // read by the exporter itself
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")

	ts, out := startTracedSite(t, map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SERVICE_NAME": "go-airways-test"})
	v := ts.newVisitor(t)
	v.page("/")
	stopSite(t, ts)
	assert.Empty(t, out.String(), "nothing for the console")

	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	home, ok := receiver.spans["GET /"]
	require.True(t, ok, "the page's span reached the collector: %v", receiver.spans)
	assert.Equal(t, "go-airways-test", home.service)
	for _, id := range homeSlots {
		s, ok := receiver.spans["personalize.flow "+id]
		require.True(t, ok, id)
		assert.Equal(t, home.traceID, s.traceID, id)
		assert.Equal(t, home.spanID, s.parentID, "%s is a child of the page's span", id)
	}
}
