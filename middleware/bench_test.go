package middleware

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
)

// stubAPI answers the Personalize API in process, without I/O, so benchmarks measure the
// middleware and the client, not a network.
type stubAPI struct{}

func (stubAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := `{"name":"Offer","trackingUrl":"https://example.com/t"}`
	if strings.Contains(r.URL.Path, "/browser/") {
		body = `{"status":"OK","ref":"` + validID + `"}`
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks measure handlers.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchMiddleware(b *testing.B) *Middleware {
	b.Helper()
	pc, err := personalize.New("bench-key", personalize.WithBaseURL("http://api.invalid"),
		personalize.WithPointOfSale("bench"), personalize.WithHTTPClient(&http.Client{Transport: stubAPI{}}))
	require.NoError(b, err)
	b.Cleanup(func() { _ = pc.Close(context.Background()) })
	mw, err := New(pc, Options{SessionKeys: testKeys})
	require.NoError(b, err)
	return mw
}

var (
	okBody    = []byte("ok")
	bareRoute = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(okBody) })
	flowRoute = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Two slots asking for one flow: one call, the second answer memoized.
		_, _ = personalize.Flow(r.Context(), "home")
		_, _ = personalize.Flow(r.Context(), "home")
		_, _ = w.Write(okBody)
	})
)

// returningCookies are the cookies of a visitor who already has a browser ID and a session.
func returningCookies(b *testing.B, mw *Middleware) string {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/?utm_campaign=summer_sale&utm_source=newsletter", nil)
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Cookie", "bid_bench-key="+validID)
	rec := httptest.NewRecorder()
	mw.Handler(flowRoute).ServeHTTP(rec, req)
	var parts []string
	for _, c := range rec.Result().Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	require.Len(b, parts, 2)
	return "_ga=GA1.2.3.4; theme=dark; " + strings.Join(parts, "; ")
}

func serveLoop(b *testing.B, h http.Handler, req *http.Request) {
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

func newBenchRequest(target, cookie string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Referer", "https://www.example.com/")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return req
}

// BenchmarkBareHandler is the reference for BenchmarkReturningVisitorNoFlow.
func BenchmarkBareHandler(b *testing.B) {
	mw := benchMiddleware(b)
	serveLoop(b, bareRoute, newBenchRequest("/products?page=2", returningCookies(b, mw)))
}

// BenchmarkReturningVisitorNoFlow: a returning visitor (browser ID and session cookies) on a
// route that personalizes nothing. Goal: under 1 µs and 6 allocations over the bare handler.
func BenchmarkReturningVisitorNoFlow(b *testing.B) {
	mw := benchMiddleware(b)
	serveLoop(b, mw.Handler(bareRoute), newBenchRequest("/products?page=2", returningCookies(b, mw)))
}

// BenchmarkReturningVisitorOneFlowMemoized: a returning visitor whose page asks twice for one
// flow; the API answers in process (no I/O). It includes the session decode and save, the
// cookie renewal and the client's request encoding.
func BenchmarkReturningVisitorOneFlowMemoized(b *testing.B) {
	mw := benchMiddleware(b)
	serveLoop(b, mw.Handler(flowRoute), newBenchRequest("/", returningCookies(b, mw)))
}

// BenchmarkLandingWithUTM: a visitor with a browser ID lands from a campaign; the session is
// created and saved. NoFlow personalizes nothing, OneFlow calls one flow.
func BenchmarkLandingWithUTM(b *testing.B) {
	mw := benchMiddleware(b)
	target := "/?utm_campaign=summer_sale&utm_source=newsletter&utm_medium=email"
	b.Run("NoFlow", func(b *testing.B) {
		serveLoop(b, mw.Handler(bareRoute), newBenchRequest(target, "bid_bench-key="+validID))
	})
	b.Run("OneFlow", func(b *testing.B) {
		serveLoop(b, mw.Handler(flowRoute), newBenchRequest(target, "bid_bench-key="+validID))
	})
}

// BenchmarkNewVisitNothingToStore: a visitor with a browser ID but no session cookie, on a
// page of one flow, without UTM parameters or a referrer from another site: the visit has
// nothing to keep, so no session is encrypted, signed or set.
func BenchmarkNewVisitNothingToStore(b *testing.B) {
	mw := benchMiddleware(b)
	req := httptest.NewRequest(http.MethodGet, "/products?page=2", nil)
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Cookie", "bid_bench-key="+validID)
	serveLoop(b, mw.Handler(flowRoute), req)
}
