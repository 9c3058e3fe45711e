//go:build unix

package personalizeredis

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/go-personalize/sdk/personalizeredis/redistest"
)

// A Redis that stops answering (SIGSTOP: connections stay open, the kernel still accepts new
// ones, nothing replies) is an error within OpTimeout, never a wait for the caller's
// deadline; when it answers again, so does the store.
func TestRedisStalled(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st := newTestStore(t, srv, Options{OpTimeout: 100 * time.Millisecond})
	mustSet(t, st, visitorA, keyHome, decision("home_page_banner"), time.Minute)

	if err := srv.Process().Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process().Signal(syscall.SIGCONT) }() // also when the test fails

	for i := range 6 {
		if err := failsFast(t, st, i); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("operation %d: %v, want the store's own deadline", i, err)
		}
	}

	if err := srv.Process().Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitUntilWorks(t, st)
}
