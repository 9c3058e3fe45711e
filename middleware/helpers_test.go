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
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

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

// site is a test website behind the middleware, talking to a sandbox.
type site struct {
	sb   *sandbox.Server
	pc   *personalize.Client
	mw   *Middleware
	ts   *httptest.Server
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

// newClient makes a personalize client for the sandbox server (point of sale
// personalizetest.PointOfSale), closed when the test ends.
func newClient(t testing.TB, sb *sandbox.Server, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	return personalizetest.NewClient(t, sb, opts...)
}

// newSite starts a sandbox and a site behind a middleware made with opts. Missing session
// keys default to testKeys.
func newSite(t *testing.T, opts Options) *site {
	t.Helper()
	sb := personalizetest.NewSandbox(t, sandbox.WithFlows(sandboxFlows()...))
	return newSiteWith(t, sb, opts)
}

// newSiteWith starts a site for an existing sandbox server.
func newSiteWith(t *testing.T, sb *sandbox.Server, opts Options) *site {
	t.Helper()
	s := &site{sb: sb, logs: &lockedBuffer{}}
	s.pc = newClient(t, sb)
	if opts.SessionKeys == nil && opts.SessionStore == nil {
		opts.SessionKeys = testKeys
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	mw, err := New(s.pc, opts)
	require.NoError(t, err)
	s.mw = mw
	s.ts = httptest.NewServer(mw.Handler(testRoutes()))
	t.Cleanup(s.ts.Close)
	return s
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
//	/prefetch-flush  prefetches "home", flushes, then waits for it
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
	mux.HandleFunc("/prefetch-flush", func(w http.ResponseWriter, r *http.Request) {
		personalize.Prefetch(r.Context(), "home")
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

// visitor is a browser: a cookie jar and a User-Agent.
type visitor struct {
	t      *testing.T
	client *http.Client
	ua     string
	header http.Header
}

func newVisitor(t *testing.T) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &visitor{t: t, client: &http.Client{Jar: jar, Transport: tr}, ua: browserUA, header: http.Header{}}
}

// get requests url and returns the response (body read) and the handler's report, if any.
func (v *visitor) get(url string) (*http.Response, pageReport) {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(v.t, err)
	req.Header.Set("User-Agent", v.ua)
	maps.Copy(req.Header, v.header)
	resp, err := v.client.Do(req)
	require.NoError(v.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(v.t, err)
	var rep pageReport
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(v.t, json.Unmarshal(body, &rep), "body: %s", body)
	}
	return resp, rep
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

func bidName() string { return CookiePrefix + sandbox.DefaultClientKey }

func calls(s *site) []sandbox.CallRecord { return s.sb.Sandbox.Calls() }

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
