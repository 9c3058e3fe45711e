package bareref

import (
	"maps"
	"slices"
	"strings"
)

// homeView is what the home page template renders: the three slots of the example site's
// home page.
type homeView struct {
	Hero         heroView
	Destinations destinationsView
	Newsletter   bannerView
}

// linkView is a resolved link: the href and whether it is the offer's tracking link (which
// gets rel="nofollow", as the site's components do).
type linkView struct {
	Href    string
	Tracked bool
}

// heroView is the home_page_banner slot: the hero of a decision, or the default hero.
type heroView struct {
	Personalized bool
	Theme, Badge string
	Title, Text  string
	CTA, Image   string
	Link         linkView
}

// destinationsView is the recommended_destinations slot: a card per destination.
type destinationsView struct {
	Personalized bool
	Cards        []cardView
}

// cardView is one destination card.
type cardView struct {
	Name, Description string
	Image             string
	Link              linkView
	// CTALabel names the call to action after its destination ("See fares: Lisbon").
	CTALabel        string
	Price, Duration string
}

// bannerView is the newsletter_offer slot: the newsletter banner of a decision, or the
// default one.
type bannerView struct {
	Personalized bool
	Theme, Badge string
	Title, Text  string
	CTA, Image   string
	Link         linkView
	// CTALabel names the call to action after the banner's title.
	CTALabel string
}

// The calls to action the site shows when an offer gives none.
const (
	destinationCTA = "See fares"
	newsletterCTA  = "Sign me up"
	heroCTA        = "Book now"
)

// newHomeView reads the three flows' decoded answers (nil where a call failed), in the order
// FlowBanner, FlowDestinations, FlowNewsletter.
func newHomeView(banner, destinations, newsletter any) homeView {
	return homeView{
		Hero:         newHero(banner),
		Destinations: newDestinations(destinations),
		Newsletter:   newNewsletter(newsletter),
	}
}

// newHero is the hero of the banner flow's first offer, or the default hero when there is
// none or it has no title.
func newHero(answer any) heroView {
	list := offers(answer)
	if len(list) == 0 {
		return defaultHero()
	}
	o := list[0]
	h := heroView{
		Personalized: true,
		Title:        name(o),
		Text:         description(o),
		CTA:          or(field(o, "cta"), heroCTA),
		Badge:        field(o, "badge"),
		Theme:        or(field(o, "theme"), "default"),
		Image:        image(o),
		Link:         offerLink(o),
	}
	if h.Title == "" {
		return defaultHero()
	}
	return h
}

// defaultHero is the hero when there is no decision.
func defaultHero() heroView {
	return heroView{
		Title: "See Europe from €39",
		Text:  "Direct flights from Amsterdam to 60 cities, with a cabin bag included in every fare.",
		CTA:   "Find a flight",
		Theme: "default",
		Image: "/static/img/hero-plane.svg",
		Link:  linkView{Href: "/booking"},
	}
}

// newDestinations is a card for each offer of the destinations flow with something to show,
// or the default destinations when there is none.
func newDestinations(answer any) destinationsView {
	var v destinationsView
	for _, o := range offers(answer) {
		c := cardView{
			Name:        name(o),
			Description: description(o),
			Image:       image(o),
			Link:        offerLink(o),
			Price:       field(o, "price"),
			Duration:    field(o, "duration"),
		}
		if c.Name == "" && c.Description == "" && c.Image == "" && field(o, "trackingUrl") == "" && plainURL(o) == "" {
			continue // nothing to show
		}
		c.CTALabel = ctaLabel(destinationCTA, c.Name)
		v.Cards = append(v.Cards, c)
	}
	if len(v.Cards) == 0 {
		return defaultDestinations()
	}
	v.Personalized = true
	return v
}

// defaultDestinations are the destination cards when there is no decision.
func defaultDestinations() destinationsView {
	card := func(name, desc, price, duration, img, url string) cardView {
		return cardView{Name: name, Description: desc, Price: price, Duration: duration, Image: img,
			Link: linkView{Href: url}, CTALabel: ctaLabel(destinationCTA, name)}
	}
	return destinationsView{Cards: []cardView{
		card("Lisbon", "Yellow trams, tiled façades and sunsets over the Tagus.", "from €59", "2 h 50", "/static/img/lisbon.svg", "/booking?to=lisbon"),
		card("Barcelona", "Gaudí by day, tapas by night, the beach in between.", "from €64", "2 h 15", "/static/img/barcelona.svg", "/booking?to=barcelona"),
		card("Copenhagen", "Harbour swims, cinnamon buns and bikes everywhere.", "from €49", "1 h 20", "/static/img/copenhagen.svg", "/booking?to=copenhagen"),
	}}
}

