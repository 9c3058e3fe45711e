package main

import (
	"context"
	"log/slog"
	"math/bits"
	"net"
	"net/http"
	"sync"

	"golang.org/x/net/netutil"
)

// defaultMaxConnections is the most connections the site holds open when MAX_CONNECTIONS is
// unset, unless half the process's open-file limit is lower (maxConnectionsDefault). Each
// connection is a file descriptor; 20,000 idle keep-alive connections once exhausted a
// site's, and new visitors timed out.
const defaultMaxConnections = 4096

// maxConnectionsDefault is the connection cap when MAX_CONNECTIONS is unset:
// defaultMaxConnections, or half the open-file limit (RLIMIT_NOFILE, which Go raises to the
// hard limit at start) when that is lower, leaving the other half for the site's own calls to
// Personalize, its files and its logs.
func maxConnectionsDefault() int {
	if limit, ok := openFileLimit(); ok && limit/2 < defaultMaxConnections {
		return max(int(limit/2), 1)
	}
	return defaultMaxConnections
}

// connLimiter caps the connections a server holds open and, at the cap, closes idle
// keep-alive connections so that the visitors waiting for a connection get one. Below the
// cap, keep-alive works as usual (and IdleTimeout closes idle connections).
//
// The cap itself is netutil.LimitListener's: at the cap the server stops accepting, and new
// connections wait in the kernel's backlog until one closes. A slot held by an idle
// keep-alive connection is a slot a new visitor waits for, so at the cap (as nginx does when
// it runs out of connections) the limiter closes every idle connection, and any that becomes
// idle. A request racing with that close fails on the client's side before any answer; HTTP
// clients retry idempotent requests on such a reused connection.
type connLimiter struct {
	max    int
	logger *slog.Logger

	mu   sync.Mutex
	open int                   // connections accepted and not closed (or hijacked)
	idle map[net.Conn]struct{} // open connections between requests
	shed uint64                // times idle connections were closed at the cap
}

// limitConnections wraps ln so that at most max connections are open at once; install the
// returned limiter's connState as the server's ConnState.
func limitConnections(ln net.Listener, max int, logger *slog.Logger) (net.Listener, *connLimiter) {
	return netutil.LimitListener(ln, max), &connLimiter{max: max, logger: logger, idle: make(map[net.Conn]struct{})}
}

// connState is the server's ConnState hook: it counts open connections and closes idle ones
// at the cap.
func (l *connLimiter) connState(c net.Conn, state http.ConnState) {
	var closing []net.Conn
	l.mu.Lock()
	switch state {
	case http.StateNew:
		l.open++
		if l.open >= l.max {
			for ic := range l.idle {
				closing = append(closing, ic)
				delete(l.idle, ic)
			}
		}
	case http.StateIdle:
		if l.open >= l.max {
			closing = append(closing, c)
		} else {
			l.idle[c] = struct{}{}
		}
	case http.StateActive:
		delete(l.idle, c)
	case http.StateHijacked, http.StateClosed:
		l.open--
		delete(l.idle, c)
	}
	var shed uint64
	if len(closing) > 0 {
		l.shed++
		shed = l.shed
	}
	l.mu.Unlock()
	for _, ic := range closing {
		_ = ic.Close() // the server's goroutine for it sees the error and ends the connection
	}
	// The 1st, 2nd, 4th... time: a site at its cap shows without a line per connection.
	if shed > 0 && bits.OnesCount64(shed) == 1 {
		l.logger.LogAttrs(context.Background(), slog.LevelWarn,
			"connection cap reached: closing idle keep-alive connections (raise MAX_CONNECTIONS and the open-file limit if this persists)",
			slog.Int("max_connections", l.max), slog.Uint64("times", shed))
	}
}
