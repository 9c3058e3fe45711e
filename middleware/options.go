package middleware

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// Defaults used when an Options field is zero.
const (
	// DefaultCookieMaxAge is the browser ID cookie's lifetime, renewed whenever a flow runs:
	// 730 days, as the Sitecore SDKs set it.
	DefaultCookieMaxAge = 730 * 24 * time.Hour
	// DefaultVisitTimeout ends a visit (and its campaign) after this long without a
	// personalized request.
	DefaultVisitTimeout = 30 * time.Minute
	// DefaultSessionName is the name of the session (and of its cookie with the default store).
	DefaultSessionName = "personalize_visit"
	// DefaultCacheControl is set on responses for which a flow ran, unless the handler set its
	// own Cache-Control.
	DefaultCacheControl = "private, no-store"
	// CookiePrefix makes the default browser ID cookie name, CookiePrefix + client key: the
	// name the Sitecore Engage JavaScript SDK uses, so both share one visitor.
	CookiePrefix = "bid_"
	// MinKeyLength is the shortest session key accepted.
	MinKeyLength = 32
)

// CookiePreset names the cookies a visitor is kept in, as one of Sitecore's browser SDKs
// names them, so that a site that also runs that SDK in the browser has one visitor, not two.
type CookiePreset uint8

const (
	// CookiesAuto is EngageCookies for a client of a regional API host and CloudSDKCookies
	// for a client made with personalize.WithEdge. The default.
	CookiesAuto CookiePreset = iota
	// EngageCookies keeps the browser ID in bid_<clientKey>, as the Engage SDK does. There
	// is no guest ref cookie. It needs a client key: not with personalize.WithEdge.
	EngageCookies
	// CloudSDKCookies keeps the browser ID in sc_cid and, through the Edge proxy, the
	// guest ref in sc_cid_personalize, as the Cloud SDK does (packages/core/src/lib/consts.ts,
	// packages/personalize/src/lib/initializer/server/initializer.ts). The Cloud SDK's legacy
	// names, sc_<contextId> and sc_<contextId>_personalize, are read too and moved to the new
	// ones (the legacy cookies deleted) the next time a flow runs, as the SDK migrates them.
	CloudSDKCookies
)

// The Cloud SDK's cookie names (CloudSDKCookies).
const (
	CloudSDKBrowserCookie = "sc_cid"
	CloudSDKGuestCookie   = "sc_cid_personalize"
)

// SecureMode says when the browser ID and session cookies carry the Secure attribute.
type SecureMode uint8

const (
	// SecureAuto marks cookies Secure when the request came over TLS, or over https according
	// to X-Forwarded-Proto as the trusted proxies wrote it (TrustedProxies).
	SecureAuto SecureMode = iota
	// SecureAlways always marks cookies Secure.
	SecureAlways
	// SecureNever never marks cookies Secure (plain-HTTP development only).
	SecureNever
)

// Strategy says where new browser IDs come from.
type Strategy uint8

const (
	// CreateWithSitecore asks Sitecore for a new browser ID (GET /v1.2/browser/create.json),
	// as the official SDKs do. The default.
	CreateWithSitecore Strategy = iota
	// MintLocally makes a random UUID v4 without a network call. Opt in only if your tenant
	// accepts browser IDs it did not issue. Through the Edge proxy no guest ref is looked up
	// then (the Edge may not know the browser), so flows go without guestRef unless the
	// visitor's sc_cid_personalize cookie has one.
	MintLocally
)

