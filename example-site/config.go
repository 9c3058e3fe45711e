package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// Defaults of the site's configuration.
const (
	defaultAddr = "localhost:8080"
	// sandboxPointOfSale is the point of sale the site sends to its own sandbox.
	sandboxPointOfSale = "goairways.example"
	// minSessionKeyBytes is the shortest SESSION_KEYS entry accepted (after decoding).
	minSessionKeyBytes = 32
	// minDebugTokenBytes is the shortest PERSONALIZE_DEBUG_TOKEN accepted.
	minDebugTokenBytes = 32
	// maxTimeout bounds PERSONALIZE_TIMEOUT and PERSONALIZE_BUDGET: a page must never wait
	// longer than this for Personalize.
	maxTimeout = 30 * time.Second
	// minMaxConnections and maxMaxConnections bound MAX_CONNECTIONS. In sandbox mode the
	// site's calls to its own sandbox come through the same listener, so a page needs a few.
	minMaxConnections = 16
	maxMaxConnections = 1 << 20
	// maxTrustedProxies bounds TRUSTED_PROXIES: a chain longer than this is a typo.
	maxTrustedProxies = 10
)

// Mode says which Personalize API the site talks to.
type Mode string

// The site's modes.
const (
	// ModeSandbox mounts the emulator in the site itself; no configuration needed.
	ModeSandbox Mode = "sandbox"
	// ModeTenant talks to a real Sitecore Personalize tenant.
	ModeTenant Mode = "tenant"
)

// RequestLogMode says which requests the site logs a line for (REQUEST_LOG).
type RequestLogMode string

// The request log's modes.
const (
	// RequestLogAll (all, the default) logs every request: pages and assets at info, the
	// sandbox's API and health checks at debug, server errors at error.
	RequestLogAll RequestLogMode = "all"
	// RequestLogErrors (errors) logs only the requests answered with a server error (5xx).
	RequestLogErrors RequestLogMode = "errors"
	// RequestLogOff (off) logs no request: under load, a line per request is a write to the
	// log per page.
	RequestLogOff RequestLogMode = "off"
)

// Config is the site's configuration, read from the environment by loadConfig.
type Config struct {
	Mode Mode
	// Addr is where the site listens (ADDR).
	Addr string

	ClientKey string
	// EdgeContextID and SiteName, when set (PERSONALIZE_EDGE_CONTEXT_ID,
	// PERSONALIZE_SITE_NAME), send every call through the Sitecore Edge proxy
	// (personalize.WithEdge), as an XM Cloud site's: in tenant mode to EdgeURL (or
	// PERSONALIZE_BASE_URL), in sandbox mode (PERSONALIZE_SANDBOX_TRANSPORT=edge) to the
	// sandbox's Edge endpoints. ClientKey and PointOfSale are empty then.
	EdgeContextID string
	SiteName      string
	BaseURL       string // tenant mode: PERSONALIZE_BASE_URL or the region's host; sandbox mode: the site's own URL, set once listening
	Region        personalize.Region
	PointOfSale   string
	Channel       string
	Language      string
	Currency      string
	Timeout       time.Duration // 0: the library's default
	Budget        time.Duration // 0: the library's default
	// BreakerOpenFor is how long the circuit breaker fails calls fast before a trial call
	// (PERSONALIZE_BREAKER_OPEN_FOR; 0: the library's default).
	BreakerOpenFor time.Duration

	// SessionKeys are the cookie store's key pairs (authentication, encryption), derived
	// from SESSION_KEYS; nil in sandbox mode without SESSION_KEYS (random keys are made).
	SessionKeys [][]byte
	// SandboxFlows is the flows file of the sandbox (PERSONALIZE_SANDBOX_FLOWS); "" uses the
	// embedded flows.json.
	SandboxFlows string
	// Events sends VIEW events for pages and the sign-in and add-to-trip events
	// (PERSONALIZE_EVENTS, on by default).
	Events bool
	// RequestLog says which requests get a log line (REQUEST_LOG, see RequestLogMode).
	RequestLog RequestLogMode
	// StaleFor is how old a visitor's last banner decision may be to be shown when the API
	// fails (PERSONALIZE_STALE_FOR; the decision cache's StaleOnFailure, for
	// home_page_banner): defaultStaleFor, or 0 for off.
	StaleFor time.Duration
	// RedisURL, when set (PERSONALIZE_REDIS_URL, redis://...), keeps the decision cache in
	// Redis, shared by every instance of the site; otherwise it is in this process's memory.
	RedisURL string
	// DebugToken, when set (PERSONALIZE_DEBUG_TOKEN), is the secret the debug routes
	// (/_personalize, /_personalize/metrics) require, as the password of HTTP Basic
	// authentication or a bearer token. In tenant mode the routes are mounted only when it
	// is set; in sandbox mode they are mounted either way.
	DebugToken string

	// MaxConnections caps the connections the site holds open (MAX_CONNECTIONS); 0: the
	// default, maxConnectionsDefault.
	MaxConnections int
	// TrustedProxies is how many proxies in front of the site append to X-Forwarded-Proto
	// (TRUSTED_PROXIES), and CookieSecure when cookies are Secure (COOKIE_SECURE): the
	// middleware's Options.TrustedProxies and Options.Secure, which the member cookie follows
	// too.
	TrustedProxies int
	CookieSecure   middleware.SecureMode

	// TracesExporters are where the site's spans go (OTEL_TRACES_EXPORTER): console, otlp,
	// or both; none (nil) by default. ServiceName names the site in spans and metrics
	// (OTEL_SERVICE_NAME, go-airways by default). See loadTelemetry.
	TracesExporters []string
	ServiceName     string
	// traceOutput, when set (by tests only), is where the console exporter writes its spans;
	// os.Stderr otherwise.
	traceOutput io.Writer

	// httpClient, when set (by tests only), is the personalize client's HTTP client: the
	// tests that run the site in a synctest bubble reach the API over in-memory connections.
	httpClient *http.Client
}

