package middleware

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// slowEvents is how long the sandbox's events endpoint takes to answer in
// BenchmarkPageViewEvents.
const slowEvents = 200 * time.Millisecond

// BenchmarkPageViewEvents: a returning visitor's HTML page that calls one flow on the sandbox
// over loopback, with VIEW events off and on, while the sandbox's events endpoint answers in
// 200ms. The page must cost the same either way (within a few percent): queueing a VIEW never
// waits for the API, and once the queue is full the event is dropped and counted. Compare
// the two ns/op; views/op and dropped/op show what the client's event queue did.
func BenchmarkPageViewEvents(b *testing.B) {
	sb := personalizetest.NewSandbox(b, sandbox.WithFlows(sandbox.Define("home").Returns(map[string]any{"name": "Home offer"})))
	sb.Sandbox.SetEventsFault(sandbox.Fault{Latency: slowEvents})
	pc := personalizetest.NewClient(b, sb)
	id, err := pc.CreateBrowser(context.Background())
	require.NoError(b, err)
	b.Cleanup(func() {
		sb.Sandbox.Close() // ends the slow answers still held
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = pc.Close(ctx) // what is still queued is reported as not delivered: fine here
	})
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
			req := newBenchRequest("/?utm_campaign=summer_sale", bidName()+"="+id)
			before := pc.EventStats()
			serveLoop(b, mw.Handler(page), req)
			after := pc.EventStats()
			n := float64(b.N)
			queued := after.Sent + after.Failed + after.Dropped + uint64(after.Queued+after.InFlight) -
				(before.Sent + before.Failed + before.Dropped + uint64(before.Queued+before.InFlight))
			b.ReportMetric(float64(queued)/n, "views/op")
			b.ReportMetric(float64(after.Dropped-before.Dropped)/n, "dropped/op")
		})
	}
}

// heldEvents answers flow calls as stubAPI does and holds every event until release is
// closed: the events are queued, and the benchmark measures the request's share of a VIEW
// (encoding and queueing it), not the workers' delivery.
type heldEvents struct{ release chan struct{} }

func (h heldEvents) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/events") {
		select {
		case <-h.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return stubAPI{}.RoundTrip(r)
}

// BenchmarkHTMLPageNoFlow: a returning visitor (browser ID and session cookies) on an HTML
// page that personalizes nothing, with VIEW events off and on. Goals: off, under 1 µs and 6
// allocations over the bare handler; on, under 2 µs and 12. With events on, the events API
// holds every event, so the queue fills (queued/op) and later events are dropped
// (dropped/op); either way the page pays the same: the event is built, encoded and offered to
// the queue, which never waits.
func BenchmarkHTMLPageNoFlow(b *testing.B) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, htmlPage)
	})
	b.Run("bare", func(b *testing.B) {
		serveLoop(b, page, newBenchRequest("/products?page=2", ""))
	})
	for _, tc := range []struct {
		name string
		on   bool
	}{{"events=off", false}, {"events=on", true}} {
		b.Run(tc.name, func(b *testing.B) {
			held := heldEvents{release: make(chan struct{})}
			pc, err := personalize.New("bench-key", personalize.WithBaseURL("http://api.invalid"),
				personalize.WithPointOfSale("bench"), personalize.WithHTTPClient(&http.Client{Transport: held}),
				personalize.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(b, err)
			b.Cleanup(func() {
				close(held.release)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = pc.Close(ctx)
			})
			mw, err := New(pc, Options{SessionKeys: testKeys, SendViewEvents: tc.on})
			require.NoError(b, err)
			req := newBenchRequest("/products?page=2", returningCookies(b, mw))
			before := pc.EventStats()
			serveLoop(b, mw.Handler(page), req)
			after := pc.EventStats()
			n := float64(b.N)
			b.ReportMetric(float64(after.Queued+after.InFlight-before.Queued-before.InFlight)/n, "queued/op")
			b.ReportMetric(float64(after.Dropped-before.Dropped)/n, "dropped/op")
		})
	}
}
