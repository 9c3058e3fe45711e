package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
)

// These tests run serve, the site's real server (timeouts, cap, idle handling), on in-memory
// connections in a synctest bubble: synctest.Wait returns once every goroutine is blocked, so
// "not accepted" is a fact, not a timeout, and the idle timeout passes on the bubble's clock.

// memServe serves h with serve on an in-memory listener at a cap of maxConns until the test
// function returns; the client ends of the connections must be closed by then.
func memServe(t *testing.T, h http.Handler, maxConns int) *memnet.Listener {
	t.Helper()
	ln := memnet.NewListener()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, ln, h, maxConns, func() {}, func() {}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-served)
	})
	return ln
}

// memConn is the client's end of one connection to the server.
type memConn struct {
	net.Conn
	r *bufio.Reader
}

func dialMem(t *testing.T, ln *memnet.Listener) *memConn {
	t.Helper()
	c, err := ln.DialContext(context.Background(), "tcp", "site")
	require.NoError(t, err)
	return &memConn{Conn: c, r: bufio.NewReader(c)}
}

// send writes a GET request for path.
func (c *memConn) send(t *testing.T, path string) {
	t.Helper()
	_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: site\r\n\r\n")
	require.NoError(t, err)
}

// get sends a GET for path and reads its answer.
func (c *memConn) get(t *testing.T, path string) string {
	t.Helper()
	c.send(t, path)
	resp, err := http.ReadResponse(c.r, nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// closedByServer reports whether the server closed the connection (the next read ends).
func (c *memConn) closedByServer() bool {
	_, err := c.r.ReadByte()
	return err != nil
}

// holdHandler answers "/" at once and holds "/hold" until the client goes away.
func holdHandler(held chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			held <- struct{}{}
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
}

// TestServeCapsConnections: at the cap, the server accepts no new connection (it waits in
// the backlog) until one of the open ones closes.
func TestServeCapsConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxConns = 3
		held := make(chan struct{})
		ln := memServe(t, holdHandler(held), maxConns)

		var busy []*memConn
		for range maxConns {
			c := dialMem(t, ln)
			c.send(t, "/hold")
			<-held
			busy = append(busy, c)
		}
		dialed := make(chan net.Conn, 1)
		go func() {
			c, err := ln.DialContext(context.Background(), "tcp", "site")
			if err == nil {
				dialed <- c
			}
		}()
		synctest.Wait()
		select {
		case c := <-dialed:
			c.Close()
			t.Fatalf("connection %d accepted beyond the cap of %d", maxConns+1, maxConns)
		default:
		}

		require.NoError(t, busy[0].Close()) // the visitor leaves: its request ends, its slot frees
		raw := <-dialed
		c := &memConn{Conn: raw, r: bufio.NewReader(raw)}
		assert.Equal(t, "ok", c.get(t, "/"), "the waiting visitor is served")
		require.NoError(t, c.Close())
		for _, b := range busy[1:] {
			require.NoError(t, b.Close())
		}
	})
}

// TestServeClosesIdleConnectionsAtCap: at the cap, idle keep-alive connections are closed at
// once, not after the idle timeout, so a new visitor gets a slot without waiting.
func TestServeClosesIdleConnectionsAtCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxConns = 2
		ln := memServe(t, holdHandler(nil), maxConns)
		start := time.Now()

		idle1 := dialMem(t, ln)
		assert.Equal(t, "ok", idle1.get(t, "/"))
		synctest.Wait() // the server's side of it is idle: below the cap, kept alive
		idle2 := dialMem(t, ln)
		assert.True(t, idle1.closedByServer(), "at the cap, the idle connection is closed")
		assert.Zero(t, time.Since(start), "at once, not after an idle timeout")
		assert.Equal(t, "ok", idle2.get(t, "/"))

		visitor := dialMem(t, ln) // blocks (and the bubble's clock runs) while no slot is free
		assert.Zero(t, time.Since(start), "accepted at once, not after an idle timeout")
		assert.True(t, idle2.closedByServer(), "at the cap again, the idle connection is closed")
		assert.Equal(t, "ok", visitor.get(t, "/"))
		assert.Zero(t, time.Since(start))
		for _, c := range []*memConn{idle1, idle2, visitor} {
			require.NoError(t, c.Close())
		}
	})
}

// TestServeIdleTimeout: below the cap, a keep-alive connection without a request is closed
// after idleTimeout, at most 30 s (it was 120 s).
func TestServeIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := memServe(t, holdHandler(nil), defaultMaxConnections)
		c := dialMem(t, ln)
		assert.Equal(t, "ok", c.get(t, "/"))
		start := time.Now()
		assert.True(t, c.closedByServer())
		idle := time.Since(start)
		assert.Equal(t, idleTimeout, idle, "closed after idleTimeout")
		assert.LessOrEqual(t, idle, 30*time.Second)
		require.NoError(t, c.Close())
	})
}

// TestMaxConnectionsDefault: without MAX_CONNECTIONS the cap is 4096, or half the open-file
// limit when that is lower, and never 0.
func TestMaxConnectionsDefault(t *testing.T) {
	n := maxConnectionsDefault()
	assert.Positive(t, n)
	assert.LessOrEqual(t, n, defaultMaxConnections)
	if limit, ok := openFileLimit(); ok {
		assert.LessOrEqual(t, uint64(n), max(limit/2, 1), "half the open-file limit at most")
		if limit/2 >= defaultMaxConnections {
			assert.Equal(t, defaultMaxConnections, n)
		}
	}
}