// Options configure a Middleware. The zero value works for development: cookie
// bid_<clientKey>, SameSite=None; Secure on HTTPS and Lax on plain HTTP, browser IDs created
// by Sitecore, consent assumed, bots and prefetches not personalized, and random session keys
// (a warning is logged: sessions then neither survive a restart nor work across instances).
type Options struct {
	// Cookies names the visitor's cookies as the Engage SDK or the Cloud SDK does. Default
	// CookiesAuto: Engage's bid_<clientKey> for a regional API client, the Cloud SDK's sc_cid
	// and sc_cid_personalize for a client made with personalize.WithEdge.
	Cookies CookiePreset
	// CookieName is the browser ID cookie's name, replacing the preset's.
	CookieName string
	// LegacyCookieNames are read when CookieName is absent; a valid ID found there is moved to
	// CookieName (and the legacy cookie deleted) the next time a flow runs.
	LegacyCookieNames []string
	// CookieDomain sets the cookies' Domain attribute; empty means host-only.
	CookieDomain string
	// CookieMaxAge is the browser ID cookie's lifetime (whole seconds). Default
	// DefaultCookieMaxAge.
	CookieMaxAge time.Duration
	// SameSite is the cookies' SameSite attribute. By default the browser ID cookie is
	// SameSite=None; Secure on a Secure response, as the Sitecore browser SDKs set it (a
	// renewal then never downgrades the cookie the browser SDK shares), and Lax on plain HTTP,
	// where browsers refuse None without Secure; the session cookie is Lax. A mode set here
	// applies to both; http.SameSiteNoneMode requires Secure: SecureAlways.
	SameSite http.SameSite
	// Secure says when cookies are marked Secure. Default SecureAuto.
	Secure SecureMode
	// HTTPOnly marks the browser ID cookie HttpOnly. Off by default because the Sitecore
	// browser SDK must be able to read it; turn it on if no script needs it. The session
	// cookie is always HttpOnly.
	HTTPOnly bool
	// TrustedProxies is how many proxies in front of the site append to X-Forwarded-Proto
	// (or set it), for SecureAuto behind a TLS-terminating proxy: the value the outermost of
	// them wrote, the TrustedProxies-th from the end of the header's comma-separated values,
	// says whether the visitor came over https. Values before it are what the visitor (or an
	// untrusted proxy) sent, and are ignored. Behind one load balancer, 1; behind a CDN and
	// a load balancer that both append, 2. 0 (the default) trusts no X-Forwarded-Proto.
	TrustedProxies int

	// BrowserIDs says how new browser IDs are made. Default CreateWithSitecore.
	BrowserIDs Strategy

	// SessionStore keeps the visit's campaign. Default: a gorilla/sessions cookie store with
	// SessionKeys. Pass a shared store (e.g. Redis-backed) to keep sessions server-side. The
	// store is asked for a session only when the request carries a cookie named SessionName,
	// as gorilla/sessions' stores keep a session (or its ID) in one.
	SessionStore sessions.Store
	// SessionKeys are the default cookie store's keys, as sessions.NewCookieStore takes them:
	// pairs of an authentication key (at least 32 bytes, 64 recommended) and an encryption key
	// (exactly 32 bytes, or empty for none). The first pair protects new cookies; later pairs
	// still read older ones, for key rotation. Every instance of a site must use the same keys.
	SessionKeys [][]byte
	// SessionName names the session. Default DefaultSessionName.
	SessionName string
	// VisitTimeout ends a visit after this long without a personalized request (sliding).
	// Default DefaultVisitTimeout.
	VisitTimeout time.Duration

	// Consent reports whether the visitor agreed to personalization cookies. Without consent no
	// cookie is set, no browser is created and flows report "no consent". Nil means every
	// visitor consents: set it on any site that needs consent.
	Consent func(*http.Request) bool
	// AllowKnownIdentitiesWithoutConsent lets flows that name an email or identifiers identity
	// run for visitors without consent (still no cookie and no browser).
	AllowKnownIdentitiesWithoutConsent bool
	// PersonalizeBots and PersonalizePrefetch personalize crawlers and speculative prefetches,
	// which by default create nothing and call no flow.
	PersonalizeBots     bool
	PersonalizePrefetch bool
	// IsBot replaces the built-in crawler detection (github.com/x-way/crawlerdetect on the
	// User-Agent).
	IsBot func(*http.Request) bool

	// SendViewEvents sends a VIEW event for each page request that personalization covers,
	// through the client's event queue, so that Personalize can attribute page view goals: a
	// GET (not HEAD) answered 2xx with an HTML body (Content-Type text/html, decided when the
	// headers go out), from a visitor who consented, is neither a bot nor a prefetch, and has
	// a browser ID: from the cookie, or created during the request by a flow (or an event).
	// No browser is ever created just for a VIEW. The event carries the request's path, its
	// Referer and its own utm_* parameters. Queueing never blocks the response: when the
	// client's queue is full the event is dropped and counted (Client.EventStats). It needs no
	// setup; close the client at shutdown (Client.Close) to deliver what is queued.
	SendViewEvents bool

	// ServerTiming adds a Server-Timing header to responses for which a flow ran:
	// personalize;dur=<ms>;desc="<n> flows", the time from the page's first flow call's start
	// to its last one's end (calls run in parallel: the most the page waited for them, not
	// their sum), in milliseconds with one decimal, as it stands when the headers go out (a
	// call still running counts until then). Off by default: it tells every visitor how long
	// personalization took, which browsers' developer tools and scripts can read.
	ServerTiming bool

	// CacheControl is set on responses for which a flow ran, unless the handler set its own
	// Cache-Control. Default DefaultCacheControl. Such responses also get Vary: Cookie.
	CacheControl string

	// Logger receives warnings (cookies that could not be set, sessions that could not be
	// saved). Default: the client's logger.
	Logger *slog.Logger
}

