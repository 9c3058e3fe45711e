// Command example-site is Go Airways, a small airline site personalized with Sitecore
// Personalize through go-personalize. With no configuration it runs on the built-in sandbox:
//
//	go run ./example-site
//
// With PERSONALIZE_CLIENT_KEY set it talks to a real tenant; see README.md for the variables.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, stop := shutdownOnSignal(context.Background(), sigs, slog.New(slog.NewTextHandler(os.Stderr, nil)), os.Exit)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	signal.Stop(sigs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// shutdownOnSignal returns a context that ends at the first signal on sigs (SIGINT or
// SIGTERM in main), which starts the graceful shutdown: up to shutdownTimeout for requests in
// flight, then up to eventsCloseTimeout for the events still queued. A second signal does not
// wait for it: it logs so and calls exit (os.Exit in main) at once, with 128 plus the signal's
// number (130 for SIGINT, 143 for SIGTERM, as a shell reports a process killed by it). stop
// ends the watch; signals after it are ignored.
func shutdownOnSignal(parent context.Context, sigs <-chan os.Signal, logger *slog.Logger, exit func(code int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case sig := <-sigs:
			logger.Info("shutting down gracefully; signal again to exit at once", slog.String("signal", sig.String()))
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			code := 1
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			logger.Error("second signal: exiting at once, without finishing the shutdown (requests in flight are cut, queued events are lost)",
				slog.String("signal", sig.String()), slog.Int("exit_code", code))
			exit(code)
		case <-done:
		}
	}()
	return ctx, sync.OnceFunc(func() {
		close(done)
		<-stopped
		cancel()
	})
}

// run starts the site and serves until ctx ends, then shuts down gracefully. Logs go to
// stdout; configuration comes from getenv.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger, err := newLogger(stdout, getenv("LOG_LEVEL"))
	if err != nil {
		return err
	}
	return listenAndServe(ctx, cfg, logger)
}
