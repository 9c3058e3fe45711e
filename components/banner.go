package components

import (
	"cmp"
	"context"
	"io"
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

// Banner renders a single decision as a hero: a <section> with the offer's image, title (<h2>),
// text and a call to action linking through its tracking URL. The image is not lazy-loaded:
// a hero is usually the largest thing above the fold. Fields are escaped as text; the link
// follows the props' LinkPolicy and is left out when not allowed.
//
//	<section id="{id}" class="personalize-banner" data-testid="personalize-banner" aria-labelledby="{id}-title">
//		<img class="personalize-banner__image" src="..." alt="{title}" decoding="async">
//		<div class="personalize-banner__body">
//			<h2 id="{id}-title" class="personalize-banner__title">{title}</h2>
//			<p class="personalize-banner__text">{text}</p>
//			<a class="personalize-banner__cta" href="{tracking URL}" rel="nofollow" aria-label="{cta}: {title}">{cta}</a>
//			{extra}
//		</div>
//	</section>
func Banner(p BannerProps) templ.Component {
	return templ.ComponentFunc(p.render)
}

func (p BannerProps) render(ctx context.Context, w io.Writer) error {
	ctx, m, b, err := beginComponent(ctx, w)
	if err != nil {
		return err
	}
	v := newBannerView(ctx, p)
	m.banner(ctx, &v)
	return m.end(b)
}

// bannerView is what the banner shows, built from the props. Class and TestID are the props'
// own ("" for the defaults, written as static strings).
type bannerView struct {
	ID, Class, TestID string
	Attributes        templ.Attributes
	Title, Text       string
	TitleID           bool // the title has an ID, the banner's ID + "-title"
	Image             string
	Link              link
	CTA               string
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
	v.TitleID = v.ID != "" && v.Title != ""
	return v
}

func (m *markup) banner(ctx context.Context, v *bannerView) {
	attrs := m.spread(ctx, "section", v.Attributes)
	m.open(&bannerRoot, v.ID, v.Class)
	m.testID(&bannerRoot, v.TestID)
	if v.TitleID {
		m.raw(` aria-labelledby="`)
		m.text(v.ID)
		m.raw(`-title"`)
	}
	m.endSpread(attrs)
	m.raw(">")
	if v.Image != "" {
		m.raw(`<img class="personalize-banner__image" src="`)
		m.url(v.Image)
		m.attr(`" alt="`, v.Title)
		m.raw(` decoding="async">`)
	}
	m.raw(`<div class="personalize-banner__body">`)
	if v.Title != "" {
		m.heading(v.TitleID, v.ID, `-title"`, ` class="personalize-banner__title">`, v.Title)
	}
	if v.Text != "" {
		m.raw(`<p class="personalize-banner__text">`)
		m.text(v.Text)
		m.raw("</p>")
	}
	if v.Link.Href != "" {
		m.cta(`<a class="personalize-banner__cta" href="`, v.Link, v.CTA, v.Title)
	}
	if v.Extra != nil {
		m.component(ctx, v.Extra)
	}
	m.raw("</div></section>")
}
