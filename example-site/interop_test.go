package main

// Plumbing of the tests against the official Sitecore SDKs, from npm (docs/wire-parity.md,
// docs/edge.md): Engage and the Cloud SDK in headless Chromium beside the library
// (interop_engage_test.go, interop_cloudsdk_test.go), Engage's server build in node
// (interop_parity_test.go) and the Cloud SDK's Node server API (interop_edge_test.go).
//
// The SDKs are installed in testdata/sdk (package.json pins exact versions, package-lock.json
// is committed, node_modules is not): the tests run `npm ci` there once when node_modules is
// missing or does not match the lock file, and .ci/run runs it before the tests. Without node
// (or without npm when node_modules is missing) the tests skip with a message, except in CI
// (CI set), where they fail, as the browser tests do without Chromium.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// sdkDir is the npm project of the official SDKs the interop tests run.
const sdkDir = "testdata/sdk"

// The versions package.json pins; the tests check that the installed SDKs are these.
const (
	engageVersion   = "1.4.3"
	cloudSDKVersion = "0.6.1"
)

// sdkHangGuard bounds the commands the tests run (npm ci, esbuild, node): only a hang ends
// there, a normal run takes seconds.
const sdkHangGuard = 10 * time.Minute

// interopTool finds a command the SDK tests need. Without it they skip, except in CI, where
// they must run.
func interopTool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no %s on PATH: CI must run the tests against the official SDKs (.ci/run installs Debian's nodejs and npm)", name)
	}
	t.Skipf("no %s on PATH: skipping the tests against the official Sitecore SDKs (apt-get install nodejs npm to run them)", name)
	return ""
}

var sdkSetup struct {
	once    sync.Once
	needNPM bool   // node_modules must be installed and there is no npm
	err     error  // npm ci failed, or left node_modules not matching the lock file
	log     string // npm's output
}

// requireSDKs returns node's path once the SDKs are installed, running `npm ci` (packages
// from the npm registry) once per test binary when node_modules is missing or stale.
func requireSDKs(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the official SDKs with node; skipped with -short")
	}
	node := interopTool(t, "node")
	sdkSetup.once.Do(func() {
		if sdksInstalled() == nil {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			sdkSetup.needNPM = true
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), sdkHangGuard)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = sdkDir
		out, err := cmd.CombinedOutput()
		sdkSetup.log = string(out)
		if err != nil {
			sdkSetup.err = fmt.Errorf("npm ci in %s: %w", sdkDir, err)
			return
		}
		sdkSetup.err = sdksInstalled()
	})
	if sdkSetup.needNPM {
		interopTool(t, "npm") // skips, or fails in CI
		t.Fatalf("%s/node_modules is missing or stale and there is no npm to install it", sdkDir)
	}
	require.NoError(t, sdkSetup.err, "installing the official SDKs; npm said:\n%s", sdkSetup.log)
	return node
}

// lockFile is what the tests read of package-lock.json and of node_modules/.package-lock.json,
// the record npm keeps of what it installed.
type lockFile struct {
	Packages map[string]struct {
		Version  string `json:"version"`
		Optional bool   `json:"optional"`
	} `json:"packages"`
}

func readLock(path string) (lockFile, error) {
	var l lockFile
	b, err := os.ReadFile(path)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// sdksInstalled reports why node_modules does not hold what package-lock.json locks (nil when
// it does): every package that is not optional (esbuild's binaries for other platforms are),
// at its locked version.
func sdksInstalled() error {
	want, err := readLock(filepath.Join(sdkDir, "package-lock.json"))
	if err != nil {
		return err
	}
	have, err := readLock(filepath.Join(sdkDir, "node_modules", ".package-lock.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s/node_modules is not installed", sdkDir)
	}
	if err != nil {
		return err
	}
	for name, p := range want.Packages {
		if name == "" || p.Optional {
			continue
		}
		if got := have.Packages[name].Version; got != p.Version {
			return fmt.Errorf("%s/%s is %q, package-lock.json locks %q", sdkDir, name, got, p.Version)
		}
	}
	return nil
}

// runNode runs a script of testdata/sdk with node, stdin as its input, and returns its
// standard output; a failure fails the test with what the script wrote to stderr.
func runNode(t testing.TB, node, script string, stdin []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sdkHangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = sdkDir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node %s:\n%s", script, stderr.String())
	return stdout.Bytes()
}

var cloudSDKBundle struct {
	once sync.Once
	js   []byte
	err  error
}

// bundleCloudSDK builds the Cloud SDK's browser bundle (bundle.mjs: esbuild over
// cloudsdk-browser.mjs, which imports @sitecore-cloudsdk/core/browser, events/browser and
// personalize/browser), once per test binary, in memory.
func bundleCloudSDK(t testing.TB, node string) []byte {
	t.Helper()
	cloudSDKBundle.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sdkHangGuard)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "bundle.mjs")
		cmd.Dir = sdkDir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			cloudSDKBundle.err = fmt.Errorf("node bundle.mjs: %w\n%s", err, stderr.String())
			return
		}
		cloudSDKBundle.js = stdout.Bytes()
	})
	require.NoError(t, cloudSDKBundle.err)
	return cloudSDKBundle.js
}

