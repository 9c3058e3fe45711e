package personalize_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gate is an event endpoint, served in memory for a synctest bubble, that holds every request
// until it is opened (or the client gives up), counting what arrived and what it answered.
type gate struct {
	mem      *memnet.Server
	arrived  atomic.Int64
	answered atomic.Int64
	open     chan struct{}
}

func newGate(t *testing.T) *gate {
	t.Helper()
	g := &gate{open: make(chan struct{})}
	g.mem = memnet.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		g.arrived.Add(1)
		select {
		case <-g.open:
		case <-r.Context().Done():
			return
		}
		g.answered.Add(1)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	}))
	return g
}

func (g *gate) release() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// eventPage is a page of a returning visitor on /booking: Track with its context queues
// events on c. It is closed when the test ends.
func eventPage(t testing.TB, c *personalize.Client) context.Context {
	t.Helper()
	ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID, Path: "/booking"})
	t.Cleanup(done)
	return ctx
}

// track queues custom event number i on the page in ctx.
func track(ctx context.Context, i int) error {
	return personalize.Track(ctx, "ADD_TO_CART", map[string]any{"n": i})
}

// eventClient is a client of baseURL with the event options, and a page to track events on.
func eventClient(t testing.TB, baseURL string, events personalize.EventOptions, opts ...personalize.Option) (*personalize.Client, context.Context) {
	t.Helper()
	c := newClient(t, baseURL, append(opts, personalize.WithEvents(events))...)
	return c, eventPage(t, c)
}

// memEventClient is eventClient for a server in memory (in a synctest bubble).
func memEventClient(t testing.TB, srv *memnet.Server, events personalize.EventOptions, opts ...personalize.Option) (*personalize.Client, context.Context) {
	t.Helper()
	return eventClient(t, srv.URL, events, append([]personalize.Option{personalize.WithHTTPClient(srv.Client)}, opts...)...)
}

func closeWithin(t *testing.T, c *personalize.Client, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.Close(ctx)
}

func TestWithEventsRejectsInvalidOptions(t *testing.T) {
	for name, opts := range map[string]personalize.EventOptions{
		"negative queue":   {QueueSize: -1},
		"negative workers": {Workers: -1},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := personalize.New(seedClientKey, personalize.WithEvents(opts))
			assert.Nil(t, c)
			assert.ErrorIs(t, err, personalize.ErrInvalidConfig)
		})
	}
}

func TestEnqueueDoesNotWaitForAHangingEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate(t)
		c, page := memEventClient(t, g.mem, personalize.EventOptions{QueueSize: 64})

		const n = 50
		start := time.Now()
		for i := range n {
			require.NoError(t, track(page, i))
		}
		assert.Zero(t, time.Since(start))
		synctest.Wait()
		// Structural: every Enqueue returned while the endpoint had answered nothing.
		assert.Zero(t, g.answered.Load(), "Enqueue returned before any answer")
		assert.Equal(t, int64(16), g.arrived.Load(), "16 workers start at once, and wait for the endpoint")

		g.release()
		require.NoError(t, closeWithin(t, c, 10*time.Second))
		assert.Equal(t, int64(n), g.answered.Load())
		st := c.EventStats()
		assert.Equal(t, personalize.EventStats{Sent: n}, st)
	})
}

func TestEnqueueUnderA200msEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var answered atomic.Int64
		rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(200 * time.Millisecond)
			answered.Add(1)
			w.WriteHeader(http.StatusCreated)
		})
		const n = 20
		c, page := memEventClient(t, rec.mem, personalize.EventOptions{QueueSize: n, Workers: 4})
		start := time.Now()
		for i := range n {
			require.NoError(t, track(page, i))
		}
		// Sending one event takes 200ms; enqueueing all of them takes no time.
		assert.Zero(t, time.Since(start))
		assert.Zero(t, answered.Load(), "every Enqueue returned before the endpoint answered once")
		require.NoError(t, closeWithin(t, c, 20*time.Second))
		assert.Equal(t, int64(n), answered.Load())
		assert.Equal(t, time.Second, time.Since(start), "four workers send 20 events of 200ms in 1s")
	})
}

func TestFullQueueDropsAndCountsWithoutBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate(t)
		const queue, workers, n = 4, 2, 100
		c, page := memEventClient(t, g.mem, personalize.EventOptions{QueueSize: queue, Workers: workers}, personalize.WithTimeout(30*time.Second))

		// Occupy both workers first, so that what is queued and dropped is exact.
		for i := range workers {
			require.NoError(t, track(page, i))
		}
		synctest.Wait()
		require.Equal(t, int64(workers), g.arrived.Load())

		var full int
		for i := workers; i < n; i++ {
			err := track(page, i)
			if err != nil {
				require.ErrorIs(t, err, personalize.ErrQueueFull)
				full++
			}
		}
		st := c.EventStats()
		assert.Equal(t, n-queue-workers, full)
		assert.Equal(t, personalize.EventStats{Dropped: n - queue - workers, Queued: queue, InFlight: workers}, st)
		assert.Equal(t, uint64(n), st.Dropped+uint64(st.Queued)+uint64(st.InFlight), "every event is accounted for")

		g.release()
		require.NoError(t, closeWithin(t, c, 10*time.Second))
		assert.Equal(t, personalize.EventStats{Sent: queue + workers, Dropped: n - queue - workers}, c.EventStats())
		assert.Equal(t, int64(queue+workers), g.answered.Load())
	})
}

func TestCloseDeliversEverythingQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newMemRecorder(t, answerJSON(http.StatusCreated, `{"status":"OK"}`))
		c, page := memEventClient(t, rec.mem, personalize.EventOptions{QueueSize: 512, Workers: 3})
		const n = 300
		for i := range n {
			require.NoError(t, track(page, i))
		}
		require.NoError(t, closeWithin(t, c, 20*time.Second))
		assert.Equal(t, int64(n), rec.hits.Load())
		assert.Equal(t, personalize.EventStats{Sent: n}, c.EventStats())

		assert.ErrorIs(t, track(page, 0), personalize.ErrClosed, "a closed client takes no events")
		assert.Equal(t, uint64(1), c.EventStats().Dropped)
		assert.NoError(t, closeWithin(t, c, time.Second), "a second Close is harmless")
	})
}

func TestCloseWithAnExpiredDeadlineReportsWhatItCouldNotDeliver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate(t)
		c, page := memEventClient(t, g.mem, personalize.EventOptions{QueueSize: 16, Workers: 2}, personalize.WithTimeout(30*time.Second))
		const n = 10
		for i := range n {
			require.NoError(t, track(page, i))
		}
		synctest.Wait()
		require.Equal(t, int64(2), g.arrived.Load())

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		err := c.Close(ctx)
		assert.Zero(t, time.Since(start), "Close gives up at once")
		var ue *personalize.UndeliveredError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, n, ue.Count)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "10 events not delivered")
		assert.Equal(t, personalize.EventStats{Failed: n}, c.EventStats())
		assert.Zero(t, g.answered.Load())
	})
}

func TestCloseReportsEventsTheAPIRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := make(chan struct{})
		rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			<-open
			answerJSON(http.StatusNotFound, `{"status":404,"code":"NOT_FOUND","message":"unknown browser"}`)(w, r)
		})
		c, page := memEventClient(t, rec.mem, personalize.EventOptions{})
		for i := range 3 {
			require.NoError(t, track(page, i))
		}
		closed := make(chan error, 1)
		go func() { closed <- closeWithin(t, c, 10*time.Second) }()
		// Answer only once Close has begun, so that the rejections happen during Close.
		synctest.Wait()
		assert.ErrorIs(t, track(page, 9), personalize.ErrClosed, "Close has begun")
		close(open)
		err := <-closed
		var ue *personalize.UndeliveredError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, 3, ue.Count)
		assert.NoError(t, ue.Err, "the deadline did not cut delivery short")
		assert.Equal(t, uint64(3), c.EventStats().Failed)
		assert.Equal(t, int64(3), rec.hits.Load(), "4xx answers are not retried")
	})
}

func TestSenderRetries(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int // answers in order; the last repeats
		hits     int64
		sent     bool
	}{
		{"500 retried once", []int{500}, 2, false},
		{"503 retried once", []int{503}, 2, false},
		{"502 then 201", []int{502, 201}, 2, true},
		{"404 unknown browser not retried", []int{404}, 1, false},
		{"400 not retried", []int{400}, 1, false},
		{"429 not retried", []int{429}, 1, false},
		{"201 at once", []int{201}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var hit atomic.Int64
				rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
					i := min(int(hit.Add(1))-1, len(tt.statuses)-1)
					w.WriteHeader(tt.statuses[i])
				})
				c, page := memEventClient(t, rec.mem, personalize.EventOptions{RetryBackoff: 5 * time.Millisecond})
				start := time.Now()
				require.NoError(t, track(page, 0))
				synctest.Wait() // the first attempt is answered
				_ = closeWithin(t, c, 10*time.Second)
				assert.Equal(t, tt.hits, rec.hits.Load())
				want := personalize.EventStats{Failed: 1}
				if tt.sent {
					want = personalize.EventStats{Sent: 1}
				}
				assert.Equal(t, want, c.EventStats())
				if tt.hits == 2 {
					assert.Equal(t, 5*time.Millisecond, time.Since(start), "the retry waits the backoff")
				} else {
					assert.Zero(t, time.Since(start))
				}
			})
		})
	}
}