// newNewsletter is the newsletter banner of the newsletter flow's first offer, or the default
// banner when there is none or it has no title.
func newNewsletter(answer any) bannerView {
	list := offers(answer)
	if len(list) == 0 || name(list[0]) == "" {
		return defaultNewsletter()
	}
	o := list[0]
	b := bannerView{
		Personalized: true,
		Title:        name(o),
		Text:         description(o),
		CTA:          or(field(o, "cta"), newsletterCTA),
		Badge:        field(o, "badge"),
		Theme:        or(field(o, "theme"), "default"),
		Image:        image(o),
		Link:         offerLink(o),
	}
	b.CTALabel = ctaLabel(b.CTA, b.Title)
	return b
}

// defaultNewsletter is the newsletter banner when there is no decision.
func defaultNewsletter() bannerView {
	b := bannerView{
		Title: "Join 40,000 travellers on our fare alerts",
		Text:  "Two emails a month with the lowest fares we have. Unsubscribe in one click.",
		CTA:   newsletterCTA,
		Theme: "default",
		Link:  linkView{Href: "/?subscribed=1"},
	}
	b.CTALabel = ctaLabel(b.CTA, b.Title)
	return b
}

// offers returns the offer objects of an answer in the shapes flows answer with: a list of
// offer objects, an object holding such a list (under its first key, in key order, that
// holds one), or a single offer object. Anything else has none.
func offers(answer any) []map[string]any {
	switch a := answer.(type) {
	case []any:
		return objects(a)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(a)) {
			if list, ok := a[k].([]any); ok {
				if out := objects(list); len(out) > 0 {
					return out
				}
			}
		}
		if len(a) > 0 {
			return []map[string]any{a}
		}
	}
	return nil
}

// objects returns the non-empty objects of a list.
func objects(list []any) []map[string]any {
	var out []map[string]any
	for _, x := range list {
		if m, ok := x.(map[string]any); ok && len(m) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// The fields of an offer the page shows, by their common spellings.
func name(o map[string]any) string        { return field(o, "name", "title") }
func description(o map[string]any) string { return field(o, "description", "text") }
func plainURL(o map[string]any) string    { return field(o, "url", "destination") }

// image is the offer's image when it may be an image source (an http(s) URL or a path).
func image(o map[string]any) string {
	s := strings.TrimSpace(field(o, "imageUrl", "image"))
	if s == "" || !safeScheme(s, "http", "https") {
		return ""
	}
	return s
}

// offerLink is the offer's tracking link when it is safe, else its own URL when that is,
// else no link.
func offerLink(o map[string]any) linkView {
	if t := strings.TrimSpace(field(o, "trackingUrl")); t != "" && safeLink(t) {
		return linkView{Href: t, Tracked: true}
	}
	if u := strings.TrimSpace(plainURL(o)); u != "" && safeLink(u) {
		return linkView{Href: u}
	}
	return linkView{}
}

// safeLink reports whether a link has no scheme or an http, https or mailto one (as
// html/template allows; anything else would render as "#ZgotmplZ").
func safeLink(s string) bool { return safeScheme(s, "http", "https", "mailto") }

// safeScheme reports whether s has no scheme or one of schemes.
func safeScheme(s string, schemes ...string) bool {
	i := strings.IndexByte(s, ':')
	if i < 0 || strings.ContainsRune(s[:i], '/') {
		return true
	}
	for _, sc := range schemes {
		if strings.EqualFold(s[:i], sc) {
			return true
		}
	}
	return false
}

// ctaLabel names a call to action after its offer ("See fares: Lisbon"), "" without a name.
func ctaLabel(cta, name string) string {
	if name == "" {
		return ""
	}
	return cta + ": " + name
}

// field returns the first of keys (matched exactly, then without regard to case) that holds
// a non-empty string.
func field(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
		for mk, mv := range m {
			if s, ok := mv.(string); ok && s != "" && strings.EqualFold(mk, k) {
				return s
			}
		}
	}
	return ""
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
