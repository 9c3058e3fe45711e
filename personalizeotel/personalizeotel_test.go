package personalizeotel_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/go-personalize/sdk/personalizeotel"
)

const (
	email      = "jane.doe@example.com"
	identifier = "member-8472-secret"
	browserID  = "a38b230c-11eb-4cf9-8d5d-274e9f344925"
)

var homeFlows = []string{"home_page_banner", "recommended_destinations", "newsletter_offer"}

// otelEnv is the real OpenTelemetry SDK with in-memory exporters, and an instrumented client
// of an in-memory sandbox. Make it inside a synctest bubble.
type otelEnv struct {
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	inst   *personalizeotel.Instrumentation
	sb     *sandbox.Sandbox
	client *personalize.Client
}

func newOtelEnv(t *testing.T, opts ...personalize.Option) *otelEnv {
	t.Helper()
	e := &otelEnv{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	e.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(e.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.reader))
	t.Cleanup(func() {
		require.NoError(t, e.tp.Shutdown(context.Background()))
		require.NoError(t, mp.Shutdown(context.Background()))
	})
	inst, err := personalizeotel.New(personalizeotel.WithTracerProvider(e.tp), personalizeotel.WithMeterProvider(mp))
	require.NoError(t, err)
	e.inst = inst

	e.sb = sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}),
		sandbox.Define("recommended_destinations").Returns([]any{map[string]any{"name": "Lisbon"}}),
		sandbox.Define("newsletter_offer").Returns(map[string]any{"name": "10% off"}),
	))
	e.sb.AddBrowser(browserID)
	srv := memnet.Serve(t, e.sb)
	t.Cleanup(e.sb.Close)
	e.client, err = personalize.New(sandbox.DefaultClientKey, append([]personalize.Option{
		personalize.WithBaseURL(srv.URL), personalize.WithHTTPClient(srv.Client),
		personalize.WithPointOfSale("airline.example"), personalize.WithLogger(slog.New(slog.DiscardHandler)),
		personalize.WithHooks(inst.Hooks()),
	}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.client.Close(context.Background()) })
	reg, err := inst.Register(e.client)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Unregister() })
	return e
}

// requestSpan starts the span a server's tracing middleware (otelhttp) would have started
// for the request.
func (e *otelEnv) requestSpan(ctx context.Context) (context.Context, trace.Span) {
	return e.tp.Tracer("test").Start(ctx, "GET /", trace.WithSpanKind(trace.SpanKindServer))
}

// library returns the spans of the instrumentation, by name, in the order they ended.
func (e *otelEnv) library() []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range e.spans.GetSpans() {
		if s.InstrumentationScope.Name == personalizeotel.ScopeName {
			out = append(out, s)
		}
	}
	return out
}

func (e *otelEnv) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, e.reader.Collect(context.Background(), &rm))
	return rm
}

