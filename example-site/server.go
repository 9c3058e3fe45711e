package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/go-personalize/sdk/personalizeredis"

	"github.com/go-personalize/sdk/example-site/internal/views"
)

// Server timeouts. Pages answer within the Personalize budget (400ms by default), so these
// are generous; they exist to shed slow or idle clients.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	// idleTimeout closes a keep-alive connection after this long without a request. Each
	// holds a file descriptor and a slot of MAX_CONNECTIONS; a visitor who reads a page for
	// longer opens a new connection (browsers keep theirs for minutes, and 120 s once let
	// 20,000 idle ones exhaust a site's descriptors).
	idleTimeout    = 30 * time.Second
	maxHeaderBytes = 64 << 10
	// shutdownTimeout is how long requests in flight get to finish on SIGINT or SIGTERM.
	shutdownTimeout = 10 * time.Second
	// eventsCloseTimeout is how long the events still queued at shutdown get to be delivered,
	// after the server stopped.
	eventsCloseTimeout = 5 * time.Second
)

// site is the example site: its configuration, Personalize client, middleware, sandbox (in
// sandbox mode) and router. It is an http.Handler.
type site struct {
	cfg     Config
	logger  *slog.Logger
	client  *personalize.Client // also sends VIEW, IDENTITY and custom events, off the request path
	members *members            // the signed-in demo user's cookie
	mw      *middleware.Middleware
	sandbox *sandbox.Sandbox // nil in tenant mode
	static  *staticFiles
	tel     *telemetry // the client's spans and metrics (/metrics), the requests' spans
	// decisionStore keeps the decision cache in Redis (PERSONALIZE_REDIS_URL); nil keeps it
	// in memory.
	decisionStore personalize.DecisionStore
	redis         *personalizeredis.Store // closed after the client
	router        http.Handler
	pages         pagePool // buffers pages are rendered into

	closeOnce sync.Once
}

// newServer builds the site's handler (a *site) for cfg. In sandbox mode cfg.BaseURL must be
// the site's own address (the listener's), since the client calls the sandbox mounted in this
// very server. cleanup releases requests held in the sandbox and closes the client
// (delivering the events still queued, within eventsCloseTimeout, logging what was not, and
// closing its idle connections), then flushes the spans still buffered and shuts the
// telemetry down (within telemetryCloseTimeout); call it once the server has shut down (serve
// does). Calling it more than once is safe. To end requests a sandbox fault holds before Shutdown, call the
// site's releaseHeld.
func newServer(cfg Config, logger *slog.Logger) (http.Handler, func(), error) {
	if cfg.BaseURL == "" {
		return nil, nil, errors.New("example-site: no API base URL (in sandbox mode, the site's own address)")
	}
	s := &site{cfg: cfg, logger: logger}
	var err error
	if s.static, err = newStaticFiles(); err != nil {
		return nil, nil, fmt.Errorf("example-site: reading the embedded assets: %w", err)
	}
	if cfg.Mode == ModeSandbox {
		if s.sandbox, err = newSandbox(cfg.SandboxFlows); err != nil {
			return nil, nil, err
		}
	}
	if s.tel, err = newTelemetry(cfg); err != nil {
		return nil, nil, err
	}
	opts := append(cfg.clientOptions(cfg.BaseURL),
		personalize.WithLogger(logger),
		s.tel.hooks(),
	)
	if cfg.RedisURL != "" {
		// A URL that parses makes a client at once; Redis itself is reached on first use,
		// and a Redis that is down is a cache miss, never an error page.
		store, err := personalizeredis.NewFromURL(cfg.RedisURL, personalizeredis.Options{})
		if err != nil {
			s.closeTelemetry()
			return nil, nil, fmt.Errorf("example-site: PERSONALIZE_REDIS_URL: %w", err)
		}
		s.redis, s.decisionStore = store, store
	}
	if cfg.StaleFor > 0 {
		// A visitor whose banner call fails (a timeout, an error, the flow isolated) gets
		// their last banner decision rather than the default one. Every page still calls
		// the API, so Personalize counts every execution.
		opts = append(opts, personalize.WithCaching(personalize.Caching{
			Flows: map[string]personalize.CachePolicy{views.FlowHomeBanner: personalize.StaleOnFailure(cfg.StaleFor)},
			Store: s.decisionStore,
		}))
	}
	if s.client, err = personalize.New(cfg.ClientKey, opts...); err != nil {
		if s.redis != nil {
			_ = s.redis.Close()
		}
		s.closeTelemetry()
		return nil, nil, fmt.Errorf("example-site: %w", err)
	}
	if err = s.tel.register(s.client); err != nil {
		s.shutdown()
		return nil, nil, err
	}
	mwOpts := middleware.Options{
		Logger: logger, SessionKeys: cfg.SessionKeys, SendViewEvents: cfg.Events,
		TrustedProxies: cfg.TrustedProxies, Secure: cfg.CookieSecure,
		// Server-Timing tells every visitor what personalization cost: on a developer's
		// machine only, where the browser's developer tools then show it per page.
		ServerTiming: cfg.Mode == ModeSandbox,
	}
	if len(mwOpts.SessionKeys) == 0 {
		// Sandbox mode without SESSION_KEYS: fresh keys per run, as fresh as the sandbox's
		// own memory, so say nothing about it.
		if mwOpts.SessionKeys, err = randomSessionKeys(); err != nil {
			return nil, nil, err
		}
	}
	s.members = newMembers(mwOpts.SessionKeys)
	// Events (POST {base}/v1.2/events: the sandbox's, or the tenant's) leave from the client's
	// queue, never on the request path; the client is closed after the server's Shutdown.
	if s.mw, err = middleware.New(s.client, mwOpts); err != nil {
		s.shutdown()
		return nil, nil, fmt.Errorf("example-site: %w", err)
	}
	s.members.secure = s.mw.SecureCookies
	s.router = s.routes()
	return s, s.close, nil
}

