package sandbox

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a sandbox listening on a loopback port, shaped like httptest.Server.
type Server struct {
	// URL is the base URL of the server, "http://127.0.0.1:<port>", with no trailing slash:
	// the client's base URL.
	URL string
	// Listener is the server's listener.
	Listener net.Listener
	// Sandbox is the sandbox the server serves.
	Sandbox *Sandbox

	hs     *http.Server
	cancel context.CancelFunc
	client *http.Client
	served chan struct{}

	mu     sync.Mutex
	active int                   // requests in flight
	conns  map[net.Conn]struct{} // connections not yet closed or hijacked
	idle   *sync.Cond            // signalled when active or conns shrink
	closed bool

	closeOnce sync.Once
}

// NewServer starts a server for s on 127.0.0.1 at a free port. Close it when done.
func NewServer(s *Sandbox) *Server {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("sandbox: listening on a loopback port: %v", err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{
		URL:      "http://" + l.Addr().String(),
		Listener: l,
		Sandbox:  s,
		cancel:   cancel,
		served:   make(chan struct{}),
		conns:    make(map[net.Conn]struct{}),
		client: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		}},
	}
	srv.idle = sync.NewCond(&srv.mu)
	srv.hs = &http.Server{
		Handler:           http.HandlerFunc(srv.serve),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Requests' contexts derive from ctx: Close cancels it, which ends Hang faults.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    log.New(io.Discard, "", 0),
		ConnState:   srv.connState,
	}
	go func() {
		defer close(srv.served)
		_ = srv.hs.Serve(l)
	}()
	return srv
}

// serve counts the requests in flight so Close can wait for them.
func (srv *Server) serve(w http.ResponseWriter, r *http.Request) {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		w.Header().Set("Connection", "close")
		writeError(w, newAPIError(http.StatusServiceUnavailable, CodeServerClosing, "Service Unavailable",
			"sandbox: the server is closing"))
		return
	}
	srv.active++
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		srv.active--
		if srv.active == 0 {
			srv.idle.Broadcast()
		}
		srv.mu.Unlock()
	}()
	srv.Sandbox.ServeHTTP(w, r)
}

// connState tracks connections so Close can wait until their goroutines are done.
func (srv *Server) connState(c net.Conn, st http.ConnState) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	switch st {
	case http.StateNew:
		srv.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(srv.conns, c)
		srv.idle.Broadcast()
	}
}

// Client returns an HTTP client for the server, with its own connections, which Close closes.
func (srv *Server) Client() *http.Client { return srv.client }

// Close stops the server: it ends requests held by Hang faults and Latency, waits for the
// requests in flight to finish, closes every connection (waiting for their goroutines) and the
// client's idle ones. The
// Sandbox stays usable (e.g. to read its records, or in another server).
func (srv *Server) Close() {
	srv.closeOnce.Do(func() {
		srv.mu.Lock()
		srv.closed = true
		srv.mu.Unlock()
		_ = srv.Listener.Close()
		srv.cancel()
		srv.mu.Lock()
		for srv.active > 0 {
			srv.idle.Wait()
		}
		srv.mu.Unlock()
		_ = srv.hs.Close() // the listener is already closed; the connections are what matters
		<-srv.served
		// A connection closed after an unread body lingers up to half a second before its
		// goroutine ends; wait for it, within reason, so no goroutine outlives Close.
		deadline := time.AfterFunc(5*time.Second, func() {
			srv.mu.Lock()
			srv.conns = map[net.Conn]struct{}{}
			srv.idle.Broadcast()
			srv.mu.Unlock()
		})
		srv.mu.Lock()
		for len(srv.conns) > 0 {
			srv.idle.Wait()
		}
		srv.mu.Unlock()
		deadline.Stop()
		srv.client.CloseIdleConnections()
	})
}
