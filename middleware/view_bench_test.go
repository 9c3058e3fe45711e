package middleware

import (
	"context"
	"io"
	"net/http"
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
			req := newBenchRequest("/?utm_campaign=summer_sale", bidName(b)+"="+id)
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
