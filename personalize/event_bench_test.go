package personalize_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-personalize/sdk/internal/seam"
)

// sitePageRate is the example site's full page rate on the project's 2-core machine (about
// 5,700 pages/s): the rate of VIEW events the queue must keep up with.
const sitePageRate = 5700

// BenchmarkEventDelivery queues VIEW events at the site's full page rate (one per op, in
// bursts every 10ms) with the client's default event options, for an events API answering in
// 0, 5, 20 or 50ms: over plain HTTP on loopback (as the sandbox of the load runs), and over
// HTTPS with HTTP/1.1 or HTTP/2 (the stand-in in this process makes TLS handshakes too). It
// reports how many were delivered once Close has delivered the queue (delivered/event) and
// dropped (dropped/event), the events not yet sent when the last one was queued (backlog:
// a sender that keeps up has about rate × round trip in flight, 285 at 50ms), and the
// connections the API accepted. ns/op is the pace (175µs at 5,700/s), unless the machine
// could not keep it. Run it with -benchtime=17100x (three seconds of pages, so that the queue
// cannot hide a sender that falls behind).
func BenchmarkEventDelivery(b *testing.B) {
	for _, proto := range []string{"http", "https-h1", "https-h2"} {
		for _, latency := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond} {
			b.Run(fmt.Sprintf("%s/api=%v", proto, latency), func(b *testing.B) {
				api := newAPI(b, proto, latency)
				c := api.client(b)
				ctx := context.Background()
				views := seam.ClientOf(c)
				const burst = sitePageRate / 100 // every 10ms
				start := time.Now()
				b.ResetTimer()
				for i := range b.N {
					if i%burst == 0 {
						time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / sitePageRate)))
					}
					_ = views.QueueView(ctx, seedBrowserID, "/", "", nil, "")
				}
				b.StopTimer()
				st := c.EventStats()
				backlog := st.Queued + st.InFlight
				closeCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				_ = c.Close(closeCtx)
				st = c.EventStats()
				n := float64(b.N)
				b.ReportMetric(float64(st.Sent)/n, "delivered/event")
				b.ReportMetric(float64(st.Dropped)/n, "dropped/event")
				b.ReportMetric(float64(st.Failed)/n, "failed/event")
				b.ReportMetric(float64(backlog), "backlog")
				b.ReportMetric(float64(api.conns.Load()), "conns")
			})
		}
	}
}
