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

	"github.com/go-personalize/personalize/middleware"
	"github.com/go-personalize/personalize/personalize"
	"github.com/go-personalize/personalize/personalize/sandbox"
)

// Server timeouts. Pages answer within the Personalize budget (400ms by default), so these
// are generous; they exist to shed slow or idle clients.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout is how long requests in flight get to finish on SIGINT or SIGTERM.
	shutdownTimeout = 10 * time.Second
)

// site is the example site: its configuration, Personalize client, middleware, sandbox (in
// sandbox mode) and router. It is an http.Handler.
type site struct {
	cfg     Config
	logger  *slog.Logger
	client  *personalize.Client
	mw      *middleware.Middleware
	sandbox *sandbox.Sandbox // nil in tenant mode
	recent  *recentCalls
	static  *staticFiles
	router  http.Handler

	closeOnce sync.Once
}

// newServer builds the site's handler for cfg. In sandbox mode cfg.BaseURL must be the
// site's own address (the listener's), since the client calls the sandbox mounted in this
// very server. cleanup releases requests held in the sandbox and the client's idle
// connections; call it before shutting the server down, and again after.
func newServer(cfg Config, logger *slog.Logger) (http.Handler, func(), error) {
	if cfg.BaseURL == "" {
		return nil, nil, errors.New("example-site: no API base URL (in sandbox mode, the site's own address)")
	}
	s := &site{cfg: cfg, logger: logger, recent: &recentCalls{}}
	var err error
	if s.static, err = newStaticFiles(); err != nil {
		return nil, nil, fmt.Errorf("example-site: reading the embedded assets: %w", err)
	}
	if cfg.Mode == ModeSandbox {
		if s.sandbox, err = newSandbox(cfg.SandboxFlows); err != nil {
			return nil, nil, err
		}
	}
	opts := append(cfg.clientOptions(cfg.BaseURL),
		personalize.WithLogger(logger),
		personalize.WithHook(s.recent.add),
	)
	if s.client, err = personalize.New(cfg.ClientKey, opts...); err != nil {
		return nil, nil, fmt.Errorf("example-site: %w", err)
	}
	mwOpts := middleware.Options{Logger: logger, SessionKeys: cfg.SessionKeys}
	if len(mwOpts.SessionKeys) == 0 {
		// Sandbox mode without SESSION_KEYS: fresh keys per run, as fresh as the sandbox's
		// own memory, so say nothing about it.
		if mwOpts.SessionKeys, err = randomSessionKeys(); err != nil {
			return nil, nil, err
		}
	}
	if s.mw, err = middleware.New(s.client, mwOpts); err != nil {
		return nil, nil, fmt.Errorf("example-site: %w", err)
	}
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

// close ends requests a sandbox fault holds (http.Server.Shutdown would wait for them) and
// closes the client's idle connections. Safe to call more than once.
func (s *site) close() {
	s.closeOnce.Do(func() {
		if s.sandbox != nil {
			s.sandbox.Close()
		}
	})
	s.client.CloseIdleConnections()
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
	logger.Info("go airways is ready",
		slog.String("mode", string(cfg.Mode)),
		slog.String("api", cfg.BaseURL),
		slog.String("addr", ln.Addr().String()),
		slog.String("url", visitURL(cfg.Addr, ln.Addr())))
	return serve(ctx, ln, h, cleanup, logger)
}

// serve serves h on ln until ctx ends, then stops accepting, lets requests in flight finish
// (within shutdownTimeout) and returns nil; it returns an error when serving fails.
func serve(ctx context.Context, ln net.Listener, h http.Handler, cleanup func(), logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
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
	cleanup()
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