// refusing is a transport whose connections are always refused, counting the attempts.
type refusing struct{ attempts atomic.Int64 }

func (r *refusing) RoundTrip(*http.Request) (*http.Response, error) {
	r.attempts.Add(1)
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

func TestSenderRetriesAConnectionFailureOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &refusing{}
		c, page := eventClient(t, "http://127.0.0.1:1", personalize.EventOptions{RetryBackoff: 5 * time.Millisecond}, personalize.WithHTTPClient(&http.Client{Transport: rt}))
		require.NoError(t, track(page, 0))
		_ = closeWithin(t, c, 10*time.Second)
		assert.Equal(t, int64(2), rt.attempts.Load())
		assert.Equal(t, personalize.EventStats{Failed: 1}, c.EventStats())

		rt2 := &refusing{}
		c2, page2 := eventClient(t, "http://127.0.0.1:1", personalize.EventOptions{RetryBackoff: -1}, personalize.WithHTTPClient(&http.Client{Transport: rt2}))
		require.NoError(t, track(page2, 0))
		_ = closeWithin(t, c2, 10*time.Second)
		assert.Equal(t, int64(1), rt2.attempts.Load(), "a negative backoff turns retries off")
		assert.Equal(t, personalize.EventStats{Failed: 1}, c2.EventStats())
	})
}

// An event whose answer did not come in time may have reached the API: it is not sent again
// (a goal would count twice), neither by the queue nor by SendEvent.
func TestTimedOutEventsAreNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c, page := memEventClient(t, rec.mem, personalize.EventOptions{RetryBackoff: time.Millisecond}, personalize.WithTimeout(50*time.Millisecond))
		start := time.Now()
		require.NoError(t, track(page, 0))
		err := closeWithin(t, c, time.Minute)
		var ue *personalize.UndeliveredError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, 1, ue.Count)
		assert.NoError(t, ue.Err, "the event was tried before Close's deadline")
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "one attempt, ended by the timeout")
		assert.Equal(t, int64(1), rec.hits.Load(), "no second attempt")
		assert.Equal(t, personalize.EventStats{Failed: 1}, c.EventStats())

		c2 := memClient(t, rec.mem, personalize.WithTimeout(50*time.Millisecond))
		err = c2.SendEvent(context.Background(), withBrowser(personalize.Event{Type: "X"}))
		assert.ErrorIs(t, err, personalize.ErrTimeout)
		assert.Equal(t, int64(2), rec.hits.Load(), "SendEvent made one attempt")
	})
}

func TestCloseCutsTheRetryPauseShort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newMemRecorder(t, answerJSON(500, ``))
		c, page := memEventClient(t, rec.mem, personalize.EventOptions{RetryBackoff: time.Hour})
		require.NoError(t, track(page, 0))
		synctest.Wait()
		require.Equal(t, int64(1), rec.hits.Load())
		start := time.Now()
		err := closeWithin(t, c, 50*time.Millisecond)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "Close waits until its deadline, not the hour")
		var ue *personalize.UndeliveredError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, 1, ue.Count)
		assert.True(t, errors.Is(err, context.DeadlineExceeded))
		assert.Equal(t, int64(1), rec.hits.Load(), "no retry after Close gave up")
	})
}

func TestEnqueueRejectsInvalidEventsWithoutQueueing(t *testing.T) {
	rec := newRecorder(t, answerJSON(201, `{}`))
	c, page := eventClient(t, rec.srv.URL, personalize.EventOptions{})
	err := personalize.Track(page, "lower", nil)
	assert.ErrorIs(t, err, personalize.ErrInvalidRequest)
	err = personalize.Track(page, "X", map[string]any{"not camelCase": 1})
	assert.ErrorIs(t, err, personalize.ErrInvalidRequest)
	err = personalize.Identify(page, personalize.Guest{})
	assert.ErrorIs(t, err, personalize.ErrInvalidRequest)
	require.NoError(t, c.Close(context.Background()))
	assert.Equal(t, personalize.EventStats{Invalid: 3}, c.EventStats())
	assert.Zero(t, rec.hits.Load())
}

func TestEnqueueEncodesAtOnceSoTheCallerMayReuseItsMaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := make(chan struct{})
		rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) { <-open; w.WriteHeader(201) })
		c, page := memEventClient(t, rec.mem, personalize.EventOptions{})
		ext := map[string]any{"sku": "first"}
		require.NoError(t, personalize.Track(page, "X", ext))
		ext["sku"] = "changed" // no race, and no effect on the queued event
		close(open)
		require.NoError(t, closeWithin(t, c, 10*time.Second))
		assert.Contains(t, string(rec.lastBody(t)), `"ext":{"sku":"first"}`)
	})
}

