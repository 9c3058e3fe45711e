package personalize

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// EventStats count what the client did with the events given to Track, Identify and the
// middleware's page views.
type EventStats struct {
	// Sent events were accepted by the API.
	Sent uint64
	// Failed events were queued but not delivered: the API rejected them, could not be
	// reached after the retry, or Close's deadline came first.
	Failed uint64
	// Dropped events were not queued because the queue was full or the client closed.
	Dropped uint64
	// Invalid events were rejected before being queued.
	Invalid uint64
	// Queued events wait in the queue; InFlight ones are being sent right now.
	Queued   int
	InFlight int
}

// eventQueue sends a client's events off the request path: enqueue validates and encodes an
// event and puts it in a bounded queue without ever blocking, and workers send the queue to
// the API (POST /v1.2/events, one event per request: the API takes no batches). Workers start
// as events wait with none idle to take them, up to EventOptions.Workers, and stop after
// eventWorkerIdle without an event; so delivery keeps up with a rate of events × the API's
// round trip (5,700 events a second at 50ms are 285 requests in flight), and a client that
// sends none runs no goroutine. Over HTTP/2 the requests share a few connections. close
// stops it, delivering what is queued first.
//
// Events do not use the client's circuit breaker (see Client.SendEvent); while the API is down
// the queue fills and new events are dropped and counted, so pages never wait.
type eventQueue struct {
	client *Client
	opts   EventOptions

	queue chan queuedEvent

	// mu orders enqueue's sends (and the workers it starts) before close's close of the queue.
	mu     sync.RWMutex
	closed bool

	// workersMu guards workers (running), idle (waiting for an event), fresh (started, and
	// about to take their first event) and starting (not done with their first event yet),
	// so that an event is never left in the queue with no worker to take it.
	workersMu                      sync.Mutex
	workers, idle, fresh, starting int

	// abort ends deliveries in flight and the retry pause when close's deadline passes.
	abort     context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	sent, failed, dropped, invalid atomic.Uint64
	inFlight                       atomic.Int64
}

const (
	// eventWorkerIdle is how long a worker waits for an event before it stops.
	eventWorkerIdle = 5 * time.Second
	// eventWorkersStarting is how many workers may start at a time before the ones started
	// have sent their first event: past it, as many may start as have sent one, so that the
	// workers double per round trip at most. Over HTTP/1.1 a starting worker opens a
	// connection (a TLS handshake) unless one is idle: a backlog at the first events, or a
	// burst, must not open hundreds at once when a few would do.
	eventWorkersStarting = 16
)

type queuedEvent struct {
	payload   []byte
	typ       string
	browserID string
	// secrets are an IDENTITY event's values, to redact from errors the API echoes them in.
	secrets []string
	// detached are the hooks' contexts for the event's delivery (Hooks.Detach), nil without
	// Event hooks.
	detached []context.Context
}

func (q *eventQueue) init(c *Client, opts EventOptions) {
	q.client, q.opts = c, opts
	q.queue = make(chan queuedEvent, opts.QueueSize)
	q.abort, q.cancel = context.WithCancel(context.Background())
}

// grow starts workers while more events wait than idle workers can take, unless
// EventOptions.Workers are running or too many are starting (eventWorkersStarting). It runs
// when an event is queued (under q.mu's read lock, so the queue is open), and when a worker
// has sent its first event (the queue's WaitGroup counts that worker, so Close's Wait cannot
// have returned).
func (q *eventQueue) grow() {
	q.workersMu.Lock()
	defer q.workersMu.Unlock()
	for len(q.queue) > q.idle+q.fresh && q.workers < q.opts.Workers && q.starting < max(eventWorkersStarting, q.workers-q.starting) {
		q.workers++
		q.fresh++
		q.starting++
		q.wg.Add(1)
		go q.work()
	}
}

// started counts a worker done with its first event, no longer starting: more may start.
func (q *eventQueue) started() {
	q.workersMu.Lock()
	q.starting--
	q.workersMu.Unlock()
	q.grow()
}

