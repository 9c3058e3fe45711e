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
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	// maxTimeout bounds PERSONALIZE_TIMEOUT and PERSONALIZE_BUDGET: a page must never wait
	// longer than this for Personalize.
	maxTimeout = 30 * time.Second
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

// Config is the site's configuration, read from the environment by loadConfig.
type Config struct {
	Mode Mode
	// Addr is where the site listens (ADDR).
	Addr string

	ClientKey   string
	BaseURL     string // tenant mode: PERSONALIZE_BASE_URL or the region's host; sandbox mode: the site's own URL, set once listening
	Region      personalize.Region
	PointOfSale string
	Channel     string
	Language    string
	Currency    string
	Timeout     time.Duration // 0: the library's default
	Budget      time.Duration // 0: the library's default
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
	switch strings.ToLower(env("PERSONALIZE_EVENTS")) {
	case "", "on", "true", "1":
		cfg.Events = true
	case "off", "false", "0":
	default:
		bad("PERSONALIZE_EVENTS: %q is not on or off", env("PERSONALIZE_EVENTS"))
	}
	if raw := env("SESSION_KEYS"); raw != "" {
		if cfg.SessionKeys, err = parseSessionKeys(raw); err != nil {
			bad("SESSION_KEYS: %v", err)
		}
	}

	baseURL, region := env("PERSONALIZE_BASE_URL"), env("PERSONALIZE_REGION")
	if cfg.ClientKey == "" {
		cfg.Mode = ModeSandbox
		cfg.ClientKey = sandbox.DefaultClientKey
		cfg.PointOfSale = or(cfg.PointOfSale, sandboxPointOfSale)
		if baseURL != "" || region != "" {
			bad("PERSONALIZE_BASE_URL and PERSONALIZE_REGION need PERSONALIZE_CLIENT_KEY (without it the site runs on its built-in sandbox)")
		}
	} else {
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

// clientOptions are the personalize client's options for the configuration, calling base.
func (c Config) clientOptions(base string) []personalize.Option {
	opts := []personalize.Option{
		personalize.WithBaseURL(base),
		personalize.WithPointOfSale(c.PointOfSale),
		personalize.WithChannel(c.Channel),
		personalize.WithLanguage(c.Language),
		personalize.WithCurrency(c.Currency),
	}
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

// duration parses an optional Go duration ("750ms", "2s"); "" is 0.
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
// URL alphabet, padded or not) or raw text, of at least minSessionKeyBytes bytes once decoded.
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
		if weak(secret) {
			return nil, fmt.Errorf("key %d is too weak: it repeats too few distinct bytes", i+1)
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

// weak catches placeholders such as 32 times "a" or "0123012301230123...".
func weak(secret []byte) bool {
	var seen [256]bool
	distinct := 0
	for _, b := range secret {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	return distinct < 8
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
