package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// browserUA is a desktop Chrome User-Agent: not a crawler.
const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

// testKeys are fixed session keys, so two instances can share them.
var testKeys = [][]byte{bytes.Repeat([]byte("h"), 64), bytes.Repeat([]byte("b"), 32)}

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

// siteURL is where the test sites answer: their requests are made with httptest.NewRequest
// and served in process, to an httptest.ResponseRecorder.
const siteURL = "http://shop.example"

// site is a test website behind the middleware, talking to an in-memory sandbox. Make it
// inside a synctest bubble: the sandbox's latencies, the page budget and the visit's timeouts
// then follow the bubble's fake clock.
type site struct {
	sb   *sandbox.Sandbox
	pc   *personalize.Client
	mw   *Middleware
	h    http.Handler // mw.Handler(testRoutes())
	logs *lockedBuffer
}

// sandboxFlows are the flows every test sandbox knows.
func sandboxFlows() []*sandbox.FlowDef {
	return []*sandbox.FlowDef{
		sandbox.Define("home").Returns(map[string]any{"name": "Home offer"}),
		sandbox.Define("banner").Returns(map[string]any{"name": "Banner"}),
		sandbox.Define("a").Returns(map[string]any{"name": "A"}),
		sandbox.Define("b").Returns(map[string]any{"name": "B"}),
		sandbox.Define("c").Returns(map[string]any{"name": "C"}),
	}
}

// memSandbox serves a sandbox with flows (sandboxFlows when none are given) in memory, until
// the test ends. Call it inside a synctest bubble.
func memSandbox(t *testing.T, flows ...*sandbox.FlowDef) (*sandbox.Sandbox, *memnet.Server) {
	t.Helper()
	if len(flows) == 0 {
		flows = sandboxFlows()
	}
	sb := sandbox.New(sandbox.WithFlows(flows...))
	srv := memnet.Serve(t, sb)
	t.Cleanup(sb.Close) // before the server closes: ends the requests a Hang or a Latency holds
	return sb, srv
}

// newClient makes a personalize client for an in-memory sandbox over the test's transport
// (personalizetest.Endpoint, then opts), closed when
// the test ends, after delivering its events: in a bubble, the close's timeout is on the fake
// clock.
func newClient(t *testing.T, srv *memnet.Server, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	key, base := personalizetest.Endpoint(t, srv.URL)
	pc, err := personalize.New(key, append(append(base, personalize.WithHTTPClient(srv.Client)), opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		assert.NoError(t, pc.Close(ctx), "the client delivers its events at close")
	})
	return pc
}

// newSite starts an in-memory sandbox and a site behind a middleware made with opts. Missing
// session keys default to testKeys. Call it inside a synctest bubble.
func newSite(t *testing.T, opts Options, clientOpts ...personalize.Option) *site {
	t.Helper()
	sb, srv := memSandbox(t)
	return newSiteWith(t, sb, srv, opts, clientOpts...)
}

// newSiteWith starts a site (a middleware and a client of its own) for an existing sandbox.
func newSiteWith(t *testing.T, sb *sandbox.Sandbox, srv *memnet.Server, opts Options, clientOpts ...personalize.Option) *site {
	t.Helper()
	s := &site{sb: sb, logs: &lockedBuffer{}}
	s.pc = newClient(t, srv, clientOpts...)
	if opts.SessionKeys == nil && opts.SessionStore == nil {
		opts.SessionKeys = testKeys
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	mw, err := New(s.pc, opts)
	require.NoError(t, err)
	s.mw = mw
	s.h = mw.Handler(testRoutes())
	return s
}

// warnings returns the lines the middleware logged at warn.
func (s *site) warnings() []string {
	var out []string
	for line := range strings.Lines(s.logs.String()) {
		if strings.Contains(line, "level=WARN") {
			out = append(out, line)
		}
	}
	return out
}

// pageReport is what the test routes answer: what the handler saw.
type pageReport struct {
	BrowserID string            `json:"browserId"`
	UTM       map[string]string `json:"utm"`
	Campaign  Campaign          `json:"campaign"`
	Blocked   BlockReason       `json:"blocked"`
	Results   map[string]string `json:"results"`
	Errors    map[string]string `json:"errors"`
}

// testRoutes are the site's pages:
//
//	/static          personalizes nothing
//	/flow?f=a&f=b    calls the flows (default "home") one after the other
//	/parallel?f=...  prefetches the flows, then waits for each
//	/email           calls "home" for a known guest by email
//	/flush-first     flushes the headers, then calls "home"
func testRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/static", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "static")
	})
	mux.HandleFunc("/flow", func(w http.ResponseWriter, r *http.Request) {
		rep := newReport()
		for _, id := range flowIDs(r) {
			rep.add(id, personalize.Flow)(r)
		}
		rep.write(w, r)
	})
	mux.HandleFunc("/parallel", func(w http.ResponseWriter, r *http.Request) {
		ids := flowIDs(r)
		personalize.Prefetch(r.Context(), ids...)
		rep := newReport()
		for _, id := range ids {
			rep.add(id, personalize.Flow)(r)
		}
		rep.write(w, r)
	})
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		rep := newReport()
		rep.add("home", func(ctx context.Context, id string, _ ...personalize.FlowOption) (*personalize.Result, error) {
			return personalize.Flow(ctx, id, personalize.WithIdentity(personalize.ByEmail("guest@example.com")))
		})(r)
		rep.write(w, r)
	})
	mux.HandleFunc("/flush-first", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = http.NewResponseController(w).Flush()
		rep := newReport()
		rep.add("home", personalize.Flow)(r)
		rep.write(w, r)
	})
	return mux
}