// enqueue validates and encodes ev and queues it for sending, without waiting: it returns an
// error wrapping ErrInvalidRequest for an invalid event, ErrQueueFull when the queue is full
// and ErrClosed after close (both counted as dropped). It never blocks and is safe for
// concurrent use. ctx is the context the event was given from, for the hooks.
func (q *eventQueue) enqueue(ctx context.Context, ev Event) error {
	payload, err := q.client.encodeEvent(&ev, time.Now())
	if err != nil {
		return q.reject(ctx, &ev, err)
	}
	item := queuedEvent{payload: payload, typ: ev.Type, browserID: ev.BrowserID, secrets: guestSecrets(ev.Guest),
		detached: q.client.detach(ctx)}
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		q.drop(ctx, &ev, "closed", ErrClosed)
		return ErrClosed
	}
	select {
	case q.queue <- item:
		q.grow()
		q.mu.RUnlock()
		return nil
	default:
		q.mu.RUnlock()
		q.drop(ctx, &ev, "queue full", ErrQueueFull)
		return ErrQueueFull
	}
}

// reject counts an event that was not queued because it is invalid, tells the hooks, and
// returns err.
func (q *eventQueue) reject(ctx context.Context, ev *Event, err error) error {
	q.invalid.Add(1)
	q.client.eventHooks(ctx, EventInfo{Type: ev.Type, BrowserID: ev.BrowserID, Outcome: EventInvalid, Start: time.Now(), Err: err})
	return err
}

// drop counts a dropped event, tells the hooks, and logs the 1st, 2nd, 4th, 8th... so a flood
// of drops is seen without flooding the log.
func (q *eventQueue) drop(ctx context.Context, ev *Event, why string, err error) {
	n := q.dropped.Add(1)
	q.client.eventHooks(ctx, EventInfo{Type: ev.Type, BrowserID: ev.BrowserID, Outcome: EventDropped, Start: time.Now(), Err: err})
	if n&(n-1) == 0 {
		q.client.logger.LogAttrs(context.Background(), slog.LevelWarn, "personalize: event dropped",
			slog.String("type", ev.Type), slog.String("reason", why), slog.Uint64("dropped", n))
	}
}

func (q *eventQueue) stats() EventStats {
	queued := len(q.queue)
	return EventStats{
		Sent:     q.sent.Load(),
		Failed:   q.failed.Load(),
		Dropped:  q.dropped.Load(),
		Invalid:  q.invalid.Load(),
		Queued:   queued,
		InFlight: int(q.inFlight.Load()),
	}
}

// close stops accepting events and delivers the ones queued, waiting until they are sent or
// ctx ends; see Client.Close.
func (q *eventQueue) close(ctx context.Context) error {
	first := false
	var before uint64
	q.closeOnce.Do(func() {
		first = true
		q.mu.Lock()
		q.closed = true
		before = q.failed.Load()
		close(q.queue)
		q.mu.Unlock()
	})
	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	var cause error
	select {
	case <-done:
	case <-ctx.Done():
		cause = ctx.Err()
		q.cancel()
		<-done
	}
	q.cancel()
	if !first {
		return nil
	}
	if n := q.failed.Load() - before; n > 0 {
		return &UndeliveredError{Count: int(n), Err: cause}
	}
	return nil
}

// UndeliveredError says how many events Client.Close could not deliver.
type UndeliveredError struct {
	// Count is how many events queued or in flight at Close were not delivered.
	Count int
	// Err is why delivery stopped early (ctx's error), or nil when every event was tried.
	Err error
}