// byName returns the spans named name.
func byName(spans []tracetest.SpanStub, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func attrsOf(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// metricNamed finds a metric of the instrumentation.
func metricNamed(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != personalizeotel.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// sums returns an int64 sum's points, by their attributes (written "k=v,k=v").
func sums(t *testing.T, rm metricdata.ResourceMetrics, name string) map[string]int64 {
	t.Helper()
	m, ok := metricNamed(rm, name)
	if !ok {
		return map[string]int64{}
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T", name, m.Data)
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		out[setString(dp.Attributes)] = dp.Value
	}
	return out
}

func setString(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}

// assertNoPII checks that no span (name, attribute, status, event) nor metric point of the
// instrumentation holds any of the secrets.
func (e *otelEnv) assertNoPII(t *testing.T, rm metricdata.ResourceMetrics, secrets ...string) {
	t.Helper()
	var texts []string
	for _, s := range e.library() {
		texts = append(texts, s.Name, s.Status.Description)
		for _, kv := range s.Attributes {
			texts = append(texts, string(kv.Key)+"="+kv.Value.String())
		}
		for _, ev := range s.Events {
			texts = append(texts, ev.Name)
			for _, kv := range ev.Attributes {
				texts = append(texts, kv.Value.String())
			}
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			texts = append(texts, m.Name, fmt.Sprintf("%+v", m.Data))
		}
	}
	require.NotEmpty(t, texts)
	for _, secret := range secrets {
		require.NotEmpty(t, secret)
		for _, text := range texts {
			assert.NotContains(t, strings.ToLower(text), strings.ToLower(secret))
		}
	}
}

// A page of three flows, one of which times out, for a new visitor who signs in: each flow
// call, the browser creation and each event is a span, child of the request's span, and
// none holds the visitor's email, identifier or browser ID. The requests to the API carry no
// trace context.
func TestPageOfThreeFlowsOneTimesOut(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{}) // an application that propagates
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })

	synctest.Test(t, func(t *testing.T) {
		e := newOtelEnv(t)
		e.sb.SetFlowFault("newsletter_offer", sandbox.Fault{Latency: time.Second})
		mw, err := middleware.New(e.client, middleware.Options{SessionKeys: [][]byte{[]byte(strings.Repeat("k", 64)), []byte(strings.Repeat("e", 32))},
			SendViewEvents: true, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		page := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			personalize.Prefetch(ctx, homeFlows...)
			for _, id := range homeFlows {
				_, _ = personalize.Flow(ctx, id)
			}
			require.NoError(t, personalize.Identify(ctx, personalize.Guest{Email: email,
				Identifiers: []personalize.GuestIdentifier{{ID: identifier, Provider: "airline"}}}))
			w.Header().Set("Content-Type", "text/html")
			_, _ = fmt.Fprint(w, "<p>home</p>")
		}))

		ctx, reqSpan := e.requestSpan(context.Background())
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
		start := time.Now()
		page.ServeHTTP(rec, req)
		assert.Equal(t, personalize.DefaultBudget, time.Since(start), "the page waits for the slow flow until its budget")
		reqSpan.End()
		require.NoError(t, e.client.Close(context.Background())) // the events are delivered
		var visitor string
		for _, c := range rec.Result().Cookies() {
			if strings.HasPrefix(c.Name, "bid_") {
				visitor = c.Value
			}
		}
		require.NotEmpty(t, visitor, "a browser was created")

		spans := e.library()
		parent := reqSpan.SpanContext()
		for _, s := range spans {
			assert.Equal(t, parent.SpanID(), s.Parent.SpanID(), "%s is a child of the request's span", s.Name)
			assert.Equal(t, parent.TraceID(), s.SpanContext.TraceID(), s.Name)
		}
		browser := byName(spans, "personalize.browser.create")
		require.Len(t, browser, 1)
		assert.Equal(t, trace.SpanKindClient, browser[0].SpanKind)
		assert.Equal(t, map[string]any{"personalize.outcome": "created", "personalize.attempts": int64(1),
			"personalize.isolation.state": "closed", "http.response.status_code": int64(200), "personalize.transport": "direct"},
			attrsOf(browser[0].Attributes))

		for _, id := range homeFlows {
			flow := byName(spans, "personalize.flow "+id)
			require.Len(t, flow, 1, id)
			s := flow[0]
			a := attrsOf(s.Attributes)
			assert.Equal(t, trace.SpanKindClient, s.SpanKind)
			assert.Equal(t, id, a["personalize.flow.friendly_id"])
			assert.Equal(t, "browserId", a["personalize.identity.kind"])
			assert.Equal(t, 0.4, a["personalize.page.budget_left"], "the calls start together, once the browser ID is known")
			assert.Equal(t, "closed", a["personalize.isolation.state"])
			assert.Equal(t, "direct", a["personalize.transport"])
			assert.Len(t, a["personalize.correlation_id"], 32)
			assert.Equal(t, int64(1), a["personalize.attempts"])
			if id == "newsletter_offer" {
				assert.Equal(t, "timeout", a["personalize.outcome"])
				assert.Equal(t, "timeout", a["error.type"])
				assert.NotContains(t, a, "http.response.status_code")
				assert.Equal(t, codes.Error, s.Status.Code)
				assert.Equal(t, personalize.ErrTimeout.Error(), s.Status.Description)
				assert.Equal(t, personalize.DefaultBudget, s.EndTime.Sub(s.StartTime))
			} else {
				assert.Equal(t, "decision", a["personalize.outcome"])
				assert.Equal(t, int64(200), a["http.response.status_code"])
				assert.Equal(t, codes.Unset, s.Status.Code)
				assert.NotContains(t, a, "error.type")
			}
		}
		for _, typ := range []string{"IDENTITY", "VIEW"} {
			ev := byName(spans, "personalize.event "+typ)
			require.Len(t, ev, 1, typ)
			assert.Equal(t, map[string]any{"personalize.event.type": typ, "personalize.event.outcome": "sent",
				"personalize.attempts": int64(1), "http.response.status_code": int64(201), "personalize.transport": "direct"},
				attrsOf(ev[0].Attributes))
			assert.Equal(t, trace.SpanKindClient, ev[0].SpanKind)
		}
		assert.Len(t, spans, 6)

		rm := e.collect(t)
		m, ok := metricNamed(rm, "personalize.flow.duration")
		require.True(t, ok)
		assert.Equal(t, "s", m.Unit)
		hist := m.Data.(metricdata.Histogram[float64])
		durations := map[string]float64{}
		for _, dp := range hist.DataPoints {
			durations[setString(dp.Attributes)] = dp.Sum
		}
		assert.Equal(t, map[string]float64{
			"personalize.flow.friendly_id=home_page_banner,personalize.outcome=decision":         0,
			"personalize.flow.friendly_id=recommended_destinations,personalize.outcome=decision": 0,
			"personalize.flow.friendly_id=newsletter_offer,personalize.outcome=timeout":          0.4,
		}, durations)
		assert.Equal(t, map[string]int64{
			"personalize.flow.friendly_id=home_page_banner,personalize.outcome=decision":         1,
			"personalize.flow.friendly_id=recommended_destinations,personalize.outcome=decision": 1,
			"personalize.flow.friendly_id=newsletter_offer,personalize.outcome=timeout":          1,
		}, sums(t, rm, "personalize.flow.calls"))
		assert.Equal(t, map[string]int64{"personalize.outcome=created": 1}, sums(t, rm, "personalize.browsers.created"))
		assert.Equal(t, map[string]int64{"personalize.event.type=IDENTITY": 1, "personalize.event.type=VIEW": 1},
			sums(t, rm, "personalize.events.sent"))
		assert.Equal(t, map[string]int64{"": 0}, sums(t, rm, "personalize.events.queued"))
		assert.Empty(t, sums(t, rm, "personalize.flow.isolated"))

		e.assertNoPII(t, rm, email, identifier, visitor)
		for _, call := range e.sb.Calls() {
			assert.Empty(t, call.Header.Get("Traceparent"), "Sitecore documents no trace context: none is sent")
			assert.Empty(t, call.Header.Get("Tracestate"))
		}
	})
}

