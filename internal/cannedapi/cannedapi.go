// Package cannedapi answers the Personalize API from memory with canned answers, for the
// project's benchmarks and load runs: each flow its answer, every event accepted, every browser
// created. It is an http.RoundTripper, so a client's flows are answered with no network at all
// (what a benchmark measures is then the caller's own CPU), and an http.Handler, to serve the
// same answers on loopback, in the measured process or in another one
// (example-site/loadtest's api command).
//
// It checks almost nothing: a request is answered by its path and, for a flow, by the
// friendlyId of its body. Use personalize/sandbox to test what a client sends; use this to
// measure what it costs.
package cannedapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Paths the API answers; any other answers 404.
const (
	PathCallFlows     = "/v2/callFlows"
	PathEvents        = "/v1.2/events"
	PathBrowserCreate = "/v1.2/browser/create.json"
)

// MaxBodySize is the largest request body read; a larger one answers 413.
const MaxBodySize = 1 << 20

// Options configure an API. The zero value answers every flow 404 and accepts every event.
type Options struct {
	// Flows are the answers by friendly ID: the raw JSON of the API's response body.
	Flows map[string][]byte
	// Default answers a flow that is not in Flows; nil answers it 404 with Sitecore's error
	// object, as the sandbox does by default.
	Default []byte
	// Latency delays every flow's answer and EventsLatency every event's, as a distant API
	// would; the request's context ends the wait.
	Latency, EventsLatency time.Duration
	// Hold, when not nil, holds every flow call until it is closed (or the request's context
	// ends), after Latency: a benchmark keeps pages in flight for as long as it measures them.
	Hold <-chan struct{}
}

// API answers the Personalize API from memory. Make one with New; it is safe for concurrent
// use.
type API struct {
	opts Options

	calls, events, views, browsers atomic.Uint64
	inFlight                       atomic.Int64
}

// Stats count what an API answered.
type Stats struct {
	// Calls are the callFlows requests answered (a request whose caller left while it was
	// held or delayed is not counted).
	Calls uint64 `json:"calls"`
	// InFlight are the callFlows requests being answered right now: read, waiting out
	// Latency or Hold.
	InFlight int64 `json:"in_flight"`
	// Events are the events accepted, of which Views were VIEW events.
	Events uint64 `json:"events"`
	Views  uint64 `json:"views"`
	// Browsers are the browser IDs created.
	Browsers uint64 `json:"browsers"`
}

// New returns an API answering with opts. The answers are used as given, never copied or
// changed: do not change them while the API is in use.
func New(opts Options) *API { return &API{opts: opts} }

// Stats returns what the API answered so far.
func (a *API) Stats() Stats {
	return Stats{Calls: a.calls.Load(), InFlight: a.inFlight.Load(), Events: a.events.Load(),
		Views: a.views.Load(), Browsers: a.browsers.Load()}
}

// Client returns an HTTP client whose requests the API answers in memory, whatever their
// host: give it to personalize.WithHTTPClient.
func (a *API) Client() *http.Client { return &http.Client{Transport: a} }

// errTooLarge is a request body over MaxBodySize.
var errTooLarge = errors.New("cannedapi: request body too large")

// RoundTrip answers r in memory. It reads and closes r's body. It fails only when r's
// context ends while the answer is delayed or held, as a transport's round trip would.
func (a *API) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := readBody(r.Body)
	defer putBody(body)
	if err != nil && !errors.Is(err, errTooLarge) {
		return nil, err
	}
	status, answer := http.StatusRequestEntityTooLarge, errTooLargeBody
	if err == nil {
		if status, answer, err = a.answer(r.Context(), r.Method, r.URL.Path, body.Bytes()); err != nil {
			return nil, err
		}
	}
	return &http.Response{
		Status:        statusLine[status],
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(answer)),
		ContentLength: int64(len(answer)),
		Request:       r,
	}, nil
}

