package components

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/personalize"
)

// LinkProps are the props of TrackingLink.
type LinkProps struct {
	// Offer gives the link: its tracking URL, or its own URL when it has none or the policy
	// refuses the tracking URL.
	Offer personalize.Offer
	// URL, when set, is the tracking URL to use instead of the offer's (for decisions decoded
	// into the site's own types).
	URL string
	// Links says which links may reach the page (the zero value allows any safe link).
	Links LinkPolicy
	// ID, Class and Attributes go on the <a>; Class adds to "personalize-link".
	ID         string
	Class      string
	Attributes templ.Attributes
	// TestID is the link's data-testid (TestIDLink when empty).
	TestID string
}

// TrackingLink renders its children inside an <a> to the offer's tracking URL, so a click goes
// through Personalize's tracker. The URL goes through templ's URL sanitisation (javascript:,
// data:, vbscript: and other schemes never reach the page) and the props' LinkPolicy; when no
// link is allowed, the children are rendered without a link.
//
//	@components.TrackingLink(components.LinkProps{Offer: o}) { Book now }
//
//	<a class="personalize-link" href="{tracking URL}" rel="nofollow" data-testid="personalize-link">Book now</a>
func TrackingLink(p LinkProps) templ.Component {
	return templ.ComponentFunc(p.render)
}

func (p LinkProps) render(ctx context.Context, w io.Writer) error {
	children := templ.GetChildren(ctx)
	ctx, m, b, err := beginComponent(ctx, w)
	if err != nil {
		return err
	}
	p.link(ctx, &m, children)
	return m.end(b)
}

// link writes the link around its children, or only the children when no link is allowed.
func (p *LinkProps) link(ctx context.Context, m *markup, children templ.Component) {
	l := p.resolve(ctx)
	if l.Href == "" {
		m.component(ctx, children)
		return
	}
	attrs := m.spread(ctx, "a", p.Attributes)
	m.open(&linkRoot, p.ID, strings.TrimSpace(p.Class))
	m.raw(` href="`)
	m.url(l.Href)
	m.raw(`"`)
	if l.Tracked {
		m.raw(` rel="nofollow"`)
	}
	m.testID(&linkRoot, ownTestID(p.TestID, TestIDLink))
	m.endSpread(attrs)
	m.raw(">")
	m.component(ctx, children)
	m.raw("</a>")
}

func (p LinkProps) resolve(ctx context.Context) link {
	tracking := p.URL
	if tracking == "" {
		tracking = p.Offer.TrackingURL()
	}
	return p.Links.resolveLink(ctx, tracking, p.Offer.URL())
}
