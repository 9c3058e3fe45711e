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
	DefaultChannel  = "WEB"
	DefaultLanguage = "en"
	DefaultCurrency = "EUR"
	// DefaultTimeout bounds each API call.
	DefaultTimeout = 1 * time.Second
	// DefaultBudget bounds all of a page's flow calls together.
	DefaultBudget = 400 * time.Millisecond
)

// Defaults of the options whose fields say "zero means the default".
const (
	defaultMaxResponseSize   = 1 << 20
	defaultBreakerFailures   = 5
	defaultBreakerOpenFor    = 5 * time.Second
	defaultEventQueueSize    = 4096
	defaultEventWorkers      = 512
	defaultEventRetryBackoff = 150 * time.Millisecond
)

// Option configures a Client; give options to New, which reports an invalid one as an error
// wrapping ErrInvalidConfig. The Settings (WithChannel, WithLanguage, WithCurrency,
// WithPointOfSale) are Options too.
type Option interface {
	applyOption(*config) error
}

// optionFunc is an Option that is a function.
type optionFunc func(*config) error

func (f optionFunc) applyOption(c *config) error { return f(c) }

// Region is a Sitecore Personalize region with a direct API host,
// https://api-engage-<region>.sitecorecloud.io.
type Region string

// The regions.
const (
	RegionEU  Region = "eu"
	RegionUS  Region = "us"
	RegionAP  Region = "ap"
	RegionJPE Region = "jpe"
)

// BaseURL is the region's API base URL, or "" for an unknown region: the host a site's
// Content-Security-Policy or link policy (components.LinkPolicy.AllowedHosts) may need.
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

// BreakerSettings tune the circuit breakers that isolate a failing flow (WithBreaker): every
// friendly ID has one of its own, and so has browser creation, so that one flow that keeps
// failing or timing out fails fast (its slots show their default content at once) while the
// page's other flows are called as usual. Zero fields take the defaults.
type BreakerSettings struct {
	// Failures is how many consecutive failures of one flow (timeouts, connection errors,
	// 5xx, 429, malformed answers) open its breaker. Default 5.
	Failures uint32
	// OpenFor is how long an open breaker's calls fail fast (ErrBreakerOpen) before one trial
	// call is let through; its success closes the breaker. Default 5s.
	OpenFor time.Duration
	// Disabled turns the breakers off.
	Disabled bool
}

// EventOptions tune the client's event queue (WithEvents). Zero fields take the defaults.
type EventOptions struct {
	// QueueSize is how many events may wait to be sent (default 4096: 0.7s of events at 5,700
	// a second, more than the workers take to grow to an events API of 50ms, see Workers).
	// When the queue is full, new events are dropped and counted: memory never grows past it.
	QueueSize int
	// Workers is the most events sent at the same time (default 512). The API takes one
	// event per request, so delivery keeps up with Workers ÷ the API's round trip events a
	// second at most: 512 at 50ms are 10,240 a second. Workers start as events wait with
	// none idle to take them, 16 at a time and then doubling at most once per round trip
	// (as many start as have sent an event), and stop after 5s without an event; a client
	// that sends none runs none. Over HTTP/1.1 each one sending holds a connection to the
	// API; over HTTP/2 they share a few.
	Workers int
	// RetryBackoff is the pause before the one retry of an event whose connection failed or
	// that the API answered with a 5xx (default 150ms); a negative value turns retries off.
	// 4xx answers (an unknown browser is a 404) and timeouts are never retried.
	RetryBackoff time.Duration
}

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
	hooks           []Hooks
	breaker         BreakerSettings
	events          EventOptions
	caching         *Caching
	limits          Limits
	edge            *edgeConfig // WithEdge, nil for the regional API
	baseURLSet      bool        // WithBaseURL was given
	region          bool        // WithRegion was given
	maxIdleConns    int         // 0: DefaultMaxIdleConns
}