// ServeHTTP answers r as RoundTrip does, on a server.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(http.MaxBytesReader(w, r.Body, MaxBodySize))
	defer putBody(body)
	status, answer := http.StatusRequestEntityTooLarge, errTooLargeBody
	switch {
	case err == nil:
		if status, answer, err = a.answer(r.Context(), r.Method, r.URL.Path, body.Bytes()); err != nil {
			return // the caller left
		}
	case !isTooLarge(err):
		return // the caller left mid-body
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

// bodies are the buffers requests' bodies are read into, so that answering costs the caller
// no allocation of its own beyond the response.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads a request body of at most MaxBodySize bytes into a pooled buffer (give it
// back with putBody) and closes it.
func readBody(rc io.ReadCloser) (*bytes.Buffer, error) {
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	if rc == nil || rc == http.NoBody {
		return buf, nil
	}
	defer rc.Close()
	_, err := buf.ReadFrom(io.LimitReader(rc, MaxBodySize+1))
	if err == nil && buf.Len() > MaxBodySize {
		err = errTooLarge
	}
	return buf, err
}

// putBody gives a body's buffer back, unless it grew too big to keep.
func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		bodies.Put(buf)
	}
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.Is(err, errTooLarge) || errors.As(err, &mbe)
}

// Answers that never change.
var (
	eventAccepted = []byte(`{"status":"OK","ref":"00000000-0000-4000-8000-000000000000"}`)
	viewType      = []byte(`"type":"VIEW"`)

	errTooLargeBody     = errorBody(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	errInvalidJSON      = errorBody(http.StatusBadRequest, "INVALID_JSON")
	errMethodNotAllowed = errorBody(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	errFlowNotFound     = errorBody(http.StatusNotFound, "FLOW_NOT_FOUND")
	errNotFound         = errorBody(http.StatusNotFound, "NOT_FOUND")
	statusLine          = map[int]string{}
)

func init() {
	for _, s := range []int{http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge} {
		statusLine[s] = strconv.Itoa(s) + " " + http.StatusText(s)
	}
}

// answer is the status and body for a request; err is the context's when it ended first.
func (a *API) answer(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	switch path {
	case PathCallFlows:
		if method != http.MethodPost {
			return http.StatusMethodNotAllowed, errMethodNotAllowed, nil
		}
		a.inFlight.Add(1)
		defer a.inFlight.Add(-1)
		if err := wait(ctx, a.opts.Latency, a.opts.Hold); err != nil {
			return 0, nil, err
		}
		a.calls.Add(1)
		id, ok := friendlyID(body)
		if !ok {
			return http.StatusBadRequest, errInvalidJSON, nil
		}
		if answer, ok := a.opts.Flows[string(id)]; ok {
			return http.StatusOK, answer, nil
		}
		if a.opts.Default != nil {
			return http.StatusOK, a.opts.Default, nil
		}
		return http.StatusNotFound, errFlowNotFound, nil
	case PathEvents:
		if method != http.MethodPost {
			return http.StatusMethodNotAllowed, errMethodNotAllowed, nil
		}
		if err := wait(ctx, a.opts.EventsLatency, nil); err != nil {
			return 0, nil, err
		}
		a.events.Add(1)
		if bytes.Contains(body, viewType) {
			a.views.Add(1)
		}
		return http.StatusOK, eventAccepted, nil
	case PathBrowserCreate:
		a.browsers.Add(1)
		return http.StatusOK, []byte(`{"status":"OK","version":"1.2","ref":"` + uuid.NewString() + `","customer_ref":"` + uuid.NewString() + `"}`), nil
	}
	return http.StatusNotFound, errNotFound, nil
}

// wait waits d, then until hold is closed (when not nil), or until ctx ends.
func wait(ctx context.Context, d time.Duration, hold <-chan struct{}) error {
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// errorBody is Sitecore's error object.
func errorBody(status int, code string) []byte {
	b, _ := json.Marshal(map[string]any{"status": status, "code": code, "message": http.StatusText(status),
		"developerMessage": "cannedapi: " + code, "moreInfoUrl": "https://doc.sitecore.com/personalize/en/developers/api/response-codes.html"})
	return b
}

// Record asks h (a sandbox, say) once for each flow's answer, for the visitor of request (a
// callFlows body without its friendlyId: client key, channel, point of sale, browser ID...),
// and returns the answers by friendly ID, for Options.Flows. A flow answered anything but a
// 200 is an error.
func Record(h http.Handler, request map[string]any, friendlyIDs ...string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(friendlyIDs))
	for _, id := range friendlyIDs {
		body := maps.Clone(request)
		if body == nil {
			body = map[string]any{}
		}
		body["friendlyId"] = id
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("cannedapi: recording %q: %w", id, err)
		}
		req := httptest.NewRequest(http.MethodPost, PathCallFlows, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return nil, fmt.Errorf("cannedapi: recording %q: status %d: %s", id, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
		}
		out[id] = rec.Body.Bytes()
	}
	return out, nil
}
