package personalize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/stretchr/testify/require"
)

const (
	seedClientKey = "abBah8aelipaPeebae7roox2tiexoSee"
	seedBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"
)

// recorder is an API stand-in that records what it receives and answers with a fixed handler.
// newRecorder serves it on loopback (srv); newMemRecorder in memory (mem), for a synctest
// bubble.
type recorder struct {
	srv      *httptest.Server
	mem      *memnet.Server
	hits     atomic.Int64
	mu       sync.Mutex
	bodies   [][]byte
	requests []*http.Request
}

func newRecorder(t *testing.T, answer http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(rec.handler(answer))
	t.Cleanup(rec.srv.Close)
	return rec
}

// newMemRecorder is a recorder served in memory: call it inside a synctest bubble, and make
// its clients with memClient(t, rec.mem).
func newMemRecorder(t *testing.T, answer http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.mem = memnet.Serve(t, rec.handler(answer))
	return rec
}

func (rec *recorder) handler(answer http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, body)
		rec.requests = append(rec.requests, r.Clone(r.Context()))
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		answer(w, r)
	})
}

// hitsFor counts the flow calls the recorder received for a friendly ID.
func (rec *recorder) hitsFor(friendlyID string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, b := range rec.bodies {
		var body struct {
			FriendlyID string `json:"friendlyId"`
		}
		if json.Unmarshal(b, &body) == nil && body.FriendlyID == friendlyID {
			n++
		}
	}
	return n
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

// newClient makes a client for a test server whose idle connections close with the test, over
// the test's transport (personalizetest.Transport). Its
// timeout is a minute (opts may set another): tests of timeouts run in a synctest bubble, and
// no other test on loopback may fail because a loaded machine was slow.
func newClient(t testing.TB, baseURL string, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	key, base := seedClientKey, []personalize.Option{personalize.WithBaseURL(baseURL), personalize.WithPointOfSale("myretailsite/ireland")}
	if personalizetest.Transport(t) == personalize.TransportEdge {
		key, base = personalizetest.Endpoint(t, baseURL)
	}
	c, err := personalize.New(key, append(append(base, personalize.WithTimeout(time.Minute)), opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// memClient makes a client of a server served in memory (in a synctest bubble).
func memClient(t testing.TB, srv *memnet.Server, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	return newClient(t, srv.URL, append([]personalize.Option{personalize.WithHTTPClient(srv.Client)}, opts...)...)
}

// flowOf is a flow call of the seed browser.
func flowOf(friendlyID string) personalize.FlowRequest {
	return personalize.FlowRequest{FriendlyID: friendlyID, Identity: personalize.ByBrowserID(seedBrowserID)}
}

// lockedBuffer is a log sink safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the lines logged that contain all of the substrings.
func (l *lockedBuffer) lines(substrings ...string) []string {
	var out []string
	for line := range strings.Lines(l.String()) {
		ok := true
		for _, s := range substrings {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			out = append(out, strings.TrimSuffix(line, "\n"))
		}
	}
	return out
}

// goroutinesIn counts the goroutines whose stack holds frame (a function's full name).
func goroutinesIn(frame string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, frame) {
			n++
		}
	}
	return n
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func itoa(n int) string { return strconv.Itoa(n) }

// flowPath reports whether path is a flow call's, on either transport.
func flowPath(path string) bool { return path == "/v2/callFlows" || path == "/v1/personalize" }

// onEdge reports whether t's clients go through the Edge proxy (personalizetest.Transport).
func onEdge(t testing.TB) bool { return personalizetest.Transport(t) == personalize.TransportEdge }

// apiPath is the path of a request of the regional API (direct) as t's transport sends it.
func apiPath(t testing.TB, direct string) string {
	t.Helper()
	if !onEdge(t) {
		return direct
	}
	switch direct {
	case "/v2/callFlows":
		return "/v1/personalize"
	case "/v1.2/browser/create.json", "/v1.2/events":
		return "/v1/events" + direct
	}
	t.Fatalf("no Edge path for %s", direct)
	return ""
}

// tenantFields are the fields of an event's body that name the tenant as t's transport sends
// them: the client key and point of sale (direct), or both empty (the Edge finds them).
func tenantFields(t testing.TB, clientKey, pos string) (string, string) {
	if onEdge(t) {
		return "", ""
	}
	return clientKey, pos
}

// directClient makes a client of the regional API at baseURL, whatever t's transport.
func directClient(t testing.TB, baseURL string) *personalize.Client {
	t.Helper()
	c, err := personalize.New(seedClientKey, personalize.WithBaseURL(baseURL), personalize.WithPointOfSale("myretailsite/ireland"),
		personalize.WithTimeout(time.Minute))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}
