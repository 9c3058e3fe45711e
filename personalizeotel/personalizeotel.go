package personalizeotel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-personalize/sdk/personalize"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/go-personalize/sdk/personalizeotel"

// Attribute keys of the spans and metrics.
const (
	AttrFriendlyID    = attribute.Key("personalize.flow.friendly_id")
	AttrOutcome       = attribute.Key("personalize.outcome")
	AttrIdentityKind  = attribute.Key("personalize.identity.kind")
	AttrAttempts      = attribute.Key("personalize.attempts")
	AttrBudgetLeft    = attribute.Key("personalize.page.budget_left")
	AttrIsolation     = attribute.Key("personalize.isolation.state")
	AttrTransport     = attribute.Key("personalize.transport")
	AttrCorrelationID = attribute.Key("personalize.correlation_id")
	AttrEventType     = attribute.Key("personalize.event.type")
	AttrEventOutcome  = attribute.Key("personalize.event.outcome")
	AttrCache         = attribute.Key("personalize.cache")
	AttrCacheAge      = attribute.Key("personalize.cache.age")
	// The semantic conventions' own keys.
	attrStatusCode = attribute.Key("http.response.status_code")
	attrErrorType  = attribute.Key("error.type")
)

// Option configures New.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets the tracer provider (default otel.GetTracerProvider(), the global
// one: a no-op until the application installs one).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) error {
		if tp == nil {
			return errors.New("personalizeotel: nil tracer provider")
		}
		c.tp = tp
		return nil
	})
}

// WithMeterProvider sets the meter provider (default otel.GetMeterProvider(), the global
// one: a no-op until the application installs one).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) error {
		if mp == nil {
			return errors.New("personalizeotel: nil meter provider")
		}
		c.mp = mp
		return nil
	})
}

// Instrumentation turns what a personalize client does into spans and metrics. Make one with
// New; give its Hooks to personalize.New, then Register the client for the gauges. It is safe
// for concurrent use.
type Instrumentation struct {
	tracer trace.Tracer
	meter  metric.Meter

	flowDuration metric.Float64Histogram
	flowCalls    metric.Int64Counter
	browsers     metric.Int64Counter
	eventCounts  [5]metric.Int64Counter // by personalize.EventOutcome
	queued       metric.Int64ObservableUpDownCounter
	isolated     metric.Int64ObservableUpDownCounter

	sets setCache
}

// New makes the instrumentation, with its tracer and its instruments.
func New(opts ...Option) (*Instrumentation, error) {
	var cfg config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	in := &Instrumentation{
		tracer: cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(personalize.Version)),
		meter:  cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(personalize.Version)),
	}
	m := in.meter
	var errs [10]error
	in.flowDuration, errs[0] = m.Float64Histogram("personalize.flow.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of flow calls, retries included, by friendly ID and outcome."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5))
	in.flowCalls, errs[1] = m.Int64Counter("personalize.flow.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Flow calls, also those not made (no visitor, isolated), by friendly ID and outcome."))
	in.browsers, errs[2] = m.Int64Counter("personalize.browsers.created", metric.WithUnit("{browser}"),
		metric.WithDescription("Calls of browser creation (a new visitor's browser ID), by outcome: created, or why not."))
	for i, o := range []personalize.EventOutcome{personalize.EventSent, personalize.EventFailed, personalize.EventDropped, personalize.EventInvalid} {
		in.eventCounts[o], errs[3+i] = m.Int64Counter("personalize.events."+o.String(), metric.WithUnit("{event}"),
			metric.WithDescription(eventDescriptions[o]))
	}
	in.queued, errs[7] = m.Int64ObservableUpDownCounter("personalize.events.queued", metric.WithUnit("{event}"),
		metric.WithDescription("Events waiting in the client's queue to be sent."))
	in.isolated, errs[8] = m.Int64ObservableUpDownCounter("personalize.flow.isolated", metric.WithUnit("{flow}"),
		metric.WithDescription("Flows whose calls fail fast right now (circuit breaker open or half-open, or held back by a Retry-After): 1 per isolated friendly ID."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("personalizeotel: %w", err)
	}
	return in, nil
}

var eventDescriptions = [...]string{
	personalize.EventSent:    "Events the API accepted, by type.",
	personalize.EventFailed:  "Events queued but not delivered (rejected, unreachable after the retry, or not sent before Close's deadline), by type.",
	personalize.EventDropped: "Events not queued: the queue was full, the client closed, or no browser ID could be had; by type.",
	personalize.EventInvalid: "Events rejected before being queued (invalid), by type.",
}

// Hooks returns the hooks to give to personalize.New (personalize.WithHooks). A zero
// Instrumentation's hooks do nothing.
func (in *Instrumentation) Hooks() personalize.Hooks {
	if in == nil || in.tracer == nil {
		return personalize.Hooks{}
	}
	return personalize.Hooks{
		FlowCall:       in.flowCall,
		BrowserCreated: in.browserCreated,
		Event:          in.event,
		Detach:         detach,
	}
}