// interopBrowser starts headless Chromium for the SDK tests, with the flags of TestBrowser
// (chromiumOptions) and one more: the test sites serve HTTPS with httptest's self-signed certificate (see
// startInteropSite), so certificate errors are ignored. It returns newTab, which opens a tab
// for a new visitor (a browser context of its own: no shared cookies) with a hang guard.
func interopBrowser(t *testing.T) (newTab func(t *testing.T) context.Context) {
	t.Helper()
	execPath := chromiumPath(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(t, execPath, chromedp.IgnoreCertErrors)...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	require.NoError(t, chromedp.Do(browserCtx), "starting %s", execPath)
	return func(t *testing.T) context.Context {
		t.Helper()
		tab, cancelTab := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
		require.NoError(t, chromedp.Do(tab), "opening a tab")
		ctx, cancel := context.WithTimeout(tab, 2*time.Minute) // a hang guard only
		t.Cleanup(func() { cancel(); cancelTab() })
		return ctx
	}
}

// sdkOutcome is what the SDK scripts of the pages (engage-browser.mjs, cloudsdk-browser.mjs)
// leave in window.__interop.
type sdkOutcome struct {
	OK        bool            `json:"ok"`
	Error     string          `json:"error"`
	BrowserID string          `json:"browserId"`
	Version   string          `json:"version"`
	View      json.RawMessage `json:"view"`
	Flow      json.RawMessage `json:"flow"`
	// The Cloud SDK's only: the guest ref cookie (sc_cid_personalize) as the page's script
	// reads it after the SDK ran, and the version of its personalize package ("" when the
	// page did not add it).
	GuestRef           string `json:"guestRef"`
	PersonalizeVersion string `json:"personalizeVersion"`
}

// awaitSDK waits for the page's SDK script to finish and returns its outcome; the script
// failing fails the test. Only the tab's hang guard bounds the wait.
func awaitSDK(t *testing.T, ctx context.Context) sdkOutcome {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Poll[[]byte](`window.__interop`, chromedp.WithPollingTimeout(0)))
	require.NoError(t, err, "waiting for the SDK in the page")
	var out sdkOutcome
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	require.True(t, out.OK, "the SDK failed in the page: %s", out.Error)
	return out
}

// tabCookie returns the tab's cookie name for the site as Chromium stores it, nil when none.
func tabCookie(t *testing.T, ctx context.Context, siteURL, name string) *network.Cookie {
	t.Helper()
	cookies, err := chromedp.Run(ctx, func(ctx context.Context, tgt *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tgt, network.GetCookies, network.GetCookiesParams{URLs: []string{siteURL}})
		return res.Cookies, err
	})
	require.NoError(t, err)
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Settings of the interop sites.
const (
	interopPOS     = "goairways.example"
	interopFlow    = "hero_banner"
	interopContext = "interop-context-id" // the Sitecore Edge context ID the Cloud SDK is given
	interopSite    = "go-airways"         // its siteName
)

// The hero flow's answers: the first call of a browser, and the calls after it (the sandbox
// counts calls per browser, so a second SDK calling for the same browser is "returning").
var (
	heroFirst     = map[string]any{"title": "Fly for less"}
	heroReturning = map[string]any{"title": "Welcome back"}
)

// apiRequest is one request of a browser's SDK that reached the sandbox through the site.
type apiRequest struct {
	Method, Path, LibraryVersion string
}

// sdkSite is a site for the SDK tests: pages behind the library's middleware, the sandbox
// mounted on the same HTTPS origin (Engage's targetURL, the Cloud SDK's sitecoreEdgeUrl:
// the sandbox serves the regional API's paths and the Sitecore Edge proxy's), and the SDKs'
// files. The library's client calls the same sandbox on a loopback port of its own.
type sdkSite struct {
	URL     string
	Sandbox *sandbox.Sandbox
	Client  *personalize.Client

	mu         sync.Mutex
	api        []apiRequest        // the browser SDKs' requests, through the site's origin
	lib        []apiRequest        // the library's client's requests
	setCookies map[string][]string // the Set-Cookie lines of the site's responses, by path
}

