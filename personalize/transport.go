package personalize

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxIdleConns is how many idle connections to the API the client's own transport keeps
// for reuse (WithMaxIdleConns): enough for 1,000 pages at a time calling three flows each,
// with their events beside them, so that a site under that load reuses its connections
// instead of opening (and TLS-handshaking) new ones. The pool holds only what the traffic
// used: a connection idle for 90 seconds is closed.
const DefaultMaxIdleConns = 4096

const (
	// idleConnTimeout closes a connection to the API idle for that long.
	idleConnTimeout = 90 * time.Second
	// tlsSessionCacheSize is how many TLS sessions the client's transport keeps to resume (one
	// per API host is used).
	tlsSessionCacheSize = 64
	// writeBufferSize is each connection's write buffer, which it keeps while it lives, idle
	// or not: a flow call or an event (headers and body) takes well under 1 KiB, where the
	// transport's default is 4 KiB. A larger request is written in more than one piece.
	writeBufferSize = 1 << 10
)

// newTransport is the client's own transport, tuned for many concurrent pages calling one API
// host: an idle pool the size of the traffic (maxIdle connections, DefaultMaxIdleConns
// unless WithMaxIdleConns says otherwise), a TLS session cache so that a new connection
// resumes a session instead of making a full handshake, and HTTP/2 whenever the API offers
// it (ALPN), whose streams share a few connections. ForceAttemptHTTP2 keeps HTTP/2 on
// although the transport has a DialContext and a TLSClientConfig of its own
// (TestTheTransportSpeaksHTTP2WhenOffered checks it does).
func newTransport(maxIdle int) *http.Transport {
	maxIdle = cmp.Or(maxIdle, DefaultMaxIdleConns)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = maxIdle
	t.MaxIdleConnsPerHost = maxIdle
	t.IdleConnTimeout = idleConnTimeout
	t.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 3 * time.Second
	t.TLSClientConfig = &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(tlsSessionCacheSize)}
	t.ForceAttemptHTTP2 = true
	t.ExpectContinueTimeout = 0
	t.WriteBufferSize = writeBufferSize
	return t
}

// WithMaxIdleConns sets how many idle connections to the API the client's own transport keeps
// for reuse (default DefaultMaxIdleConns; 0 keeps the default). Past it, a connection that
// finishes a call is closed, and a later call opens a new one: with TLS, a handshake. Size it
// to the calls a site makes at a time at its peak: pages at a time × flows per page, plus
// the events in flight. It configures the transport New makes, so it cannot be given with
// WithHTTPClient (size that client's transport instead).
func WithMaxIdleConns(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return invalidConfigf("max idle connections must not be negative, got %d", n)
		}
		c.maxIdleConns = n
		return nil
	})
}

// checkTransport rejects options of the client's own transport given with WithHTTPClient.
func (c *config) checkTransport() error {
	if c.httpClient != nil && c.maxIdleConns != 0 {
		return invalidConfigf("WithMaxIdleConns sizes the transport New makes: with WithHTTPClient, size that client's transport")
	}
	return nil
}

// An exchange is one HTTP request and the reading of its answer. It runs in a goroutine of its
// own, under a context that the call's end does not cancel, so that the call's caller can stop
// waiting (the page's budget ran out, the visitor left) while the request finishes in the
// background: over HTTP/1.1, cancelling a request that is on the wire closes its connection,
// and the next call pays a new one (a TLS handshake, with HTTPS).
type exchange struct {
	ctx    context.Context
	cancel context.CancelFunc
	trace  httptrace.ClientTrace
	begun  time.Time
	done   chan struct{} // closed when raw, status and err are set

	// Where the request got to, as durations since begun (0 until then), set by the
	// transport's hooks: when it started getting a connection (getConn), got one (gotConn;
	// h2 when it speaks HTTP/2) and wrote the request (wrote: into the connection's buffer,
	// flushed at once after). started is set when the exchange's goroutine calls the
	// transport.
	getConn, gotConn, wrote atomic.Int64
	started, h2             atomic.Bool

	// state says who the exchange's end is for: its caller (exchangeRunning), nobody
	// (exchangeEnded: the answer came; exchangeCancelled: abandoned after Close) or the
	// client's background, which counts it (exchangeAbandoned).
	state atomic.Int32

	raw    []byte
	status int
	err    error

	stopTimer  *time.Timer // ends an abandoned exchange a timeout after it was abandoned
	stopClosed func() bool // stops the client's Close from ending it
}

const (
	exchangeRunning int32 = iota
	exchangeEnded
	exchangeAbandoned
	exchangeCancelled
)

