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

// Defaults of SenderOptions.
const (
	DefaultEventQueueSize    = 1024
	DefaultEventWorkers      = 2
	DefaultEventRetryBackoff = 150 * time.Millisecond
)

// SenderOptions configure a Sender. Zero fields take the defaults.
type SenderOptions struct {
	// QueueSize is how many events may wait to be sent (default 1024). When the queue is full,
	// new events are dropped and counted: memory never grows past it.
	QueueSize int
	// Workers is how many events are sent at the same time (default 2).
	Workers int
	// RetryBackoff is the pause before the one retry of an event whose connection failed or
	// that the API answered with a 5xx (default 150ms); a negative value turns retries off.
	// 4xx answers (an unknown browser is a 404) and timeouts are never retried.
	RetryBackoff time.Duration
	// Logger logs events that could not be delivered, and drops; the default is the client's
	// logger.
	Logger *slog.Logger
}

// SenderStats count what a Sender did with the events given to it.
type SenderStats struct {
	// Sent events were accepted by the API.
	Sent uint64
	// Failed events were queued but not delivered: the API rejected them, could not be
	// reached after the retry, or Close's deadline came first.
	Failed uint64
	// Dropped events were not queued because the queue was full or the Sender closed.
	Dropped uint64
	// Invalid events were rejected by Enqueue before being queued.
	Invalid uint64
	// Queued events wait in the queue; InFlight ones are being sent right now.
	Queued   int
	InFlight int
}

// Sender sends events off the request path: Enqueue validates and encodes an event and puts
// it in a bounded queue without ever blocking, and a small pool of workers sends the queue to
// the API (POST /v1.2/events). Close stops it, delivering what is queued first.
//
// A Sender does not use the client's circuit breaker (see Client.SendEvent); while the API is
// down the queue fills and new events are dropped and counted, so pages never wait.
type Sender struct {
	client  *Client
	url     string
	queue   chan queuedEvent
	backoff time.Duration
	logger  *slog.Logger

	// mu orders Enqueue's sends before Close's close of the queue.
	mu     sync.RWMutex
	closed bool

	// abort ends deliveries in flight and the retry pause when Close's deadline passes.
	abort     context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once

	sent, failed, dropped, invalid atomic.Uint64
	inFlight                       atomic.Int64
}

type queuedEvent struct {
	payload []byte
	typ     string
	// secrets are an IDENTITY event's values, to redact from errors the API echoes them in.
	secrets []string
}

// NewSender starts a Sender for the client's events and its workers. Attach it to the client
// with SetSender so that Track, Identify and pages' SendView use it, and Close it at shutdown.
func NewSender(c *Client, opts SenderOptions) (*Sender, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil client", ErrInvalidConfig)
	}
	if opts.QueueSize < 0 || opts.Workers < 0 {
		return nil, fmt.Errorf("%w: sender queue size and workers must not be negative", ErrInvalidConfig)
	}
	if opts.QueueSize == 0 {
		opts.QueueSize = DefaultEventQueueSize
	}
	if opts.Workers == 0 {
		opts.Workers = DefaultEventWorkers
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = DefaultEventRetryBackoff
	}
	if opts.Logger == nil {
		opts.Logger = c.logger
	}
	s := &Sender{
		client:  c,
		url:     c.eventsURL(),
		queue:   make(chan queuedEvent, opts.QueueSize),
		backoff: opts.RetryBackoff,
		logger:  opts.Logger,
		done:    make(chan struct{}),
	}
	s.abort, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(opts.Workers)
	for range opts.Workers {
		go s.work()
	}
	go func() {
		s.wg.Wait()
		close(s.done)
	}()
	return s, nil
}

// Enqueue validates and encodes ev and queues it for sending, without waiting: it returns an
// error wrapping ErrInvalidRequest for an invalid event, ErrQueueFull when the queue is full
// and ErrSenderClosed after Close (both counted as dropped). It never blocks and is safe for
// concurrent use.
func (s *Sender) Enqueue(ev Event) error {
	payload, err := s.client.encodeEvent(&ev, time.Now())
	if err != nil {
		s.invalid.Add(1)
		return err
	}
	item := queuedEvent{payload: payload, typ: ev.Type, secrets: guestSecrets(ev.Guest)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		s.drop(ev.Type, "closed")
		return ErrSenderClosed
	}
	select {
	case s.queue <- item:
		s.mu.RUnlock()
		return nil
	default:
		s.mu.RUnlock()
		s.drop(ev.Type, "queue full")
		return ErrQueueFull
	}
}

