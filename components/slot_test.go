package components_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// slotRoot returns the slot's root element for the friendly ID, failing unless there is
// exactly one.
func slotRoot(t *testing.T, doc *html.Node, friendlyID string) *html.Node {
	t.Helper()
	roots := find(doc, `div[data-personalize-slot="`+friendlyID+`"]`)
	require.Len(t, roots, 1, "one slot root for %s", friendlyID)
	return roots[0]
}

// offersSlot is a slot for friendlyID that renders its decision's offers with an OfferList of
// the props, or the tests' fallback.
func offersSlot(friendlyID string, list components.OfferListProps) templ.Component {
	return components.Slot(components.SlotProps{FriendlyID: friendlyID, Decision: components.OfferListDecision(list), Fallback: fallback})
}

func TestSlotSeedOffers(t *testing.T) {
	synctest.Test(t, testSlotSeedOffers)
}

func testSlotSeedOffers(t *testing.T) {
	e := newMemEnv(t, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers())}, personalize.WithBudget(slowBudget))
	ctx := e.pageContext(t)

	doc := renderDoc(t, ctx, offersSlot("ancillary_offers", components.OfferListProps{Heading: "Add to your trip"}))
	root := slotRoot(t, doc, "ancillary_offers")
	assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
	assert.Equal(t, components.TestIDSlot, attr(root, "data-testid"))
	assert.Empty(t, find(root, ".default"), "no fallback")
	assert.Equal(t, "Add to your trip", text(one(t, root, "section > h2")))

	cards := find(root, "section.personalize-offers > ul > li > article.personalize-offer")
	require.Len(t, cards, 4)
	seen := map[string]bool{}
	noRedirect := &http.Client{Transport: e.http.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(noRedirect.CloseIdleConnections)
	dests := []string{"/booking/bundle", "/booking/seat", "/booking/bag", "/booking/insurance"}
	for i, card := range cards {
		name := seedNames[i]
		assert.Equal(t, name, text(one(t, card, "h3")))
		img := one(t, card, "img")
		assert.Equal(t, seedOffers()[i]["imageURLForTesting"], attr(img, "src"))
		assert.Equal(t, name, attr(img, "alt"))
		assert.Equal(t, "lazy", attr(img, "loading"))

		a := one(t, card, "a")
		href := attr(a, "href")
		assert.True(t, strings.HasPrefix(href, e.url+"/v3/trackers/"), "tracking URL minted by the sandbox: %s", href)
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
	}
	assert.Equal(t, 1, e.sb.CallCount("ancillary_offers"))
}

func TestSlotLinkPolicyWithSandbox(t *testing.T) {
	newSeedEnv := func(t *testing.T) *memEnv {
		return newMemEnv(t, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers())}, personalize.WithBudget(slowBudget))
	}

	t.Run("API host allowed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newSeedEnv(t)
			doc := renderDoc(t, e.pageContext(t), offersSlot("ancillary_offers", components.OfferListProps{Links: components.LinkPolicy{RestrictToAPIHost: true}}))
			links := find(doc, "article a")
			require.Len(t, links, 4)
			for _, a := range links {
				assert.True(t, strings.HasPrefix(attr(a, "href"), e.url+"/v3/trackers/"))
			}
		})
	})
	t.Run("only another host allowed: the offers' own paths", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newSeedEnv(t)
			doc := renderDoc(t, e.pageContext(t), offersSlot("ancillary_offers", components.OfferListProps{Links: components.LinkPolicy{AllowedHosts: []string{"track.example.com"}}}))
			links := find(doc, "article a")
			require.Len(t, links, 4)
			assert.Equal(t, "/booking/seat", attr(links[1], "href"))
			_, rel := lookupAttr(links[1], "rel")
			assert.False(t, rel)
		})
	})
}