// newExchange makes the exchange of one attempt of a call whose context is callCtx: its
// context keeps callCtx's values (a tracing span, for an instrumented transport) but not its
// deadline or cancellation.
func newExchange(callCtx context.Context) *exchange {
	ex := &exchange{begun: time.Now(), done: make(chan struct{})}
	ex.trace = httptrace.ClientTrace{
		GetConn: func(string) { ex.getConn.Store(ex.since()) },
		GotConn: func(info httptrace.GotConnInfo) {
			if tc, ok := info.Conn.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
				ex.h2.Store(true)
			}
			ex.gotConn.Store(ex.since())
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { ex.wrote.Store(ex.since()) },
	}
	ex.ctx, ex.cancel = context.WithCancel(httptrace.WithClientTrace(context.WithoutCancel(callCtx), &ex.trace))
	return ex
}

// exchange sends req (made with ex.ctx) in ex's goroutine and waits for its answer, or for
// callCtx to end. Then it returns at once, and abandons the request: one that has an HTTP/1.1
// connection finishes in the background, so that its connection goes back to the pool (for
// the client's timeout at most, and no more of them at a time than the pool keeps: see
// finishing.abandon); any other is cancelled. An answer that is ready is always returned.
func (c *Client) exchange(ctx, callCtx context.Context, ex *exchange, req *http.Request) ([]byte, int, error) {
	go c.run(ctx, callCtx, ex, req)
	select {
	case <-ex.done:
		// The answer was read to its end, so the connection is back in the pool already.
		ex.cancel()
		return ex.raw, ex.status, ex.err
	case <-callCtx.Done():
	}
	if !c.finishing.abandon(c, ex) {
		return ex.raw, ex.status, ex.err // it ended meanwhile
	}
	err := transportError(ctx, callCtx, context.Cause(callCtx))
	if errors.Is(err, ErrTimeout) && (ex.localWait(callCtx) || c.finishing.cpuStarved()) {
		err = c.localTimeout(err)
	}
	return nil, 0, err
}

// run is the exchange's goroutine.
func (c *Client) run(ctx, callCtx context.Context, ex *exchange, req *http.Request) {
	ex.started.Store(true)
	ex.raw, ex.status, ex.err = c.answer(ctx, callCtx, req)
	close(ex.done)
	if ex.state.Swap(exchangeEnded) == exchangeAbandoned {
		c.finishing.ended(ex)
	}
}

// since is how long ago the exchange began, at least 1ns (0 means "not yet").
func (ex *exchange) since() int64 { return int64(max(time.Since(ex.begun), 1)) }

// localWait reports whether a call that timed out spent most of its time in the site's own
// process rather than at the API. The site's own time is the time before the transport began
// getting a connection, and from getting one to writing the request (the transport's
// goroutines waiting for the CPU); the API's is the time connecting (a dial or TLS handshake
// that does not end is an API that cannot be reached) and from the request written to the
// deadline. An exchange whose goroutine had not even run by the deadline is the site's. A
// transport that reports none of this (a RoundTripper that is not an *http.Transport and
// calls no httptrace hook) leaves every other timeout the API's, as before.
func (ex *exchange) localWait(callCtx context.Context) bool {
	if !ex.started.Load() {
		return true
	}
	deadline, ok := callCtx.Deadline()
	if !ok {
		return false
	}
	total := deadline.Sub(ex.begun)
	local := time.Duration(ex.getConn.Load())
	if got := time.Duration(ex.gotConn.Load()); got > 0 {
		wrote := time.Duration(ex.wrote.Load())
		if wrote == 0 {
			wrote = total
		}
		local += wrote - got
	}
	return local > total/2
}

// finishing is the client's abandoned exchanges that finish in the background, and the count
// of its local timeouts.
type finishing struct {
	mu      sync.Mutex
	closed  bool
	running int // exchanges left to finish
	wg      sync.WaitGroup
	stop    context.Context // ended by Close: ends them all
	cancel  context.CancelFunc
	over    atomic.Uint64 // exchanges cancelled because Client.maxFinishing were finishing
	local   atomic.Uint64 // timeouts that were the site's own (ErrLocalTimeout)

	runnable func() uint64 // goroutines waiting for a CPU; nil: runnableGoroutines (tests set it)
}

// starvedPerCPU is how many goroutines waiting to run, per GOMAXPROCS, make the process short
// of CPU (cpuStarved). A site whose CPU keeps up has a few at a time, most of its goroutines
// waiting on the network; one that a burst of pages has swamped (a cold start at full
// traffic, every call making a TLS handshake) has hundreds per CPU.
const starvedPerCPU = 64