// Events: each delivery is a span in the trace of the request that queued it, also after
// the request is over; the queue's depth is a gauge; failures are errors without the guest's
// values, even when the API echoes them.
func TestEventSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newOtelEnv(t, personalize.WithEvents(personalize.EventOptions{Workers: 2}))
		e.sb.SetEventsFault(sandbox.Fault{Latency: 500 * time.Millisecond})
		ctx, reqSpan := e.requestSpan(context.Background())
		pageCtx, done := personalize.StartPage(ctx, e.client, personalize.Visitor{BrowserID: browserID, Path: "/booking"})
		for range 5 {
			require.NoError(t, personalize.Track(pageCtx, "ADD_TO_CART", map[string]any{"sku": "BAG-20KG"}))
		}
		require.NoError(t, personalize.Identify(pageCtx, personalize.Guest{Email: email,
			Identifiers: []personalize.GuestIdentifier{{ID: identifier, Provider: "airline"}}}))
		require.ErrorIs(t, personalize.Track(pageCtx, "add_to_cart", nil), personalize.ErrInvalidRequest)
		done()
		reqSpan.End()
		synctest.Wait()

		rm := e.collect(t)
		assert.Equal(t, map[string]int64{"": 4}, sums(t, rm, "personalize.events.queued"), "2 workers sending, 4 waiting")
		assert.Equal(t, map[string]int64{"personalize.event.type=(invalid)": 1}, sums(t, rm, "personalize.events.invalid"))

		require.NoError(t, e.client.Close(context.Background()))
		spans := e.library()
		require.Len(t, spans, 7)
		sent := byName(spans, "personalize.event ADD_TO_CART")
		require.Len(t, sent, 5)
		for _, s := range sent {
			assert.Equal(t, reqSpan.SpanContext().SpanID(), s.Parent.SpanID())
			assert.Equal(t, 500*time.Millisecond, s.EndTime.Sub(s.StartTime))
			assert.True(t, s.StartTime.After(reqSpan.(sdktrace.ReadOnlySpan).EndTime()) || s.StartTime.Equal(reqSpan.(sdktrace.ReadOnlySpan).EndTime()),
				"delivered after the request")
		}
		invalid := byName(spans, "personalize.event (invalid)")
		require.Len(t, invalid, 1)
		assert.Equal(t, trace.SpanKindInternal, invalid[0].SpanKind, "nothing was sent")
		assert.Equal(t, codes.Error, invalid[0].Status.Code)
		assert.Equal(t, personalize.ErrInvalidRequest.Error(), invalid[0].Status.Description)

		rm = e.collect(t)
		assert.Equal(t, map[string]int64{"personalize.event.type=ADD_TO_CART": 5, "personalize.event.type=IDENTITY": 1},
			sums(t, rm, "personalize.events.sent"))
		assert.Equal(t, map[string]int64{"": 0}, sums(t, rm, "personalize.events.queued"))
		e.assertNoPII(t, rm, email, identifier, browserID)
	})
}

