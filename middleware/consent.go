package middleware

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/x-way/crawlerdetect"
)

// BlockReason says why a visitor gets no personalization: flows report it as
// personalize.ErrNoVisitor, and no cookie, browser, session or event is made for the visitor.
type BlockReason uint8

const (
	// NotBlocked: the visitor may be personalized (or the request is outside the middleware).
	NotBlocked BlockReason = iota
	// BlockedNoConsent: Options.Consent said no.
	BlockedNoConsent
	// BlockedBot: the request comes from a crawler or a script (Options.IsBot,
	// Options.PersonalizeBots).
	BlockedBot
	// BlockedPrefetch: the request is a speculative prefetch (Options.PersonalizePrefetch).
	BlockedPrefetch
	// BlockedHEAD: a HEAD request, whose answer has no body for anyone to see: no flow is
	// worth calling and no browser worth creating for it.
	BlockedHEAD
)

// String returns "no consent", "bot" or "prefetch", the words flows' errors use, and "" for
// NotBlocked.
func (r BlockReason) String() string {
	switch r {
	case NotBlocked:
		return ""
	case BlockedNoConsent:
		return "no consent"
	case BlockedBot:
		return "bot"
	case BlockedPrefetch:
		return "prefetch"
	case BlockedHEAD:
		return "HEAD request"
	}
	return "BlockReason(" + strconv.Itoa(int(r)) + ")"
}

// blockReason says why the request must not be personalized, or NotBlocked when it may be.
// It is evaluated only when a request asks for personalization: crawler detection runs
// regular expressions over the User-Agent.
func (m *Middleware) blockReason(r *http.Request) BlockReason {
	if r.Method == http.MethodHead {
		return BlockedHEAD
	}
	if m.cfg.consent != nil && !m.cfg.consent(r) {
		return BlockedNoConsent
	}
	if !m.cfg.bots && m.isBot(r) {
		return BlockedBot
	}
	if !m.cfg.prefetch && isPrefetch(r.Header) {
		return BlockedPrefetch
	}
	return NotBlocked
}

func (m *Middleware) isBot(r *http.Request) bool {
	if m.cfg.isBot != nil {
		return m.cfg.isBot(r)
	}
	// No User-Agent is no crawler (isbot's rule too): httptest.NewRequest sends none, and a
	// site's first test must see personalization.
	ua := strings.TrimSpace(r.UserAgent())
	if ua == "" {
		return false
	}
	// crawlerdetect's regular expressions cost time in proportion to the User-Agent (13 ms at
	// 4 KB, 250 ms at 60 KB): a visitor could buy the server's CPU with a long one. No browser
	// sends more than a few hundred bytes, so a longer agent is a script, and not inspected.
	if len(ua) > maxInspectedAgent {
		return true
	}
	if !m.crawlers.isCrawler(ua) {
		return false
	}
	m.botHint.Do(func() {
		m.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn,
			"middleware: a request whose User-Agent looks like a crawler or a script (curl, Go-http-client, HeadlessChrome...) gets the default content, and so do all such requests; send a browser's User-Agent in tests, or set Options.PersonalizeBots",
			slog.String("user_agent", truncated(ua, 120)))
	})
	return true
}

// truncated cuts s to at most n bytes, at a character boundary.
func truncated(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Bounds of the crawler detection: User-Agents longer than maxInspectedAgent count as
// scripts without inspection, and the cache keeps maxCachedAgents verdicts.
const (
	maxCachedAgents   = 4096
	maxInspectedAgent = 512
)

// crawlerCache remembers crawlerdetect's verdicts: its regular expressions take a few hundred
// microseconds per User-Agent, and a site sees the same few hundred agents all day. When full
// it starts over, so hostile agents cost what they would without it.
type crawlerCache struct {
	mu sync.RWMutex
	m  map[string]bool
}

func (c *crawlerCache) isCrawler(ua string) bool {
	c.mu.RLock()
	v, ok := c.m[ua]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = crawlerdetect.IsCrawler(ua)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedAgents {
		c.m = make(map[string]bool)
	}
	c.m[ua] = v
	c.mu.Unlock()
	return v
}

// isPrefetch reports whether the request is a speculative prefetch, whose response the
// visitor may never see:
//
//   - Sec-Purpose: prefetch (the standard header; Chrome's speculation rules, Firefox). A
//     prefetch;prerender is not counted: a prerendered page is shown to the visitor as soon as
//     they navigate, without another request, so it must be personalized like a navigation.
//   - The older Purpose: prefetch (Chrome), X-Moz: prefetch (Firefox) and X-Purpose: preview or
//     prefetch (Safari), except on mobile browsers (Sec-CH-UA-Mobile: ?1), which send
//     Purpose: prefetch on real navigations too (Sitecore/jss#2102 skipped personalization
//     for real mobile visitors that way).
func isPrefetch(h http.Header) bool {
	if v := h["Sec-Purpose"]; len(v) > 0 {
		return secPurposePrefetch(v)
	}
	if strings.TrimSpace(headerValue(h, "Sec-Ch-Ua-Mobile")) == "?1" {
		return false
	}
	if tokenIs(headerValue(h, "Purpose"), "prefetch") || tokenIs(headerValue(h, "X-Moz"), "prefetch") {
		return true
	}
	xp := headerValue(h, "X-Purpose")
	return tokenIs(xp, "preview") || tokenIs(xp, "prefetch")
}

// secPurposePrefetch parses Sec-Purpose, a structured-field list such as "prefetch",
// "prefetch;anonymous-client-ip" or "prefetch;prerender": a prefetch item without the
// prerender parameter is a prefetch.
func secPurposePrefetch(lines []string) bool {
	prefetch := false
	for _, line := range lines {
		for line != "" {
			var item string
			item, line, _ = strings.Cut(line, ",")
			token, params, _ := strings.Cut(item, ";")
			if !tokenIs(token, "prefetch") {
				continue
			}
			for params != "" {
				var p string
				p, params, _ = strings.Cut(params, ";")
				name, _, _ := strings.Cut(p, "=")
				if tokenIs(name, "prerender") {
					return false
				}
			}
			prefetch = true
		}
	}
	return prefetch
}

func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func tokenIs(s, want string) bool {
	return strings.EqualFold(strings.TrimSpace(s), want)
}