// Register observes the client's gauges, personalize.events.queued and
// personalize.flow.isolated, at every collection, until the registration's Unregister.
// Register one client per Instrumentation: two would report the same series.
func (in *Instrumentation) Register(client *personalize.Client) (metric.Registration, error) {
	if in == nil || in.meter == nil {
		return nil, errors.New("personalizeotel: a zero Instrumentation: make one with New")
	}
	if client == nil {
		return nil, errors.New("personalizeotel: nil client")
	}
	return in.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(in.queued, int64(client.EventStats().Queued))
		for _, id := range client.Isolated() {
			o.ObserveInt64(in.isolated, 1, metric.WithAttributeSet(attribute.NewSet(AttrFriendlyID.String(id))))
		}
		return nil
	}, in.queued, in.isolated)
}

// detach keeps only the trace span context of a request's context, for events the queue
// delivers after the request: their spans join the request's trace, and nothing else of the
// request is kept.
func detach(ctx context.Context) context.Context {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return context.Background()
	}
	return trace.ContextWithSpanContext(context.Background(), sc)
}

func (in *Instrumentation) flowCall(ctx context.Context, info personalize.CallInfo) {
	outcome := info.Outcome.String()
	key := setKey{info.FriendlyID, outcome}
	if info.Cache != personalize.CacheUnused {
		key.b += "\x00" + info.Cache.String()
	}
	sr := in.sets.get(key, func() (attribute.Set, string) {
		if info.Cache != personalize.CacheUnused {
			return attribute.NewSet(AttrFriendlyID.String(info.FriendlyID), AttrOutcome.String(outcome), AttrCache.String(info.Cache.String())),
				"personalize.flow " + info.FriendlyID
		}
		return attribute.NewSet(AttrFriendlyID.String(info.FriendlyID), AttrOutcome.String(outcome)), "personalize.flow " + info.FriendlyID
	})
	_, span := in.tracer.Start(ctx, sr.name, kindClient, trace.WithTimestamp(info.Start))
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 10)
		attrs = append(attrs,
			AttrFriendlyID.String(info.FriendlyID),
			AttrOutcome.String(outcome),
			AttrIdentityKind.String(info.Identity.String()),
			AttrAttempts.Int(info.Attempts),
			AttrIsolation.String(info.Isolation.String()),
		)
		if info.StatusCode != 0 {
			attrs = append(attrs, attrStatusCode.Int(info.StatusCode))
		}
		if info.BudgetLeft > 0 {
			attrs = append(attrs, AttrBudgetLeft.Float64(info.BudgetLeft.Seconds()))
		}
		if info.Transport != "" {
			attrs = append(attrs, AttrTransport.String(info.Transport))
		}
		if info.CorrelationID != "" {
			attrs = append(attrs, AttrCorrelationID.String(info.CorrelationID))
		}
		if info.Cache != personalize.CacheUnused {
			attrs = append(attrs, AttrCache.String(info.Cache.String()))
			if info.Cache.Served() {
				attrs = append(attrs, AttrCacheAge.Float64(info.CacheAge.Seconds()))
			}
		}
		if failed(info.Outcome) {
			attrs = append(attrs, attrErrorType.String(outcome))
			span.SetStatus(codes.Error, reason(outcome, info.Err))
		}
		span.SetAttributes(attrs...)
	}
	span.End(trace.WithTimestamp(info.Start.Add(info.Duration)))

	in.flowDuration.Record(ctx, info.Duration.Seconds(), sr.rec...)
	in.flowCalls.Add(ctx, 1, sr.add...)
}

// failed: the outcomes that are failures. No visitor to personalize for (no consent, a bot)
// and a visitor who went away are not.
func failed(o personalize.Outcome) bool {
	return o != personalize.OutcomeDecision && o != personalize.OutcomeNoVisitor && o != personalize.OutcomeCanceled
}

// browserOutcome names a browser creation's outcome: "created", or why not.
func browserOutcome(o personalize.Outcome) string {
	if o == personalize.OutcomeDecision {
		return "created"
	}
	return o.String()
}

func (in *Instrumentation) browserCreated(ctx context.Context, info personalize.BrowserInfo) {
	outcome := browserOutcome(info.Outcome)
	name := "personalize.browser.create"
	if info.GuestRef {
		// A guest ref look-up through the Edge proxy: a span of its own, and no browser counted.
		name = "personalize.browser.guest_ref"
		if info.Outcome == personalize.OutcomeDecision {
			outcome = "found"
		}
	}
	_, span := in.tracer.Start(ctx, name, kindClient, trace.WithTimestamp(info.Start))
	if span.IsRecording() {
		attrs := []attribute.KeyValue{
			AttrOutcome.String(outcome),
			AttrAttempts.Int(info.Attempts),
			AttrIsolation.String(info.Isolation.String()),
		}
		if info.StatusCode != 0 {
			attrs = append(attrs, attrStatusCode.Int(info.StatusCode))
		}
		if info.Transport != "" {
			attrs = append(attrs, AttrTransport.String(info.Transport))
		}
		if failed(info.Outcome) {
			attrs = append(attrs, attrErrorType.String(outcome))
			span.SetStatus(codes.Error, reason(outcome, info.Err))
		}
		span.SetAttributes(attrs...)
	}
	span.End(trace.WithTimestamp(info.Start.Add(info.Duration)))
	if info.GuestRef {
		return
	}
	sr := in.sets.get(setKey{"\x00browser", outcome}, func() (attribute.Set, string) {
		return attribute.NewSet(AttrOutcome.String(outcome)), ""
	})
	in.browsers.Add(ctx, 1, sr.add...)
}

