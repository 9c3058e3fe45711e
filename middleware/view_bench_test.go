package middleware

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/benchcpu"
	"github.com/go-personalize/sdk/internal/cannedapi"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// eventsClient is a client of api (at baseURL; its own transport) or, with baseURL empty, of
// api in memory, for the visitor of bidName(b) (sandbox.DefaultClientKey).
func eventsClient(b *testing.B, api *cannedapi.API, baseURL string) *personalize.Client {
	b.Helper()
	opts := []personalize.Option{personalize.WithBaseURL(baseURL), personalize.WithPointOfSale("bench")}
	if baseURL == "" {
		opts = []personalize.Option{personalize.WithBaseURL("http://api.invalid"), personalize.WithPointOfSale("bench"),
			personalize.WithHTTPClient(api.Client())}
	}
	pc, err := personalize.New(sandbox.DefaultClientKey, opts...)
	require.NoError(b, err)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pc.Close(ctx)
	})
	return pc
}

// serveAndDeliver serves req with h b.N times, then waits until the client has delivered (or
// dropped) every event the pages queued, inside the measured time: what the events cost is in
// ns/op and cpu-ns/op (the process's CPU, the event workers' included). It reports views/op,
// the VIEW events the API received per page, and dropped/op, the events the client dropped
// or failed to deliver.
func serveAndDeliver(b *testing.B, h http.Handler, req *http.Request, pc *personalize.Client, api *cannedapi.API) {
	w := &discardWriter{h: http.Header{}}
	views, before := api.Stats().Views, pc.EventStats()
	b.ReportAllocs()
	b.ResetTimer()
	stop := benchcpu.Start(b)
	for range b.N {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	drain(b, pc)
	stop()
	b.StopTimer()
	after := pc.EventStats()
	n := float64(b.N)
	b.ReportMetric(float64(api.Stats().Views-views)/n, "views/op")
	b.ReportMetric(float64(after.Dropped+after.Failed-before.Dropped-before.Failed)/n, "dropped/op")
}

// drain waits until the client has had no event queued or in flight, and delivered none,
// for two polls in a row (a worker that has just taken an event may not count it yet).
func drain(b *testing.B, pc *personalize.Client) {
	deadline := time.Now().Add(30 * time.Second)
	var last personalize.EventStats
	for idle := 0; idle < 2; {
		st := pc.EventStats()
		if st.Queued+st.InFlight == 0 && st.Sent == last.Sent {
			idle++
		} else {
			idle = 0
		}
		last = st
		if time.Now().After(deadline) {
			b.Fatalf("events still queued after 30s: %+v", st)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkPageViewEvents: a returning visitor's HTML page that calls one flow, with VIEW
// events off and on, against an API on 127.0.0.1 in this process that answers flows and
// events at once (internal/cannedapi; its CPU is in cpu-ns/op, the same for both). With
// events on it measures sending them: each run ends once every queued event is delivered,
// and views/op says how many reached the API per page (1 when none is lost; dropped/op
// counts the rest). Compare off and on: the difference is what a VIEW costs the site,
// delivery included.
func BenchmarkPageViewEvents(b *testing.B) {
	api := cannedapi.New(cannedapi.Options{Flows: map[string][]byte{"home": []byte(`{"name":"Home offer"}`)}})
	srv := httptest.NewServer(api)
	b.Cleanup(srv.Close)
	pc := eventsClient(b, api, srv.URL)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = personalize.Flow(r.Context(), "home")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, htmlPage)
	})
	for _, tc := range []struct {
		name string
		on   bool
	}{{"off", false}, {"on", true}} {
		b.Run(tc.name, func(b *testing.B) {
			mw, err := New(pc, Options{SessionKeys: testKeys, SendViewEvents: tc.on})
			require.NoError(b, err)
			req := newBenchRequest("/?utm_campaign=summer_sale", bidName(b)+"="+validID)
			serveAndDeliver(b, mw.Handler(page), req, pc, api)
		})
	}
}

// gatedAPI is api in memory with a gate in front: while the benchmark holds gate, the
// client's event workers wait before their requests reach the API. waiting counts the
// workers at the gate: each has taken an event and built its request.
type gatedAPI struct {
	api     *cannedapi.API
	gate    *sync.RWMutex
	waiting *atomic.Int64
}

func (g gatedAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	g.waiting.Add(1)
	g.gate.RLock()
	g.waiting.Add(-1)
	defer g.gate.RUnlock()
	return g.api.RoundTrip(r)
}

const (
	// eventChunk is how many pages BenchmarkHTMLRouteNoFlow times between two deliveries:
	// with the benchWorkers held at the gate they stay in the queue (4096), none dropped.
	eventChunk = 512
	// benchWorkers is BenchmarkHTMLRouteNoFlow's EventOptions.Workers: few, so that all of
	// them can be busy (at the gate) before a chunk is timed.
	benchWorkers = 4
)

// BenchmarkHTMLRouteNoFlow: a returning visitor (browser ID and session cookies) on an HTML
// route that personalizes nothing, without the middleware (bare), and with it with VIEW
// events off and on: the request path, which is what the targets of docs/performance.md are
// about (over bare: under 1 µs and 6 allocations off, under 2 µs and 12 allocations on).
//
// With events on, the timed section is what a visitor's request costs while the event
// workers are busy: the middleware's sendView, QueueView, the VIEW's encoding and enqueue
// (its channel send into the buffered queue and grow's check, which starts no worker since
// all benchWorkers run). Not in it: the event delivery. Before each chunk of eventChunk timed
// pages, with the timer stopped and the gate held, untimed pages (primers) queue VIEWs until
// every worker has taken one and waits at the gate with its request built (gatedAPI.waiting);
// so no worker takes an event, builds a request or allocates while the timer runs (the
// process-wide allocation count would charge it to the page). Also not in it: the wake-up of
// an idle worker that an enqueue does when a worker waits for events (a goroutine made
// runnable, no allocation), since here none waits. After the chunk the timer stops, the gate
// opens and every queued VIEW is delivered in memory; views/op, the VIEWs the API received per
// page served (timed and primers), is 1 when none is lost, and dropped/op counts the rest.
// What delivery costs is measured by BenchmarkPageViewEvents.
func BenchmarkHTMLRouteNoFlow(b *testing.B) {
	api := cannedapi.New(cannedapi.Options{Default: []byte(`{"name":"Offer"}`)})
	var gate sync.RWMutex
	var waiting atomic.Int64
	pc, err := personalize.New(sandbox.DefaultClientKey, personalize.WithBaseURL("http://api.invalid"),
		personalize.WithPointOfSale("bench"), personalize.WithEvents(personalize.EventOptions{Workers: benchWorkers}),
		personalize.WithHTTPClient(&http.Client{Transport: gatedAPI{api, &gate, &waiting}}))
	require.NoError(b, err)
	b.Cleanup(func() { _ = pc.Close(context.Background()) })
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, htmlPage)
	})
	b.Run("bare", func(b *testing.B) {
		serveLoop(b, page, newBenchRequest("/products?page=2", bidName(b)+"="+validID))
	})
	for _, tc := range []struct {
		name string
		on   bool
	}{{"off", false}, {"on", true}} {
		b.Run(tc.name, func(b *testing.B) {
			mw, err := New(pc, Options{SessionKeys: testKeys, SendViewEvents: tc.on})
			require.NoError(b, err)
			// The visitor's session cookie, from a first page that called a flow.
			first := httptest.NewRequest(http.MethodGet, "/?utm_campaign=summer_sale", nil)
			first.Header.Set("User-Agent", browserUA)
			first.Header.Set("Cookie", bidName(b)+"="+validID)
			rec := httptest.NewRecorder()
			mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = personalize.Flow(r.Context(), "home")
				_, _ = io.WriteString(w, htmlPage)
			})).ServeHTTP(rec, first)
			cookie := bidName(b) + "=" + validID
			for _, c := range rec.Result().Cookies() {
				cookie += "; " + c.Name + "=" + c.Value
			}
			drain(b, pc)
			req := newBenchRequest("/products?page=2", cookie)
			h := mw.Handler(page)
			w := &discardWriter{h: http.Header{}}
			views, before := api.Stats().Views, pc.EventStats()
			primers := 0
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				b.StopTimer()
				gate.Lock()
				if tc.on {
					primers += holdWorkers(b, h, w, req, pc, &gate, &waiting)
				}
				b.StartTimer()
				for n := min(eventChunk, b.N-done); n > 0; n-- {
					clear(w.h)
					h.ServeHTTP(w, req)
					done++
				}
				b.StopTimer()
				gate.Unlock()
				drain(b, pc)
			}
			after := pc.EventStats()
			b.ReportMetric(float64(api.Stats().Views-views)/float64(b.N+primers), "views/op")
			b.ReportMetric(float64(after.Dropped+after.Failed-before.Dropped-before.Failed)/float64(b.N+primers), "dropped/op")
		})
	}
}

// holdWorkers serves pages (with the gate held, the timer stopped) until all benchWorkers
// have taken a VIEW and wait at the gate with their requests built, and returns how many it
// served. A page is served only when the queue is empty, so at most one VIEW stays queued.
// If the workers never all arrive it opens the gate (so that Close does not wait on them)
// and fails.
func holdWorkers(b *testing.B, h http.Handler, w *discardWriter, req *http.Request, pc *personalize.Client,
	gate *sync.RWMutex, waiting *atomic.Int64) int {
	served := 0
	deadline := time.Now().Add(30 * time.Second)
	for waiting.Load() < benchWorkers {
		if pc.EventStats().Queued == 0 {
			clear(w.h)
			h.ServeHTTP(w, req)
			served++
		}
		if time.Now().After(deadline) {
			gate.Unlock()
			b.Fatalf("%d of %d event workers at the gate after 30s: %+v", waiting.Load(), benchWorkers, pc.EventStats())
		}
		runtime.Gosched()
	}
	return served
}