// loadConfig reads the configuration from getenv (os.Getenv in main). It does no I/O, so
// every bad setting is found by a test, and it reports them all at once.
func loadConfig(getenv func(string) string) (Config, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	cfg := Config{
		Addr:         or(env("ADDR"), defaultAddr),
		ClientKey:    env("PERSONALIZE_CLIENT_KEY"),
		PointOfSale:  env("PERSONALIZE_POINT_OF_SALE"),
		Channel:      or(env("PERSONALIZE_CHANNEL"), personalize.DefaultChannel),
		Language:     or(env("PERSONALIZE_LANGUAGE"), personalize.DefaultLanguage),
		Currency:     or(env("PERSONALIZE_CURRENCY"), personalize.DefaultCurrency),
		SandboxFlows: env("PERSONALIZE_SANDBOX_FLOWS"),
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if err := checkAddr(cfg.Addr); err != nil {
		bad("ADDR: %v", err)
	}
	var err error
	if cfg.Timeout, err = duration(env("PERSONALIZE_TIMEOUT")); err != nil {
		bad("PERSONALIZE_TIMEOUT: %v", err)
	}
	if cfg.Budget, err = duration(env("PERSONALIZE_BUDGET")); err != nil {
		bad("PERSONALIZE_BUDGET: %v", err)
	}
	if cfg.BreakerOpenFor, err = duration(env("PERSONALIZE_BREAKER_OPEN_FOR")); err != nil {
		bad("PERSONALIZE_BREAKER_OPEN_FOR: %v", err)
	}
	switch v := strings.ToLower(env("PERSONALIZE_STALE_FOR")); v {
	case "":
		cfg.StaleFor = defaultStaleFor
	case "off", "0":
	default:
		if cfg.StaleFor, err = time.ParseDuration(v); err != nil || cfg.StaleFor <= 0 || cfg.StaleFor > maxStaleFor {
			bad("PERSONALIZE_STALE_FOR: %q is not off or a Go duration from 1s to %v (e.g. 10m)", env("PERSONALIZE_STALE_FOR"), maxStaleFor)
		}
	}
	if cfg.RedisURL = env("PERSONALIZE_REDIS_URL"); cfg.RedisURL != "" {
		if u, err := url.Parse(cfg.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("PERSONALIZE_REDIS_URL: want redis://[user:password@]host:port[/db] or rediss://...")
		} else if cfg.StaleFor == 0 {
			bad("PERSONALIZE_REDIS_URL: set, but PERSONALIZE_STALE_FOR is off: there is nothing to keep in Redis")
		}
	}
	switch strings.ToLower(env("PERSONALIZE_EVENTS")) {
	case "", "on", "true", "1":
		cfg.Events = true
	case "off", "false", "0":
	default:
		bad("PERSONALIZE_EVENTS: %q is not on or off", env("PERSONALIZE_EVENTS"))
	}
	switch v := RequestLogMode(strings.ToLower(env("REQUEST_LOG"))); v {
	case "", RequestLogAll:
		cfg.RequestLog = RequestLogAll
	case RequestLogErrors, RequestLogOff:
		cfg.RequestLog = v
	default:
		bad("REQUEST_LOG: %q is not all, errors or off", env("REQUEST_LOG"))
	}
	if cfg.DebugToken = env("PERSONALIZE_DEBUG_TOKEN"); cfg.DebugToken != "" && len(cfg.DebugToken) < minDebugTokenBytes {
		bad("PERSONALIZE_DEBUG_TOKEN: too short (%d bytes; want at least %d, e.g. the output of `openssl rand -hex 16`)", len(cfg.DebugToken), minDebugTokenBytes)
	}
	if cfg.MaxConnections, err = wholeNumber(env("MAX_CONNECTIONS"), minMaxConnections, maxMaxConnections); err != nil {
		bad("MAX_CONNECTIONS: %v", err)
	}
	if cfg.TrustedProxies, err = wholeNumber(env("TRUSTED_PROXIES"), 0, maxTrustedProxies); err != nil {
		bad("TRUSTED_PROXIES: %v (the number of proxies in front of the site that append to X-Forwarded-Proto)", err)
	}
	switch v := strings.ToLower(env("COOKIE_SECURE")); v {
	case "", "auto":
		cfg.CookieSecure = middleware.SecureAuto
	case "always":
		cfg.CookieSecure = middleware.SecureAlways
	case "never":
		cfg.CookieSecure = middleware.SecureNever
	default:
		bad("COOKIE_SECURE: %q is not auto, always or never", env("COOKIE_SECURE"))
	}
	cfg.loadTelemetry(env, bad)
	if raw := env("SESSION_KEYS"); raw != "" {
		if cfg.SessionKeys, err = parseSessionKeys(raw); err != nil {
			bad("SESSION_KEYS: %v", err)
		}
	}

	baseURL, region := env("PERSONALIZE_BASE_URL"), env("PERSONALIZE_REGION")
	cfg.EdgeContextID, cfg.SiteName = env("PERSONALIZE_EDGE_CONTEXT_ID"), env("PERSONALIZE_SITE_NAME")
	sandboxTransport := strings.ToLower(env("PERSONALIZE_SANDBOX_TRANSPORT"))
	switch sandboxTransport {
	case "", personalize.TransportDirect, personalize.TransportEdge:
	default:
		bad("PERSONALIZE_SANDBOX_TRANSPORT: %q is not direct or edge", env("PERSONALIZE_SANDBOX_TRANSPORT"))
	}
	switch {
	case cfg.EdgeContextID != "" && cfg.ClientKey != "":
		bad("set PERSONALIZE_CLIENT_KEY (a regional API host) or PERSONALIZE_EDGE_CONTEXT_ID (the Sitecore Edge proxy), not both")
	case cfg.EdgeContextID != "":
		// An XM Cloud tenant, through the Sitecore Edge proxy.
		cfg.Mode = ModeTenant
		switch {
		case cfg.SiteName == "":
			bad("PERSONALIZE_EDGE_CONTEXT_ID needs PERSONALIZE_SITE_NAME: the site's name in XM Cloud")
		case region != "":
			bad("PERSONALIZE_REGION names a regional API host; through the Sitecore Edge proxy leave it unset")
		case cfg.PointOfSale != "":
			bad("PERSONALIZE_POINT_OF_SALE does not apply through the Sitecore Edge proxy: the XM Cloud site sets it")
		case sandboxTransport != "":
			bad("PERSONALIZE_SANDBOX_TRANSPORT is for the sandbox; unset PERSONALIZE_EDGE_CONTEXT_ID to use it")
		case cfg.SandboxFlows != "":
			bad("PERSONALIZE_SANDBOX_FLOWS is for the sandbox; unset PERSONALIZE_EDGE_CONTEXT_ID to use it")
		}
		cfg.BaseURL = or(strings.TrimRight(baseURL, "/"), personalize.EdgeURL)
		if env("SESSION_KEYS") == "" {
			bad("tenant mode needs SESSION_KEYS: one or more secrets of at least %d bytes, comma-separated (e.g. the output of `openssl rand -hex 32`)", minSessionKeyBytes)
		}
	case cfg.SiteName != "":
		bad("PERSONALIZE_SITE_NAME needs PERSONALIZE_EDGE_CONTEXT_ID (or, for the sandbox, PERSONALIZE_SANDBOX_TRANSPORT=edge alone)")
	case cfg.ClientKey == "":
		cfg.Mode = ModeSandbox
		if baseURL != "" || region != "" {
			bad("PERSONALIZE_BASE_URL and PERSONALIZE_REGION need PERSONALIZE_CLIENT_KEY (without it the site runs on its built-in sandbox)")
		}
		if sandboxTransport == personalize.TransportEdge {
			// The sandbox's Edge endpoints, with its default context ID and site.
			cfg.EdgeContextID, cfg.SiteName = sandbox.DefaultContextID, sandbox.DefaultSiteName
			if cfg.PointOfSale != "" {
				bad("PERSONALIZE_POINT_OF_SALE does not apply through the Sitecore Edge proxy (PERSONALIZE_SANDBOX_TRANSPORT=edge)")
			}
		} else {
			cfg.ClientKey = sandbox.DefaultClientKey
			cfg.PointOfSale = or(cfg.PointOfSale, sandboxPointOfSale)
		}
	case sandboxTransport != "":
		bad("PERSONALIZE_SANDBOX_TRANSPORT is for the sandbox; unset PERSONALIZE_CLIENT_KEY to use it")
	default:
		cfg.Mode = ModeTenant
		switch {
		case baseURL != "" && region != "":
			bad("set PERSONALIZE_BASE_URL or PERSONALIZE_REGION, not both")
		case baseURL != "":
			cfg.BaseURL = strings.TrimRight(baseURL, "/")
		case region != "":
			cfg.Region = personalize.Region(strings.ToLower(region))
			if cfg.BaseURL = cfg.Region.BaseURL(); cfg.BaseURL == "" {
				bad("PERSONALIZE_REGION: unknown region %q (want eu, us, ap or jpe)", region)
			}
		default:
			bad("tenant mode needs PERSONALIZE_REGION (eu, us, ap or jpe) or PERSONALIZE_BASE_URL")
		}
		if cfg.PointOfSale == "" {
			bad("tenant mode needs PERSONALIZE_POINT_OF_SALE: the name of a point of sale of your tenant")
		}
		if env("SESSION_KEYS") == "" {
			bad("tenant mode needs SESSION_KEYS: one or more secrets of at least %d bytes, comma-separated (e.g. the output of `openssl rand -hex 32`)", minSessionKeyBytes)
		}
		if cfg.SandboxFlows != "" {
			bad("PERSONALIZE_SANDBOX_FLOWS is for the sandbox; unset PERSONALIZE_CLIENT_KEY to use it")
		}
	}
	if len(errs) == 0 {
		// The client checks channel, language, currency and base URL: ask it rather than
		// repeating its rules. New makes no connection.
		base := cfg.BaseURL
		if base == "" {
			base = "http://127.0.0.1:0"
		}
		c, err := personalize.New(cfg.ClientKey, cfg.clientOptions(base)...)
		if err != nil {
			bad("%v", err)
		} else {
			_ = c.Close(context.Background())
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("example-site: bad configuration: %w", errors.Join(errs...))
	}
	return cfg, nil
}

// browserCookie is the visitor's browser ID cookie, as the middleware's CookiesAuto names it:
// the Cloud SDK's through the Sitecore Edge proxy, the Engage SDK's otherwise.
func (c Config) browserCookie() string {
	if c.EdgeContextID != "" {
		return middleware.CloudSDKBrowserCookie
	}
	return middleware.CookiePrefix + c.ClientKey
}

// clientOptions are the personalize client's options for the configuration, calling base.
func (c Config) clientOptions(base string) []personalize.Option {
	opts := []personalize.Option{personalize.WithBaseURL(base)}
	if c.EdgeContextID != "" {
		opts = append(opts, personalize.WithEdge(c.EdgeContextID, c.SiteName))
	} else {
		opts = append(opts, personalize.WithPointOfSale(c.PointOfSale))
	}
	opts = append(opts,
		personalize.WithChannel(c.Channel),
		personalize.WithLanguage(c.Language),
		personalize.WithCurrency(c.Currency),
	)
	if c.Timeout > 0 {
		opts = append(opts, personalize.WithTimeout(c.Timeout))
	}
	if c.Budget > 0 {
		opts = append(opts, personalize.WithBudget(c.Budget))
	}
	if c.BreakerOpenFor > 0 {
		opts = append(opts, personalize.WithBreaker(personalize.BreakerSettings{OpenFor: c.BreakerOpenFor}))
	}
	if c.httpClient != nil {
		opts = append(opts, personalize.WithHTTPClient(c.httpClient))
	}
	return opts
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkAddr accepts host:port with a numeric port (":8080" and "127.0.0.1:0" too).
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. localhost:8080)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port number", addr)
	}
	return nil
}