// config is Options checked and with defaults filled in.
type config struct {
	cookieName   string
	legacy       []string
	guestCookie  string   // the guest ref cookie, "" for none (CloudSDKCookies through the Edge proxy)
	guestLegacy  []string // legacy names of the guest ref cookie
	domain       string
	maxAge       int
	sameSite     http.SameSite
	secure       SecureMode
	httpOnly     bool
	proxies      int
	strategy     Strategy
	store        sessions.Store
	sessionName  string
	visitTimeout int
	consent      func(*http.Request) bool
	knownIDs     bool
	bots         bool
	prefetch     bool
	isBot        func(*http.Request) bool
	cacheControl string
	sendViews    bool
	serverTiming bool
	logger       *slog.Logger
	generatedKey bool
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("middleware: "+format, args...)
}

// edge describes the client's transport for the cookie presets: its Edge context ID, and
// whether it goes through the Edge proxy.
type edge struct {
	contextID string
	on        bool
}

func newConfig(clientKey string, e edge, o Options, logger *slog.Logger) (config, error) {
	c := config{
		domain:       o.CookieDomain,
		sameSite:     o.SameSite,
		secure:       o.Secure,
		httpOnly:     o.HTTPOnly,
		proxies:      o.TrustedProxies,
		strategy:     o.BrowserIDs,
		store:        o.SessionStore,
		sessionName:  cmp.Or(o.SessionName, DefaultSessionName),
		consent:      o.Consent,
		knownIDs:     o.AllowKnownIdentitiesWithoutConsent,
		bots:         o.PersonalizeBots,
		prefetch:     o.PersonalizePrefetch,
		isBot:        o.IsBot,
		cacheControl: cmp.Or(o.CacheControl, DefaultCacheControl),
		sendViews:    o.SendViewEvents,
		serverTiming: o.ServerTiming,
		logger:       cmp.Or(o.Logger, logger),
	}
	if err := c.presetCookies(clientKey, e, o); err != nil {
		return c, err
	}
	if !validName(c.cookieName) {
		return c, errorf("cookie name %q is not a valid cookie name", c.cookieName)
	}
	for _, name := range o.LegacyCookieNames {
		if !validName(name) {
			return c, errorf("legacy cookie name %q is not a valid cookie name", name)
		}
		if name != c.cookieName {
			c.legacy = append(c.legacy, name)
		}
	}
	if c.domain != "" && !validDomain(c.domain) {
		return c, errorf("cookie domain %q is not a valid domain", c.domain)
	}
	switch {
	case o.CookieMaxAge == 0:
		c.maxAge = int(DefaultCookieMaxAge / time.Second)
	case o.CookieMaxAge < time.Second:
		return c, errorf("cookie max age must be at least one second, got %v", o.CookieMaxAge)
	default:
		c.maxAge = int(o.CookieMaxAge / time.Second)
	}
	switch c.sameSite {
	case 0:
		// The browser ID cookie's is chosen per response (browserSameSite); the session
		// cookie, which only the server reads, stays Lax.
	case http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		if c.secure != SecureAlways {
			return c, errorf("SameSite=None cookies must be Secure: set Secure to SecureAlways")
		}
	default:
		return c, errorf("unknown SameSite mode %d", c.sameSite)
	}
	if c.proxies < 0 {
		return c, errorf("TrustedProxies must not be negative, got %d", c.proxies)
	}
	if c.secure > SecureNever {
		return c, errorf("unknown secure mode %d", c.secure)
	}
	if c.strategy > MintLocally {
		return c, errorf("unknown browser ID strategy %d", c.strategy)
	}
	if !validName(c.sessionName) {
		return c, errorf("session name %q is not a valid cookie name", c.sessionName)
	}
	if c.sessionName == c.cookieName {
		return c, errorf("session name and browser ID cookie name are both %q", c.sessionName)
	}
	if c.guestCookie != "" && (c.guestCookie == c.cookieName || c.guestCookie == c.sessionName) {
		return c, errorf("the guest ref cookie %q has the name of the browser ID or session cookie", c.guestCookie)
	}
	switch {
	case o.VisitTimeout == 0:
		c.visitTimeout = int(DefaultVisitTimeout / time.Second)
	case o.VisitTimeout < time.Second:
		return c, errorf("visit timeout must be at least one second, got %v", o.VisitTimeout)
	default:
		c.visitTimeout = int(o.VisitTimeout / time.Second)
	}
	if strings.ContainsAny(c.cacheControl, "\r\n") {
		return c, errorf("cache control %q contains a line break", c.cacheControl)
	}
	if c.store != nil && len(o.SessionKeys) > 0 {
		return c, errorf("set SessionKeys or SessionStore, not both")
	}
	if c.store == nil {
		keys := o.SessionKeys
		if len(keys) == 0 {
			keys = randomKeys()
			c.generatedKey = true
		}
		if err := checkKeys(keys); err != nil {
			return c, err
		}
		cs := sessions.NewCookieStore(keys...)
		cs.MaxAge(c.visitTimeout)
		for _, codec := range cs.Codecs {
			if sc, ok := codec.(*securecookie.SecureCookie); ok {
				sc.SetSerializer(stringCodec{})
			}
		}
		c.store = cs
	}
	return c, nil
}

