package components

import (
	"context"
	"net"
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/internal/seam"
)

// LinkPolicy says which links of an offer may reach the page. Every link goes through templ's
// URL sanitisation whatever the policy (javascript:, data:, vbscript: and other schemes never
// reach the page); the zero policy allows any link that passes it.
//
// A restricted policy (RestrictToAPIHost, or a non-empty AllowedHosts) allows a tracking link
// only when it is an absolute http or https URL whose host is the API's host or an allowed
// host. When an offer's tracking link is not allowed, the offer's own URL is used instead if it
// is a path on the site itself ("/booking/seat") or points at an allowed host; otherwise the
// offer renders without a link. An unsafe URL is never rendered.
type LinkPolicy struct {
	// RestrictToAPIHost allows tracking links only to the host of the API the page's client
	// calls (its region's host, or the one given to personalize.WithBaseURL). With no page in
	// the context no API host is known, and only AllowedHosts are allowed.
	RestrictToAPIHost bool
	// AllowedHosts are further hosts links may point at: "host" matches that host on any port,
	// "host:port" only that port. Matching ignores case.
	AllowedHosts []string
}

// restricted reports whether the policy limits hosts.
func (lp LinkPolicy) restricted() bool { return lp.RestrictToAPIHost || len(lp.AllowedHosts) > 0 }

// link is a resolved link: the href to render and whether it is the offer's tracking link.
type link struct {
	Href    string
	Tracked bool
}

// resolveLink picks the link to render for a tracking URL and an offer's own URL under the
// policy, "" when neither may reach the page. ctx gives the API host (the page's client).
func (lp LinkPolicy) resolveLink(ctx context.Context, tracking, plain string) link {
	tracking, plain = strings.TrimSpace(tracking), strings.TrimSpace(plain)
	if !lp.restricted() {
		if tracking != "" && sanitizes(tracking) {
			return link{Href: tracking, Tracked: true}
		}
		if plain != "" && sanitizes(plain) {
			return link{Href: plain}
		}
		return link{}
	}
	apiHost := ""
	if lp.RestrictToAPIHost {
		apiHost = apiHostOf(ctx)
	}
	if tracking != "" && lp.allowsAbsolute(tracking, apiHost) {
		return link{Href: tracking, Tracked: true}
	}
	if plain != "" && (sitePath(plain) || lp.allowsAbsolute(plain, apiHost)) {
		return link{Href: plain}
	}
	return link{}
}

// sanitizes reports whether templ's URL sanitisation lets s through.
func sanitizes(s string) bool { return templ.URL(s) != templ.FailedSanitizationURL }

// allowsAbsolute reports whether s is an absolute http(s) URL to the API host or an allowed
// host. Anything a browser might read differently from net/url (backslashes, whitespace,
// control characters) is refused outright.
func (lp LinkPolicy) allowsAbsolute(s, apiHost string) bool {
	if !sanitizes(s) || strings.ContainsFunc(s, suspicious) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return false
	}
	if apiHost != "" && sameHost(u, apiHost) {
		return true
	}
	for _, h := range lp.AllowedHosts {
		if hostMatches(u, h) {
			return true
		}
	}
	return false
}

// sitePath reports whether s is a path on the site itself: it starts with one "/" (not "//",
// which a browser reads as another host, nor "/\").
func sitePath(s string) bool {
	if len(s) == 0 || s[0] != '/' || strings.ContainsFunc(s, suspicious) {
		return false
	}
	return len(s) == 1 || (s[1] != '/' && s[1] != '\\')
}

func suspicious(r rune) bool {
	return r == '\\' || r <= ' ' || r == 0x7f
}

// apiHostOf returns "host[:port]" of the API the page in ctx calls, "" without a page.
func apiHostOf(ctx context.Context) string {
	c := seam.PageClient(ctx)
	if c == nil {
		return ""
	}
	u, err := url.Parse(c.BaseURL())
	if err != nil {
		return ""
	}
	return normalHost(u)
}

// normalHost is the URL's host, lower-cased, without the scheme's default port.
func normalHost(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	scheme := strings.ToLower(u.Scheme)
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return host
	}
	return net.JoinHostPort(host, port)
}

func sameHost(u *url.URL, host string) bool { return normalHost(u) == host }

// hostMatches matches an AllowedHosts entry: "host" on any port, "host:port" exactly.
func hostMatches(u *url.URL, entry string) bool {
	entry = strings.ToLower(strings.TrimSpace(entry))
	if entry == "" {
		return false
	}
	if h, p, err := net.SplitHostPort(entry); err == nil {
		port := u.Port()
		if port == "" {
			switch strings.ToLower(u.Scheme) {
			case "http":
				port = "80"
			case "https":
				port = "443"
			}
		}
		return strings.EqualFold(u.Hostname(), h) && port == p
	}
	return strings.EqualFold(u.Hostname(), strings.Trim(entry, "[]"))
}

// safeImage returns s when it may be an image source (an http or https URL, or a path on the
// site), else "".
func safeImage(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || !sanitizes(s) || strings.ContainsFunc(s, suspicious) {
		return ""
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && !strings.ContainsRune(s[:i], '/') {
		scheme := strings.ToLower(s[:i])
		if scheme != "http" && scheme != "https" {
			return ""
		}
	}
	return s
}