// flowFunc is personalize.Flow's shape.
type flowFunc func(ctx context.Context, friendlyID string, opts ...personalize.FlowOption) (*personalize.Result, error)

func flowIDs(r *http.Request) []string {
	if ids := r.URL.Query()["f"]; len(ids) > 0 {
		return ids
	}
	return []string{"home"}
}

func newReport() *pageReport {
	return &pageReport{Results: map[string]string{}, Errors: map[string]string{}}
}

func (rep *pageReport) add(id string, flow flowFunc) func(*http.Request) {
	return func(r *http.Request) {
		res, err := flow(r.Context(), id)
		if err != nil {
			rep.Errors[id] = err.Error()
			return
		}
		rep.Results[id] = string(res.Raw)
	}
}

func (rep *pageReport) write(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rep.BrowserID = BrowserID(ctx)
	rep.UTM = UTM(ctx)
	rep.Campaign = VisitCampaign(ctx)
	rep.Blocked = Blocked(ctx)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rep)
}

// visitor is a browser: a cookie jar, a User-Agent and more headers. Its requests are served
// in process, by the handler they are given.
type visitor struct {
	t      *testing.T
	jar    *cookiejar.Jar
	ua     string
	header http.Header
	// lastBody is the body of the last response.
	lastBody string
}

func newVisitor(t *testing.T) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &visitor{t: t, jar: jar, ua: browserUA, header: http.Header{}}
}

// get serves a GET of path (at siteURL) with h, sending the jar's cookies and keeping those
// the response sets, and returns the response (its body read) and the handler's report, if
// any.
func (v *visitor) get(h http.Handler, path string) (*http.Response, pageReport) {
	v.t.Helper()
	req := httptest.NewRequest(http.MethodGet, siteURL+path, nil)
	req.Header.Set("User-Agent", v.ua)
	maps.Copy(req.Header, v.header)
	for _, c := range v.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	v.jar.SetCookies(req.URL, resp.Cookies())
	body, err := io.ReadAll(resp.Body)
	require.NoError(v.t, err)
	v.lastBody = string(body)
	var rep pageReport
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(v.t, json.Unmarshal(body, &rep), "body: %s", body)
	}
	return resp, rep
}

// setCookie puts a cookie in the visitor's jar, as an earlier response would have.
func (v *visitor) setCookie(name, value string) {
	u := must(url.Parse(siteURL))
	v.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// setCookies returns the response's Set-Cookie headers for name, parsed.
func setCookies(t *testing.T, resp *http.Response, name string) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, line := range resp.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, line)
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// bidName is the browser ID cookie's name over t's transport (personalizetest.Transport), as
// CookiesAuto names it.
func bidName(t testing.TB) string {
	if personalizetest.Transport(t) == personalize.TransportEdge {
		return CloudSDKBrowserCookie
	}
	return CookiePrefix + sandbox.DefaultClientKey
}

func calls(s *site) []sandbox.CallRecord { return s.sb.Calls() }

// utmOf returns params.utm of a recorded call.
func utmOf(t *testing.T, c sandbox.CallRecord) map[string]any {
	t.Helper()
	utm, _ := c.Request.Params["utm"].(map[string]any)
	return utm
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("must: %v", err))
	}
	return v
}