// presetCookies names the browser ID and guest ref cookies after o.Cookies (and o.CookieName).
func (c *config) presetCookies(clientKey string, e edge, o Options) error {
	preset := o.Cookies
	if preset == CookiesAuto {
		preset = EngageCookies
		if e.on {
			preset = CloudSDKCookies
		}
	}
	switch preset {
	case EngageCookies:
		if clientKey == "" && o.CookieName == "" {
			return errorf("EngageCookies name the cookie after the client key, and a client made WithEdge has none: use CloudSDKCookies or CookieName")
		}
		c.cookieName = cmp.Or(o.CookieName, CookiePrefix+clientKey)
	case CloudSDKCookies:
		c.cookieName = cmp.Or(o.CookieName, CloudSDKBrowserCookie)
		if e.on {
			c.guestCookie = CloudSDKGuestCookie
			// The Cloud SDK's legacy names (core/src/lib/initializer/server/initializer.ts and
			// personalize/src/lib/initializer/server/handleHttpCookie.ts).
			c.legacy = append(c.legacy, "sc_"+e.contextID)
			c.guestLegacy = []string{"sc_" + e.contextID + "_personalize"}
		}
	default:
		return errorf("unknown cookie preset %d", preset)
	}
	return nil
}

// checkKeys enforces the key sizes: authentication keys of at least MinKeyLength bytes,
// encryption keys of exactly 32 (AES-256) or empty.
func checkKeys(keys [][]byte) error {
	for i, k := range keys {
		if i%2 == 0 {
			if len(k) < MinKeyLength {
				return errorf("session key %d is %d bytes: authentication keys need at least %d", i, len(k), MinKeyLength)
			}
			continue
		}
		if len(k) != 0 && len(k) != 32 {
			return errorf("session key %d is %d bytes: encryption keys must be 32 bytes (or empty for none)", i, len(k))
		}
	}
	return nil
}

// randomKeys makes a fresh authentication key and encryption key. crypto/rand.Read never
// fails (it crashes the program when the system cannot give randomness).
func randomKeys() [][]byte {
	hash, block := make([]byte, 64), make([]byte, 32)
	_, _ = rand.Read(hash)
	_, _ = rand.Read(block)
	return [][]byte{hash, block}
}

// validName reports whether s may name a cookie, as net/http checks it.
func validName(s string) bool { return (&http.Cookie{Name: s}).Valid() == nil }

// validDomain reports whether d may be a cookie's Domain attribute, as net/http checks it (a
// host name or IP address, optionally with a leading dot; no port).
func validDomain(d string) bool { return (&http.Cookie{Name: "x", Domain: d}).Valid() == nil }