// wholeNumber parses an optional whole number from lo to hi; "" is 0.
func wholeNumber(s string, lo, hi int) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a whole number from %d to %d", s, lo, hi)
	}
	return n, nil
}

// duration parses an optional Go duration ("750ms", "2s"); "" is 0.
// The banner's stale-on-failure age: the default, and the most PERSONALIZE_STALE_FOR takes.
const (
	defaultStaleFor = 10 * time.Minute
	maxStaleFor     = 24 * time.Hour
)

func duration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a Go duration (e.g. 750ms or 2s)", s)
	}
	if d <= 0 || d > maxTimeout {
		return 0, fmt.Errorf("%v is out of range (want more than 0 and at most %v)", d, maxTimeout)
	}
	return d, nil
}

// parseSessionKeys reads SESSION_KEYS: comma-separated secrets, each hex, base64 (standard or
// URL alphabet, padded or not) or raw text, of at least minSessionKeyBytes bytes once decoded,
// and not a placeholder or a pattern (weak, as decoded and as written).
// The first secret protects new session cookies; later ones still read cookies made with
// them, so keys can be rotated. From each secret a pair of keys is derived for
// gorilla/sessions: a 64-byte authentication key and a 32-byte AES-256 encryption key.
func parseSessionKeys(raw string) ([][]byte, error) {
	var keys [][]byte
	for i, field := range strings.Split(raw, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			return nil, fmt.Errorf("key %d is empty", i+1)
		}
		secret := decodeSecret(field)
		if len(secret) < minSessionKeyBytes {
			return nil, fmt.Errorf("key %d is too weak: %d bytes, want at least %d (e.g. `openssl rand -hex 32`)", i+1, len(secret), minSessionKeyBytes)
		}
		why := weak(secret)
		if why == "" && string(secret) != field {
			// As written too: "changeme-" six times is valid base64, whose 40 bytes look
			// random.
			why = weak([]byte(field))
		}
		if why != "" {
			return nil, fmt.Errorf("key %d is too weak: %s; use random bytes: `openssl rand -hex 32` (or `openssl rand -base64 32`) makes a good key", i+1, why)
		}
		keys = append(keys, derive(secret, "session authentication", sha512.New), derive(secret, "session encryption", sha256.New))
	}
	return keys, nil
}

