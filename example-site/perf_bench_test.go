package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/internal/benchcpu"
	"github.com/go-personalize/sdk/internal/cannedapi"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

const benchUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

// The visitor of the benchmarks and of the site perfServer serves: a returning browser.
const (
	benchClientKey = "tenant-client-key"
	benchPOS       = "goairways/nl"
	benchBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"
)

// recordedAnswers are the answers a sandbox holding the site's flows.json gives the
// benchmarks' returning visitor on the home page, for a canned API to replay: each flow's
// second answer, as a returning visitor gets it.
func recordedAnswers(tb testing.TB) map[string][]byte {
	tb.Helper()
	flows, err := sandbox.LoadFlows(bytes.NewReader(defaultFlows))
	require.NoError(tb, err)
	sb := sandbox.New(sandbox.WithClientKeys(benchClientKey), sandbox.WithFlows(flows...), sandbox.WithPublicURL("http://personalize.test"))
	visitor := map[string]any{"clientKey": benchClientKey, "channel": "WEB", "language": "EN", "currencyCode": "EUR",
		"pointOfSale": benchPOS, "browserId": benchBrowserID}
	ids := []string{bareref.FlowBanner, bareref.FlowDestinations, bareref.FlowNewsletter}
	_, err = cannedapi.Record(sb, visitor, ids...)
	require.NoError(tb, err)
	answers, err := cannedapi.Record(sb, visitor, ids...)
	require.NoError(tb, err)
	return answers
}

// defaultSite is the site in its default configuration against the API at baseURL: tenant
// mode with nothing but what tenant mode requires, so VIEW events are on, the banner's
// decision cache is on and every request logs its INFO line (to io.Discard, formatted all
// the same). hc, when not nil, is the client's HTTP client.
func defaultSite(tb testing.TB, baseURL string, hc *http.Client, env ...string) *site {
	tb.Helper()
	vars := map[string]string{
		"PERSONALIZE_CLIENT_KEY":    benchClientKey,
		"PERSONALIZE_BASE_URL":      baseURL,
		"PERSONALIZE_POINT_OF_SALE": benchPOS,
		"SESSION_KEYS":              testSessionKeys,
	}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	cfg, err := loadConfig(envOf(vars))
	require.NoError(tb, err)
	cfg.httpClient = hc
	logger, err := newLogger(io.Discard, "")
	require.NoError(tb, err)
	h, cleanup, err := newServer(cfg, logger)
	require.NoError(tb, err)
	tb.Cleanup(cleanup)
	return h.(*site)
}

// homeRequest is the returning visitor's request for the home page, with the cookies the
// target set on an earlier answer.
func homeRequest(cookies []*http.Cookie) *http.Request {
	return visitorRequest(benchBrowserID, cookies)
}

// visitorRequest is homeRequest for the visitor of browser ID bid.
func visitorRequest(bid string, cookies []*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("User-Agent", benchUA)
	r.AddCookie(&http.Cookie{Name: "bid_" + benchClientKey, Value: bid})
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// firstVisit serves the home page once and returns the cookies the target set (not the
// browser ID cookie, sent anyway), as a browser keeps them.
func firstVisit(b *testing.B, h http.Handler) []*http.Cookie {
	b.Helper()
	return firstVisitOf(b, h, benchBrowserID)
}

// firstVisitOf is firstVisit for the visitor of browser ID bid.
func firstVisitOf(b *testing.B, h http.Handler, bid string) []*http.Cookie {
	b.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, visitorRequest(bid, nil))
	require.Equal(b, http.StatusOK, w.Code)
	require.NotContains(b, w.Body.String(), `data-personalize-state="fallback"`, "every slot is personalized")
	var cookies []*http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name != "bid_"+benchClientKey {
			cookies = append(cookies, c)
		}
	}
	return cookies
}

