package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// browserUA is a desktop Chrome User-Agent. Go's default one (and headless Chrome's) is a
// crawler to the middleware, which does not personalize crawlers.
const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

// testSessionKeys is a valid SESSION_KEYS value (32 random-looking bytes, hex).
const testSessionKeys = "3f1c9a7e5b2d4f608192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testSite is the example site served on a loopback port.
type testSite struct {
	URL  string
	site *site
	logs *lockedBuffer
	srv  *httptest.Server
}

// sandboxTransport is the transport of the sandbox-mode sites the tests start, from the
// environment: PERSONALIZE_SANDBOX_TRANSPORT=edge runs the site's page and fault tests through
// the sandbox's Sitecore Edge endpoints (CI does), as an XM Cloud site's calls go.
var sandboxTransport = os.Getenv("PERSONALIZE_SANDBOX_TRANSPORT")

// bidCookie is the visitor's browser ID cookie of a sandbox-mode site over sandboxTransport.
var bidCookie = func() string {
	if sandboxTransport == personalize.TransportEdge {
		return middleware.CloudSDKBrowserCookie
	}
	return middleware.CookiePrefix + sandbox.DefaultClientKey
}()

// withSandboxTransport adds sandboxTransport to the environment of a sandbox-mode site that
// does not choose its own.
func withSandboxTransport(env map[string]string) map[string]string {
	_, chosen := env["PERSONALIZE_SANDBOX_TRANSPORT"]
	if sandboxTransport == "" || chosen || env["PERSONALIZE_CLIENT_KEY"] != "" || env["PERSONALIZE_EDGE_CONTEXT_ID"] != "" {
		return env
	}
	out := maps.Clone(env)
	if out == nil {
		out = map[string]string{}
	}
	out["PERSONALIZE_SANDBOX_TRANSPORT"] = sandboxTransport
	return out
}

// envOf makes a getenv from a map.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// startSite serves the site configured by env on 127.0.0.1 until the test ends. As in
// main, the handler is built once the listener exists, so the sandbox-mode client calls the
// site's real address.
func startSite(t testing.TB, env map[string]string) *testSite {
	t.Helper()
	logs := &lockedBuffer{}
	ts := startSiteLogging(t, env, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ts.logs = logs
	return ts
}

// startSiteLogging is startSite with the site logging to logger (its logs field is nil).
func startSiteLogging(t testing.TB, env map[string]string, logger *slog.Logger) *testSite {
	t.Helper()
	cfg, err := loadConfig(envOf(withSandboxTransport(env)))
	require.NoError(t, err)
	return serveSite(t, cfg, logger)
}

// serveSite is startSiteLogging for a configuration already loaded, which the test may have
// changed (the fields no variable sets, such as the console exporter's writer).
func serveSite(t testing.TB, cfg Config, logger *slog.Logger) *testSite {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg = cfg.listening(srv.Listener.Addr())
	h, cleanup, err := newServer(cfg, logger)
	if err != nil {
		srv.Listener.Close()
		require.NoError(t, err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(func() {
		cleanup() // release requests a sandbox fault holds, or Close would wait for them
		srv.Close()
		cleanup()
	})
	return &testSite{URL: srv.URL, site: h.(*site), srv: srv}
}

// sandbox returns the site's sandbox (sandbox mode only).
func (ts *testSite) sandbox(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	require.NotNil(t, ts.site.sandbox, "the site runs in tenant mode")
	return ts.site.sandbox
}

// visitor is a browser: a cookie jar and a browser User-Agent. It follows redirects.
type visitor struct {
	t  testing.TB
	ts *testSite
	hc *http.Client
	// header is sent on every request (e.g. the debug token).
	header http.Header
}

func (ts *testSite) newVisitor(t testing.TB) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &visitor{t: t, ts: ts, hc: &http.Client{Jar: jar, Transport: tr}}
}

// get fetches a path of the site with the visitor's cookies and returns the response, its
// body read and closed.
func (v *visitor) get(path string, header ...string) (*http.Response, []byte) {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.ts.URL+path, nil)
	require.NoError(v.t, err)
	req.Header.Set("User-Agent", browserUA)
	for k, vs := range v.header {
		req.Header[k] = vs
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := v.hc.Do(req)
	require.NoError(v.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(v.t, err)
	return resp, body
}

// page fetches a path, requires 200 and parses the HTML.
func (v *visitor) page(path string) *goquery.Document {
	v.t.Helper()
	resp, body := v.get(path)
	require.Equal(v.t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	require.NoError(v.t, err)
	return doc
}

// cookie returns the visitor's cookie for the site, "" when none.
func (v *visitor) cookie(name string) string {
	u, err := url.Parse(v.ts.URL)
	require.NoError(v.t, err)
	for _, c := range v.hc.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// slotState returns the data-personalize-state of the slot for friendlyID.
func slotState(doc *goquery.Document, friendlyID string) string {
	state, _ := doc.Find(`[data-personalize-slot="` + friendlyID + `"]`).Attr("data-personalize-state")
	return state
}

// text is the trimmed text of the selection, with runs of spaces collapsed.
func text(s *goquery.Selection) string {
	return strings.Join(strings.Fields(s.Text()), " ")
}

// post sends a form POST to a path of the site with the visitor's cookies and the headers of
// kv pairs (none by default: pass Origin to look like a browser), following redirects, and
// returns the last response, its body read and closed.
func (v *visitor) post(path string, header ...string) (*http.Response, []byte) {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodPost, v.ts.URL+path, strings.NewReader(""))
	require.NoError(v.t, err)
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := v.hc.Do(req)
	require.NoError(v.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(v.t, err)
	return resp, body
}

// eventsOf returns the sandbox's events of one type, oldest first.
func eventsOf(sb *sandbox.Sandbox, typ string) []sandbox.EventRecord {
	var out []sandbox.EventRecord
	for _, e := range sb.Events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// readyLog is a log sink that says when the site's start-up line has been written, so a test
// waits for it instead of polling.
type readyLog struct {
	lockedBuffer
	once  sync.Once
	ready chan struct{}
}

func newReadyLog() *readyLog { return &readyLog{ready: make(chan struct{})} }

func (l *readyLog) Write(p []byte) (int, error) {
	n, err := l.lockedBuffer.Write(p)
	if readyLine.MatchString(l.String()) {
		l.once.Do(func() { close(l.ready) })
	}
	return n, err
}

// waitReady waits for the start-up line; the deadline only ends a test whose site never
// starts.
func (l *readyLog) waitReady(t testing.TB) []string {
	t.Helper()
	select {
	case <-l.ready:
		return readyLine.FindStringSubmatch(l.String())
	case <-time.After(time.Minute):
		t.Fatalf("the site did not start; its output:\n%s", l.String())
		return nil
	}
}

// flushEvents delivers every event the site queued so far, so that a test sees them in the
// sandbox without polling: it closes the site's client (flows still work after Close; events
// queued later are dropped and counted).
func flushEvents(t testing.TB, ts *testSite) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventDeadline)
	defer cancel()
	require.NoError(t, ts.site.client.Close(ctx), "the queued events are delivered")
}

// eventDeadline is how long tests wait for an event the site queued to reach the sandbox:
// delivery is asynchronous, and usually takes a millisecond.
const eventDeadline = 10 * time.Second
