package personalize_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
)

// tlsAPI is an HTTPS stand-in for the API, as the real one is (or a plain HTTP one, newAPI): it answers every request after
// latency (flows with a small decision, events with Sitecore's OK), and counts the
// connections it accepted and the TLS handshakes it made, full or resumed.
type tlsAPI struct {
	srv                  *httptest.Server
	conns, full, resumed atomic.Int64
	protoMajor           atomic.Int64 // the HTTP version of the last request
}

// newTLSAPI starts the stand-in; with h2 it offers HTTP/2 (ALPN "h2"), else only HTTP/1.1.
func newTLSAPI(tb testing.TB, h2 bool, latency time.Duration) *tlsAPI {
	tb.Helper()
	proto := "https-h1"
	if h2 {
		proto = "https-h2"
	}
	return newAPI(tb, proto, latency)
}

// newAPI starts the stand-in over plain HTTP ("http") or HTTPS, offering HTTP/1.1 only
// ("https-h1") or HTTP/2 too ("https-h2").
func newAPI(tb testing.TB, proto string, latency time.Duration) *tlsAPI {
	tb.Helper()
	api := &tlsAPI{}
	api.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.protoMajor.Store(int64(r.ProtoMajor))
		_, _ = io.Copy(io.Discard, r.Body)
		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1.2/events" {
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"status":"OK"}`)
			return
		}
		_, _ = io.WriteString(w, `{"title":"Fly for less","offers":[{"name":"Lisbon"},{"name":"Porto"}]}`)
	}))
	api.srv.EnableHTTP2 = proto == "https-h2"
	api.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			api.conns.Add(1)
		}
	}
	api.srv.Config.ErrorLog = discardLog // TLS handshakes a canceled dial cut short
	api.srv.TLS = &tls.Config{VerifyConnection: func(cs tls.ConnectionState) error {
		if cs.DidResume {
			api.resumed.Add(1)
		} else {
			api.full.Add(1)
		}
		return nil
	}}
	if proto == "http" {
		api.srv.Start()
	} else {
		api.srv.StartTLS()
	}
	tb.Cleanup(api.srv.Close)
	return api
}

// discardLog drops the stand-in's log lines.
var discardLog = log.New(io.Discard, "", 0)

// client is a client of the stand-in with the transport New makes, trusting its certificate.
func (api *tlsAPI) client(tb testing.TB, opts ...personalize.Option) *personalize.Client {
	tb.Helper()
	c, err := personalize.New(seedClientKey, append([]personalize.Option{
		personalize.WithBaseURL(api.srv.URL), personalize.WithPointOfSale("myretailsite/ireland"),
		personalize.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)...)
	require.NoError(tb, err)
	if cert := api.srv.Certificate(); cert != nil {
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		personalize.TrustRoots(c, roots)
	}
	tb.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func (api *tlsAPI) reset() {
	api.conns.Store(0)
	api.full.Store(0)
	api.resumed.Store(0)
}

// threeFlowPage is a page of three flows, prefetched in parallel. A visitor who leaves
// (leave > 0) cancels the request that long after the calls started.
func threeFlowPage(c *personalize.Client, leave time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	page, done := personalize.StartPage(ctx, c, personalize.Visitor{BrowserID: seedBrowserID, Path: "/"})
	defer done()
	personalize.Prefetch(page, homeFlows...)
	if leave > 0 {
		t := time.AfterFunc(leave, cancel)
		defer t.Stop()
	}
	for _, id := range homeFlows {
		_, _ = personalize.Flow(page, id)
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPagesOverTLS runs 256 pages at a time, three flows each, against an HTTPS
// stand-in answering in 2ms, one page in 8 abandoned by its visitor 1ms after its calls
// started (while they wait for the answer). It reports what the API's connections cost per
// page once the pool is warm: new connections (conns/page), full and resumed TLS handshakes,
// and the CPU time of the whole process (client and stand-in) per page. h1 offers only
// HTTP/1.1; h2 offers HTTP/2.
func BenchmarkPagesOverTLS(b *testing.B) {
	for _, bc := range []struct {
		name string
		h2   bool
	}{{"h1", false}, {"h2", true}} {
		b.Run(bc.name, func(b *testing.B) {
			api := newTLSAPI(b, bc.h2, 2*time.Millisecond)
			var outcomes [16]atomic.Int64
			c := api.client(b, personalize.WithBreaker(personalize.BreakerSettings{Disabled: true}),
				personalize.WithHooks(personalize.Hooks{FlowCall: func(_ context.Context, info personalize.CallInfo) {
					outcomes[info.Outcome%16].Add(1)
				}}))
			var n atomic.Int64
			page := func() {
				if n.Add(1)%8 == 0 {
					threeFlowPage(c, time.Millisecond)
				} else {
					threeFlowPage(c, 0)
				}
			}
			// Warm the pool up, as a site's traffic grows: the connections of 256 pages at a time
			// are the pool's, not churn. (768 full TLS handshakes at once, client and stand-in on
			// the same two cores, would take longer than a page's budget.)
			for conc := 16; conc <= 256; conc *= 2 {
				var wg sync.WaitGroup
				for range conc {
					wg.Go(func() {
						for range 4 {
							page()
						}
					})
				}
				wg.Wait()
			}
			api.reset()
			for i := range outcomes {
				outcomes[i].Store(0)
			}
			b.SetParallelism(128) // 256 goroutines on 2 cores
			cpu := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					page()
				}
			})
			b.StopTimer()
			pages := float64(b.N)
			b.ReportMetric(float64(cpuTime()-cpu)/1e3/pages, "cpu-µs/page")
			b.ReportMetric(float64(api.conns.Load())/pages, "conns/page")
			b.ReportMetric(float64(api.full.Load())/pages, "full-handshakes/page")
			b.ReportMetric(float64(api.resumed.Load())/pages, "resumed/page")
			b.ReportMetric(float64(outcomes[personalize.OutcomeTimeout].Load())/pages, "timeouts/page")
		})
	}
}
