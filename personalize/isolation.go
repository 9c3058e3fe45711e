package personalize

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Isolation: every friendly ID has a circuit breaker of its own, so that a flow that keeps
// failing or timing out fails fast (its slots render their default content at once) without
// touching the other flows of the page or the client, and recovers on its own: after
// BreakerSettings.OpenFor one trial call is let through, and its success closes the breaker.
// Browser creation has a breaker of its own too. An answer 429 or 503 with a Retry-After header
// holds the flow's calls back for that long (at most maxRetryAfter), whatever its breaker says.
const (
	// maxIsolatedFlows bounds the breakers kept: friendly IDs come from the site's code, but
	// nothing stops a site from making them up per request. Beyond the bound, further friendly
	// IDs share one breaker.
	maxIsolatedFlows = 256
	// maxRetryAfter caps how long a Retry-After header holds a flow back.
	maxRetryAfter = 5 * time.Minute
	// browserKey is the breaker of browser/create.json.
	browserKey = "browser/create.json"
	// guestKey is the breaker of the Edge proxy's show.json (Client.GuestRef).
	guestKey = "browser/show.json"
	// overflowKey names the breaker shared beyond maxIsolatedFlows, in logs.
	overflowKey = "(other flows)"
)

type isolation struct {
	settings BreakerSettings
	logger   *slog.Logger

	mu       sync.RWMutex
	breakers map[string]*flowBreaker
	overflow *flowBreaker
}

// flowBreaker is one flow's breaker and the time a Retry-After asked to wait until.
type flowBreaker struct {
	cb *gobreaker.CircuitBreaker[struct{}]

	mu        sync.Mutex
	notBefore time.Time
}

func newIsolation(s BreakerSettings, logger *slog.Logger) *isolation {
	iso := &isolation{settings: s, logger: logger, breakers: make(map[string]*flowBreaker)}
	iso.overflow = iso.newBreaker(overflowKey)
	return iso
}

func (iso *isolation) newBreaker(key string) *flowBreaker {
	s := iso.settings
	return &flowBreaker{cb: gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        key,
		MaxRequests: 1,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= s.Failures
		},
		IsSuccessful: func(err error) bool { return !isAPIFault(err) },
		// A request the caller cancelled or got wrong, or one that timed out in the site's own
		// process (its CPU, its connections), says nothing about the API's health.
		IsExcluded: func(err error) bool {
			return errors.Is(err, ErrCanceled) || errors.Is(err, ErrInvalidRequest) || errors.Is(err, ErrLocalTimeout)
		},
		OnStateChange: iso.stateChanged,
	})}
}

// stateChanged logs a flow's isolation: a degraded state once, at warn, and its recovery.
func (iso *isolation) stateChanged(key string, from, to gobreaker.State) {
	ctx := context.Background()
	switch {
	case to == gobreaker.StateOpen && from == gobreaker.StateClosed:
		iso.logger.LogAttrs(ctx, slog.LevelWarn, "personalize: flow isolated after repeated failures; its slots show their default content until a trial call succeeds",
			slog.String("friendly_id", key), slog.Duration("trial_after", iso.settings.OpenFor))
	case to == gobreaker.StateClosed:
		iso.logger.LogAttrs(ctx, slog.LevelInfo, "personalize: flow recovered", slog.String("friendly_id", key))
	default:
		iso.logger.LogAttrs(ctx, slog.LevelDebug, "personalize: flow isolation "+to.String(), slog.String("friendly_id", key))
	}
}

// breaker returns key's breaker, making it on first use.
func (iso *isolation) breaker(key string) *flowBreaker {
	iso.mu.RLock()
	b, ok := iso.breakers[key]
	iso.mu.RUnlock()
	if ok {
		return b
	}
	iso.mu.Lock()
	defer iso.mu.Unlock()
	if b, ok := iso.breakers[key]; ok {
		return b
	}
	if len(iso.breakers) >= maxIsolatedFlows {
		return iso.overflow
	}
	b = iso.newBreaker(key)
	iso.breakers[key] = b
	return b
}

// guard runs fn through key's breaker (when isolation is on): it fails fast with
// ErrBreakerOpen while the breaker is open or a Retry-After holds the flow back. It returns
// the breaker's state when the call was made.
func (c *Client) guard(key string, fn func() error) (IsolationState, error) {
	if c.isolation == nil {
		return IsolationClosed, fn()
	}
	b := c.isolation.breaker(key)
	if wait := b.held(time.Now()); wait > 0 {
		return IsolationOpen, fmt.Errorf("%w: the API asked to retry after %v", ErrBreakerOpen, wait.Round(time.Millisecond))
	}
	state := isolationOf(b.cb.State())
	_, err := b.cb.Execute(func() (struct{}, error) { return struct{}{}, fn() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		if errors.Is(err, gobreaker.ErrOpenState) {
			state = IsolationOpen // it opened since State
		}
		return state, fmt.Errorf("%w: %s fails fast after repeated API failures", ErrBreakerOpen, key)
	}
	if apiErr, ok := errors.AsType[*APIError](err); ok && apiErr.RetryAfter > 0 {
		b.hold(time.Now().Add(min(apiErr.RetryAfter, maxRetryAfter)))
	}
	return state, err
}

func isolationOf(s gobreaker.State) IsolationState {
	switch s {
	case gobreaker.StateOpen:
		return IsolationOpen
	case gobreaker.StateHalfOpen:
		return IsolationHalfOpen
	}
	return IsolationClosed
}

// Isolated returns the friendly IDs whose calls fail fast right now, sorted: their circuit
// breaker is open or half-open (a trial call pending), or a Retry-After holds them back.
// Browser creation is listed as "browser/create.json" when it is isolated, and friendly IDs
// beyond the 256 that have a breaker of their own as "(other flows)". It is nil when no flow
// is isolated, or the breakers are disabled.
func (c *Client) Isolated() []string {
	if c.zero() || c.isolation == nil {
		return nil
	}
	iso := c.isolation
	now := time.Now()
	var out []string
	add := func(key string, b *flowBreaker) {
		if b.held(now) > 0 || b.cb.State() != gobreaker.StateClosed {
			out = append(out, key)
		}
	}
	iso.mu.RLock()
	for key, b := range iso.breakers {
		add(key, b)
	}
	iso.mu.RUnlock()
	add(overflowKey, iso.overflow)
	slices.Sort(out)
	return out
}

// held returns how long a Retry-After still holds the flow back, 0 when it does not.
func (b *flowBreaker) held(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notBefore.IsZero() {
		return 0
	}
	if wait := b.notBefore.Sub(now); wait > 0 {
		return wait
	}
	b.notBefore = time.Time{}
	return 0
}

func (b *flowBreaker) hold(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.notBefore) {
		b.notBefore = until
	}
}

// isAPIFault reports whether err is the API's fault: timeouts, connection errors, malformed or
// oversized answers, 5xx and 429. A 4xx caused by the request is not, nor a timeout whose time
// went in the site's own process (ErrLocalTimeout).
func isAPIFault(err error) bool {
	if err == nil || errors.Is(err, ErrLocalTimeout) {
		return false
	}
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.temporary()
	}
	return errors.Is(err, ErrTimeout) || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, ErrMalformedResponse) || errors.Is(err, ErrResponseTooLarge)
}

// retryAfter reads a Retry-After header of a 429 or 503 answer: delay-seconds or an HTTP date
// (RFC 9110 10.2.3), as a duration from now; 0 when there is none or it cannot be read.
func retryAfter(status int, h http.Header, now time.Time) time.Duration {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