// An event the API refuses, echoing the guest: the span says failed, with the answer's
// status, and the email is not in it.
func TestEventFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newOtelEnv(t)
		e.sb.SetEventsFault(sandbox.Fault{Status: 500})
		ctx, reqSpan := e.requestSpan(context.Background())
		err := e.client.SendEvent(ctx, personalize.Event{Type: personalize.EventIdentity, BrowserID: browserID, Page: "/",
			Guest: &personalize.Guest{Email: email, Identifiers: []personalize.GuestIdentifier{{ID: identifier, Provider: "airline"}}}})
		require.Error(t, err)
		reqSpan.End()
		failed := byName(e.library(), "personalize.event IDENTITY")
		require.Len(t, failed, 1)
		a := attrsOf(failed[0].Attributes)
		assert.Equal(t, "failed", a["personalize.event.outcome"])
		assert.Equal(t, int64(500), a["http.response.status_code"])
		assert.Equal(t, int64(1), a["personalize.attempts"], "SendEvent retries only a connection never made, or a 503")
		assert.Equal(t, codes.Error, failed[0].Status.Code)
		assert.Contains(t, failed[0].Status.Description, "http 500")
		rm := e.collect(t)
		assert.Equal(t, map[string]int64{"personalize.event.type=IDENTITY": 1}, sums(t, rm, "personalize.events.failed"))
		e.assertNoPII(t, rm, email, identifier, browserID)
	})
}

