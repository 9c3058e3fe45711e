package components_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/personalize/components"
	"github.com/go-personalize/personalize/personalize"
	"github.com/go-personalize/personalize/personalize/sandbox"
)

// slotRoot returns the slot's root element for the friendly ID, failing unless there is
// exactly one.
func slotRoot(t *testing.T, doc *goquery.Document, friendlyID string) *goquery.Selection {
	t.Helper()
	root := doc.Find(`div[data-personalize-slot="` + friendlyID + `"]`)
	require.Equal(t, 1, root.Length(), "one slot root for %s", friendlyID)
	return root
}

func TestSlotSeedOffers(t *testing.T) {
	e := newEnv(t, []*sandbox.FlowDef{sandbox.Flow("ancillary_offers").Returns(seedOffers())}, personalize.WithBudget(slowBudget))
	ctx := e.pageContext(t)

	doc := renderDoc(t, ctx, components.OffersSlot("ancillary_offers", fallback, components.OffersProps{Heading: "Add to your trip"}))
	root := slotRoot(t, doc, "ancillary_offers")
	assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
	assert.Equal(t, components.TestIDSlot, attr(root, "data-testid"))
	assert.Equal(t, 0, root.Find(".default").Length(), "no fallback")
	assert.Equal(t, "Add to your trip", text(root.Find("section > h2")))

	cards := root.Find("section.personalize-offers > ul > li > article.personalize-offer")
	require.Equal(t, 4, cards.Length())
	seen := map[string]bool{}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(noRedirect.CloseIdleConnections)
	dests := []string{"/booking/bundle", "/booking/seat", "/booking/bag", "/booking/insurance"}
	cards.Each(func(i int, card *goquery.Selection) {
		name := seedNames[i]
		assert.Equal(t, name, text(card.Find("h3")))
		img := card.Find("img")
		assert.Equal(t, seedOffers()[i]["imageURLForTesting"], attr(img, "src"))
		assert.Equal(t, name, attr(img, "alt"))
		assert.Equal(t, "lazy", attr(img, "loading"))

		a := card.Find("a")
		require.Equal(t, 1, a.Length())
		href := attr(a, "href")
		assert.True(t, strings.HasPrefix(href, e.srv.URL+"/v3/trackers/"), "tracking URL minted by the sandbox: %s", href)
		assert.False(t, seen[href], "each offer has its own tracking URL")
		seen[href] = true
		assert.Equal(t, "nofollow", attr(a, "rel"))

		// The link is the offer's real tracking URL: the tracker sends the visitor on to the
		// offer's destination.
		resp, err := noRedirect.Get(href)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusFound, resp.StatusCode)
		assert.True(t, strings.HasSuffix(resp.Header.Get("Location"), dests[i]), "redirects to %s, got %s", dests[i], resp.Header.Get("Location"))
	})
	assert.Equal(t, 1, e.srv.Sandbox.CallCount("ancillary_offers"))
}

func TestSlotLinkPolicyWithSandbox(t *testing.T) {
	e := newEnv(t, []*sandbox.FlowDef{sandbox.Flow("ancillary_offers").Returns(seedOffers())}, personalize.WithBudget(slowBudget))

	t.Run("API host allowed", func(t *testing.T) {
		doc := renderDoc(t, e.pageContext(t), components.OffersSlot("ancillary_offers", fallback, components.OffersProps{Links: components.LinkPolicy{RestrictToAPIHost: true}}))
		links := doc.Find("article a")
		require.Equal(t, 4, links.Length())
		links.Each(func(_ int, a *goquery.Selection) {
			assert.True(t, strings.HasPrefix(attr(a, "href"), e.srv.URL+"/v3/trackers/"))
		})
	})
	t.Run("only another host allowed: the offers' own paths", func(t *testing.T) {
		doc := renderDoc(t, e.pageContext(t), components.OffersSlot("ancillary_offers", fallback, components.OffersProps{Links: components.LinkPolicy{AllowedHosts: []string{"track.example.com"}}}))
		links := doc.Find("article a")
		require.Equal(t, 4, links.Length())
		assert.Equal(t, "/booking/seat", attr(links.Eq(1), "href"))
		_, rel := links.Eq(1).Attr("rel")
		assert.False(t, rel)
	})
}

