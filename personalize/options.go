package personalize

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults used when an option is not given.
const (
	DefaultChannel         = "WEB"
	DefaultLanguage        = "en"
	DefaultCurrency        = "EUR"
	DefaultTimeout         = 1 * time.Second
	DefaultBudget          = 400 * time.Millisecond
	DefaultMaxResponseSize = 1 << 20
	// DefaultBreakerFailures consecutive failures open the circuit breaker.
	DefaultBreakerFailures = 5
	// DefaultBreakerOpenFor is how long the breaker stays open before a trial call.
	DefaultBreakerOpenFor = 5 * time.Second
)

// Region is a Sitecore Personalize region with a direct API host.
type Region string

// The regions of https://api-engage-<region>.sitecorecloud.io.
const (
	RegionEU  Region = "eu"
	RegionUS  Region = "us"
	RegionAP  Region = "ap"
	RegionJPE Region = "jpe"
)

// BaseURL is the region's API base URL, or "" for an unknown region.
func (r Region) BaseURL() string {
	switch Region(strings.ToLower(string(r))) {
	case RegionEU, RegionUS, RegionAP, RegionJPE:
		return "https://api-engage-" + strings.ToLower(string(r)) + ".sitecorecloud.io"
	}
	return ""
}

// UTMShape says how UTM parameters are put into a flow's params.
type UTMShape uint8

const (
	// UTMNested sends params.utm = {"campaign": ..., "source": ...}, as the Cloud SDK and
	// Sitecore's documentation do.
	UTMNested UTMShape = iota
	// UTMFlat sends params.utm_campaign, params.utm_source..., as the older Engage SDK did and
	// older flow conditions read.
	UTMFlat
)

// BreakerSettings tunes the client's circuit breaker. Zero fields take the defaults.
type BreakerSettings struct {
	// Failures is how many consecutive failures (timeouts, connection errors, 5xx, 429,
	// malformed answers) open the breaker.
	Failures uint32
	// OpenFor is how long calls fail fast before one trial call is let through.
	OpenFor time.Duration
	// Disabled turns the breaker off.
	Disabled bool
}

// Option configures a Client. Options report invalid values as errors from New.
type Option func(*config) error

type config struct {
	baseURL         string
	httpClient      *http.Client
	channel         string
	language        string
	currency        string
	pointOfSale     string
	timeout         time.Duration
	budget          time.Duration
	logger          *slog.Logger
	utmShape        UTMShape
	maxResponseSize int64
	sendReferrer    bool
	hook            func(CallInfo)
	breaker         BreakerSettings
	userAgent       string
}

func defaultConfig() config {
	return config{
		baseURL:         RegionEU.BaseURL(),
		channel:         DefaultChannel,
		language:        DefaultLanguage,
		currency:        DefaultCurrency,
		timeout:         DefaultTimeout,
		budget:          DefaultBudget,
		maxResponseSize: DefaultMaxResponseSize,
		sendReferrer:    true,
		breaker:         BreakerSettings{Failures: DefaultBreakerFailures, OpenFor: DefaultBreakerOpenFor},
		userAgent:       UserAgent,
	}
}

// WithBaseURL points the client at any API host (a proxy, the sandbox). The default is the EU
// region's host.
func WithBaseURL(baseURL string) Option {
	return func(c *config) error {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: base URL %q is not an absolute http(s) URL", ErrInvalidConfig, baseURL)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%w: base URL %q must not have a query or fragment", ErrInvalidConfig, baseURL)
		}
		c.baseURL = strings.TrimRight(u.String(), "/")
		return nil
	}
}

// WithRegion points the client at a region's host: eu, us, ap or jpe.
func WithRegion(r Region) Option {
	return func(c *config) error {
		base := r.BaseURL()
		if base == "" {
			return fmt.Errorf("%w: unknown region %q (want eu, us, ap or jpe)", ErrInvalidConfig, r)
		}
		c.baseURL = base
		return nil
	}
}

// WithHTTPClient sets the HTTP client. The default uses a transport tuned to keep connections
// to the API alive between pages.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return fmt.Errorf("%w: nil http client", ErrInvalidConfig)
		}
		c.httpClient = hc
		return nil
	}
}