func (in *Instrumentation) event(ctx context.Context, info personalize.EventInfo) {
	// info.BrowserID identifies the visitor: it is never exported.
	typ := eventType(info.Type)
	outcome := info.Outcome.String()
	sr := in.sets.get(setKey{"\x00event", typ}, func() (attribute.Set, string) {
		return attribute.NewSet(AttrEventType.String(typ)), "personalize.event " + typ
	})
	kind := kindClient
	if info.Attempts == 0 {
		kind = kindInternal // nothing was sent
	}
	_, span := in.tracer.Start(ctx, sr.name, kind, trace.WithTimestamp(info.Start))
	if span.IsRecording() {
		attrs := []attribute.KeyValue{
			AttrEventType.String(typ),
			AttrEventOutcome.String(outcome),
			AttrAttempts.Int(info.Attempts),
		}
		if info.StatusCode != 0 {
			attrs = append(attrs, attrStatusCode.Int(info.StatusCode))
		}
		if info.Transport != "" {
			attrs = append(attrs, AttrTransport.String(info.Transport))
		}
		if info.Outcome != personalize.EventSent {
			attrs = append(attrs, attrErrorType.String(outcome))
			span.SetStatus(codes.Error, reason(outcome, info.Err))
		}
		span.SetAttributes(attrs...)
	}
	span.End(trace.WithTimestamp(info.Start.Add(info.Duration)))
	if int(info.Outcome) < len(in.eventCounts) && in.eventCounts[info.Outcome] != nil {
		in.eventCounts[info.Outcome].Add(ctx, 1, sr.add...)
	}
}

// eventType is an event's type for telemetry: as given when it is a valid type (upper-case
// letters, digits and underscores, at most 100 bytes), else "(invalid)": an invalid event's
// type could be anything.
func eventType(t string) string {
	if t == "" || len(t) > 100 {
		return "(invalid)"
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return "(invalid)"
		}
	}
	return t
}

// sentinels name the failures, in the words of their sentinel errors.
var sentinels = []error{
	personalize.ErrTimeout, personalize.ErrBreakerOpen, personalize.ErrUnavailable, personalize.ErrMalformedResponse,
	personalize.ErrResponseTooLarge, personalize.ErrInvalidRequest, personalize.ErrQueueFull, personalize.ErrClosed,
	personalize.ErrNoVisitor, personalize.ErrCanceled, personalize.ErrNoPage, personalize.ErrInvalidConfig,
}

// reason is a span status's description: the failure's kind and, for an answer of the API,
// its status and code, never the error's text, which may quote what the API echoed of the
// request.
func reason(outcome string, err error) string {
	if apiErr, ok := errors.AsType[*personalize.APIError](err); ok {
		s := fmt.Sprintf("personalize: api error: http %d", apiErr.StatusCode)
		if safeCode(apiErr.Code) {
			s += " code " + apiErr.Code
		}
		return s
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return outcome
}

// safeCode: an error code made of letters, digits, '_', '-' and '.', of at most 64 bytes.
func safeCode(code string) bool {
	if code == "" || len(code) > 64 {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// setCache keeps the attribute sets of the metrics, as ready-made options, and the span
// names, so that recording a measurement sorts and allocates nothing. It holds at most
// maxSets entries: friendly IDs and event types come from the site's code, but nothing stops
// a site from making them up; beyond the bound, entries are made per measurement.
type setCache struct {
	m sync.Map // setKey -> *series
	n atomic.Int64
}

const maxSets = 1024

type setKey struct{ a, b string }

// series is one attribute set's options, and the span name that goes with it.
type series struct {
	set  attribute.Set
	add  []metric.AddOption
	rec  []metric.RecordOption
	name string
}

func (c *setCache) get(k setKey, build func() (attribute.Set, string)) *series {
	if s, ok := c.m.Load(k); ok {
		return s.(*series)
	}
	set, name := build()
	opt := metric.WithAttributeSet(set)
	s := &series{set: set, add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}, name: name}
	if c.n.Load() < maxSets {
		if _, loaded := c.m.LoadOrStore(k, s); !loaded {
			c.n.Add(1)
		}
	}
	return s
}

// Span kinds, as ready-made options.
var (
	kindClient   = trace.WithSpanKind(trace.SpanKindClient)
	kindInternal = trace.WithSpanKind(trace.SpanKindInternal)
)
