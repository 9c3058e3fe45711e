package personalize

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Limits protect the API from the site's own peaks (WithLimits): beyond them a flow call is
// not made but shed (ErrShed, OutcomeShed), and its slot shows the visitor's cached decision
// (StaleOnFailure and the other policies serve one after any failure) or the default content.
// Sheds are reported like every call (hooks, CallInfo.Outcome "shed") and logged at warn, the
// 1st, 2nd, 4th, 8th... time. They apply to flow calls (callFlows), not to browser creation or
// events. The zero value limits nothing.
type Limits struct {
	// Concurrent is the most flow calls in flight at once; 0 for no limit.
	Concurrent int
	// PerSecond is the most flow calls started per second, on average; 0 for no limit.
	PerSecond float64
	// Burst is how many calls may start at once above PerSecond's pace. Default: PerSecond
	// rounded up, at least 1.
	Burst int
}

// WithLimits limits the client's flow calls (see Limits).
func WithLimits(l Limits) Option {
	return optionFunc(func(c *config) error {
		if l.Concurrent < 0 || l.PerSecond < 0 || l.Burst < 0 {
			return invalidConfigf("Limits: negative values")
		}
		if l.Burst > 0 && l.PerSecond == 0 {
			return invalidConfigf("Limits: Burst without PerSecond")
		}
		c.limits = l
		return nil
	})
}

// limits is the client's side of Limits.
type limits struct {
	slots  chan struct{} // nil without Concurrent
	rate   *rate.Limiter // nil without PerSecond
	shed   atomic.Uint64
	logger *slog.Logger
}

func newLimits(l Limits, logger *slog.Logger) *limits {
	if l.Concurrent == 0 && l.PerSecond == 0 {
		return nil
	}
	lim := &limits{logger: logger}
	if l.Concurrent > 0 {
		lim.slots = make(chan struct{}, l.Concurrent)
	}
	if l.PerSecond > 0 {
		burst := l.Burst
		if burst == 0 {
			burst = max(1, int(l.PerSecond+0.999999))
		}
		lim.rate = rate.NewLimiter(rate.Limit(l.PerSecond), burst)
	}
	return lim
}

// acquire takes a place for one call without waiting, to be given back with release; it
// returns ErrShed (and takes nothing) when the limits are reached.
func (l *limits) acquire() error {
	if l == nil {
		return nil
	}
	if l.slots != nil {
		select {
		case l.slots <- struct{}{}:
		default:
			return l.shedding("concurrent calls")
		}
	}
	if l.rate != nil && !l.rate.Allow() {
		if l.slots != nil {
			<-l.slots
		}
		return l.shedding("calls per second")
	}
	return nil
}

// release gives back the place acquire took.
func (l *limits) release() {
	if l != nil && l.slots != nil {
		<-l.slots
	}
}

func (l *limits) shedding(which string) error {
	n := l.shed.Add(1)
	if n&(n-1) == 0 {
		l.logger.LogAttrs(context.Background(), slog.LevelWarn, "personalize: flow calls shed: the client's limits are reached",
			slog.String("limit", which), slog.Uint64("shed", n))
	}
	return fmt.Errorf("%w: %s", ErrShed, which)
}
