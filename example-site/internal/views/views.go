// Package views holds the example site's templ pages and the view models they show. View
// models are built in Go (here and in the handlers); the templates stay thin.
package views

import (
	"strings"

	"github.com/go-personalize/sdk/personalize"
)

// Friendly IDs of the flows the site's pages ask for (a contract of the example site).
const (
	FlowHomeBanner   = "home_page_banner"
	FlowDestinations = "recommended_destinations"
	FlowNewsletter   = "newsletter_offer"
	FlowAncillaries  = "ancillary_offers"
)

// Meta is what every page's layout shows.
type Meta struct {
	// Title is the page's title, before " · Go Airways".
	Title string
	// Description is the page's meta description.
	Description string
	// Path is the page's path, to mark the current navigation link.
	Path string
	// StyleURL is the stylesheet's versioned URL.
	StyleURL string
	// Mode is "sandbox" or "tenant", shown in the footer.
	Mode string
	// Links rewrites offers' tracking links before they are rendered (see LocalLinks).
	Links Links
	// Member is the signed-in member, nil when the visitor has not signed in.
	Member *Member
}

// Member is a member of the Go Airways Club, as the pages show them.
type Member struct {
	ID, FirstName, Name, Email string
}

// Links rewrites offers' links for this site. In sandbox mode the sandbox mints absolute
// tracking links to the address the site calls itself at (http://127.0.0.1:8080/v3/...);
// Local turns them into site paths so they work whatever host name the visitor used.
type Links struct {
	// APIBase is the base URL whose tracking links are made site paths; "" leaves links as
	// they are (tenant mode: links go to Sitecore's tracker).
	APIBase string
}

// Local returns the offer with its tracking link made a site path when it points at APIBase.
func (l Links) Local(o personalize.Offer) personalize.Offer {
	if l.APIBase == "" {
		return o
	}
	tracking := o.TrackingURL()
	rest, ok := strings.CutPrefix(tracking, l.APIBase)
	if !ok || !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//") {
		return o
	}
	fields := o.Fields()
	for k := range fields {
		if strings.EqualFold(k, "trackingUrl") {
			fields[k] = rest
		}
	}
	return personalize.NewOffer(fields)
}

// All returns the offers with Local applied.
func (l Links) All(offers []personalize.Offer) []personalize.Offer {
	out := make([]personalize.Offer, len(offers))
	for i, o := range offers {
		out[i] = l.Local(o)
	}
	return out
}

// Nav is one link of the header's navigation.
type Nav struct {
	Href, Label string
}

// navigation is the header's navigation.
func navigation() []Nav {
	return []Nav{
		{Href: "/", Label: "Flights"},
		{Href: "/booking", Label: "My booking"},
		{Href: "/_personalize", Label: "Personalization"},
	}
}

// current reports whether a navigation link is the page's.
func (m Meta) current(href string) bool {
	return m.Path == href
}

// fullTitle is the <title> of the page.
func (m Meta) fullTitle() string {
	if m.Title == "" {
		return "Go Airways"
	}
	return m.Title + " · Go Airways"
}