// An open breaker: the call that opens it is an API error, the next fails fast with the
// breaker open (no request, so no status, transport or correlation ID), and the flow is in
// personalize.flow.isolated until a trial call succeeds.
func TestOpenBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newOtelEnv(t, personalize.WithBreaker(personalize.BreakerSettings{Failures: 1, OpenFor: 10 * time.Second}))
		e.sb.SetFlowFault("home_page_banner", sandbox.Fault{Status: 500})
		ctx, reqSpan := e.requestSpan(context.Background())
		pageCtx, done := personalize.StartPage(ctx, e.client, personalize.Visitor{BrowserID: browserID})
		_, err := personalize.Flow(pageCtx, "home_page_banner")
		require.Error(t, err)
		done()
		pageCtx, done = personalize.StartPage(ctx, e.client, personalize.Visitor{BrowserID: browserID})
		_, err = personalize.Flow(pageCtx, "home_page_banner")
		require.ErrorIs(t, err, personalize.ErrBreakerOpen)
		_, err = personalize.Flow(pageCtx, "newsletter_offer")
		require.NoError(t, err, "the other flows are not isolated")
		done()
		reqSpan.End()

		flows := byName(e.library(), "personalize.flow home_page_banner")
		require.Len(t, flows, 2)
		opening, open := attrsOf(flows[0].Attributes), attrsOf(flows[1].Attributes)
		assert.Equal(t, "api_error", opening["personalize.outcome"])
		assert.Equal(t, int64(500), opening["http.response.status_code"])
		assert.Equal(t, int64(1), opening["personalize.attempts"])
		assert.Equal(t, "closed", opening["personalize.isolation.state"])
		assert.Equal(t, "personalize: api error: http 500 code SANDBOX_FAULT", flows[0].Status.Description)
		assert.Equal(t, map[string]any{
			"personalize.flow.friendly_id": "home_page_banner", "personalize.outcome": "breaker_open",
			"personalize.identity.kind": "browserId", "personalize.attempts": int64(0),
			"personalize.isolation.state": "open", "personalize.page.budget_left": 0.4, "error.type": "breaker_open",
		}, open)
		assert.Equal(t, codes.Error, flows[1].Status.Code)
		assert.Equal(t, personalize.ErrBreakerOpen.Error(), flows[1].Status.Description)
		for _, s := range flows {
			assert.Equal(t, reqSpan.SpanContext().SpanID(), s.Parent.SpanID())
		}

		rm := e.collect(t)
		assert.Equal(t, map[string]int64{"personalize.flow.friendly_id=home_page_banner": 1}, sums(t, rm, "personalize.flow.isolated"))
		m, _ := metricNamed(rm, "personalize.flow.isolated")
		assert.Equal(t, "{flow}", m.Unit)
		assert.Equal(t, int64(1), sums(t, rm, "personalize.flow.calls")["personalize.flow.friendly_id=home_page_banner,personalize.outcome=breaker_open"])

		time.Sleep(10*time.Second + time.Millisecond)
		e.sb.SetFlowFault("home_page_banner", sandbox.Fault{})
		_, err = e.client.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(browserID)})
		require.NoError(t, err)
		trial := byName(e.library(), "personalize.flow home_page_banner")[2]
		assert.Equal(t, "half_open", attrsOf(trial.Attributes)["personalize.isolation.state"])
		assert.NotContains(t, attrsOf(trial.Attributes), "personalize.page.budget_left", "outside a page")
		assert.False(t, trial.Parent.IsValid(), "a call outside any span is a root")
		rm = e.collect(t)
		assert.Empty(t, sums(t, rm, "personalize.flow.isolated"), "recovered")
		e.assertNoPII(t, rm, browserID)
	})
}

// The default providers are the global ones, a no-op until the application installs one:
// the hooks then cost little and record nothing.
func TestDefaultsAndBadInput(t *testing.T) {
	inst, err := personalizeotel.New()
	require.NoError(t, err)
	h := inst.Hooks()
	require.NotNil(t, h.FlowCall)
	h.FlowCall(context.Background(), personalize.CallInfo{FriendlyID: "f", Outcome: personalize.OutcomeTimeout})
	h.Event(context.Background(), personalize.EventInfo{Type: "X", Outcome: personalize.EventOutcome(200)})
	h.BrowserCreated(context.Background(), personalize.BrowserInfo{})
	assert.Equal(t, context.Background(), h.Detach(context.WithValue(context.Background(), requestKey{}, "request")),
		"no span: nothing of the request is kept")

	_, err = personalizeotel.New(personalizeotel.WithTracerProvider(nil))
	assert.Error(t, err)
	_, err = personalizeotel.New(personalizeotel.WithMeterProvider(nil))
	assert.Error(t, err)
	_, err = personalizeotel.New(nil)
	assert.NoError(t, err)
	_, err = inst.Register(nil)
	assert.Error(t, err)

	var zero personalizeotel.Instrumentation
	assert.Equal(t, personalize.Hooks{}, zero.Hooks())
	_, err = zero.Register(&personalize.Client{})
	assert.Error(t, err)
	assert.Equal(t, personalize.Hooks{}, (*personalizeotel.Instrumentation)(nil).Hooks())
}

