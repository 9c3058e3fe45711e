package components_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// heldTransport answers flow calls with body, but only once release is closed: the pages
// wait on it as on an API that takes its time. Each call that arrives is signalled on arrived.
type heldTransport struct {
	body    []byte
	arrived chan struct{}
	mu      sync.Mutex
	release chan struct{}
}

func (h *heldTransport) hold() chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.release = make(chan struct{})
	return h.release
}

func (h *heldTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	release := h.release
	h.mu.Unlock()
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	if strings.HasSuffix(r.URL.Path, "/callFlows") {
		h.arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return cannedTransport{h.body}.RoundTrip(r)
}

// nullWriter is a ResponseWriter that keeps nothing.
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(int)             {}

// BenchmarkPagesInFlight holds pages of three slots in flight behind the middleware while the
// API has not answered yet (a slow API: heldTransport answers once all of them wait), and
// reports the live heap each waiting page holds (heap-B/page, measured after a GC) and the
// goroutine stacks it holds (stack-B/page). The pages are a returning visitor's, who has a
// browser ID and a session; the requests and response writers are made before measuring,
// as a server holds them whatever the page does.
func BenchmarkPagesInFlight(b *testing.B) {
	const pages = 200
	tr := &heldTransport{body: cannedAnswer, arrived: make(chan struct{}, 3*pages)}
	client := cannedClient(b, tr, personalize.WithBudget(time.Minute), personalize.WithTimeout(time.Minute))
	mw, err := middleware.New(client, middleware.Options{
		SessionKeys: [][]byte{bytes.Repeat([]byte("k"), 64)},
		Logger:      slog.New(slog.DiscardHandler),
	})
	require.NoError(b, err)
	ids, slots := slotPage(3)
	site := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		personalize.Prefetch(r.Context(), ids...)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = slots.Render(r.Context(), w)
	}))
	cookie := returningVisitor(b, site, tr)

	var heap, stack float64
	var before, during runtime.MemStats
	for b.Loop() {
		b.StopTimer()
		reqs := make([]*http.Request, pages)
		ws := make([]*nullWriter, pages)
		for i := range reqs {
			reqs[i] = httptest.NewRequest(http.MethodGet, "/", nil)
			reqs[i].Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
			reqs[i].Header.Set("Cookie", cookie)
			ws[i] = &nullWriter{h: http.Header{}}
		}
		release := tr.hold()
		var wg sync.WaitGroup
		wg.Add(pages)
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for i := range pages {
			go func() {
				defer wg.Done()
				site.ServeHTTP(ws[i], reqs[i])
			}()
		}
		for range 3 * pages {
			<-tr.arrived
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&during)
		heap += float64(during.HeapAlloc) - float64(before.HeapAlloc)
		stack += float64(during.StackInuse) - float64(before.StackInuse)
		b.StartTimer()
		close(release)
		wg.Wait()
	}
	b.ReportMetric(heap/float64(b.N*pages), "heap-B/page")
	b.ReportMetric(stack/float64(b.N*pages), "stack-B/page")
}

// returningVisitor serves one page of a new visitor landing from a campaign (flows answered at
// once) and returns the Cookie header of the returning visitor it became.
func returningVisitor(b *testing.B, site http.Handler, tr *heldTransport) string {
	b.Helper()
	close(tr.hold())
	req := httptest.NewRequest(http.MethodGet, "/?utm_campaign=summer_sale&utm_source=newsletter", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
	req.Header.Set("Cookie", "bid_"+sandbox.DefaultClientKey+"="+testBrowserID)
	rec := httptest.NewRecorder()
	site.ServeHTTP(rec, req)
	for range 3 {
		<-tr.arrived
	}
	var parts []string
	for _, c := range rec.Result().Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	require.Len(b, parts, 2, "a browser ID and a session cookie")
	return "_ga=GA1.2.3.4; " + strings.Join(parts, "; ")
}
