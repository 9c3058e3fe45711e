package personalize_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
)

// pipeAPI serves an API stand-in in memory, for a synctest bubble, to a transport of the
// test's own that counts the connections it opens. dial, when set, runs before each dial
// (to hold it); wrap, when set, wraps each connection the transport gets.
type pipeAPI struct {
	client *http.Client
	dials  atomic.Int64
}

type pipeOptions struct {
	dial    func(ctx context.Context) error
	wrap    func(net.Conn) net.Conn
	maxIdle int
}

func newPipeAPI(t *testing.T, h http.HandlerFunc, o pipeOptions) *pipeAPI {
	t.Helper()
	l := memnet.NewListener()
	srv := &http.Server{Handler: h}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
	api := &pipeAPI{}
	api.client = &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: max(o.maxIdle, 64),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			api.dials.Add(1)
			if o.dial != nil {
				if err := o.dial(ctx); err != nil {
					return nil, err
				}
			}
			c, err := l.DialContext(ctx, network, addr)
			if err == nil && o.wrap != nil {
				c = o.wrap(c)
			}
			return c, err
		},
	}}
	if o.maxIdle > 0 {
		api.client.Transport.(*http.Transport).MaxIdleConnsPerHost = o.maxIdle
	}
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
		api.client.CloseIdleConnections()
	})
	return api
}

// pipeClient is a client of api.
func pipeClient(t *testing.T, api *pipeAPI, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	return newClient(t, "http://api.test", append([]personalize.Option{personalize.WithHTTPClient(api.client),
		personalize.WithTimeout(time.Second)}, opts...)...)
}