// WithChannel sets the default channel (WEB, MOBILE_APP, ...).
func WithChannel(channel string) Option {
	return func(c *config) error {
		if err := checkChannel(channel); err != nil {
			return err
		}
		c.channel = channel
		return nil
	}
}

// WithLanguage sets the default language (ISO 639, e.g. "en").
func WithLanguage(lang string) Option {
	return func(c *config) error {
		if err := checkLanguage(lang); err != nil {
			return err
		}
		c.language = lang
		return nil
	}
}

// WithCurrency sets the default currency code (ISO 4217, e.g. "EUR").
func WithCurrency(code string) Option {
	return func(c *config) error {
		if err := checkCurrency(code); err != nil {
			return err
		}
		c.currency = code
		return nil
	}
}

// WithPointOfSale sets the default point of sale; it must name one that exists in the tenant.
func WithPointOfSale(pos string) Option {
	return func(c *config) error {
		if strings.TrimSpace(pos) == "" {
			return fmt.Errorf("%w: empty point of sale", ErrInvalidConfig)
		}
		c.pointOfSale = pos
		return nil
	}
}

// WithTimeout bounds each API call (default 1s). A page's budget and the caller's context may
// end a call sooner.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: timeout must be positive, got %v", ErrInvalidConfig, d)
		}
		c.timeout = d
		return nil
	}
}

// WithBudget sets the time budget of a page's flow calls (default 400ms), counted from the
// page's first call.
func WithBudget(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: budget must be positive, got %v", ErrInvalidConfig, d)
		}
		c.budget = d
		return nil
	}
}

// WithLogger logs failed calls at warn and decisions at debug. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidConfig)
		}
		c.logger = l
		return nil
	}
}

// WithUTMShape chooses nested params.utm (default) or flat params.utm_* keys.
func WithUTMShape(s UTMShape) Option {
	return func(c *config) error {
		if s != UTMNested && s != UTMFlat {
			return fmt.Errorf("%w: unknown UTM shape %d", ErrInvalidConfig, s)
		}
		c.utmShape = s
		return nil
	}
}

// WithMaxResponseSize caps the size of an answer (default 1 MiB); a larger one is an
// ErrResponseTooLarge.
func WithMaxResponseSize(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("%w: max response size must be positive, got %d", ErrInvalidConfig, n)
		}
		c.maxResponseSize = n
		return nil
	}
}

// WithReferrerParam turns sending the visitor's referrer as params.referrer on or off (on by
// default).
func WithReferrerParam(on bool) Option {
	return func(c *config) error {
		c.sendReferrer = on
		return nil
	}
}

// WithHook calls hook after every flow call (also calls not made: no visitor, breaker open). It
// must be fast and safe for concurrent use.
func WithHook(hook func(CallInfo)) Option {
	return func(c *config) error {
		c.hook = hook
		return nil
	}
}

// WithBreaker tunes the circuit breaker; zero fields keep the defaults.
func WithBreaker(s BreakerSettings) Option {
	return func(c *config) error {
		if s.OpenFor < 0 {
			return fmt.Errorf("%w: breaker OpenFor must not be negative", ErrInvalidConfig)
		}
		if s.Failures == 0 {
			s.Failures = DefaultBreakerFailures
		}
		if s.OpenFor == 0 {
			s.OpenFor = DefaultBreakerOpenFor
		}
		c.breaker = s
		return nil
	}
}

func checkChannel(ch string) error {
	if ch == "" {
		return fmt.Errorf("%w: empty channel", ErrInvalidConfig)
	}
	for _, r := range ch {
		if (r < 'A' || r > 'Z') && r != '_' {
			return fmt.Errorf("%w: channel %q must be upper-case letters and underscores (e.g. WEB)", ErrInvalidConfig, ch)
		}
	}
	return nil
}

func checkLanguage(lang string) error {
	if len(lang) < 2 || len(lang) > 8 || !isLetters(lang[:2]) {
		return fmt.Errorf("%w: language %q is not an ISO 639 code (e.g. en)", ErrInvalidConfig, lang)
	}
	return nil
}

func checkCurrency(code string) error {
	if len(code) != 3 || !isLetters(code) {
		return fmt.Errorf("%w: currency %q is not an ISO 4217 code (e.g. EUR)", ErrInvalidConfig, code)
	}
	return nil
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i] | 0x20
		if b < 'a' || b > 'z' {
			return false
		}
	}
	return true
}