// cpuStarved reports whether, as a call times out, the process's goroutines queue for the
// CPU: at least starvedPerCPU per GOMAXPROCS are ready to run and not running. Every step of
// a call (its goroutine's start, the transport writing the request, reading the answer, the
// caller waking) then waits behind them, and so does a TLS handshake, whose time
// localWait counts as the API's: a timeout then says nothing about the API. The count is the
// runtime's own (runtime/metrics, read in about 150ns), taken only when a call times out.
func (f *finishing) cpuStarved() bool {
	n := f.runnable
	if n == nil {
		n = runnableGoroutines
	}
	return n() >= starvedPerCPU*uint64(runtime.GOMAXPROCS(0))
}

// runnableGoroutines is the runtime's count of goroutines ready to execute but not executing.
func runnableGoroutines() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0 // a runtime without the metric: never starved
	}
	return s[0].Value.Uint64()
}

// abandon takes ex from its caller, whose context ended. It is left to finish when it has an
// HTTP/1.1 connection and fewer than Client.maxFinishing are finishing, for the client's
// timeout at most (from now: the caller may have given up at once, or at the page's budget);
// else, or once Close has begun, it is cancelled. abandon returns false when ex ended
// meanwhile: its answer is ready.
func (f *finishing) abandon(c *Client, ex *exchange) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		if !ex.state.CompareAndSwap(exchangeRunning, exchangeCancelled) {
			return false
		}
		ex.cancel() // after Close, nothing runs in the background
		return true
	}
	f.wg.Add(1)
	if !ex.state.CompareAndSwap(exchangeRunning, exchangeAbandoned) {
		f.wg.Done()
		return false
	}
	// A request still waiting for a connection is not sent at all: the transport puts a
	// connection it was dialling for it in the pool. An HTTP/2 stream is reset without closing
	// its connection. Cancelling a request that has an HTTP/1.1 connection, though, closes it.
	conn := ex.gotConn.Load() != 0 && !ex.h2.Load()
	if !conn || f.running >= c.maxFinishing() {
		if conn {
			f.overflowed(c)
		}
		ex.cancel()
		return true
	}
	if f.stop == nil {
		f.stop, f.cancel = context.WithCancel(context.Background())
	}
	f.running++
	ex.stopTimer = time.AfterFunc(c.cfg.timeout, ex.cancel)
	ex.stopClosed = context.AfterFunc(f.stop, ex.cancel)
	return true
}

// overflowed counts an abandoned call cancelled because Client.maxFinishing were finishing,
// and logs the 1st, 2nd, 4th, 8th... one at debug.
func (f *finishing) overflowed(c *Client) {
	if n := f.over.Add(1); n&(n-1) == 0 {
		c.logger.LogAttrs(context.Background(), slog.LevelDebug, "personalize: abandoned calls cancelled: too many finishing in the background",
			slog.Int("finishing", c.maxFinishing()), slog.Uint64("cancelled", n))
	}
}

// maxFinishing bounds the abandoned calls left to finish in the background at a time: as many
// as the idle pool keeps (WithMaxIdleConns, or the MaxIdleConnsPerHost of WithHTTPClient's
// *http.Transport), since the transport would close a connection beyond it anyway. Beyond
// it, an abandoned call is cancelled at once and its HTTP/1.1 connection closed.
func (c *Client) maxFinishing() int {
	rt := c.hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	if t, ok := rt.(*http.Transport); ok && !c.ownsHC {
		return cmp.Or(t.MaxIdleConnsPerHost, http.DefaultMaxIdleConnsPerHost)
	}
	return cmp.Or(c.cfg.maxIdleConns, DefaultMaxIdleConns)
}

// ended releases an abandoned exchange's place once its goroutine is done.
func (f *finishing) ended(ex *exchange) {
	f.mu.Lock() // abandon has set ex's stops
	if ex.stopTimer != nil {
		ex.stopTimer.Stop()
		ex.stopClosed()
		ex.cancel()
		f.running--
	}
	f.mu.Unlock()
	f.wg.Done()
}

// close ends the exchanges finishing in the background and waits for their goroutines: their
// answers are nobody's, and Close is about to close the connections anyway.
func (f *finishing) close() {
	f.mu.Lock()
	f.closed = true
	cancel := f.cancel
	f.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	f.wg.Wait()
}

// localTimeout marks a timeout whose time went in the site's own process (ErrLocalTimeout),
// and logs the 1st, 2nd, 4th, 8th... one at warn: such timeouts are not counted against the
// API (its breaker stays closed), so they show here, and as OutcomeLocalTimeout.
func (c *Client) localTimeout(err error) error {
	if n := c.finishing.local.Add(1); n&(n-1) == 0 {
		c.logger.LogAttrs(context.Background(), slog.LevelWarn,
			"personalize: calls timed out in the site's own process (its CPU, a late start), not at the API: not counted against the API",
			slog.Uint64("local_timeouts", n))
	}
	return fmt.Errorf("%w: %w", ErrLocalTimeout, err)
}
