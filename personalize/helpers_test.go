package personalize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-personalize/sdk/personalize"
	"github.com/stretchr/testify/require"
)

const (
	seedClientKey = "abBah8aelipaPeebae7roox2tiexoSee"
	seedBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"
)

// recorder is an API stand-in that records what it receives and answers with a fixed handler.
type recorder struct {
	srv      *httptest.Server
	hits     atomic.Int64
	mu       sync.Mutex
	bodies   [][]byte
	requests []*http.Request
}

func newRecorder(t *testing.T, answer http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, body)
		rec.requests = append(rec.requests, r.Clone(r.Context()))
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		answer(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) lastBody(t *testing.T) []byte {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.bodies, "the server received no request")
	return rec.bodies[len(rec.bodies)-1]
}

func (rec *recorder) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.requests, "the server received no request")
	return rec.requests[len(rec.requests)-1]
}

func answerJSON(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// newClient makes a client for a test server whose idle connections close with the test.
func newClient(t testing.TB, baseURL string, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	c, err := personalize.New(seedClientKey, append([]personalize.Option{
		personalize.WithBaseURL(baseURL),
		personalize.WithPointOfSale("myretailsite/ireland"),
	}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func itoa(n int) string { return strconv.Itoa(n) }
