package main

import (
	"context"
	"fmt"
	"io"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

func cmdBare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bare", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	api := fs.String("api", "", "base URL of the Personalize API, e.g. the sandbox's (required)")
	clientKey := fs.String("client-key", sandbox.DefaultClientKey, "client key")
	pos := fs.String("point-of-sale", "airline.example", "point of sale")
	urlFile := fs.String("url-file", "", "write the server's URL to this file once it listens")
	allowRemote := fs.Bool("allow-remote", false, "allow an API that is not on a loopback host")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkListenAddr(*addr); err != nil {
		return err
	}
	if _, err := checkTargetURL(*api, *allowRemote); err != nil {
		return err
	}
	if *clientKey == "" {
		return usagef("-client-key must not be empty")
	}
	h := bareref.NewHandler(*api, *clientKey, *pos)
	defer h.CloseIdleConnections()
	fmt.Fprintf(stdout, "bare: API %s, client key %q, point of sale %q\n", *api, *clientKey, *pos)
	return serve(ctx, stdout, "bare", *addr, *urlFile, h, nil)
}