// Friendly IDs and event types are the site's: every measurement counts, whatever their
// number (the bound of the instrumentation's own cache of attribute sets is tested inside).
func TestManyFriendlyIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newOtelEnv(t)
		h := e.inst.Hooks()
		for i := range 3000 {
			h.FlowCall(context.Background(), personalize.CallInfo{FriendlyID: fmt.Sprint("flow_", i), Outcome: personalize.OutcomeDecision})
		}
		var total int64
		for _, n := range sums(t, e.collect(t), "personalize.flow.calls") {
			total += n
		}
		assert.Equal(t, int64(3000), total)
	})
}

// The library's own module needs no part of OpenTelemetry: only this module does (go mod tidy
// -diff in CI keeps each go.mod to what its packages import).
func TestTheLibraryNeedsNoOpenTelemetry(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(mod), "module github.com/go-personalize/sdk\n")
	assert.NotContains(t, string(mod), "opentelemetry")
}

type requestKey struct{}

// A flow served by the decision cache says so on its span and in its metric series; a flow
// without a policy keeps its series as they were.
func TestCachedFlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newOtelEnv(t, personalize.WithCaching(personalize.Caching{Flows: map[string]personalize.CachePolicy{
			"home_page_banner": personalize.StaleOnFailure(time.Hour)}}))
		page := func() {
			ctx, done := personalize.StartPage(context.Background(), e.client, personalize.Visitor{BrowserID: browserID, Path: "/"})
			defer done()
			for _, id := range []string{"home_page_banner", "newsletter_offer"} {
				_, _ = personalize.Flow(ctx, id)
			}
		}
		page()
		time.Sleep(time.Minute)
		e.sb.SetFault(sandbox.Fault{Status: http.StatusServiceUnavailable})
		page()

		stale := byName(e.library(), "personalize.flow home_page_banner")
		require.Len(t, stale, 2)
		a := attrsOf(stale[1].Attributes)
		assert.Equal(t, "stale", a["personalize.cache"])
		assert.Equal(t, 60.0, a["personalize.cache.age"])
		assert.Equal(t, "api_error", a["personalize.outcome"], "the call's own outcome")
		assert.Equal(t, "miss", attrsOf(stale[0].Attributes)["personalize.cache"])
		_, hasCache := attrsOf(byName(e.library(), "personalize.flow newsletter_offer")[0].Attributes)["personalize.cache"]
		assert.False(t, hasCache, "no policy, no cache attribute")

		calls := sums(t, e.collect(t), "personalize.flow.calls")
		assert.Equal(t, int64(1), calls["personalize.cache=miss,personalize.flow.friendly_id=home_page_banner,personalize.outcome=decision"])
		assert.Equal(t, int64(1), calls["personalize.cache=stale,personalize.flow.friendly_id=home_page_banner,personalize.outcome=api_error"])
		assert.Equal(t, int64(1), calls["personalize.flow.friendly_id=newsletter_offer,personalize.outcome=decision"])
	})
}

// Through the Edge proxy a guest ref look-up is a span of its own and counts no browser.
func TestGuestRefLookUp(t *testing.T) {
	e := newOtelEnv(t)
	srv := memnet.Serve(t, e.sb)
	c, err := personalize.New("", personalize.WithBaseURL(srv.URL), personalize.WithHTTPClient(srv.Client),
		personalize.WithEdge(sandbox.DefaultContextID, sandbox.DefaultSiteName), personalize.WithHooks(e.inst.Hooks()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	ref, err := c.GuestRef(context.Background(), browserID)
	require.NoError(t, err)
	assert.Equal(t, e.sb.GuestRef(browserID), ref)

	spans := byName(e.library(), "personalize.browser.guest_ref")
	require.Len(t, spans, 1)
	assert.Equal(t, trace.SpanKindClient, spans[0].SpanKind)
	assert.Equal(t, map[string]any{"personalize.outcome": "found", "personalize.attempts": int64(1),
		"personalize.isolation.state": "closed", "http.response.status_code": int64(200), "personalize.transport": "edge"},
		attrsOf(spans[0].Attributes))
	assert.Empty(t, byName(e.library(), "personalize.browser.create"))
	assert.Empty(t, sums(t, e.collect(t), "personalize.browsers.created"), "a look-up creates no browser")
}