// BenchmarkTrack measures what a request pays to queue an event: validating and encoding it
// and the channel send. "queued" holds the workers on a hanging endpoint so that every event
// waits in the queue (no network work competes for the CPU); "full" drops every event;
// "delivering" lets two workers send to a loopback endpoint at the same time.
func BenchmarkTrack(b *testing.B) {
	ext := map[string]any{"sku": "BAG-20KG", "price": 35.5, "quantity": 2}
	hang := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client giving up
		<-r.Context().Done()
	}
	created := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }
	for _, bc := range []struct {
		name    string
		handler http.HandlerFunc
		queue   func(n int) int
	}{
		{"queued", hang, func(n int) int { return n }},
		{"full", hang, func(int) int { return 1 }},
		{"delivering", created, func(int) int { return 4096 }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.handler)
			defer srv.Close()
			c, err := personalize.New(seedClientKey, personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale("p"),
				personalize.WithTimeout(time.Minute), personalize.WithEvents(personalize.EventOptions{QueueSize: bc.queue(b.N)}))
			require.NoError(b, err)
			ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID, Path: "/booking"})
			defer done()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = personalize.Track(ctx, "ADD_TO_CART", ext)
			}
			b.StopTimer()
			cctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_ = c.Close(cctx) // gives up what a hanging endpoint holds
		})
	}
}

// The queue keeps up with the example site's full page rate, 5,700 VIEW events a second, with
// its default options, for an events API answering in up to 50ms: a second of pages is
// delivered whole, nothing dropped, and no more requests are in flight than
// EventOptions.Workers (512). Before, two workers sent 40 events a second at 50ms.
func TestEventsKeepUpWithTheSitesPageRate(t *testing.T) {
	for _, latency := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond} {
		t.Run(latency.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var inFlight, most atomic.Int64
				api := memnet.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n := inFlight.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					_, _ = io.Copy(io.Discard, r.Body)
					time.Sleep(latency)
					inFlight.Add(-1)
					w.WriteHeader(http.StatusCreated)
				}))
				api.Client.Transport.(*http.Transport).MaxIdleConnsPerHost = 1024
				c := memClient(t, api)
				views := seam.ClientOf(c)
				const n, burst = sitePageRate, sitePageRate / 100 // a second of pages, every 10ms
				for i := range n {
					if i%burst == 0 {
						time.Sleep(10 * time.Millisecond)
					}
					require.NoError(t, views.QueueView(context.Background(), seedBrowserID, "/", "", nil, ""))
				}
				require.NoError(t, closeWithin(t, c, time.Minute))
				assert.Equal(t, personalize.EventStats{Sent: n}, c.EventStats())
				assert.LessOrEqual(t, most.Load(), int64(512), "at most Workers at a time")
				if latency == 50*time.Millisecond {
					assert.Greater(t, most.Load(), int64(sitePageRate/20), "more than rate × round trip at its peak")
				}
			})
		})
	}
}

// Workers start as events wait with none idle to take them, 16 at a time until they have sent
// one (then as many as have: doubling per round trip), never more than Workers, and stop when
// no event comes for 5s.
func TestEventWorkersFollowTheBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var arrived, inFlight, most atomic.Int64
		api := memnet.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived.Add(1)
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			_, _ = io.Copy(io.Discard, r.Body)
			time.Sleep(50 * time.Millisecond)
			inFlight.Add(-1)
			w.WriteHeader(http.StatusCreated)
		}))
		c, page := memEventClient(t, api, personalize.EventOptions{Workers: 40})
		workers := func() int { return goroutinesIn("personalize.(*eventQueue).work") }
		assert.Zero(t, workers(), "no event, no worker")
		for i := range 200 {
			require.NoError(t, track(page, i))
		}
		synctest.Wait()
		assert.Equal(t, int64(16), arrived.Load(), "16 start at once")
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, int64(32), inFlight.Load(), "as many more as have sent one")
		time.Sleep(time.Second)
		assert.Equal(t, int64(200), arrived.Load())
		assert.Equal(t, int64(40), most.Load(), "never more than Workers")
		assert.Equal(t, 40, workers())

		time.Sleep(5 * time.Second)
		synctest.Wait()
		assert.Zero(t, workers(), "idle workers stop")
		require.NoError(t, track(page, 200))
		synctest.Wait()
		assert.Equal(t, int64(201), arrived.Load(), "a worker starts again for the next event")
		require.NoError(t, closeWithin(t, c, time.Second))
		assert.Equal(t, personalize.EventStats{Sent: 201}, c.EventStats())
	})
}