func TestSlotFallback(t *testing.T) {
	tests := []struct {
		name       string
		flow       *sandbox.FlowDef
		budget     time.Duration
		friendlyID string
		noPage     bool
		atBudget   bool // the fallback comes when the budget runs out, not before or after
	}{
		{name: "status 500", flow: sandbox.Define("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Status: 500})},
		{name: "status 503", flow: sandbox.Define("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Status: 503})},
		{name: "too slow for the budget", flow: sandbox.Define("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Latency: 3 * time.Second}), budget: 100 * time.Millisecond, atBudget: true},
		{name: "hangs", flow: sandbox.Define("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Hang: true}), budget: 100 * time.Millisecond, atBudget: true},
		{name: "connection reset", flow: sandbox.Define("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Reset: true})},
		{name: "not JSON", flow: sandbox.Define("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Malformed: true})},
		{name: "error object", flow: sandbox.Define("offers").Returns(seedOffers()).WithFault(sandbox.Fault{ErrorObject: true})},
		{name: "empty body", flow: sandbox.Define("offers").Returns(seedOffers()).WithFault(sandbox.Fault{Empty: true})},
		{name: "empty array", flow: sandbox.Define("offers").Returns([]any{})},
		{name: "empty object", flow: sandbox.Define("offers").Returns(map[string]any{})},
		{name: "null", flow: sandbox.Define("offers").Returns(nil)},
		{name: "no offer objects", flow: sandbox.Define("offers").Returns([]any{1, "two", nil})},
		{name: "an object with nothing to show", flow: sandbox.Define("offers").Returns(map[string]any{"message": "No flow executed"})},
		{name: "unknown flow", flow: sandbox.Define("offers").Returns(seedOffers()), friendlyID: "no_such_flow"},
		{name: "no page in the context", flow: sandbox.Define("offers").Returns(seedOffers()), noPage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				budget := tt.budget
				if budget == 0 {
					budget = slowBudget
				}
				e := newMemEnv(t, []*sandbox.FlowDef{tt.flow}, personalize.WithBudget(budget))
				ctx := context.Background()
				if !tt.noPage {
					ctx = e.pageContext(t)
				}
				id := tt.friendlyID
				if id == "" {
					id = "offers"
				}
				start := time.Now()
				doc := renderDoc(t, ctx, offersSlot(id, components.OfferListProps{}))
				if tt.atBudget {
					assert.Equal(t, budget, time.Since(start), "the slot gives up when the budget runs out")
				}
				root := slotRoot(t, doc, id)
				assert.Equal(t, components.StateFallback, attr(root, "data-personalize-state"))
				assert.Equal(t, "Default offers", text(one(t, root, "p.default")))
				assert.Empty(t, find(root, "article, section"), "no decision markup")
				assert.NotContains(t, strings.ToLower(text(root)), "error", "no error shown to the visitor")
			})
		})
	}
}

func TestSlotOneCallPerFriendlyID(t *testing.T) {
	newSeedEnv := func(t *testing.T) *memEnv {
		return newMemEnv(t, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers())}, personalize.WithBudget(slowBudget))
	}

	t.Run("in sequence", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newSeedEnv(t)
			ctx := e.pageContext(t)
			page := templ.Join(
				offersSlot("ancillary_offers", components.OfferListProps{ID: "first"}),
				offersSlot("ancillary_offers", components.OfferListProps{ID: "second"}),
			)
			doc := renderDoc(t, ctx, page)
			roots := find(doc, `[data-personalize-slot="ancillary_offers"]`)
			require.Len(t, roots, 2)
			for _, r := range roots {
				assert.Equal(t, components.StateDecision, attr(r, "data-personalize-state"))
				assert.Len(t, find(r, "article"), 4)
			}
			assert.Equal(t, 1, e.sb.CallCount("ancillary_offers"))
		})
	})

	// In the bubble the prefetched call cannot answer (its latency cannot pass) before all four
	// slots are waiting for it.
	t.Run("concurrently, after a prefetch", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newSeedEnv(t)
			e.sb.SetFlowFault("ancillary_offers", sandbox.Fault{Latency: 50 * time.Millisecond})
			ctx := e.pageContext(t)
			personalize.Prefetch(ctx, "ancillary_offers")
			var wg sync.WaitGroup
			out := make([]string, 4)
			for i := range out {
				wg.Go(func() {
					var b bytes.Buffer
					assert.NoError(t, offersSlot("ancillary_offers", components.OfferListProps{}).Render(ctx, &b))
					out[i] = b.String()
				})
			}
			wg.Wait()
			for _, html := range out {
				root := slotRoot(t, parse(t, html), "ancillary_offers")
				assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
			}
			assert.Equal(t, 1, e.sb.CallCount("ancillary_offers"))
		})
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

	tests := []struct {
		name      string
		decision  func(*personalize.Result) templ.Component
		wantError bool // logged as an error of the site's code
		leaves    bool // the visitor goes away (the request's context ends) before the decision renders
	}{
		{name: "decision func panics", decision: func(*personalize.Result) templ.Component { panic("boom") }, wantError: true},
		{name: "decision func panics with nil map", decision: func(res *personalize.Result) templ.Component {
			var m map[string]int
			//lint:ignore SA5000 the decision panics the way a real bug in the site's code does.
			m["x"]++
			return nil
		}, wantError: true},
		{name: "component panics half-way", decision: func(*personalize.Result) templ.Component { return failing{panics: true} }, wantError: true},
		{name: "component fails half-way", decision: func(*personalize.Result) templ.Component { return failing{} }, wantError: true},
		{name: "nothing to show", decision: func(*personalize.Result) templ.Component { return nil }},
		{name: "the visitor left while it rendered", decision: func(*personalize.Result) templ.Component {
			return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
				_, _ = io.WriteString(w, `<section class="partial"><p>half`)
				return ctx.Err() // a component that stops when its request is over
			})
		}, leaves: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newMemEnv(t, []*sandbox.FlowDef{sandbox.Define("banner").Returns(map[string]any{"name": "Summer sale"})}, personalize.WithBudget(slowBudget))
				var logs bytes.Buffer
				var mu sync.Mutex
				logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
				client := e.newClient(t, personalize.WithLogger(logger), personalize.WithBudget(slowBudget))
				ctx := startPage(t, client)
				if tt.leaves {
					personalize.Prefetch(ctx, "banner")
					_, err := personalize.Flow(ctx, "banner") // the decision is there...
					require.NoError(t, err)
					var leave context.CancelFunc
					ctx, leave = context.WithCancel(ctx)
					leave() // ...and the visitor navigates away: not the site's fault, no error
				}

				slot := components.Slot(components.SlotProps{FriendlyID: "banner", Decision: tt.decision, Fallback: fallback})
				if tt.leaves {
					var out bytes.Buffer
					err := slot.Render(ctx, &out)
					assert.True(t, err == nil || errors.Is(err, context.Canceled), "at most the context's own error: %v", err)
					mu.Lock()
					defer mu.Unlock()
					assert.NotContains(t, logs.String(), `"level":"ERROR"`, "a visitor who left is not an error: %s", logs.String())
					assert.Contains(t, logs.String(), "personalize slot rendered its fallback", "said at debug")
					return
				}
				var html string
				require.NotPanics(t, func() {
					html = render(t, ctx, slot)
				})
				doc := parse(t, html)
				root := slotRoot(t, doc, "banner")
				assert.Equal(t, components.StateFallback, attr(root, "data-personalize-state"))
				assert.Equal(t, "Default offers", text(one(t, root, "p.default")))
				assert.Empty(t, find(doc, ".partial"), "no partial decision markup")
				assert.NotContains(t, html, "half")

				mu.Lock()
				defer mu.Unlock()
				assert.Equal(t, tt.wantError, strings.Contains(logs.String(), `"level":"ERROR"`), "logs: %s", logs.String())
				assert.Contains(t, logs.String(), "personalize slot rendered its fallback")
			})
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
	newPropsEnv := func(t *testing.T) *memEnv {
		return newMemEnv(t, []*sandbox.FlowDef{
			sandbox.Define("ancillary_offers").Returns(seedOffers()),
			sandbox.Define("home_page_banner").Returns(map[string]any{"name": "Summer sale", "description": "30% off", "trackingUrl": sandbox.TrackerPlaceholder, "destination": "/sale"}),
		}, personalize.WithBudget(slowBudget))
	}

	t.Run("root attributes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newPropsEnv(t)
			doc := renderDoc(t, e.pageContext(t), components.Slot(components.SlotProps{
				FriendlyID: "ancillary_offers", ID: "extras", Class: "wide", TestID: "extras-slot",
				Attributes: templ.Attributes{"aria-live": "polite"},
			}))
			root := slotRoot(t, doc, "ancillary_offers")
			assert.Equal(t, "extras", attr(root, "id"))
			assert.Equal(t, "personalize-slot wide", attr(root, "class"))
			assert.Equal(t, "extras-slot", attr(root, "data-testid"))
			assert.Equal(t, "polite", attr(root, "aria-live"))
			assert.Len(t, find(root, "article"), 4, "a nil Decision renders the offers")
		})
	})

	t.Run("children are the fallback and only the fallback's", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newPropsEnv(t)
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
			assert.Len(t, find(doc, ".decision"), 1)
			assert.Empty(t, find(doc, ".child"), "the decision does not get the slot's children")

			doc = renderDoc(t, ctx, components.Slot(components.SlotProps{FriendlyID: "no_such_flow", Decision: showsChildren}))
			assert.Equal(t, "Child default", text(one(t, doc, `[data-personalize-state="fallback"] > p.child`)))
		})
	})

	t.Run("banner decision", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newPropsEnv(t)
			doc := renderDoc(t, e.pageContext(t), components.Slot(components.SlotProps{
				FriendlyID: "home_page_banner",
				Decision:   components.BannerDecision(components.BannerProps{CTA: "Shop"}),
				Fallback:   fallback,
			}))
			root := slotRoot(t, doc, "home_page_banner")
			assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
			assert.Equal(t, "Summer sale", text(one(t, root, "section.personalize-banner h2")))
			assert.Equal(t, "30% off", text(one(t, root, "section.personalize-banner p")))
			assert.True(t, strings.HasPrefix(attr(one(t, root, "a"), "href"), e.url+"/v3/trackers/"))
		})
	})

	t.Run("decoded decision", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newPropsEnv(t)
			type banner struct {
				Name string `json:"name"`
			}
			decision := func(res *personalize.Result) templ.Component {
				var b banner
				if err := res.Decode(&b); err != nil || b.Name == "" {
					return nil
				}
				return templ.Raw(`<p class="mine">` + templ.EscapeString(b.Name) + `</p>`)
			}
			doc := renderDoc(t, e.pageContext(t), components.Slot(components.SlotProps{FriendlyID: "home_page_banner", Decision: decision}))
			assert.Equal(t, "Summer sale", text(one(t, doc, "p.mine")))
		})
	})
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