// sdkSiteOptions say how startSDKSite builds the site.
type sdkSiteOptions struct {
	// Middleware are the middleware's options (SessionKeys filled in).
	Middleware middleware.Options
	// Bundle, when not nil, is served as the Cloud SDK's script (bundleCloudSDK).
	Bundle []byte
	// Edge makes the library's client reach the sandbox through its Sitecore Edge endpoints
	// (personalize.WithEdge(interopContext, interopSite)), as an XM Cloud head does, instead
	// of the regional API's (client key sandbox.DefaultClientKey, point of sale interopPOS).
	Edge bool
}

// The site's pages.
const (
	// pageEngageOnly runs Engage and no library flow (the middleware does not cover it).
	pageEngageOnly = "/engage-only"
	// pageEngage is personalized by the library, then runs Engage.
	pageEngage = "/engage"
	// pagePlain is personalized by the library and runs no script.
	pagePlain = "/plain"
	// pageCloudSDK is personalized by the library, then runs the Cloud SDK (core + events:
	// a page view).
	pageCloudSDK = "/cloudsdk"
	// pageCloudSDKPersonalize is personalized by the library, then runs the Cloud SDK with
	// its personalize package too (the guest ref cookie, a flow, a page view).
	pageCloudSDKPersonalize = "/cloudsdk-personalize"
	// pageCloudSDKOnly runs the Cloud SDK with personalize, and no library flow (the
	// middleware does not cover it).
	pageCloudSDKOnly = "/cloudsdk-only"
)

var sdkPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>SDK interop</title></head>
<body data-client-key="{{.ClientKey}}" data-point-of-sale="{{.PointOfSale}}" data-friendly-id="{{.FriendlyID}}" data-context-id="{{.ContextID}}" data-site-name="{{.SiteName}}"{{if .SDKPersonalize}} data-sdk-personalize="on"{{end}}>
<h1 data-testid="hero" data-state="{{.State}}" data-browser-id="{{.BrowserID}}">{{.Title}}</h1>
{{if .Script}}<script type="module" src="{{.Script}}"></script>{{end}}
</body>
</html>
`))

// startSDKSite starts the site. Its sandbox serves the regional API for interopPOS and the
// Sitecore Edge for the site interopSite of the context interopContext, which the pages give
// the Cloud SDK.
func startSDKSite(t *testing.T, o sdkSiteOptions) *sdkSite {
	t.Helper()
	api := personalizetest.NewSandbox(t,
		sandbox.WithPointsOfSale(interopPOS),
		sandbox.WithEdgeSites(sandbox.EdgeSite{ContextID: interopContext, SiteName: interopSite}),
		sandbox.WithFlows(sandbox.Define(interopFlow).Returns(heroFirst).When(sandbox.Returning(), heroReturning)),
	)
	s := &sdkSite{Sandbox: api.Sandbox, setCookies: map[string][]string{}}
	settings := []personalize.Option{
		personalize.WithHTTPClient(&http.Client{Transport: libRecorder{s, http.DefaultTransport.(*http.Transport).Clone()}}),
		personalize.WithLanguage("en"),
		personalize.WithCurrency("EUR"),
		personalize.WithBudget(2 * time.Second), // as e2eBudget: Chromium and -race share the machine
	}
	if o.Edge {
		s.Client = newClient(t, "", append(settings, personalize.WithBaseURL(api.URL), personalize.WithEdge(interopContext, interopSite))...)
	} else {
		s.Client = newClient(t, sandbox.DefaultClientKey, append(settings, personalize.WithBaseURL(api.URL), personalize.WithPointOfSale(interopPOS))...)
	}
	mw := o.Middleware
	mw.SessionKeys = [][]byte{[]byte(testSessionKeys)}
	m, err := middleware.New(s.Client, mw)
	require.NoError(t, err)

	mux := http.NewServeMux()
	for _, p := range api.Sandbox.Routes() {
		mux.Handle(p, s.logAPI(api.Sandbox))
	}
	mux.Handle("GET /sdk/", http.StripPrefix("/sdk/", http.FileServer(http.Dir(filepath.Join(sdkDir, "node_modules")))))
	mux.HandleFunc("GET /interop/engage-browser.mjs", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(sdkDir, "engage-browser.mjs"))
	})
	mux.HandleFunc("GET /interop/cloudsdk.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(o.Bundle)
	})
	const engageJS, cloudSDKJS = "/interop/engage-browser.mjs", "/interop/cloudsdk.js"
	mux.Handle("GET "+pageEngageOnly, s.page(sdkPageSpec{Script: engageJS}))
	mux.Handle("GET "+pageEngage, m.Handler(s.page(sdkPageSpec{Script: engageJS, Personalized: true})))
	mux.Handle("GET "+pagePlain, m.Handler(s.page(sdkPageSpec{Personalized: true})))
	mux.Handle("GET "+pageCloudSDK, m.Handler(s.page(sdkPageSpec{Script: cloudSDKJS, Personalized: true})))
	mux.Handle("GET "+pageCloudSDKPersonalize, m.Handler(s.page(sdkPageSpec{Script: cloudSDKJS, Personalized: true, SDKPersonalize: true})))
	mux.Handle("GET "+pageCloudSDKOnly, s.page(sdkPageSpec{Script: cloudSDKJS, SDKPersonalize: true}))

	// HTTPS, because Engage and the Cloud SDK set their cookies SameSite=None; Secure, which a
	// browser keeps only from a secure origin (Chromium counts http://127.0.0.1 as one only for
	// some purposes), and because the middleware marks its cookie SameSite=None; Secure only on
	// a secure request: over TLS both sides set the cookie as in production.
	srv := httptest.NewUnstartedServer(s.recordSetCookies(mux))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// newClient makes a client for an interop test, closed (its events delivered) when the test
// ends.
func newClient(t *testing.T, clientKey string, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	client, err := personalize.New(clientKey, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), eventDeadline)
		defer cancel()
		assert.NoError(t, client.Close(ctx), "closing the client")
	})
	return client
}

// sdkPageSpec says what a test page does.
type sdkPageSpec struct {
	// Script is the SDK script the page runs, "" for none.
	Script string
	// Personalized pages run the library's flow first (its decision in the hero).
	Personalized bool
	// SDKPersonalize tells the Cloud SDK's script to add its personalize package (the guest
	// ref cookie) and run the flow too.
	SDKPersonalize bool
}

// page serves the test page: when personalized, the library's flow first (its decision in the
// hero), then the script, when there is one.
func (s *sdkSite) page(spec sdkPageSpec) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := map[string]any{
			"ClientKey": sandbox.DefaultClientKey, "PointOfSale": interopPOS, "FriendlyID": interopFlow,
			"ContextID": interopContext, "SiteName": interopSite, "Script": spec.Script, "SDKPersonalize": spec.SDKPersonalize,
			"State": "none", "Title": "No personalization",
		}
		if spec.Personalized {
			data["State"], data["Title"] = "fallback", "Default hero"
			res, err := personalize.Flow(r.Context(), interopFlow)
			var hero struct {
				Title string `json:"title"`
			}
			if err == nil && !res.Empty() && res.Decode(&hero) == nil {
				data["State"], data["Title"] = "decision", hero.Title
			}
			data["BrowserID"] = middleware.BrowserID(r.Context())
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = sdkPage.Execute(w, data)
	})
}

// logAPI records the requests that reach the sandbox through the site: the browser SDKs'.
func (s *sdkSite) logAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(&s.api, r)
		next.ServeHTTP(w, r)
	})
}

func (s *sdkSite) record(to *[]apiRequest, r *http.Request) {
	s.mu.Lock()
	*to = append(*to, apiRequest{Method: r.Method, Path: r.URL.Path, LibraryVersion: r.Header.Get("X-Library-Version")})
	s.mu.Unlock()
}

// libRecorder is the library's client's transport: it records each request, then sends it.
type libRecorder struct {
	s    *sdkSite
	next http.RoundTripper
}

func (l libRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	l.s.record(&l.s.lib, r)
	return l.next.RoundTrip(r)
}

// recordSetCookies keeps the Set-Cookie lines of every response of the site, by path.
func (s *sdkSite) recordSetCookies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if sc := w.Header().Values("Set-Cookie"); len(sc) > 0 {
			s.mu.Lock()
			s.setCookies[r.URL.Path] = append(s.setCookies[r.URL.Path], sc...)
			s.mu.Unlock()
		}
	})
}

// apiRequests returns the browser SDKs' requests to the sandbox so far.
func (s *sdkSite) apiRequests() []apiRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.api)
}

// libraryRequests returns the library's requests to the sandbox so far, as "METHOD path".
func (s *sdkSite) libraryRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.lib))
	for _, r := range s.lib {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// setCookiesOf returns the Set-Cookie lines the site sent for path so far.
func (s *sdkSite) setCookiesOf(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.setCookies[path])
}

// cookieAttrs parses a Set-Cookie line into its name, value and attributes (names
// lower-cased; flags map to "").
func cookieAttrs(line string) (name, value string, attrs map[string]string) {
	parts := strings.Split(line, ";")
	name, value, _ = strings.Cut(strings.TrimSpace(parts[0]), "=")
	attrs = map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k != "" {
			attrs[strings.ToLower(k)] = v
		}
	}
	return name, value, attrs
}