// decodeSecret decodes hex or base64 when the whole field is such an encoding of at least
// minSessionKeyBytes bytes; otherwise the field's own bytes are the secret.
func decodeSecret(s string) []byte {
	if b, err := hex.DecodeString(s); err == nil && len(b) >= minSessionKeyBytes {
		return b
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= minSessionKeyBytes {
			return b
		}
	}
	return []byte(s)
}

// Thresholds of weak. A random key (32 bytes from `openssl rand -hex 32` or -base64 32)
// never comes near them: its bytes are nearly all distinct (22 at least in millions of
// trials), it has about 4.8 bits of entropy per byte (4.3 at least), no repeated 4-byte
// sequence and a handful of neighbouring bytes. The 32 hex digits of `openssl rand -hex 16`,
// taken as text, come closer (8 distinct digits, 2.7 bits, 4 repeats, 18 neighbours out of
// 31 at worst in 2 million trials) and stay clear too.
const (
	weakMinDistinct = 8   // fewer distinct bytes: "aaaa...", "abababab..."
	weakMinEntropy  = 2.5 // bits per byte, Shannon, over the key's bytes
)

// weak says why a secret is a placeholder or a pattern rather than random bytes ("" when it
// is not): too few distinct bytes; one short pattern repeated ("changeme-changeme-...",
// "abcdabcd..."); mostly repeated 4-byte sequences; mostly a run of consecutive or
// neighbouring keys ("0123456789...", "abcdef...", "qwertyuiop..."); or too little entropy per
// byte. It estimates, from the key alone, whether it looks random; it cannot prove it is.
func weak(secret []byte) string {
	var counts [256]int
	distinct := 0
	for _, b := range secret {
		if counts[b] == 0 {
			distinct++
		}
		counts[b]++
	}
	if distinct < weakMinDistinct {
		return fmt.Sprintf("it repeats too few distinct bytes (%d; want at least %d)", distinct, weakMinDistinct)
	}
	if p := period(secret); p <= len(secret)/2 {
		return fmt.Sprintf("it is a pattern of %d bytes repeated", p)
	}
	if seen, repeats := make(map[string]bool), 0; len(secret) >= 8 {
		for i := 0; i+4 <= len(secret); i++ {
			g := string(secret[i : i+4])
			if seen[g] {
				repeats++
			}
			seen[g] = true
		}
		if 2*repeats > len(secret)-3 {
			return "most of it repeats itself"
		}
	}
	runs := 0
	for i := 1; i < len(secret); i++ {
		if neighbours(secret[i-1], secret[i]) {
			runs++
		}
	}
	if 4*runs >= 3*(len(secret)-1) {
		return "it is mostly a run of consecutive or neighbouring keys (like 0123... or qwerty...)"
	}
	h := 0.0
	for _, n := range counts {
		if n > 0 {
			p := float64(n) / float64(len(secret))
			h -= p * math.Log2(p)
		}
	}
	if h < weakMinEntropy {
		return fmt.Sprintf("it has too little entropy (%.1f bits per byte; want at least %.1f)", h, weakMinEntropy)
	}
	return ""
}

