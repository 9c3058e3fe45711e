package components

import (
	"context"

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

func (p LinkProps) resolve(ctx context.Context) link {
	tracking := p.URL
	if tracking == "" {
		tracking = p.Offer.TrackingURL()
	}
	return p.Links.resolveLink(ctx, tracking, p.Offer.URL())
}
