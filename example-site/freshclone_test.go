package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFreshClone builds the real binary and runs it with no configuration but an address,
// as `go run ./example-site` does on a fresh clone: the home page must be personalized
// within a few seconds of starting, and SIGTERM must stop it cleanly.
func TestFreshClone(t *testing.T) {
	t.Parallel() // a browser or a child process: mostly waiting, beside the other tests
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to build the site")
	bin := filepath.Join(t.TempDir(), "example-site")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	addr := freeAddr(t)
	logs := newReadyLog()
	cmd := exec.Command(bin)
	cmd.Env = []string{"ADDR=" + addr, "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	logs.waitReady(t)
	ts := &testSite{URL: "http://" + addr}
	v := ts.newVisitor(t)
	doc := v.page("/")
	for _, id := range []string{"home_page_banner", "recommended_destinations", "newsletter_offer"} {
		assert.Equal(t, "decision", slotState(doc, id), "%s personalized", id)
	}
	assert.Contains(t, logs.String(), "mode=sandbox")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
			t.Fatalf("exit status %d after SIGTERM; output:\n%s", exitErr.ExitCode(), logs)
		}
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatalf("the site did not stop within 15s of SIGTERM; output:\n%s", logs)
	}
	assert.Contains(t, logs.String(), "msg=stopped")
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
