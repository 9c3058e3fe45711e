package components_test

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

// apiBase is the API of the pages in the link tests; no call is made to it.
const apiBase = "https://api-engage-eu.sitecorecloud.io"

// offlinePage returns a context with a page whose client points at apiBase. The tests using it
// render links only and never call a flow.
func offlinePage(t *testing.T) context.Context {
	t.Helper()
	client, err := personalize.New("key", personalize.WithBaseURL(apiBase), personalize.WithPointOfSale("test"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, client.Close(context.Background())) })
	return startPage(t, client)
}

// linkOf renders a TrackingLink around "go" and returns its href and rel, ok=false when no
// <a> was rendered. The children are always rendered.
func linkOf(t *testing.T, ctx context.Context, p components.LinkProps) (href, rel string, ok bool) {
	t.Helper()
	c := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return components.TrackingLink(p).Render(templ.WithChildren(ctx, templ.Raw("<span>go</span>")), w)
	})
	doc := renderDoc(t, ctx, c)
	require.Len(t, find(doc, "span"), 1, "children are rendered")
	links := find(doc, "a")
	if len(links) == 0 {
		return "", "", false
	}
	require.Len(t, links, 1)
	a := links[0]
	require.Len(t, find(a, "span"), 1, "children are inside the link")
	return attr(a, "href"), attr(a, "rel"), true
}

func TestTrackingLinkSchemes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		tracking string
		plain    string
		wantHref string // "" means no link
		tracked  bool
	}{
		{name: "https", tracking: "https://api.example.com/v3/trackers/a", wantHref: "https://api.example.com/v3/trackers/a", tracked: true},
		{name: "relative", tracking: "/v3/trackers/a", wantHref: "/v3/trackers/a", tracked: true},
		{name: "javascript", tracking: "javascript:alert(1)"},
		{name: "javascript mixed case", tracking: "JaVaScRiPt:alert(1)"},
		{name: "javascript leading space", tracking: "  javascript:alert(1)"},
		{name: "javascript with tab", tracking: "java\tscript:alert(1)"},
		{name: "javascript with control character", tracking: "\x01javascript:alert(1)"},
		{name: "data", tracking: "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="},
		{name: "vbscript", tracking: "vbscript:msgbox(1)"},
		{name: "unsafe tracking falls back to the offer's URL", tracking: "javascript:alert(1)", plain: "/booking/seat", wantHref: "/booking/seat"},
		{name: "unsafe own URL too", tracking: "data:text/html,x", plain: "javascript:alert(1)"},
		{name: "own URL only", plain: "https://shop.example.com/seat", wantHref: "https://shop.example.com/seat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := offer(map[string]any{"trackingUrl": tt.tracking, "url": tt.plain})
			href, rel, ok := linkOf(t, ctx, components.LinkProps{Offer: o})
			if tt.wantHref == "" {
				assert.False(t, ok, "no link, got href %q", href)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.wantHref, href)
			assert.Equal(t, tt.tracked, rel == "nofollow")
		})
	}
}

