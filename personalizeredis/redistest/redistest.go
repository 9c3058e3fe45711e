// Package redistest starts a real redis-server for a test: on 127.0.0.1, on a free port, with
// no persistence, in the test's temporary directory, killed when the test ends. Without
// redis-server on the machine the test is skipped, unless the environment variable CI is set:
// then it fails (Debian: apt-get install redis-server).
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a redis-server of one test, on 127.0.0.1, with no persistence, in the
// test's temporary directory; it is killed when the test ends.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  string
}

// Start starts a redis-server for t. Without one on the machine the test is skipped,
// unless CI is set: then it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not installed (CI is set, so this is a failure): %v; on Debian: apt-get install redis-server", err)
		}
		t.Skipf("redis-server is not installed (on Debian: apt-get install redis-server): %v", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(s.stop)
	// A free port, then redis-server on it: another process may take it in between, so a
	// failure to bind picks another.
	for attempt := 1; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.port = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		err = s.start()
		if err == nil {
			return s
		}
		if attempt == 5 {
			t.Fatalf("redis-server did not start: %v", err)
		}
	}
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// start runs redis-server on s.port and waits until it answers PING.
func (s *Server) start() error {
	s.log = filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", time.Now().UnixNano()))
	out, err := os.Create(s.log)
	if err != nil {
		return err
	}
	defer out.Close()
	s.cmd = exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--daemonize", "no", "--loglevel", "warning")
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(s.cmd, s.done)

	// Process start-up: PING until PONG, within a bound.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for {
		if err := ping(s.Addr()); err == nil {
			return nil
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(s.log)
			return fmt.Errorf("redis-server exited on port %d: %s", s.port, strings.TrimSpace(string(b)))
		case <-deadline:
			s.Kill()
			return errors.New("redis-server did not answer PING within 20s")
		case <-tick.C:
		}
	}
}

// ping sends PING to addr on a connection of its own.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING: %q", line)
	}
	return nil
}

// Kill kills the server (SIGKILL: no shutdown, connections reset) and waits for its exit.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Restart starts the server again on the same port after Kill.
func (s *Server) Restart() {
	s.t.Helper()
	var err error
	for range 5 { // the port was just released; a start can race its reuse
		if err = s.start(); err == nil {
			return
		}
	}
	s.t.Fatalf("redis-server did not restart on port %d: %v", s.port, err)
}

func (s *Server) stop() { s.Kill() }

// Process is the redis-server process running now (to stop it with SIGSTOP, say).
func (s *Server) Process() *os.Process { return s.cmd.Process }
