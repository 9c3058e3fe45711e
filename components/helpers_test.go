package components_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/andybalholm/cascadia"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// testBrowserID is the browser ID of Sitecore's callFlows example.
const testBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

// seedOffers are the four offers of Sitecore's callFlows example, asking the sandbox to mint
// their tracking links.
func seedOffers() []map[string]any {
	return []map[string]any{
		{"trackingUrl": sandbox.TrackerPlaceholder, "destination": "/booking/bundle", "Name": "Ancillary bundle", "imageURLForTesting": "https://png.icons8.com/ios/50/000000/cardboard-box.png"},
		{"trackingUrl": sandbox.TrackerPlaceholder, "destination": "/booking/seat", "Name": "Ancillary seat", "imageURLForTesting": "https://png.icons8.com/dotty/50/000000/flight-seat.png"},
		{"trackingUrl": sandbox.TrackerPlaceholder, "destination": "/booking/bag", "Name": "Ancillary bag", "imageURLForTesting": "https://png.icons8.com/metro/50/000000/suitcase.png", "nonDependent": "false"},
		{"trackingUrl": sandbox.TrackerPlaceholder, "destination": "/booking/insurance", "Name": "Ancillary insurance", "imageURLForTesting": "https://png.icons8.com/ios/50/000000/umbrella.png", "nonDependent": "false"},
	}
}

// seedNames are the names of seedOffers, in order.
var seedNames = []string{"Ancillary bundle", "Ancillary seat", "Ancillary bag", "Ancillary insurance"}

// env is a sandbox and a client pointed at it.
type env struct {
	srv    *sandbox.Server
	client *personalize.Client
}

// newEnv starts a sandbox with the flows and a client for it; both end with the test.
func newEnv(t testing.TB, flows []*sandbox.FlowDef, opts ...personalize.Option) *env {
	t.Helper()
	srv := personalizetest.NewSandbox(t, sandbox.WithFlows(flows...))
	return &env{srv: srv, client: personalizetest.NewClient(t, srv, opts...)}
}

// pageContext returns a context carrying a new page of the env's client; the page is done
// when the test ends.
func (e *env) pageContext(t testing.TB) context.Context {
	t.Helper()
	return startPage(t, e.client)
}

// memEnv is a sandbox served in memory (internal/memnet) and a client of it, for tests in a
// testing/synctest bubble: the sandbox's latencies, hangs and the page budgets pass on the
// bubble's fake clock, at once and exactly, whatever the load on the machine.
type memEnv struct {
	sb     *sandbox.Sandbox
	url    string       // the sandbox's base URL; its minted tracking links start with it
	http   *http.Client // reaches the sandbox (and only it)
	client *personalize.Client
}

// newMemEnv serves a sandbox with the flows in memory and makes a client of it, as
// personalizetest.NewClient would (its client key and point of sale, then opts). Call it inside
// the bubble; everything it starts ends with the (bubble's) test.
func newMemEnv(t *testing.T, flows []*sandbox.FlowDef, opts ...personalize.Option) *memEnv {
	t.Helper()
	sb := sandbox.New(sandbox.WithFlows(flows...))
	srv := memnet.Serve(t, sb)
	e := &memEnv{sb: sb, url: srv.URL, http: srv.Client}
	e.client = e.newClient(t, opts...)
	return e
}

// newClient makes another client of the env's sandbox over the test's transport
// (personalizetest.Endpoint), closed when the test ends.
func (e *memEnv) newClient(t *testing.T, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	key, base := personalizetest.Endpoint(t, e.url)
	c, err := personalize.New(key, append(append(base, personalize.WithHTTPClient(e.http)), opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Logf("closing the client: %v", err)
		}
	})
	return c
}

// pageContext returns a context carrying a new page of the env's client; the page is done
// when the test ends.
func (e *memEnv) pageContext(t *testing.T) context.Context {
	t.Helper()
	return startPage(t, e.client)
}

// startPage returns a context carrying a new page of client for the test's visitor; the page
// is done when the test ends.
func startPage(t testing.TB, client *personalize.Client) context.Context {
	t.Helper()
	ctx, done := personalize.StartPage(context.Background(), client, personalize.Visitor{BrowserID: testBrowserID})
	t.Cleanup(done)
	return ctx
}

// render renders c and returns its HTML.
func render(t testing.TB, ctx context.Context, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, c.Render(ctx, &b))
	return b.String()
}

// parse parses HTML into a document, as a browser would.
func parse(t testing.TB, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	require.NoError(t, err)
	return doc
}

// renderDoc renders c and parses it.
func renderDoc(t testing.TB, ctx context.Context, c templ.Component) *html.Node {
	t.Helper()
	return parse(t, render(t, ctx, c))
}

// find returns the elements inside root (not root itself) that match the CSS selector, in
// document order. The selector sees the whole document: "section > h2" matches an h2 inside
// root whose parent section is root itself.
func find(root *html.Node, selector string) []*html.Node {
	return cascadia.QueryAll(root, cascadia.MustCompile(selector))
}

// one returns the element inside root that matches the CSS selector, failing the test unless
// there is exactly one.
func one(t testing.TB, root *html.Node, selector string) *html.Node {
	t.Helper()
	found := find(root, selector)
	require.Len(t, found, 1, "one element matches %q", selector)
	return found[0]
}

// text is the trimmed text of the nodes and everything inside them, in order.
func text(nodes ...*html.Node) string {
	var b strings.Builder
	add := func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	}
	for _, n := range nodes {
		add(n)
		for d := range n.Descendants() {
			add(d)
		}
	}
	return strings.TrimSpace(b.String())
}

// lookupAttr returns an attribute of n and whether n has it.
func lookupAttr(n *html.Node, name string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// attr is an attribute of n, "" when absent.
func attr(n *html.Node, name string) string {
	v, _ := lookupAttr(n, name)
	return v
}

// hasClass reports whether n's class attribute holds class.
func hasClass(n *html.Node, class string) bool {
	return slices.Contains(strings.Fields(attr(n, "class")), class)
}

// fallback is the default content the slot tests render when there is no decision.
var fallback = templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, `<p class="default">Default offers</p>`)
	return err
})

// slowBudget is a page budget long enough for the sandbox to answer on a loaded machine (the
// benchmarks, on the wall clock). In a synctest bubble it passes only while every goroutine
// waits, so there it bounds the sandbox's latencies and hangs, never the machine's speed.
const slowBudget = 5 * time.Second
