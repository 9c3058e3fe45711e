// Package memnet serves HTTP over in-memory connections (net.Pipe), for the project's tests
// that run in a testing/synctest bubble: a goroutine waiting on a pipe is durably blocked, so
// the bubble's fake clock moves on (a sandbox's latency, a page's budget, a breaker's open
// time pass at once and exactly), where a loopback socket would stall it.
package memnet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
)

// Listener is a net.Listener whose connections come from its own DialContext.
type Listener struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

// NewListener returns a listener; dial it with DialContext.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

var errClosed = errors.New("memnet: listener closed")

// Accept waits for a connection from DialContext.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, errClosed
	}
}

// Close stops Accept and DialContext; connections already made stay open.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

// Addr is the listener's (made-up) address.
func (l *Listener) Addr() net.Addr { return addr{} }

// DialContext connects to the listener, whatever network and address it is given, as an
// http.Transport's DialContext.
func (l *Listener) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, &net.OpError{Op: "dial", Net: "memnet", Err: errClosed}
	case <-ctx.Done():
		return nil, &net.OpError{Op: "dial", Net: "memnet", Err: ctx.Err()}
	}
}

type addr struct{}

func (addr) Network() string { return "memnet" }
func (addr) String() string  { return "memnet" }

// Server is an http.Server on a Listener, with a client that dials it.
type Server struct {
	// URL is the base URL to call it at (any host resolves to the listener).
	URL string
	// Client is an HTTP client whose connections go to the server.
	Client *http.Client

	listener *Listener
	srv      *http.Server
	served   chan struct{}
}

// Serve serves h in memory until the test ends (or Close). In a synctest bubble, call it
// inside the bubble.
func Serve(t testing.TB, h http.Handler) *Server {
	t.Helper()
	l := NewListener()
	s := &Server{
		URL:      "http://memnet.test",
		Client:   &http.Client{Transport: &http.Transport{DialContext: l.DialContext, MaxIdleConnsPerHost: 64}},
		listener: l,
		srv:      &http.Server{Handler: h},
		served:   make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(l)
	}()
	t.Cleanup(s.Close)
	return s
}

// Close closes the server, its connections (ending the requests they carry: their contexts
// are cancelled) and the client's idle connections, and waits for the server to stop.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.served
	s.Client.CloseIdleConnections()
}
