package components_test

import (
	"context"
	"io"
	"testing"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

// TestRootProps: every component's root element takes the props' ID, Class (added to its
// own), TestID (its default when empty) and Attributes, and shows its defaults without them.
func TestRootProps(t *testing.T) {
	o := offer(map[string]any{"name": "Seat", "trackingUrl": "https://api-engage-eu.sitecorecloud.io/v3/trackers/seat"})
	type root struct{ id, class, testID string }
	link := func(p components.LinkProps) templ.Component {
		return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			return components.TrackingLink(p).Render(templ.WithChildren(ctx, templ.Raw("Seat")), w)
		})
	}
	tests := []struct {
		name, selector, base, defaultTestID string
		make                                func(root, templ.Attributes) templ.Component
	}{
		{"offer card", "article", "personalize-offer", components.TestIDOfferCard, func(r root, a templ.Attributes) templ.Component {
			return components.OfferCard(components.OfferCardProps{Offer: o, ID: r.id, Class: r.class, TestID: r.testID, Attributes: a})
		}},
		{"offer list", "section", "personalize-offers", components.TestIDOfferList, func(r root, a templ.Attributes) templ.Component {
			return components.OfferList(components.OfferListProps{Offers: []personalize.Offer{o}, ID: r.id, Class: r.class, TestID: r.testID, Attributes: a})
		}},
		{"banner", "section", "personalize-banner", components.TestIDBanner, func(r root, a templ.Attributes) templ.Component {
			return components.Banner(components.BannerProps{Offer: o, ID: r.id, Class: r.class, TestID: r.testID, Attributes: a})
		}},
		{"tracking link", "a", "personalize-link", components.TestIDLink, func(r root, a templ.Attributes) templ.Component {
			return link(components.LinkProps{Offer: o, ID: r.id, Class: r.class, TestID: r.testID, Attributes: a})
		}},
		// Without a page, the slot shows its fallback: its root is the same.
		{"slot", "div", "personalize-slot", components.TestIDSlot, func(r root, a templ.Attributes) templ.Component {
			return components.Slot(components.SlotProps{FriendlyID: "f", Fallback: templ.Raw("x"), ID: r.id, Class: r.class, TestID: r.testID, Attributes: a})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := renderDoc(t, context.Background(), tt.make(root{}, nil))
			el := find(doc, tt.selector)
			require.NotEmpty(t, el)
			assert.Equal(t, "", attr(el[0], "id"))
			assert.Equal(t, tt.base, attr(el[0], "class"))
			assert.Equal(t, tt.defaultTestID, attr(el[0], "data-testid"))

			doc = renderDoc(t, context.Background(), tt.make(root{id: "r", class: "  wide dark ", testID: "mine"}, templ.Attributes{"data-x": "1", "aria-live": "polite"}))
			el = find(doc, tt.selector)
			require.NotEmpty(t, el)
			assert.Equal(t, "r", attr(el[0], "id"))
			assert.Equal(t, tt.base+" wide dark", attr(el[0], "class"))
			assert.Equal(t, "mine", attr(el[0], "data-testid"))
			assert.Equal(t, "1", attr(el[0], "data-x"))
			assert.Equal(t, "polite", attr(el[0], "aria-live"))

			doc = renderDoc(t, context.Background(), tt.make(root{testID: tt.defaultTestID}, templ.Attributes{}))
			el = find(doc, tt.selector)
			require.NotEmpty(t, el)
			assert.Equal(t, tt.defaultTestID, attr(el[0], "data-testid"))
		})
	}
}