// BenchmarkHomePage serves the home page (three flows) through the whole site in its
// default configuration (defaultSite: VIEW events on) and the bare reference page beside
// it, for a returning visitor, like a browser sending back the cookies the target set on its
// first answer (the site's session). The API answers the flows with what a sandbox holding
// flows.json answers, and accepts every event:
//
//   - memory: in memory (internal/cannedapi as the HTTP client's transport): no network, so
//     cpu-ns/op is the site's and the library's own CPU, and the bare page's;
//   - loopback: from a server on 127.0.0.1 in this process, through each target's own
//     transport; the server's CPU is in cpu-ns/op too (the same few µs per call for both), so
//     these ratios are diluted. scripts/perf.sh has the API in another process.
//
// The site's VIEW events are part of its cost: each run ends when every event it queued has
// been delivered (or dropped), inside the measured time; views/op is what the API received
// per page and dropped/op what the client dropped or failed to deliver.
func BenchmarkHomePage(b *testing.B) {
	answers := recordedAnswers(b)
	api := cannedapi.New(cannedapi.Options{Flows: answers})
	srv := httptest.NewServer(api)
	b.Cleanup(srv.Close)
	for _, via := range []struct {
		name, url string
		hc        func() *http.Client // nil: each target's own transport
	}{{"memory", "http://api.invalid", api.Client}, {"loopback", srv.URL, nil}} {
		b.Run(via.name+"/site", func(b *testing.B) {
			var hc *http.Client
			if via.hc != nil {
				hc = via.hc()
			}
			s := defaultSite(b, via.url, hc)
			cookies := firstVisit(b, s)
			drainEvents(b, s)
			views, lost := api.Stats().Views, s.client.EventStats()
			stop := benchcpu.Start(b)
			servePages(b, s, cookies)
			drainEvents(b, s)
			stop()
			st := s.client.EventStats()
			b.ReportMetric(float64(api.Stats().Views-views)/float64(b.N), "views/op")
			b.ReportMetric(float64(st.Dropped+st.Failed-lost.Dropped-lost.Failed)/float64(b.N), "dropped/op")
		})
		b.Run(via.name+"/bare", func(b *testing.B) {
			hc := bareref.NewHTTPClient()
			if via.hc != nil {
				hc = via.hc()
			}
			h := bareref.NewHandlerClient(hc, via.url, benchClientKey, benchPOS)
			b.Cleanup(h.CloseIdleConnections)
			cookies := firstVisit(b, h)
			stop := benchcpu.Start(b)
			servePages(b, h, cookies)
			stop()
		})
	}
}

// servePages serves the home page b.N times, in parallel.
func servePages(b *testing.B, h http.Handler, cookies []*http.Cookie) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, homeRequest(cookies))
			if w.Code != http.StatusOK {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
}

// drainEvents waits until the site's client has had no event queued or in flight, and
// delivered none, for two polls in a row (a worker that has just taken an event from the
// queue may not count it in flight yet).
func drainEvents(b *testing.B, s *site) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last personalize.EventStats
	for idle := 0; ; {
		st := s.client.EventStats()
		if st.Queued+st.InFlight == 0 && st.Sent == last.Sent {
			if idle++; idle == 2 {
				return
			}
		} else {
			idle = 0
		}
		last = st
		if time.Now().After(deadline) {
			b.Fatalf("events still queued after 30s: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
}

// inFlightPages is how many pages BenchmarkInFlightPages keeps in flight at once: 384 calls.
// (With 256 pages, 768 connections dialled at once to the in-process server on this 2-core
// machine, some dials time out, the breaker opens and the pages stop calling.)
const inFlightPages = 128

// BenchmarkInFlightPages is the memory a page holds while it waits for a slow API: the site
// in its default configuration serves inFlightPages home pages at once to as many returning
// visitors (each its own browser ID and session) while the API holds every flow call, as an
// API at 200 ms would, until all 3 × inFlightPages calls are waiting; then it measures the
// heap (after a GC: live objects only) and the goroutine stacks against the same measure
// before the pages started. heap-B/page is the target of docs/performance.md.
//
//   - memory: the API answers in memory, so the pages hold no connection to it: this is the
//     site's and the library's own memory per page;
//   - loopback: the API is a server on 127.0.0.1 in this process, reached through the
//     library's own transport: the client's connections (their buffers, with HTTP/1.1 one
//     per call in flight) count, and so does the server's side of them, which a real API
//     keeps elsewhere: an upper bound.
//
// Neither counts the visitor's connection to the site (httptest.ResponseRecorder stands for
// it).
func BenchmarkInFlightPages(b *testing.B) {
	answers := recordedAnswers(b)
	for _, via := range []string{"memory", "loopback"} {
		b.Run(via, func(b *testing.B) {
			var heap, stack float64
			for b.Loop() {
				h, st := inFlightMemory(b, answers, via == "loopback")
				heap += h
				stack += st
			}
			b.ReportMetric(heap/float64(b.N), "heap-B/page")
			b.ReportMetric(stack/float64(b.N), "stack-B/page")
		})
	}
}

// inFlightMemory runs one batch of BenchmarkInFlightPages and returns the heap and stack
// bytes per page in flight.
func inFlightMemory(b *testing.B, answers map[string][]byte, loopback bool) (heap, stack float64) {
	b.StopTimer()
	defer b.StartTimer()
	// The visitors' first visits, to a site with the same session keys whose API answers at
	// once, for the cookies a returning visitor sends.
	first := defaultSite(b, "http://api.invalid", cannedapi.New(cannedapi.Options{Flows: answers}).Client())
	hold := make(chan struct{})
	released := sync.OnceFunc(func() { close(hold) })
	defer released()
	api := cannedapi.New(cannedapi.Options{Flows: answers, Hold: hold})
	baseURL, hc := "http://api.invalid", api.Client()
	if loopback {
		srv := httptest.NewServer(api)
		defer srv.Close()
		defer released() // before the server closes: it waits for the held calls
		baseURL, hc = srv.URL, nil
	}
	// Budget and timeout long enough that no page gives up while the batch is measured.
	s := defaultSite(b, baseURL, hc, "PERSONALIZE_BUDGET", "30s", "PERSONALIZE_TIMEOUT", "30s")
	reqs := make([]*http.Request, inFlightPages)
	recs := make([]*httptest.ResponseRecorder, inFlightPages)
	for i := range reqs {
		bid := fmt.Sprintf("a38b230c-11eb-4cf9-8d5d-%012x", i)
		reqs[i], recs[i] = visitorRequest(bid, firstVisitOf(b, first, bid)), httptest.NewRecorder()
	}
	before := liveMemory()
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() { s.ServeHTTP(recs[i], reqs[i]) })
	}
	deadline := time.Now().Add(30 * time.Second)
	for api.Stats().InFlight < 3*inFlightPages {
		if time.Now().After(deadline) {
			released()
			b.Fatalf("only %d of %d calls in flight after 30s", api.Stats().InFlight, 3*inFlightPages)
		}
		time.Sleep(time.Millisecond)
	}
	during := liveMemory()
	released()
	wg.Wait()
	for i, rec := range recs {
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`data-personalize-state="fallback"`)) {
			b.Fatalf("page %d: status %d or a slot fell back", i, rec.Code)
		}
	}
	return float64(during.heap-before.heap) / inFlightPages, float64(during.stack-before.stack) / inFlightPages
}

