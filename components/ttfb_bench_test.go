package components_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// BenchmarkTimeToFirstByte serves the streamed page (head flushed before the slot waits for
// its flow) and the same page buffered, with the API answering in 50 ms, and reports the time
// to the first byte and to the last one (ms/first-byte, ms/page): streaming takes the flow's
// latency off the first byte.
func BenchmarkTimeToFirstByte(b *testing.B) {
	const latency = 50 * time.Millisecond
	e := newEnv(b, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers()).WithFault(sandbox.Fault{Latency: latency})},
		personalize.WithBudget(slowBudget))
	for _, mode := range []struct {
		name string
		opts []func(*templ.ComponentHandler)
	}{
		{"streamed", []func(*templ.ComponentHandler){templ.WithStreaming()}},
		{"buffered", nil},
	} {
		b.Run(mode.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx, done := personalize.StartPage(r.Context(), e.client, personalize.Visitor{BrowserID: testBrowserID})
				defer done()
				personalize.Prefetch(ctx, "ancillary_offers")
				templ.Handler(streamedPage, mode.opts...).ServeHTTP(w, r.WithContext(ctx))
			}))
			b.Cleanup(srv.Close)
			client := srv.Client()
			b.Cleanup(client.CloseIdleConnections)
			var firstByte, whole time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var first time.Time
				trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(b.Context(), trace), http.MethodGet, srv.URL, nil)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				whole += time.Since(start)
				firstByte += first.Sub(start)
			}
			b.ReportMetric(float64(firstByte.Microseconds())/1000/float64(b.N), "ms/first-byte")
			b.ReportMetric(float64(whole.Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}
