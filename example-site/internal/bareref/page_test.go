package bareref

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decode decodes a JSON answer as CallFlow does.
func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

func TestNewHero(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		want   heroView
	}{
		{"offer object", `{"title":"Sale","text":"Now","cta":"Go","badge":"New","theme":"summer","image":"/i.svg","trackingUrl":"http://t/1","destination":"/d"}`,
			heroView{Personalized: true, Title: "Sale", Text: "Now", CTA: "Go", Badge: "New", Theme: "summer", Image: "/i.svg",
				Link: linkView{Href: "http://t/1", Tracked: true}}},
		{"defaults of an offer", `{"Name":"Sale","destination":"/d"}`,
			heroView{Personalized: true, Title: "Sale", CTA: heroCTA, Theme: "default", Link: linkView{Href: "/d"}}},
		{"first of a list", `[{"title":"A"},{"title":"B"}]`,
			heroView{Personalized: true, Title: "A", CTA: heroCTA, Theme: "default"}},
		{"unsafe link and image", `{"title":"A","trackingUrl":"javascript:alert(1)","url":"data:x","imageUrl":"ftp://x/i.png"}`,
			heroView{Personalized: true, Title: "A", CTA: heroCTA, Theme: "default"}},
		{"no title", `{"text":"only text"}`, defaultHero()},
		{"empty object", `{}`, defaultHero()},
		{"empty list", `[]`, defaultHero()},
		{"null", `null`, defaultHero()},
		{"scalar", `"x"`, defaultHero()},
		{"title not a string", `{"title":3}`, defaultHero()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, newHero(decode(t, tt.answer)))
		})
	}
	assert.Equal(t, defaultHero(), newHero(nil), "a failed call")
}

func TestNewDestinations(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		want   destinationsView
	}{
		{"list of offers", `[{"Name":"Lisbon","description":"Trams","price":"€59","duration":"2 h","imageUrl":"/l.svg","trackingUrl":"http://t/1"},{"x":1},{"name":"Kyoto"}]`,
			destinationsView{Personalized: true, Cards: []cardView{
				{Name: "Lisbon", Description: "Trams", Price: "€59", Duration: "2 h", Image: "/l.svg",
					Link: linkView{Href: "http://t/1", Tracked: true}, CTALabel: "See fares: Lisbon"},
				{Name: "Kyoto", CTALabel: "See fares: Kyoto"},
			}}},
		{"object holding offers", `{"a":[1],"offers":[{"title":"Kyoto","url":"/k"}]}`,
			destinationsView{Personalized: true, Cards: []cardView{
				{Name: "Kyoto", Link: linkView{Href: "/k"}, CTALabel: "See fares: Kyoto"}}}},
		{"a card without a name", `[{"description":"Somewhere"}]`,
			destinationsView{Personalized: true, Cards: []cardView{{Description: "Somewhere"}}}},
		{"nothing to show", `[{"x":1},{"price":"€1"}]`, defaultDestinations()},
		{"empty list", `[]`, defaultDestinations()},
		{"null", `null`, defaultDestinations()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, newDestinations(decode(t, tt.answer)))
		})
	}
}

func TestNewNewsletter(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		want   bannerView
	}{
		{"offer object", `{"title":"Alerts","text":"Twice a month","trackingUrl":"http://t/1","badge":"New","theme":"subscriber"}`,
			bannerView{Personalized: true, Title: "Alerts", Text: "Twice a month", CTA: newsletterCTA, Badge: "New",
				Theme: "subscriber", Link: linkView{Href: "http://t/1", Tracked: true}, CTALabel: "Sign me up: Alerts"}},
		{"own call to action", `{"title":"Alerts","cta":"Join"}`,
			bannerView{Personalized: true, Title: "Alerts", CTA: "Join", Theme: "default", CTALabel: "Join: Alerts"}},
		{"no title", `{"text":"x"}`, defaultNewsletter()},
		{"null", `null`, defaultNewsletter()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, newNewsletter(decode(t, tt.answer)))
		})
	}
}

func TestDefaultsShowContent(t *testing.T) {
	h, d, n := defaultHero(), defaultDestinations(), defaultNewsletter()
	assert.False(t, h.Personalized || d.Personalized || n.Personalized)
	assert.NotEmpty(t, h.Title)
	assert.Len(t, d.Cards, 3)
	assert.NotEmpty(t, n.Title)
}

func TestCompact(t *testing.T) {
	assert.Equal(t, "<p><a>x</a> <b>y</b></p>", compact("<p>\n\t<a>x</a>\n\t <b>y</b>\n</p>"))
	var buf bytes.Buffer
	require.NoError(t, newHomeTemplate().Execute(&buf, newHomeView(nil, nil, nil)))
	assert.NotContains(t, buf.String(), "\n", "the page is one line, as templ renders it")
	assert.NotContains(t, buf.String(), "\t")
}

// FuzzHomeView feeds API answers to the three slots and the page: any JSON renders, and a
// slot that does not show a decision shows its default content.
func FuzzHomeView(f *testing.F) {
	for _, s := range []string{`{"title":"a"}`, `[{"Name":"b","trackingUrl":"javascript:alert(1)"}]`,
		`{"offers":[{"name":"<script>"}]}`, `null`, `[]`, `{"TITLE":"x","Text":1}`, `{"title":"a","image":"data:x"}`} {
		f.Add([]byte(s))
	}
	page := newHomeTemplate()
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		view := newHomeView(v, v, v)
		if !view.Hero.Personalized {
			assert.Equal(t, defaultHero(), view.Hero)
		}
		if !view.Destinations.Personalized {
			assert.Equal(t, defaultDestinations(), view.Destinations)
		}
		if !view.Newsletter.Personalized {
			assert.Equal(t, defaultNewsletter(), view.Newsletter)
		}
		require.NoError(t, page.Execute(io.Discard, view))
	})
}