// decision answers a flow call with a small decision.
func decision(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"title":"Fly for less"}`)
}

// cancelOn cancels ctx once the API has the request (arrived is signalled).
func cancelOn(arrived <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	return ctx
}

// A visitor who leaves while the API works on a call does not cost the connection: the call
// finishes in the background, and the next call reuses its connection (over HTTP/1.1,
// cancelling a request on the wire closes its connection).
func TestAnAbandonedCallFinishesAndItsConnectionIsReused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		var answered atomic.Int64
		api := newPipeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			arrived <- struct{}{}
			time.Sleep(50 * time.Millisecond)
			decision(w)
			answered.Add(1)
		}, pipeOptions{})
		c := pipeClient(t, api)

		start := time.Now()
		_, err := c.CallFlow(cancelOn(arrived), flowOf("f"))
		assert.ErrorIs(t, err, personalize.ErrCanceled)
		assert.Zero(t, time.Since(start), "the caller does not wait for the call to finish")
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, int64(1), answered.Load(), "the abandoned call was answered, not cancelled")

		go func() { <-arrived }()
		_, err = c.CallFlow(context.Background(), flowOf("f"))
		require.NoError(t, err)
		assert.Equal(t, int64(1), api.dials.Load(), "the next call reuses the abandoned call's connection")
	})
}

// A page whose budget runs out leaves its calls to finish in the background too, bounded by
// the client's timeout: the next page reuses the connection.
func TestACallPastTheBudgetKeepsItsConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var latency atomic.Int64
		latency.Store(int64(150 * time.Millisecond))
		api := newPipeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			time.Sleep(time.Duration(latency.Load()))
			decision(w)
		}, pipeOptions{})
		c := pipeClient(t, api, personalize.WithBudget(100*time.Millisecond))

		page := func() error {
			ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
			defer done()
			_, err := personalize.Flow(ctx, "f")
			return err
		}
		start := time.Now()
		assert.ErrorIs(t, page(), personalize.ErrTimeout)
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "the page does not wait past its budget")
		time.Sleep(50 * time.Millisecond) // the call is answered in the background
		synctest.Wait()
		latency.Store(0)
		require.NoError(t, page())
		assert.Equal(t, int64(1), api.dials.Load(), "the next page reuses the connection")
	})
}

// A call abandoned before the transport gave it a connection is not sent at all; the
// connection being dialled for it goes to the pool.
func TestACallAbandonedBeforeItHasAConnectionIsNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dialing, dial := make(chan struct{}, 1), make(chan struct{})
		var hits atomic.Int64
		api := newPipeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			decision(w)
		}, pipeOptions{dial: func(ctx context.Context) error {
			select {
			case dialing <- struct{}{}:
				<-dial // the first dial waits for the test
			default:
			}
			return nil
		}})
		c := pipeClient(t, api)

		start := time.Now()
		_, err := c.CallFlow(cancelOn(dialing), flowOf("f"))
		assert.ErrorIs(t, err, personalize.ErrCanceled)
		assert.Zero(t, time.Since(start))
		close(dial)
		synctest.Wait()
		assert.Zero(t, hits.Load(), "the abandoned call was not sent")

		_, err = c.CallFlow(context.Background(), flowOf("f"))
		require.NoError(t, err)
		assert.Equal(t, int64(1), hits.Load())
		assert.Equal(t, int64(1), api.dials.Load(), "the connection dialled for the abandoned call is used")
	})
}

// Close ends the calls finishing in the background at once: no goroutine of the client
// outlives it.
func TestCloseEndsTheCallsFinishingInTheBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		var active atomic.Int64
		api := newPipeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			active.Add(1)
			defer active.Add(-1)
			_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client go away
			arrived <- struct{}{}
			<-r.Context().Done() // hangs until the client goes away
		}, pipeOptions{})
		c := pipeClient(t, api, personalize.WithTimeout(time.Minute))

		_, err := c.CallFlow(cancelOn(arrived), flowOf("f"))
		require.ErrorIs(t, err, personalize.ErrCanceled)
		synctest.Wait()
		assert.Equal(t, int64(1), active.Load(), "the abandoned call finishes in the background")

		start := time.Now()
		require.NoError(t, c.Close(context.Background()))
		assert.Zero(t, time.Since(start), "Close does not wait out the minute")
		synctest.Wait()
		assert.Zero(t, active.Load(), "Close ended it")
		assert.Zero(t, goroutinesIn("personalize.(*Client).run"))

		_, err = c.CallFlow(cancelOn(arrived), flowOf("f")) // flows work after Close
		require.ErrorIs(t, err, personalize.ErrCanceled)
		synctest.Wait()
		assert.Zero(t, active.Load(), "after Close, an abandoned call is cancelled at once")
	})
}

// An abandoned call finishes in the background for the client's timeout at most.
func TestAnAbandonedCallFinishesWithinTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		ended := make(chan time.Time, 1)
		api := newPipeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			arrived <- struct{}{}
			<-r.Context().Done()
			ended <- time.Now()
		}, pipeOptions{})
		c := pipeClient(t, api, personalize.WithTimeout(time.Second))

		start := time.Now()
		_, err := c.CallFlow(cancelOn(arrived), flowOf("f"))
		require.ErrorIs(t, err, personalize.ErrCanceled)
		assert.Equal(t, time.Second, (<-ended).Sub(start), "cancelled a timeout after it was abandoned")
	})
}

// No more calls finish in the background than the transport keeps idle connections: beyond
// that, an abandoned call is cancelled at once.
func TestTheCallsFinishingInTheBackgroundAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		var cancelled, active atomic.Int64
		release := make(chan struct{})
		api := newPipeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			active.Add(1)
			defer active.Add(-1)
			_, _ = io.Copy(io.Discard, r.Body)
			arrived <- struct{}{}
			select {
			case <-release:
				decision(w)
			case <-r.Context().Done():
				cancelled.Add(1)
			}
		}, pipeOptions{maxIdle: 2})
		c := pipeClient(t, api, personalize.WithTimeout(time.Minute))

		for i := range 3 {
			_, err := c.CallFlow(cancelOn(arrived), flowOf("f"))
			require.ErrorIs(t, err, personalize.ErrCanceled)
			synctest.Wait()
			assert.Equal(t, int64(min(i+1, 2)), active.Load(), "call %d", i)
		}
		assert.Equal(t, int64(1), cancelled.Load(), "the third was cancelled: two were finishing")
		close(release)
		synctest.Wait()
		assert.Zero(t, active.Load())
		assert.Equal(t, int64(3), api.dials.Load())
		for range 2 {
			go func() { <-arrived }()
			_, err := c.CallFlow(context.Background(), flowOf("f"))
			require.NoError(t, err)
		}
		assert.Equal(t, int64(3), api.dials.Load(), "the two that finished gave their connections back")
	})
}

// heldConn delays its writes, and holds them until it is closed when hold is set.
type heldConn struct {
	net.Conn
	delay  time.Duration
	hold   bool
	closed chan struct{}
	once   sync.Once
}

func holdWrites(delay time.Duration, hold bool) func(net.Conn) net.Conn {
	return func(c net.Conn) net.Conn {
		return &heldConn{Conn: c, delay: delay, hold: hold, closed: make(chan struct{})}
	}
}

func (c *heldConn) Write(p []byte) (int, error) {
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	if c.hold {
		<-c.closed
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

func (c *heldConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// hang holds a request until the client goes away.
func hang(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

// slowStart is a RoundTripper that starts each request late: the time a starved process
// takes to get to it.
type slowStart struct {
	http.RoundTripper
	delay time.Duration
}

func (s slowStart) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(s.delay)
	return s.RoundTripper.RoundTrip(r)
}

// A call that times out because most of its time went in the site's own process (the
// request reached the transport, or was written, only in the last half of the call's time:
// the CPU, a late start), or while the process's goroutines queue for the CPU, is reported as
// such and not counted against the API: the flow's breaker stays closed. One that the API
// held, or that could not connect, with the CPU keeping up, is the API's, and opens it.
func TestOnlyTheAPIsOwnTimeoutsOpenTheBreaker(t *testing.T) {
	slowDial := func(d time.Duration) func(context.Context) error {
		return func(ctx context.Context) error {
			time.Sleep(d)
			return nil
		}
	}
	for _, tc := range []struct {
		name    string
		start   time.Duration // before the transport gets the request
		opts    pipeOptions
		starved bool // goroutines queue for the CPU as the call times out
		local   bool
	}{
		{"the request reaches the transport at 70ms of 100", 70 * time.Millisecond, pipeOptions{}, false, true},
		{"the request reaches the transport at 30ms of 100, the API holds it", 30 * time.Millisecond, pipeOptions{}, false, false},
		{"the API holds the request", 0, pipeOptions{}, false, false},
		{"the API takes 70ms to connect and holds the request", 0, pipeOptions{dial: slowDial(70 * time.Millisecond)}, false, false},
		{"the API does not read the request", 0, pipeOptions{wrap: holdWrites(0, true)}, false, false},
		{"the dial does not end", 0, pipeOptions{dial: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}}, false, false},
		{"the API holds the request, the CPU swamped", 0, pipeOptions{}, true, true},
		{"the API takes 70ms to connect (a TLS handshake behind the queue), the CPU swamped", 0, pipeOptions{dial: slowDial(70 * time.Millisecond)}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs lockedBuffer
				api := newPipeAPI(t, hang, tc.opts)
				hc := &http.Client{Transport: slowStart{api.client.Transport, tc.start}}
				c := newClient(t, "http://api.test", personalize.WithHTTPClient(hc), personalize.WithTimeout(100*time.Millisecond),
					personalize.WithBreaker(personalize.BreakerSettings{Failures: 1, OpenFor: time.Hour}),
					personalize.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				runnable := uint64(0) // a CPU that keeps up
				if tc.starved {
					runnable = personalize.StarvedPerCPU*uint64(runtime.GOMAXPROCS(0)) + 1
				}
				personalize.SetRunnable(c, func() uint64 { return runnable })
				start := time.Now()
				_, err := c.CallFlow(context.Background(), flowOf("f"))
				assert.Equal(t, 100*time.Millisecond, time.Since(start))
				assert.ErrorIs(t, err, personalize.ErrTimeout, "a timeout all the same")
				if tc.local {
					assert.ErrorIs(t, err, personalize.ErrLocalTimeout)
					assert.Equal(t, personalize.OutcomeLocalTimeout, personalize.OutcomeOf(err))
					assert.Empty(t, c.Isolated(), "not counted against the API")
					assert.Len(t, logs.lines("WARN", "timed out in the site's own process", "local_timeouts=1"), 1)
				} else {
					assert.NotErrorIs(t, err, personalize.ErrLocalTimeout)
					assert.Equal(t, personalize.OutcomeTimeout, personalize.OutcomeOf(err))
					assert.Equal(t, []string{"f"}, c.Isolated(), "the API's timeout opens the breaker")
					assert.Empty(t, logs.lines("site's own process"))
				}
			})
		})
	}
}

// The transport New makes speaks HTTP/2 with an API that offers it, and HTTP/1.1 with one
// that does not (its DialContext and TLSClientConfig of its own would turn HTTP/2 off
// without ForceAttemptHTTP2).
func TestTheTransportSpeaksHTTP2WhenOffered(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		api := newTLSAPI(t, h2, 0)
		c := api.client(t)
		_, err := c.CallFlow(context.Background(), flowOf("f"))
		require.NoError(t, err)
		want := int64(1)
		if h2 {
			want = 2
		}
		assert.Equal(t, want, api.protoMajor.Load(), "HTTP/2 offered: %v", h2)
	}
}

// A new connection to the API resumes the TLS session of an earlier one instead of making a
// full handshake (720-860µs of client CPU here, against 570-640µs resumed).
func TestTLSSessionsAreResumed(t *testing.T) {
	api := newTLSAPI(t, false, 0)
	c := api.client(t)
	_, err := c.CallFlow(context.Background(), flowOf("f"))
	require.NoError(t, err)
	require.NoError(t, c.Close(context.Background())) // closes the idle connection; flows still work
	_, err = c.CallFlow(context.Background(), flowOf("f"))
	require.NoError(t, err)
	assert.Equal(t, int64(2), api.conns.Load())
	assert.Equal(t, int64(1), api.full.Load(), "one full handshake")
	assert.Equal(t, int64(1), api.resumed.Load(), "the second connection resumed the session")
}

// The idle pool keeps the connections of as many calls as were in flight at once: 300 calls
// at a time (100 pages of three flows, over the 256 the pool used to keep) open 300
// connections once, and the next 300 reuse them. WithMaxIdleConns makes it smaller.
func TestTheIdlePoolKeepsTheConnectionsOfManyCalls(t *testing.T) {
	const n = 300
	for _, tc := range []struct {
		name  string
		opts  []personalize.Option
		conns int64
	}{
		{"default", nil, n},
		{"WithMaxIdleConns(100)", []personalize.Option{personalize.WithMaxIdleConns(100)}, n + n - 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var arrived atomic.Int64
			var round atomic.Pointer[chan struct{}]
			api := newAPI(t, "http", 0)
			api.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				all := *round.Load()
				if arrived.Add(1)%n == 0 {
					close(all) // every call of the round is in flight
				}
				<-all
				decision(w)
			})
			c := api.client(t, tc.opts...)
			for range 2 {
				all := make(chan struct{})
				round.Store(&all)
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						_, err := c.CallFlow(context.Background(), flowOf("f"))
						assert.NoError(t, err)
					})
				}
				wg.Wait()
			}
			assert.Equal(t, tc.conns, api.conns.Load())
		})
	}
}

func TestWithMaxIdleConns(t *testing.T) {
	_, err := personalize.New(seedClientKey, personalize.WithMaxIdleConns(-1))
	assert.ErrorIs(t, err, personalize.ErrInvalidConfig)
	_, err = personalize.New(seedClientKey, personalize.WithMaxIdleConns(10), personalize.WithHTTPClient(http.DefaultClient))
	assert.ErrorIs(t, err, personalize.ErrInvalidConfig, "it sizes the client's own transport")
	c, err := personalize.New(seedClientKey, personalize.WithMaxIdleConns(0), personalize.WithHTTPClient(http.DefaultClient))
	require.NoError(t, err, "0 is the default")
	require.NoError(t, c.Close(context.Background()))
}
