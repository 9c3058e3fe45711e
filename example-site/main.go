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
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stop()
		os.Exit(1)
	}
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