func defaultConfig() config {
	return config{
		baseURL:         RegionEU.BaseURL(),
		channel:         DefaultChannel,
		language:        DefaultLanguage,
		currency:        DefaultCurrency,
		timeout:         DefaultTimeout,
		budget:          DefaultBudget,
		maxResponseSize: defaultMaxResponseSize,
		breaker:         BreakerSettings{Failures: defaultBreakerFailures, OpenFor: defaultBreakerOpenFor},
		events:          EventOptions{QueueSize: defaultEventQueueSize, Workers: defaultEventWorkers, RetryBackoff: defaultEventRetryBackoff},
	}
}

func invalidConfigf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

// WithBaseURL points the client at any API host (a proxy, the sandbox). The default is the EU
// region's host, or EdgeURL with WithEdge.
func WithBaseURL(baseURL string) Option {
	return optionFunc(func(c *config) error {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalidConfigf("base URL %q is not an absolute http(s) URL", baseURL)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return invalidConfigf("base URL %q must not have a query or fragment", baseURL)
		}
		c.baseURL, c.baseURLSet = strings.TrimRight(u.String(), "/"), true
		return nil
	})
}

// WithRegion points the client at a region's host: eu, us, ap or jpe.
func WithRegion(r Region) Option {
	return optionFunc(func(c *config) error {
		base := r.BaseURL()
		if base == "" {
			return invalidConfigf("unknown region %q (want eu, us, ap or jpe)", r)
		}
		c.baseURL, c.region = base, true
		return nil
	})
}

// WithHTTPClient sets the HTTP client. The default uses a transport tuned to keep connections
// to the API alive between pages.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) error {
		if hc == nil {
			return invalidConfigf("nil http client")
		}
		c.httpClient = hc
		return nil
	})
}

// WithTimeout bounds each API call (default DefaultTimeout). A page's budget and the caller's
// context may end a call sooner.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return invalidConfigf("timeout must be positive, got %v", d)
		}
		c.timeout = d
		return nil
	})
}

// WithBudget sets the time budget of a page's flow calls (default DefaultBudget), counted
// from the page's first call.
func WithBudget(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return invalidConfigf("budget must be positive, got %v", d)
		}
		c.budget = d
		return nil
	})
}

// WithLogger sets the client's logger (default slog.Default()). States that degrade what
// visitors see are logged once, at warn: a flow isolated after repeated failures (and its
// recovery, at info), events dropped or not delivered (at the 1st, 2nd, 4th... time). Each
// call's outcome is logged at debug.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return invalidConfigf("nil logger")
		}
		c.logger = l
		return nil
	})
}

// WithUTMShape chooses nested params.utm (default) or flat params.utm_* keys.
func WithUTMShape(s UTMShape) Option {
	return optionFunc(func(c *config) error {
		if s != UTMNested && s != UTMFlat {
			return invalidConfigf("unknown UTM shape %d", s)
		}
		c.utmShape = s
		return nil
	})
}

// WithMaxResponseSize caps the size of an answer (default 1 MiB); a larger one is an
// ErrResponseTooLarge.
func WithMaxResponseSize(n int64) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return invalidConfigf("max response size must be positive, got %d", n)
		}
		c.maxResponseSize = n
		return nil
	})
}

// WithBreaker tunes the per-flow circuit breakers (see BreakerSettings); zero fields keep the
// defaults.
func WithBreaker(s BreakerSettings) Option {
	return optionFunc(func(c *config) error {
		if s.OpenFor < 0 {
			return invalidConfigf("breaker OpenFor must not be negative")
		}
		if s.Failures == 0 {
			s.Failures = defaultBreakerFailures
		}
		if s.OpenFor == 0 {
			s.OpenFor = defaultBreakerOpenFor
		}
		c.breaker = s
		return nil
	})
}

// WithEvents tunes the client's event queue; zero fields keep the defaults. Events work
// without it.
func WithEvents(o EventOptions) Option {
	return optionFunc(func(c *config) error {
		if o.QueueSize < 0 || o.Workers < 0 {
			return invalidConfigf("event queue size and workers must not be negative")
		}
		if o.QueueSize == 0 {
			o.QueueSize = defaultEventQueueSize
		}
		if o.Workers == 0 {
			o.Workers = defaultEventWorkers
		}
		if o.RetryBackoff == 0 {
			o.RetryBackoff = defaultEventRetryBackoff
		}
		c.events = o
		return nil
	})
}
