package components_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/personalize/personalize"
	"github.com/go-personalize/personalize/personalize/sandbox"
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

// newEnv starts a sandbox with the flows and a client for it.
func newEnv(t testing.TB, flows []*sandbox.FlowDef, opts ...personalize.Option) *env {
	t.Helper()
	srv := sandbox.Start(t, sandbox.WithFlows(flows...))
	opts = append([]personalize.Option{
		personalize.WithBaseURL(srv.URL),
		personalize.WithPointOfSale("test"),
	}, opts...)
	client, err := personalize.New(sandbox.DefaultClientKey, opts...)
	require.NoError(t, err)
	t.Cleanup(client.CloseIdleConnections)
	return &env{srv: srv, client: client}
}

// pageContext returns a context carrying a new page of the env's client; the page is closed
// when the test ends.
func (e *env) pageContext(t testing.TB) context.Context {
	t.Helper()
	ctx := context.Background()
	page := personalize.NewPage(ctx, e.client, personalize.Visitor{BrowserID: testBrowserID})
	t.Cleanup(page.Close)
	return personalize.WithPage(ctx, page)
}

// render renders c and returns its HTML.
func render(t testing.TB, ctx context.Context, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, c.Render(ctx, &b))
	return b.String()
}

// parse parses HTML into a document.
func parse(t testing.TB, html string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	require.NoError(t, err)
	return doc
}

// renderDoc renders c and parses it.
func renderDoc(t testing.TB, ctx context.Context, c templ.Component) *goquery.Document {
	t.Helper()
	return parse(t, render(t, ctx, c))
}

// text is the trimmed text of the selection.
func text(s *goquery.Selection) string { return strings.TrimSpace(s.Text()) }

// attr is an attribute of the first element of the selection, "" when absent.
func attr(s *goquery.Selection, name string) string {
	v, _ := s.Attr(name)
	return v
}

// fallback is the default content the slot tests render when there is no decision.
var fallback = templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, `<p class="default">Default offers</p>`)
	return err
})

// slowBudget is a page budget long enough for the sandbox to answer on a loaded machine.
const slowBudget = 5 * time.Second