func TestSlotFallback(t *testing.T) {
	tests := []struct {
		name       string
		flow       *sandbox.FlowDef
		budget     time.Duration
		friendlyID string
		noPage     bool
	}{
		{name: "status 500", flow: sandbox.Flow("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Status: 500})},
		{name: "status 503", flow: sandbox.Flow("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Status: 503})},
		{name: "too slow for the budget", flow: sandbox.Flow("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Latency: 3 * time.Second}), budget: 100 * time.Millisecond},
		{name: "hangs", flow: sandbox.Flow("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Hang: true}), budget: 100 * time.Millisecond},
		{name: "connection reset", flow: sandbox.Flow("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Reset: true})},
		{name: "not JSON", flow: sandbox.Flow("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Malformed: true})},
		{name: "error object", flow: sandbox.Flow("offers").Returns(seedOffers()).WithFault(sandbox.Fault{ErrorObject: true})},
		{name: "empty body", flow: sandbox.Flow("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Empty: true})},
		{name: "empty array", flow: sandbox.Flow("offers").Returns([]any{})},
		{name: "empty object", flow: sandbox.Flow("offers").Returns(map[string]any{})},
		{name: "null", flow: sandbox.Flow("offers").Returns(nil)},
		{name: "no offer objects", flow: sandbox.Flow("offers").Returns([]any{1, "two", nil})},
		{name: "an object with nothing to show", flow: sandbox.Flow("offers").Returns(map[string]any{"message": "No flow executed"})},
		{name: "unknown flow", flow: sandbox.Flow("offers").Returns(seedOffers()), friendlyID: "no_such_flow"},
		{name: "no page in the context", flow: sandbox.Flow("offers").Returns(seedOffers()), noPage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			budget := tt.budget
			if budget == 0 {
				budget = slowBudget
			}
			e := newEnv(t, []*sandbox.FlowDef{tt.flow}, personalize.WithBudget(budget))
			ctx := context.Background()
			if !tt.noPage {
				ctx = e.pageContext(t)
			}
			id := tt.friendlyID
			if id == "" {
				id = "offers"
			}
			doc := renderDoc(t, ctx, components.OffersSlot(id, fallback, components.OffersProps{}))
			root := slotRoot(t, doc, id)
			assert.Equal(t, components.StateFallback, attr(root, "data-personalize-state"))
			assert.Equal(t, "Default offers", text(root.Find("p.default")))
			assert.Equal(t, 0, root.Find("article, section").Length(), "no decision markup")
			assert.NotContains(t, strings.ToLower(root.Text()), "error", "no error shown to the visitor")
		})
	}
}

func TestSlotOneCallPerFriendlyID(t *testing.T) {
	e := newEnv(t, []*sandbox.FlowDef{sandbox.Flow("ancillary_offers").Returns(seedOffers())}, personalize.WithBudget(slowBudget))

	t.Run("in sequence", func(t *testing.T) {
		e.srv.Sandbox.Reset()
		ctx := e.pageContext(t)
		page := templ.Join(
			components.OffersSlot("ancillary_offers", fallback, components.OffersProps{ID: "first"}),
			components.OffersSlot("ancillary_offers", fallback, components.OffersProps{ID: "second"}),
		)
		doc := renderDoc(t, ctx, page)
		roots := doc.Find(`[data-personalize-slot="ancillary_offers"]`)
		require.Equal(t, 2, roots.Length())
		roots.Each(func(_ int, r *goquery.Selection) {
			assert.Equal(t, components.StateDecision, attr(r, "data-personalize-state"))
			assert.Equal(t, 4, r.Find("article").Length())
		})
		assert.Equal(t, 1, e.srv.Sandbox.CallCount("ancillary_offers"))
	})

	t.Run("concurrently, after a prefetch", func(t *testing.T) {
		e.srv.Sandbox.Reset()
		e.srv.Sandbox.SetFlowFault("ancillary_offers", sandbox.Fault{Latency: 50 * time.Millisecond})
		ctx := e.pageContext(t)
		personalize.Prefetch(ctx, "ancillary_offers")
		var wg sync.WaitGroup
		out := make([]string, 4)
		for i := range out {
			wg.Go(func() {
				var b bytes.Buffer
				assert.NoError(t, components.OffersSlot("ancillary_offers", fallback, components.OffersProps{}).Render(ctx, &b))
				out[i] = b.String()
			})
		}
		wg.Wait()
		for _, html := range out {
			root := slotRoot(t, parse(t, html), "ancillary_offers")
			assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
		}
		assert.Equal(t, 1, e.srv.Sandbox.CallCount("ancillary_offers"))
	})
}

// failing is a decision component that writes part of its markup, then fails.
type failing struct{ panics bool }

func (f failing) Render(_ context.Context, w io.Writer) error {
	_, _ = io.WriteString(w, `<section class="partial"><p>half`)
	if f.panics {
		panic("broken decision")
	}
	return errors.New("broken decision")
}

func TestSlotDecisionFailures(t *testing.T) {
	e := newEnv(t, []*sandbox.FlowDef{sandbox.Flow("banner").Returns(map[string]any{"name": "Summer sale"})}, personalize.WithBudget(slowBudget))

	tests := []struct {
		name      string
		decision  func(*personalize.Result) templ.Component
		wantError bool // logged as an error of the site's code
	}{
		{name: "decision func panics", decision: func(*personalize.Result) templ.Component { panic("boom") }, wantError: true},
		{name: "decision func panics with nil map", decision: func(res *personalize.Result) templ.Component {
			var m map[string]int
			m["x"]++
			return nil
		}, wantError: true},
		{name: "component panics half-way", decision: func(*personalize.Result) templ.Component { return failing{panics: true} }, wantError: true},
		{name: "component fails half-way", decision: func(*personalize.Result) templ.Component { return failing{} }, wantError: true},
		{name: "nothing to show", decision: func(*personalize.Result) templ.Component { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			client, err := personalize.New(sandbox.DefaultClientKey, personalize.WithBaseURL(e.srv.URL), personalize.WithPointOfSale("test"), personalize.WithLogger(logger), personalize.WithBudget(slowBudget))
			require.NoError(t, err)
			t.Cleanup(client.CloseIdleConnections)
			page := personalize.NewPage(context.Background(), client, personalize.Visitor{BrowserID: testBrowserID})
			t.Cleanup(page.Close)
			ctx := personalize.WithPage(context.Background(), page)

			var html string
			require.NotPanics(t, func() {
				html = render(t, ctx, components.Slot(components.SlotProps{FriendlyID: "banner", Decision: tt.decision, Fallback: fallback}))
			})
			doc := parse(t, html)
			root := slotRoot(t, doc, "banner")
			assert.Equal(t, components.StateFallback, attr(root, "data-personalize-state"))
			assert.Equal(t, "Default offers", text(root.Find("p.default")))
			assert.Equal(t, 0, doc.Find(".partial").Length(), "no partial decision markup")
			assert.NotContains(t, html, "half")

			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tt.wantError, strings.Contains(logs.String(), `"level":"ERROR"`), "logs: %s", logs.String())
			assert.Contains(t, logs.String(), "personalize slot rendered its fallback")
		})
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestSlotProps(t *testing.T) {
	e := newEnv(t, []*sandbox.FlowDef{
		sandbox.Flow("ancillary_offers").Returns(seedOffers()),
		sandbox.Flow("home_page_banner").Returns(map[string]any{"name": "Summer sale", "description": "30% off", "trackingUrl": sandbox.TrackerPlaceholder, "destination": "/sale"}),
	}, personalize.WithBudget(slowBudget))

	t.Run("root attributes", func(t *testing.T) {
		doc := renderDoc(t, e.pageContext(t), components.Slot(components.SlotProps{
			FriendlyID: "ancillary_offers", ID: "extras", Class: "wide", TestID: "extras-slot",
			Attributes: templ.Attributes{"aria-live": "polite"},
		}))
		root := slotRoot(t, doc, "ancillary_offers")
		assert.Equal(t, "extras", attr(root, "id"))
		assert.Equal(t, "personalize-slot wide", attr(root, "class"))
		assert.Equal(t, "extras-slot", attr(root, "data-testid"))
		assert.Equal(t, "polite", attr(root, "aria-live"))
		assert.Equal(t, 4, root.Find("article").Length(), "a nil Decision renders the offers")
	})

	t.Run("children are the fallback and only the fallback's", func(t *testing.T) {
		children := templ.Raw(`<p class="child">Child default</p>`)
		showsChildren := func(*personalize.Result) templ.Component {
			return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
				_, _ = io.WriteString(w, `<div class="decision">`)
				if err := templ.GetChildren(ctx).Render(ctx, w); err != nil {
					return err
				}
				_, err := io.WriteString(w, `</div>`)
				return err
			})
		}
		ctx := templ.WithChildren(e.pageContext(t), children)
		doc := renderDoc(t, ctx, components.Slot(components.SlotProps{FriendlyID: "ancillary_offers", Decision: showsChildren}))
		assert.Equal(t, 1, doc.Find(".decision").Length())
		assert.Equal(t, 0, doc.Find(".child").Length(), "the decision does not get the slot's children")

		doc = renderDoc(t, ctx, components.Slot(components.SlotProps{FriendlyID: "no_such_flow", Decision: showsChildren}))
		assert.Equal(t, "Child default", text(doc.Find(`[data-personalize-state="fallback"] > p.child`)))
	})

	t.Run("banner slot", func(t *testing.T) {
		doc := renderDoc(t, e.pageContext(t), components.BannerSlot("home_page_banner", fallback, components.BannerProps{CTA: "Shop"}))
		root := slotRoot(t, doc, "home_page_banner")
		assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
		assert.Equal(t, "Summer sale", text(root.Find("section.personalize-banner h2")))
		assert.Equal(t, "30% off", text(root.Find("section.personalize-banner p")))
		assert.True(t, strings.HasPrefix(attr(root.Find("a"), "href"), e.srv.URL+"/v3/trackers/"))
	})

	t.Run("decoded decision", func(t *testing.T) {
		type banner struct {
			Name string `json:"name"`
		}
		decision := func(res *personalize.Result) templ.Component {
			b, err := personalize.DecodeAs[banner](res)
			if err != nil || b.Name == "" {
				return nil
			}
			return templ.Raw(`<p class="mine">` + templ.EscapeString(b.Name) + `</p>`)
		}
		doc := renderDoc(t, e.pageContext(t), components.Slot(components.SlotProps{FriendlyID: "home_page_banner", Decision: decision}))
		assert.Equal(t, "Summer sale", text(doc.Find("p.mine")))
	})
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

func TestSlotWriteError(t *testing.T) {
	err := components.Slot(components.SlotProps{FriendlyID: "x", Fallback: fallback}).Render(context.Background(), errWriter{})
	assert.Error(t, err, "a failing writer is the only error a slot returns")
}
