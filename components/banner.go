package components

import (
	"cmp"
	"context"
	"strings"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/personalize"
)

// BannerProps are the props of Banner, a hero for a single decision.
type BannerProps struct {
	// Offer is the decision to show.
	Offer personalize.Offer
	// Title and Text, when set, replace the offer's name and description.
	Title string
	Text  string
	// CTA is the text of the call to action (DefaultCTA when empty).
	CTA string
	// Links says which links may reach the page (the zero value allows any safe link).
	Links LinkPolicy
	// Extra, when set, is rendered after the call to action.
	Extra templ.Component
	// ID, Class and Attributes go on the root <section>; Class adds to "personalize-banner".
	ID         string
	Class      string
	Attributes templ.Attributes
	// TestID is the root's data-testid (TestIDBanner when empty).
	TestID string
}

// bannerView is what the banner template shows, built from the props in Go. Class and
// TestID are the props' own ("" for the defaults, which the template writes as static
// strings).
type bannerView struct {
	ID, Class, TestID string
	Attributes        templ.Attributes
	Title, Text       string
	TitleID           string
	Image             string
	Link              link
	CTA, CTALabel     string
	Extra             templ.Component
}

func newBannerView(ctx context.Context, p BannerProps) bannerView {
	o := p.Offer
	v := bannerView{
		ID:         p.ID,
		Class:      strings.TrimSpace(p.Class),
		TestID:     ownTestID(p.TestID, TestIDBanner),
		Attributes: p.Attributes,
		Title:      cmp.Or(p.Title, o.Name()),
		Text:       cmp.Or(p.Text, o.Description()),
		Image:      safeImage(o.ImageURL()),
		Link:       p.Links.resolveLink(ctx, o.TrackingURL(), o.URL()),
		CTA:        cmp.Or(p.CTA, DefaultCTA),
		Extra:      p.Extra,
	}
	v.CTALabel = ctaLabel(v.CTA, v.Title)
	if v.ID != "" && v.Title != "" {
		v.TitleID = v.ID + "-title"
	}
	return v
}

// ctaLabel names a call to action after its offer, so a list of "View offer" links reads
// apart to a screen reader; it starts with the visible text, as WCAG 2.5.3 asks.
func ctaLabel(cta, name string) string {
	if name == "" {
		return ""
	}
	return cta + ": " + name
}