// newSandbox makes the sandbox with the flows of path, or the embedded flows.json.
func newSandbox(path string) (*sandbox.Sandbox, error) {
	var (
		flows []*sandbox.FlowDef
		err   error
	)
	if path != "" {
		flows, err = sandbox.LoadFlowsFile(path)
	} else {
		flows, err = sandbox.LoadFlows(bytes.NewReader(defaultFlows))
	}
	if err != nil {
		return nil, fmt.Errorf("example-site: loading the sandbox's flows: %w", err)
	}
	return sandbox.New(sandbox.WithFlows(flows...)), nil
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// releaseHeld ends requests a sandbox fault holds, which http.Server.Shutdown would wait for,
// and makes later sandbox requests end at once. Safe to call more than once.
func (s *site) releaseHeld() {
	if s.sandbox != nil {
		s.sandbox.Close()
	}
}

// close releases held sandbox requests, closes the client and then the telemetry. Safe to
// call more than once.
func (s *site) close() {
	s.releaseHeld()
	s.closeOnce.Do(s.shutdown)
}

// shutdown closes the client, then the telemetry: the events the client delivers on closing
// have spans too.
func (s *site) shutdown() {
	s.closeClient()
	if s.redis != nil {
		_ = s.redis.Close()
	}
	s.closeTelemetry()
}

// closeClient closes the client: it delivers the events still queued within
// eventsCloseTimeout and logs what it sent and could not send. In sandbox mode the sandbox
// goes with the server, so events still queued then are not delivered (and logged as such).
func (s *site) closeClient() {
	ctx, cancel := context.WithTimeout(context.Background(), eventsCloseTimeout)
	defer cancel()
	err := s.client.Close(ctx)
	st := s.client.EventStats()
	attrs := []slog.Attr{
		slog.Uint64("sent", st.Sent), slog.Uint64("failed", st.Failed),
		slog.Uint64("dropped", st.Dropped), slog.Uint64("invalid", st.Invalid),
	}
	if undelivered, ok := errors.AsType[*personalize.UndeliveredError](err); ok {
		attrs = append(attrs, slog.Int("undelivered", undelivered.Count), slog.Any("error", err))
		s.logger.LogAttrs(ctx, slog.LevelWarn, "personalize client closed with events not delivered", attrs...)
		return
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "personalize client closed", attrs...)
}

// listening fills in what is known once the site listens: in sandbox mode the client calls
// the site's own address (loopback when it listens on every interface).
func (c Config) listening(addr net.Addr) Config {
	if c.Mode == ModeSandbox {
		c.BaseURL = "http://" + loopback(addr)
	}
	return c
}

// loopback is addr with an unspecified IP (0.0.0.0, ::) replaced by 127.0.0.1.
func loopback(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// visitURL is the address to open in a browser: the configured host (localhost when none)
// with the port the site listens on.
func visitURL(configured string, addr net.Addr) string {
	host, _, _ := net.SplitHostPort(configured)
	_, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// listenAndServe listens on cfg.Addr, builds the site for the address it got, and serves
// until ctx ends; then it shuts down gracefully.
func listenAndServe(ctx context.Context, cfg Config, logger *slog.Logger) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("example-site: listening on %s: %w", cfg.Addr, err)
	}
	cfg = cfg.listening(ln.Addr())
	h, cleanup, err := newServer(cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer cleanup()
	release := h.(*site).releaseHeld
	maxConns := cfg.MaxConnections
	if maxConns == 0 {
		maxConns = maxConnectionsDefault()
	} else if limit, ok := openFileLimit(); ok && uint64(maxConns) >= limit {
		logger.Warn("MAX_CONNECTIONS is not below the open-file limit: the site may run out of file descriptors before it reaches its cap (raise `ulimit -n`)",
			slog.Int("max_connections", maxConns), slog.Uint64("open_file_limit", limit))
	}
	transport := personalize.TransportDirect
	if cfg.EdgeContextID != "" {
		transport = personalize.TransportEdge
	}
	logger.Info("go airways is ready",
		slog.String("mode", string(cfg.Mode)),
		slog.String("transport", transport),
		slog.String("api", cfg.BaseURL),
		slog.String("addr", ln.Addr().String()),
		slog.String("url", visitURL(cfg.Addr, ln.Addr())),
		slog.Int("max_connections", maxConns))
	return serve(ctx, ln, h, maxConns, release, cleanup, logger)
}

// serve serves h on ln until ctx ends, then stops accepting, lets requests in flight finish
// (within shutdownTimeout) and returns nil; it returns an error when serving fails. It holds
// at most maxConns connections open (connLimiter). release runs before the server shuts down
// (to end requests that would never finish), cleanup after (to close what the requests used,
// such as the events sender).
func serve(ctx context.Context, ln net.Listener, h http.Handler, maxConns int, release, cleanup func(), logger *slog.Logger) error {
	ln, limiter := limitConnections(ln, maxConns, logger)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         limiter.connState,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("example-site: serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", slog.Duration("timeout", shutdownTimeout))
	release()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc // Serve has returned ErrServerClosed
	cleanup()
	if err != nil {
		return fmt.Errorf("example-site: shutting down: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// newLogger logs text to w at level ("debug", "info", "warn", "error"; info when empty).
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(strings.TrimSpace(level))); err != nil {
			return nil, fmt.Errorf("example-site: bad configuration: LOG_LEVEL: %q is not debug, info, warn or error", level)
		}
	}
	if w == nil {
		w = os.Stdout
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
