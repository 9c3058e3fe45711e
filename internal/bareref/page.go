package bareref

import (
	"maps"
	"slices"
	"strings"
)

// homeView is what the home page template renders.
type homeView struct {
	Slots []slotView
}

// slotView is one slot: the flow's decision, or the slot's default content.
type slotView struct {
	Flow         string
	Personalized bool
	Title        string
	Text         string
	Link         string
	Items        []itemView
}

// itemView is one offer of a slot that holds a list.
type itemView struct {
	Name string
	Link string
}

// maxItems caps the offers a slot lists.
const maxItems = 12

// newSlotView reads a decoded flow answer the way a site would read the common shapes: an
// object with a title/name and text (and maybe a list of offers under any key), or a list of
// offer objects. Anything else, or nothing to show, is the slot's default content.
func newSlotView(flow string, answer any) slotView {
	v := slotView{Flow: flow}
	switch a := answer.(type) {
	case map[string]any:
		v.Title = field(a, "title", "name")
		v.Text = field(a, "text", "description")
		v.Link = field(a, "trackingUrl")
		for _, k := range slices.Sorted(maps.Keys(a)) { // the first list of offers, by key
			if list, ok := a[k].([]any); ok {
				if v.Items = items(list); len(v.Items) > 0 {
					break
				}
			}
		}
	case []any:
		v.Items = items(a)
	}
	if v.Title == "" && len(v.Items) == 0 {
		return defaultSlot(flow)
	}
	if v.Title == "" {
		v.Title = defaultSlot(flow).Title // a list of offers under the slot's own heading
	}
	v.Personalized = true
	return v
}

// items reads the offer objects of a list, skipping anything without a name.
func items(list []any) []itemView {
	var out []itemView
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		if name := field(m, "name", "title"); name != "" {
			out = append(out, itemView{Name: name, Link: field(m, "trackingUrl")})
			if len(out) == maxItems {
				break
			}
		}
	}
	return out
}

// field returns the first of keys (matched without regard to case) holding a string.
func field(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok {
			return s
		}
		for mk, mv := range m {
			if s, ok := mv.(string); ok && strings.EqualFold(mk, k) {
				return s
			}
		}
	}
	return ""
}

// defaultSlot is a slot's content when there is no decision.
func defaultSlot(flow string) slotView {
	v := slotView{Flow: flow}
	switch flow {
	case FlowBanner:
		v.Title, v.Text = "Fly for less", "Fares to 120 destinations, every day."
	case FlowDestinations:
		v.Title, v.Text = "Popular destinations", "Lisbon, Reykjavik, Kyoto and more."
	case FlowNewsletter:
		v.Title, v.Text = "Our newsletter", "Deals in your inbox every Friday."
	default:
		v.Title = "Welcome"
	}
	return v
}

// homeTemplate is the page: a head, a header and the three slots, as the example site's home
// page shows them (without its styling).
const homeTemplate = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example Air</title>
</head>
<body>
<header><a href="/">Example Air</a> <nav><a href="/booking">Book</a></nav></header>
<main>
{{- range .Slots}}
<section class="slot" data-testid="slot-{{.Flow}}" data-personalize-flow="{{.Flow}}" data-personalize-state="{{if .Personalized}}decision{{else}}fallback{{end}}">
<h2>{{.Title}}</h2>
{{- with .Text}}
<p>{{.}}</p>
{{- end}}
{{- with .Link}}
<a class="cta" href="{{.}}">See more</a>
{{- end}}
{{- with .Items}}
<ul>
{{- range .}}
<li>{{if .Link}}<a href="{{.Link}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</li>
{{- end}}
</ul>
{{- end}}
</section>
{{- end}}
</main>
<footer>Example Air</footer>
</body>
</html>
`