func TestSlotWriteError(t *testing.T) {
	err := components.Slot(components.SlotProps{FriendlyID: "x", Fallback: fallback}).Render(context.Background(), errWriter{})
	assert.Error(t, err, "a failing writer is the only error a slot returns")
}

// TestSlotDecisionNotCalledWithEmptyResult: a flow that answers with nothing (null, {}, [] or
// "") renders the fallback, and the site's own Decision is never called with that result, as
// SlotProps.Decision promises; a Decision that does not expect it need not check. A flow that
// answers an offer does call it, once.
func TestSlotDecisionNotCalledWithEmptyResult(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		decided bool
	}{
		{name: "null", answer: `null`},
		{name: "empty object", answer: `{}`},
		{name: "empty array", answer: `[]`},
		{name: "empty string", answer: `""`},
		{name: "null with spaces around", answer: " null\n"},
		{name: "empty array with spaces around", answer: "\t[]\n"},
		{name: "an offer", answer: `{"name": "Summer sale"}`, decided: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newMemEnv(t, []*sandbox.FlowDef{sandbox.Define("banner").Returns(json.RawMessage(tt.answer))}, personalize.WithBudget(slowBudget))
				var calls atomic.Int32
				decision := func(res *personalize.Result) templ.Component {
					calls.Add(1)
					// Shows whatever it is given: only the slot can keep an empty result from it.
					return templ.Raw(`<p class="decided">` + templ.EscapeString(string(res.Raw)) + `</p>`)
				}
				doc := renderDoc(t, e.pageContext(t), components.Slot(components.SlotProps{FriendlyID: "banner", Decision: decision, Fallback: fallback}))
				require.Equal(t, 1, e.sb.CallCount("banner"), "the flow was called")
				root := slotRoot(t, doc, "banner")
				if tt.decided {
					assert.Equal(t, int32(1), calls.Load(), "the Decision is called once with the offer")
					assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
					assert.Len(t, find(root, "p.decided"), 1)
					return
				}
				assert.Zero(t, calls.Load(), "the Decision is not called with an empty result")
				assert.Equal(t, components.StateFallback, attr(root, "data-personalize-state"))
				assert.Equal(t, "Default offers", text(one(t, root, "p.default")))
				assert.Empty(t, find(root, "p.decided"), "no decision markup")
			})
		})
	}
}

// A decision the cache served (personalize.WithCaching) says so on the slot's root.
func TestSlotServedFromTheCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newMemEnv(t, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers())},
			personalize.WithCaching(personalize.Caching{Flows: map[string]personalize.CachePolicy{
				"ancillary_offers": personalize.StaleOnFailure(time.Hour)}}))
		slot := offersSlot("ancillary_offers", components.OfferListProps{})
		root := slotRoot(t, renderDoc(t, startPage(t, e.client), slot), "ancillary_offers")
		assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
		assert.False(t, hasAttr(root, "data-personalize-cache"), "a fresh answer: no mark")

		e.sb.SetFault(sandbox.Fault{Status: http.StatusServiceUnavailable})
		root = slotRoot(t, renderDoc(t, startPage(t, e.client), slot), "ancillary_offers")
		assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"), "the visitor's last decision")
		assert.Equal(t, "stale", attr(root, "data-personalize-cache"))
		assert.Len(t, find(root, "article.personalize-offer"), 4)
	})
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}