// period is the smallest p such that s repeats every p bytes (s[i] == s[i+p]); len(s) when
// it does not repeat.
func period(s []byte) int {
	// The prefix function of Knuth-Morris-Pratt: the longest proper border of s.
	border := make([]int, len(s))
	for i := 1; i < len(s); i++ {
		k := border[i-1]
		for k > 0 && s[i] != s[k] {
			k = border[k-1]
		}
		if s[i] == s[k] {
			k++
		}
		border[i] = k
	}
	if len(s) == 0 {
		return 0
	}
	return len(s) - border[len(s)-1]
}

// keyboardRows are the rows of a US QWERTY keyboard, unshifted and shifted, for neighbours.
var keyboardRows = []string{
	"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
	"~!@#$%^&*()_+", "qwertyuiop{}|", "asdfghjkl:\"", "zxcvbnm<>?",
}

// neighbours reports whether b follows a the way a person typing a placeholder goes on: the
// same byte, the next or previous one (0123, abcd, 9876), or the key beside it on a QWERTY
// keyboard (qwerty, asdf), whatever the case.
func neighbours(a, b byte) bool {
	if d := int(a) - int(b); d >= -1 && d <= 1 {
		return true
	}
	a, b = lower(a), lower(b)
	for _, row := range keyboardRows {
		i, j := strings.IndexByte(row, a), strings.IndexByte(row, b)
		if i >= 0 && j >= 0 && (i-j == 1 || j-i == 1) {
			return true
		}
	}
	return false
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// derive makes a key for one purpose from a secret (HMAC as a simple KDF), so one secret
// gives independent authentication and encryption keys.
func derive(secret []byte, purpose string, h func() hash.Hash) []byte {
	m := hmac.New(h, secret)
	m.Write([]byte("go-airways " + purpose))
	return m.Sum(nil)
}

// randomSessionKeys makes a fresh key pair, for sandbox mode without SESSION_KEYS.
func randomSessionKeys() ([][]byte, error) {
	auth, enc := make([]byte, 64), make([]byte, 32)
	if _, err := rand.Read(auth); err != nil {
		return nil, fmt.Errorf("example-site: making session keys: %w", err)
	}
	if _, err := rand.Read(enc); err != nil {
		return nil, fmt.Errorf("example-site: making session keys: %w", err)
	}
	return [][]byte{auth, enc}, nil
}