func (e *UndeliveredError) Error() string {
	msg := fmt.Sprintf("personalize: %d events not delivered at close", e.Count)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the context error that cut delivery short, if any.
func (e *UndeliveredError) Unwrap() error { return e.Err }

func (q *eventQueue) work() {
	defer q.wg.Done()
	first := true
	defer func() {
		if first {
			q.started()
		}
	}()
	for {
		item, ok := q.next(first)
		if !ok {
			return
		}
		q.inFlight.Add(1)
		if q.abort.Err() != nil {
			// Close's deadline passed: give up the rest of the queue.
			q.failed.Add(1)
			q.client.queuedEventHooks(item.detached, EventInfo{Type: item.typ, BrowserID: item.browserID, Outcome: EventFailed,
				Start: time.Now(), Err: fmt.Errorf("%w: Close's deadline passed before the event was sent", ErrClosed)})
		} else {
			q.deliver(&item)
		}
		q.inFlight.Add(-1)
		if first {
			first = false
			q.started()
		}
	}
}

// next returns the next event to send, waiting for one at most eventWorkerIdle; false when
// the worker is to stop: the queue is closed and empty, or no event came. first says the
// worker has taken none yet (it is counted fresh until it takes one or waits).
func (q *eventQueue) next(first bool) (queuedEvent, bool) {
	select {
	case item, ok := <-q.queue:
		if first || !ok {
			q.workersMu.Lock()
			if first {
				q.fresh--
			}
			if !ok {
				q.workers--
			}
			q.workersMu.Unlock()
		}
		return item, ok
	default:
	}
	q.workersMu.Lock()
	if first {
		q.fresh--
	}
	q.idle++
	q.workersMu.Unlock()
	idle := time.NewTimer(eventWorkerIdle)
	defer idle.Stop()
	for {
		select {
		case item, ok := <-q.queue:
			q.workersMu.Lock()
			q.idle--
			if !ok {
				q.workers--
			}
			q.workersMu.Unlock()
			return item, ok
		case <-idle.C:
			q.workersMu.Lock()
			if len(q.queue) == 0 {
				// No event waits: one enqueued from now on sees this worker gone (grow).
				q.idle--
				q.workers--
				q.workersMu.Unlock()
				return queuedEvent{}, false
			}
			q.workersMu.Unlock()
			idle.Reset(eventWorkerIdle)
		}
	}
}

// deliver sends one event, retrying once after a pause when the connection failed or the API
// answered 5xx.
func (q *eventQueue) deliver(it *queuedEvent) {
	start := time.Now()
	status, err := q.attempt(it.payload)
	attempts := 1
	if err != nil && q.opts.RetryBackoff > 0 && retryableEvent(err) && q.pause() {
		status, err = q.attempt(it.payload)
		attempts++
	}
	if err != nil {
		err = redactGuest(err, it.secrets)
	}
	if s := q.client.hooks.load(); s.events > 0 {
		info := EventInfo{Type: it.typ, BrowserID: it.browserID, Outcome: EventSent, Start: start, Duration: time.Since(start),
			StatusCode: status, Attempts: attempts, Transport: q.client.transport, Err: err}
		if err != nil {
			info.Outcome = EventFailed
		}
		q.client.queuedEventHooks(it.detached, info)
	}
	if err == nil {
		q.sent.Add(1)
		return
	}
	// The 1st, 2nd, 4th, 8th... failure is logged, with the count: an API that is down shows
	// without a line per event.
	n := q.failed.Add(1)
	if n&(n-1) != 0 {
		return
	}
	q.client.logger.LogAttrs(context.Background(), slog.LevelWarn, "personalize: event not delivered",
		slog.String("type", it.typ), slog.Int("status", status), slog.Int("attempts", attempts),
		slog.Uint64("failed", n), slog.String("error", err.Error()))
}

// attempt makes one HTTP request within the client's per-call timeout.
func (q *eventQueue) attempt(payload []byte) (int, error) {
	callCtx, cancel := context.WithTimeout(q.abort, q.client.cfg.timeout)
	defer cancel()
	raw, status, err := q.client.once(q.abort, callCtx, http.MethodPost, q.client.eventsURL, payload, callHeaders{event: true})
	if err == nil {
		err = checkEventAnswer(status, raw)
	}
	return status, err
}

// pause waits the retry backoff; false when Close's deadline ended it.
func (q *eventQueue) pause() bool {
	t := time.NewTimer(q.opts.RetryBackoff)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-q.abort.Done():
		return false
	}
}

// retryableEvent: the connection failed, or the API answered 5xx. Timeouts are not retried
// (the API may have the event already, and a slow API should not get twice the load), nor
// 4xx answers, which a retry would not change.
func retryableEvent(err error) bool {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.StatusCode >= 500 || apiErr.Status >= 500
	}
	return errors.Is(err, ErrUnavailable)
}
