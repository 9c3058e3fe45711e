package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// shutdownTimeout bounds a server's graceful shutdown.
const shutdownTimeout = 5 * time.Second

// serve serves h on addr (loopback only) until ctx ends, then shuts down gracefully:
// beforeShutdown runs first (e.g. to end requests a sandbox holds). It prints the URL, and
// writes it to urlFile when urlFile is not empty.
func serve(ctx context.Context, out io.Writer, name, addr, urlFile string, h http.Handler, beforeShutdown func()) error {
	return serveWith(ctx, out, name, addr, urlFile, h, beforeShutdown, serverOptions{})
}

// serverOptions are what some servers add to serve's.
type serverOptions struct {
	tls       *tls.Config                    // serve HTTPS (and HTTP/2) with it
	http1     bool                           // with tls: HTTP/1.1 only
	connState func(net.Conn, http.ConnState) // http.Server.ConnState
}

// serveWith is serve with opts.
func serveWith(ctx context.Context, out io.Writer, name, addr, urlFile string, h http.Handler, beforeShutdown func(), opts serverOptions) error {
	if err := checkListenAddr(addr); err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("loadtest: %s: %w", name, err)
	}
	url := "http://" + l.Addr().String()
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		TLSConfig:         opts.tls,
		ConnState:         opts.connState,
	}
	if opts.http1 {
		hs.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} // no HTTP/2
	}
	errc := make(chan error, 1)
	if opts.tls != nil {
		url = "https://" + l.Addr().String()
		go func() { errc <- hs.ServeTLS(l, "", "") }()
	} else {
		go func() { errc <- hs.Serve(l) }()
	}
	fmt.Fprintf(out, "%s listening on %s\n", name, url)
	if urlFile != "" {
		if err := writeFileAtomic(urlFile, url+"\n"); err != nil {
			_ = hs.Close()
			<-errc
			return err
		}
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("loadtest: %s: %w", name, err)
	}
	fmt.Fprintf(out, "%s shutting down\n", name)
	if beforeShutdown != nil {
		beforeShutdown()
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("loadtest: %s: shutdown: %w", name, err)
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file, so a reader polling for the
// file never sees it half written.
func writeFileAtomic(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".loadtest-*")
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	_, werr := tmp.WriteString(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("loadtest: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("loadtest: %w", err)
	}
	return nil
}
