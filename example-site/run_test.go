package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunStartupErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	junk := filepath.Join(t.TempDir(), "flows.json")
	require.NoError(t, os.WriteFile(junk, []byte(`{"flows": [{"friendlyId": "x"}]}`), 0o600))

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"tenant mode without session keys", map[string]string{"PERSONALIZE_CLIENT_KEY": "k", "PERSONALIZE_REGION": "eu", "PERSONALIZE_POINT_OF_SALE": "p"}, "tenant mode needs SESSION_KEYS"},
		{"weak session keys", map[string]string{"PERSONALIZE_CLIENT_KEY": "k", "PERSONALIZE_REGION": "eu", "PERSONALIZE_POINT_OF_SALE": "p", "SESSION_KEYS": "secret"}, "too weak"},
		{"address in use", map[string]string{"ADDR": busy.Addr().String()}, "listening on " + busy.Addr().String()},
		{"missing flows file", map[string]string{"ADDR": "127.0.0.1:0", "PERSONALIZE_SANDBOX_FLOWS": filepath.Join(t.TempDir(), "nope.json")}, "loading the sandbox's flows"},
		{"invalid flows file", map[string]string{"ADDR": "127.0.0.1:0", "PERSONALIZE_SANDBOX_FLOWS": junk}, "loading the sandbox's flows"},
		{"bad log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, envOf(tt.env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Regexp(t, `^example-site: `, err.Error())
		})
	}
}

var readyLine = regexp.MustCompile(`msg="go airways is ready" mode=(\S+) transport=\S+ api=(\S+) addr=(\S+) url=(\S+)`)

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newReadyLog()
	done := make(chan error, 1)
	go func() { done <- run(ctx, envOf(map[string]string{"ADDR": "127.0.0.1:0"}), out) }()
	m := out.waitReady(t)
	assert.Equal(t, "sandbox", m[1])
	assert.Contains(t, m[0], " transport=direct ", "the transport, in the ready line")
	assert.Equal(t, "http://"+m[3], m[2], "in sandbox mode the client calls the site itself")
	assert.Equal(t, "http://"+m[3]+"/", m[4])

	ts := &testSite{URL: "http://" + m[3]}
	v := ts.newVisitor(t)
	resp, body := v.get("/healthz")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))
	assert.Equal(t, "decision", slotState(v.page("/"), "home_page_banner"))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	assert.Contains(t, out.String(), `msg="shutting down"`)
	assert.Contains(t, out.String(), "msg=stopped")
}

func TestServeLetsRequestsFinish(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		_, _ = w.Write([]byte("finished"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, ln, h, defaultMaxConnections, func() {}, func() {}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	got := make(chan string, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel() // SIGTERM while a request is in flight
	select {
	case err := <-served:
		t.Fatalf("serve returned before the request finished: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	assert.Equal(t, "finished", <-got)
	require.NoError(t, <-served)
}
