package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// hitServer is a test target that counts its requests and records which server got each.
type hitServer struct {
	*httptest.Server
	name string
	log  *hitLog
}

// hitLog is the order in which requests reached the test servers.
type hitLog struct {
	mu    sync.Mutex
	names []string
}

func (l *hitLog) add(name string) {
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
}

// count returns how many requests name got.
func (l *hitLog) count(name string) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n uint64
	for _, x := range l.names {
		if x == name {
			n++
		}
	}
	return n
}

// blocks returns how many runs of consecutive requests to one server the log holds.
func (l *hitLog) blocks() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for i, x := range l.names {
		if i == 0 || l.names[i-1] != x {
			n++
		}
	}
	return n
}

// startHitServer starts a loopback server answering status, logging each request.
func startHitServer(t *testing.T, name string, status int, log *hitLog) *hitServer {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(name)
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<p>hello</p>"))
	}))
	t.Cleanup(srv.Close)
	return &hitServer{Server: srv, name: name, log: log}
}

// runCmd runs the tool with args and returns its exit status and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = runMain(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}