type memory struct{ heap, stack int64 }

// liveMemory is the live heap (after a GC) and the goroutine stacks in use.
func liveMemory() memory {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{heap: int64(ms.HeapAlloc), stack: int64(ms.StackInuse)}
}

// TestRecordedAnswersPersonalizeEverySlot: the canned answers the benchmarks (and the site
// perfServer serves) give every slot of the home page a decision, the same page the bare
// reference renders from them.
func TestRecordedAnswersPersonalizeEverySlot(t *testing.T) {
	api := cannedapi.New(cannedapi.Options{Flows: recordedAnswers(t)})
	s := defaultSite(t, "http://api.invalid", api.Client())
	bare := bareref.NewHandlerClient(api.Client(), "http://api.invalid", benchClientKey, benchPOS)
	pages := map[string]string{}
	for name, h := range map[string]http.Handler{"site": s, "bare": bare} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, homeRequest(nil))
		require.Equal(t, http.StatusOK, w.Code, name)
		require.Equal(t, 3, bytes.Count(w.Body.Bytes(), []byte(`data-personalize-state="decision"`)), name)
		pages[name] = w.Body.String()
	}
	require.Equal(t, pages["bare"], pages["site"], "the same page, byte for byte")
	require.Equal(t, uint64(6), api.Stats().Calls)
}

// The flags of TestPerfServer.
var (
	perfServe        = flag.String("perf-serve", "", "TestPerfServer: serve the site with its flows answered in memory on this loopback address (e.g. 127.0.0.1:0) until SIGINT or SIGTERM; off by default")
	perfServeURLFile = flag.String("perf-url-file", "", "TestPerfServer: write the site's URL to this file once it listens")
)

// TestPerfServer is a server, not a test, and is skipped unless -perf-serve is given:
// scripts/perf.sh runs it (from this package's test binary) to measure, in a process of its
// own, the site in its default configuration (defaultSite's, listening on -perf-serve) with
// its flows answered in memory (recordedAnswers) and its events accepted in memory. It
// serves as main does, until SIGINT or SIGTERM:
//
//	go test -c -o site.test ./example-site
//	./site.test -test.run '^TestPerfServer$' -perf-serve 127.0.0.1:0 -perf-url-file url
func TestPerfServer(t *testing.T) {
	if *perfServe == "" {
		t.Skip("a server for scripts/perf.sh: give -perf-serve ADDR to run it")
	}
	if err := checkAddr(*perfServe); err != nil {
		t.Fatalf("-perf-serve: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	api := cannedapi.New(cannedapi.Options{Flows: recordedAnswers(t)})
	cfg, err := loadConfig(envOf(map[string]string{
		"PERSONALIZE_CLIENT_KEY":    benchClientKey,
		"PERSONALIZE_BASE_URL":      "http://api.invalid",
		"PERSONALIZE_POINT_OF_SALE": benchPOS,
		"SESSION_KEYS":              testSessionKeys,
		"ADDR":                      *perfServe,
	}))
	require.NoError(t, err)
	cfg.httpClient = api.Client()
	logger, err := newLogger(os.Stdout, "")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", cfg.Addr)
	require.NoError(t, err)
	h, cleanup, err := newServer(cfg, logger)
	if err != nil {
		ln.Close()
		require.NoError(t, err)
	}
	if *perfServeURLFile != "" {
		tmp := *perfServeURLFile + ".tmp"
		require.NoError(t, os.WriteFile(tmp, []byte("http://"+ln.Addr().String()+"\n"), 0o600))
		require.NoError(t, os.Rename(tmp, *perfServeURLFile))
	}
	logger.Info("the site with its flows answered in memory is ready", slog.String("addr", ln.Addr().String()))
	require.NoError(t, serve(ctx, ln, h, maxConnectionsDefault(), h.(*site).releaseHeld, cleanup, logger))
	st := api.Stats()
	logger.Info("in-memory API", slog.Uint64("calls", st.Calls), slog.Uint64("views", st.Views))
}