func TestTrackingLinkPolicy(t *testing.T) {
	tests := []struct {
		name     string
		policy   components.LinkPolicy
		noPage   bool
		tracking string
		plain    string
		wantHref string
	}{
		{name: "API host allowed", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: apiBase + "/v3/trackers/a", wantHref: apiBase + "/v3/trackers/a"},
		{name: "API host, any case and default port", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: "https://API-ENGAGE-EU.sitecorecloud.io:443/v3/trackers/a", wantHref: "https://API-ENGAGE-EU.sitecorecloud.io:443/v3/trackers/a"},
		{name: "other host refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: "https://evil.example.com/v3/trackers/a"},
		{name: "other host refused, own site path used", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: "https://evil.example.com/x", plain: "/booking/seat", wantHref: "/booking/seat"},
		{name: "suffix host refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: apiBase + ".evil.com/x"},
		{name: "userinfo trick refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: "https://api-engage-eu.sitecorecloud.io@evil.com/x"},
		{name: "backslash trick refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: `https://evil.com\@api-engage-eu.sitecorecloud.io/x`},
		{name: "other port refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: "https://api-engage-eu.sitecorecloud.io:8443/x"},
		{name: "protocol-relative refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: "//evil.com/x"},
		{name: "relative tracking refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: "/v3/trackers/a"},
		{name: "javascript refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, tracking: "javascript:alert(1)"},
		{name: "own URL on another host refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, plain: "https://evil.com/"},
		{name: "own URL protocol-relative refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, plain: "//evil.com/"},
		{name: "own URL backslash refused", policy: components.LinkPolicy{RestrictToAPIHost: true}, plain: `/\evil.com/`},
		{name: "no page: no API host", policy: components.LinkPolicy{RestrictToAPIHost: true}, noPage: true, tracking: apiBase + "/v3/trackers/a"},
		{name: "allow-list host on any port", policy: components.LinkPolicy{AllowedHosts: []string{"Track.Example.com"}}, tracking: "https://track.example.com:8443/t/1", wantHref: "https://track.example.com:8443/t/1"},
		{name: "allow-list host with port", policy: components.LinkPolicy{AllowedHosts: []string{"track.example.com:8443"}}, tracking: "https://track.example.com/t/1"},
		{name: "allow-list alone does not allow the API host", policy: components.LinkPolicy{AllowedHosts: []string{"track.example.com"}}, tracking: apiBase + "/v3/trackers/a"},
		{name: "allow-list and API host", policy: components.LinkPolicy{RestrictToAPIHost: true, AllowedHosts: []string{"track.example.com"}}, tracking: "http://track.example.com/t/1", wantHref: "http://track.example.com/t/1"},
		{name: "allow-list refuses other schemes", policy: components.LinkPolicy{AllowedHosts: []string{"track.example.com"}}, tracking: "ftp://track.example.com/t/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if !tt.noPage {
				ctx = offlinePage(t)
			}
			o := offer(map[string]any{"trackingUrl": tt.tracking, "destination": tt.plain})
			href, _, ok := linkOf(t, ctx, components.LinkProps{Offer: o, Links: tt.policy})
			if tt.wantHref == "" {
				assert.False(t, ok, "no link, got href %q", href)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.wantHref, href)

			// The card applies the same policy.
			doc := renderDoc(t, ctx, components.OfferCard(components.OfferCardProps{Offer: o, Links: tt.policy}))
			assert.Equal(t, tt.wantHref, attr(one(t, doc, "a"), "href"))
		})
	}
}

func TestTrackingLinkURLOverride(t *testing.T) {
	href, rel, ok := linkOf(t, context.Background(), components.LinkProps{URL: "https://api.example.com/t/9", Offer: offer(map[string]any{"trackingUrl": "https://other.example.com/"})})
	require.True(t, ok)
	assert.Equal(t, "https://api.example.com/t/9", href)
	assert.Equal(t, "nofollow", rel)
}

// FuzzOfferLinks renders offers with arbitrary links and fields: no link may carry a script
// scheme, no element may be injected, and a restricted policy only lets through the API host
// or a path on the site.
func FuzzOfferLinks(f *testing.F) {
	for _, s := range []struct{ tracking, plain, name string }{
		{"https://api-engage-eu.sitecorecloud.io/v3/trackers/x", "/booking/seat", "Seat"},
		{"javascript:alert(1)", "JAVASCRIPT:alert(1)", "<script>alert(1)</script>"},
		{" \x00data:text/html,x", "vbscript:x", `"><img src=x onerror=alert(1)>`},
		{"//evil.com", `/\evil.com`, "&lt;b&gt;"},
		{"https://evil.com\\@api-engage-eu.sitecorecloud.io/", "java\nscript:x", "x"},
	} {
		f.Add(s.tracking, s.plain, s.name, true)
		f.Add(s.tracking, s.plain, s.name, false)
	}
	f.Fuzz(func(t *testing.T, tracking, plain, name string, restrict bool) {
		ctx := offlinePage(t)
		o := offer(map[string]any{"trackingUrl": tracking, "url": plain, "name": name, "imageUrl": tracking})
		policy := components.LinkPolicy{RestrictToAPIHost: restrict}
		for _, c := range []templ.Component{
			components.OfferCard(components.OfferCardProps{Offer: o, Links: policy}),
			components.Banner(components.BannerProps{Offer: o, Links: policy}),
		} {
			doc := renderDoc(t, ctx, c)
			if len(find(doc, "script, iframe, object, embed, [onerror], [onclick], [onload]")) > 0 {
				t.Fatalf("injected markup for %q / %q / %q", tracking, plain, name)
			}
			for _, n := range find(doc, "[href], [src]") {
				for _, a := range []string{"href", "src"} {
					v, ok := lookupAttr(n, a)
					if !ok {
						continue
					}
					if scheme := browserScheme(v); scheme != "" && scheme != "http" && scheme != "https" && scheme != "mailto" && scheme != "tel" && scheme != "ftp" && scheme != "ftps" && v != string(templ.FailedSanitizationURL) {
						t.Fatalf("%s=%q has scheme %q", a, v, scheme)
					}
					if restrict && a == "href" && !strings.HasPrefix(v, "/") {
						u, err := url.Parse(v)
						if err != nil || !strings.EqualFold(u.Hostname(), "api-engage-eu.sitecorecloud.io") {
							t.Fatalf("restricted href %q is not on the API host", v)
						}
					}
					if restrict && a == "href" && strings.HasPrefix(v, "/") && (strings.HasPrefix(v, "//") || strings.HasPrefix(v, `/\`)) {
						t.Fatalf("restricted href %q leaves the site", v)
					}
				}
			}
		}
	})
}

// browserScheme returns the scheme a browser would read in a URL, lower-cased: it drops
// leading and trailing spaces and control characters and any tab or newline first.
func browserScheme(v string) string {
	v = strings.TrimFunc(v, func(r rune) bool { return r <= ' ' })
	v = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, v)
	i := strings.IndexAny(v, ":/?#")
	if i <= 0 || v[i] != ':' {
		return ""
	}
	return strings.ToLower(v[:i])
}

// TestRestrictedPolicyRefusesPathsToOtherHosts: under a restricted policy an offer's own URL is
// used when it is a path on the site, and "/\evil.com", "\\evil.com\x" (a browser reads a
// backslash as a slash), "//evil.com" (protocol-relative) and "/<tab>/evil.com" (a browser
// drops tabs and newlines) are not: they lead to another host. The offer still renders, in
// every component, without that link; as a tracking link they are refused too.
func TestRestrictedPolicyRefusesPathsToOtherHosts(t *testing.T) {
	policies := []struct {
		name   string
		policy components.LinkPolicy
	}{
		{"API host", components.LinkPolicy{RestrictToAPIHost: true}},
		{"allow-list", components.LinkPolicy{AllowedHosts: []string{"track.example.com"}}},
	}
	offHost := []string{
		`/\evil.com`, `/\evil.com/booking`, `\\evil.com\x`, `\/evil.com`, `//evil.com`, `//evil.com/booking`,
		` //evil.com`, "/\t/evil.com", "/\n/evil.com", "/\r/evil.com",
	}
	// rendered is what an offer with the fields renders as, in each component that shows a link.
	rendered := func(t *testing.T, ctx context.Context, policy components.LinkPolicy, fields map[string]any) map[string]string {
		o := offer(fields)
		out := map[string]string{}
		for name, c := range map[string]templ.Component{
			"card":       components.OfferCard(components.OfferCardProps{Offer: o, Links: policy}),
			"whole card": components.OfferCard(components.OfferCardProps{Offer: o, Links: policy, LinkWholeCard: true}),
			"list":       components.OfferList(components.OfferListProps{Offers: []personalize.Offer{o}, Links: policy}),
			"banner":     components.Banner(components.BannerProps{Offer: o, Links: policy}),
		} {
			out[name] = render(t, ctx, c)
		}
		return out
	}
	for _, p := range policies {
		t.Run(p.name, func(t *testing.T) {
			ctx := offlinePage(t)
			// A path on the site is kept: the refusals below are about the host, not all paths.
			for name, html := range rendered(t, ctx, p.policy, map[string]any{"name": "Seat", "destination": "/booking/seat"}) {
				assert.Equal(t, "/booking/seat", attr(one(t, parse(t, html), "a"), "href"), "%s", name)
			}
			for _, u := range offHost {
				for _, key := range []string{"destination", "url", "trackingUrl"} {
					href, _, ok := linkOf(t, ctx, components.LinkProps{Offer: offer(map[string]any{key: u}), Links: p.policy})
					assert.False(t, ok, "%s %q: no link, got href %q", key, u, href)
					for name, html := range rendered(t, ctx, p.policy, map[string]any{"name": "Seat", key: u}) {
						doc := parse(t, html)
						assert.Empty(t, find(doc, "a, [href]"), "%s: %s %q renders without a link: %s", name, key, u, html)
						assert.NotContains(t, html, "evil.com", "%s: %s %q", name, key, u)
						assert.Equal(t, "Seat", text(one(t, doc, "h2, h3")), "%s: the offer still renders", name)
					}
				}
			}
		})
	}
}
