package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startCmd runs a server command until the test ends (then checks it shut down cleanly) and
// returns its URL, read from its -url-file.
func startCmd(t *testing.T, args ...string) (url string, out *syncBuffer) {
	t.Helper()
	urlFile := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- runCmdErr(ctx, append(args, "-url-file", urlFile), out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
			assert.Contains(t, out.String(), "shutting down")
		case <-time.After(10 * time.Second):
			t.Error("the server did not shut down")
		}
	})
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(urlFile)
		url = strings.TrimSpace(string(b))
		return err == nil && url != ""
	}, 10*time.Second, 10*time.Millisecond)
	return url, out
}

// runCmdErr runs a command's function directly, for its error.
func runCmdErr(ctx context.Context, args []string, out io.Writer) error {
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"sandbox": cmdSandbox, "bare": cmdBare, "api": cmdAPI, "limit": cmdLimit,
	}
	return cmds[args[0]](ctx, args[1:], out, io.Discard)
}

func TestSandboxAndBareCommands(t *testing.T) {
	sbURL, sbOut := startCmd(t, "sandbox", "-addr", "127.0.0.1:0", "-latency", "30ms")
	assert.Contains(t, sbOut.String(), "sandbox listening on "+sbURL)
	assert.True(t, strings.HasPrefix(sbURL, "http://127.0.0.1:"), sbURL)

	hc := bareref.NewHTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	body := bareref.Body{ClientKey: sandbox.DefaultClientKey, Channel: "WEB", Language: "en", CurrencyCode: "EUR",
		PointOfSale: "airline.example", BrowserID: bareref.FallbackBrowserID}
	for _, flow := range []string{bareref.FlowBanner, bareref.FlowDestinations, bareref.FlowNewsletter} {
		body.FriendlyID = flow
		start := time.Now()
		v, err := bareref.CallFlow(context.Background(), hc, sbURL, body)
		require.NoError(t, err, flow)
		assert.NotNil(t, v, flow)
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "the latency applies to every call")
	}

	bareURL, _ := startCmd(t, "bare", "-addr", "127.0.0.1:0", "-api", sbURL)
	resp, err := hc.Get(bareURL + "/")
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 3, strings.Count(string(page), `data-personalize-state="decision"`), string(page))
	assert.Contains(t, string(page), "Fly for less")
	assert.Contains(t, string(page), "Reykjavik")
}

func TestSandboxFlowsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"flows": [{"friendlyId": "only_flow", "response": {"title": "x"}}]}`), 0o600))

	_, out := startCmd(t, "sandbox", "-addr", "127.0.0.1:0", "-flows", path)

	assert.Contains(t, out.String(), "flows [only_flow]")
}

func TestSandboxBadFlowsFile(t *testing.T) {
	code, _, errOut := runCmd(t, "sandbox", "-flows", filepath.Join(t.TempDir(), "missing.json"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "missing.json")
}

func TestWaitAndFreePort(t *testing.T) {
	code, out, errOut := runCmd(t, "freeport")
	require.Equal(t, exitOK, code, errOut)
	port, err := strconv.Atoi(strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Positive(t, port)

	sbURL, _ := startCmd(t, "sandbox", "-addr", "127.0.0.1:0")
	code, out, errOut = runCmd(t, "wait", "-url", sbURL+"/nothing-here")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, sbURL+"/nothing-here answered 404\n", out)

	code, _, errOut = runCmd(t, "wait", "-url", sbURL+"/nothing-here", "-status", "200", "-timeout", "3s")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "last: status 404")
}