// drop counts a dropped event and logs the 1st, 2nd, 4th, 8th... so a flood of drops is seen
// without flooding the log.
func (s *Sender) drop(typ, why string) {
	n := s.dropped.Add(1)
	if n&(n-1) == 0 {
		s.logger.LogAttrs(context.Background(), slog.LevelWarn, "personalize: event dropped",
			slog.String("type", typ), slog.String("reason", why), slog.Uint64("dropped", n))
	}
}

// Stats returns the Sender's counters.
func (s *Sender) Stats() SenderStats {
	return SenderStats{
		Sent:     s.sent.Load(),
		Failed:   s.failed.Load(),
		Dropped:  s.dropped.Load(),
		Invalid:  s.invalid.Load(),
		Queued:   len(s.queue),
		InFlight: int(s.inFlight.Load()),
	}
}

// Close stops accepting events and delivers the ones queued, waiting until they are sent or
// ctx ends. Deliveries still running then are cancelled and the rest of the queue is given up.
// It returns an *UndeliveredError when events queued or in flight at Close could not be
// delivered (including those the API rejected). No worker outlives Close. Calling Close again
// waits for the workers and returns nil.
func (s *Sender) Close(ctx context.Context) error {
	first := false
	var before uint64
	s.closeOnce.Do(func() {
		first = true
		s.mu.Lock()
		s.closed = true
		before = s.failed.Load()
		close(s.queue)
		s.mu.Unlock()
	})
	var cause error
	select {
	case <-s.done:
	case <-ctx.Done():
		cause = ctx.Err()
		s.cancel()
		<-s.done
	}
	s.cancel()
	if !first {
		return nil
	}
	if n := s.failed.Load() - before; n > 0 {
		return &UndeliveredError{Count: int(n), Err: cause}
	}
	return nil
}

// UndeliveredError says how many events Close could not deliver.
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

func (s *Sender) work() {
	defer s.wg.Done()
	for item := range s.queue {
		s.inFlight.Add(1)
		if s.abort.Err() != nil {
			// Close's deadline passed: give up the rest of the queue.
			s.failed.Add(1)
		} else {
			s.deliver(&item)
		}
		s.inFlight.Add(-1)
	}
}

// deliver sends one event, retrying once after a pause when the connection failed or the API
// answered 5xx.
func (s *Sender) deliver(it *queuedEvent) {
	status, err := s.attempt(it.payload)
	attempts := 1
	if err != nil && s.backoff > 0 && retryableEvent(err) && s.pause() {
		status, err = s.attempt(it.payload)
		attempts++
	}
	if err == nil {
		s.sent.Add(1)
		return
	}
	s.failed.Add(1)
	err = redactGuest(err, it.secrets)
	s.logger.LogAttrs(context.Background(), slog.LevelWarn, "personalize: event not delivered",
		slog.String("type", it.typ), slog.Int("status", status), slog.Int("attempts", attempts),
		slog.String("error", err.Error()))
}

// attempt makes one HTTP request within the client's per-call timeout.
func (s *Sender) attempt(payload []byte) (int, error) {
	callCtx, cancel := context.WithTimeout(s.abort, s.client.cfg.timeout)
	defer cancel()
	raw, status, err := s.client.once(s.abort, callCtx, http.MethodPost, s.url, payload, "")
	if err == nil {
		err = checkEventAnswer(status, raw)
	}
	return status, err
}

// pause waits the retry backoff; false when Close's deadline ended it.
func (s *Sender) pause() bool {
	t := time.NewTimer(s.backoff)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.abort.Done():
		return false
	}
}

// retryableEvent: the connection failed, or the API answered 5xx. Timeouts are not retried
// (the API may have the event already, and a slow API should not get twice the load), nor
// 4xx answers, which a retry would not change.
func retryableEvent(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500 || apiErr.Status >= 500
	}
	return errors.Is(err, ErrUnavailable)
}

// SetSender attaches s to the client: Track, Identify and pages' SendView queue their events
// on it. It is safe to call while the client serves requests; nil detaches. It panics when s
// was made for another client.
func (c *Client) SetSender(s *Sender) {
	if s != nil && s.client != c {
		panic("personalize: SetSender: the sender was made for another client")
	}
	c.sender.Store(s)
}

// Sender returns the Sender attached with SetSender, or nil.
func (c *Client) Sender() *Sender { return c.sender.Load() }
