package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFreshClone builds the real binary and runs it with no configuration but an address,
// as `go run ./example-site` does on a fresh clone: the home page must be personalized
// within a few seconds of starting, SIGTERM must stop it cleanly, and a second SIGTERM
// during a shutdown that waits must end it at once.
func TestFreshClone(t *testing.T) {
	t.Parallel() // a browser or a child process: mostly waiting, beside the other tests
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := siteBinary(t)

	t.Run("SIGTERM stops it cleanly", func(t *testing.T) {
		p := startBinary(t, bin)
		ts := &testSite{URL: "http://" + p.addr}
		v := ts.newVisitor(t)
		doc := v.page("/")
		for _, id := range []string{"home_page_banner", "recommended_destinations", "newsletter_offer"} {
			assert.Equal(t, "decision", slotState(doc, id), "%s personalized", id)
		}
		assert.Contains(t, p.logs.String(), "mode=sandbox")

		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		err := p.wait(t)
		if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
			t.Fatalf("exit status %d after SIGTERM; output:\n%s", exitErr.ExitCode(), p.logs)
		}
		require.NoError(t, err)
		assert.Contains(t, p.logs.String(), "msg=stopped")
	})

	t.Run("a second SIGTERM exits at once", func(t *testing.T) {
		p := startBinary(t, bin)
		// A request the graceful shutdown waits for: a body the server waits for. "100
		// Continue" says the handler (the sandbox's, reading the body) runs, blocked.
		conn, err := net.Dial("tcp", p.addr)
		require.NoError(t, err)
		defer conn.Close()
		_, err = fmt.Fprintf(conn, "POST /v2/callFlows HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: 100\r\nExpect: 100-continue\r\n\r\n", p.addr)
		require.NoError(t, err)
		status, err := bufio.NewReader(conn).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "HTTP/1.1 100 Continue\r\n", status)

		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		p.logs.waitFor(t, `msg="shutting down"`) // and waiting for the request, up to 10 s
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		err = p.wait(t)
		exitErr, ok := errors.AsType[*exec.ExitError](err)
		require.True(t, ok, "a non-zero exit; got %v; output:\n%s", err, p.logs)
		assert.Equal(t, 128+int(syscall.SIGTERM), exitErr.ExitCode(), "output:\n%s", p.logs)
		assert.Contains(t, p.logs.String(), "second signal: exiting at once")
		assert.NotContains(t, p.logs.String(), "example-site: shutting down:", "it did not wait for the shutdown to time out")
		assert.NotContains(t, p.logs.String(), "msg=stopped")
	})
}

// The site's binary, built once for the tests that run it (siteBinary).
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// siteBinary builds the site's binary, once per test process; the directory it is in is
// removed when the tests end (TestMain).
func siteBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			built.err = fmt.Errorf("the go command is needed to build the site: %w", err)
			return
		}
		if built.dir, built.err = os.MkdirTemp("", "example-site-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "example-site")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, goBin, "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, built.err)
	return built.bin
}

// removeBinary removes what siteBinary built.
func removeBinary() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// process is the site's binary running on addr.
type process struct {
	cmd    *exec.Cmd
	addr   string
	logs   *watchedLog
	exited chan error
}

// startBinary runs bin with no configuration but an address and env, and waits until it is
// ready; it is killed at the end of the test if still running.
func startBinary(t *testing.T, bin string, env ...map[string]string) *process {
	t.Helper()
	p := &process{addr: freeAddr(t), logs: &watchedLog{readyLog: newReadyLog(), changed: make(chan struct{}, 1)}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin)
	p.cmd.Env = []string{"ADDR=" + p.addr, "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for _, vars := range env {
		for k, v := range vars {
			p.cmd.Env = append(p.cmd.Env, k+"="+v)
		}
	}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	p.logs.waitReady(t)
	return p
}

// wait waits for the process to exit; the deadline only ends a test whose process hangs.
func (p *process) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.exited:
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("the site did not stop within 15s; output:\n%s", p.logs)
		return nil
	}
}

// watchedLog is a readyLog that also wakes waitFor on every write.
type watchedLog struct {
	*readyLog
	changed chan struct{}
}

func (l *watchedLog) Write(p []byte) (int, error) {
	n, err := l.readyLog.Write(p)
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return n, err
}

// waitFor waits until the output contains s; the deadline only ends a test whose process
// never writes it.
func (l *watchedLog) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !strings.Contains(l.String(), s) {
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("no %q in the output:\n%s", s, l.String())
		}
	}
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
