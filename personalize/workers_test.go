package personalize

import (
	"bytes"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goroutineID is the running goroutine's number, from its stack's first line.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := bytes.Cut(bytes.TrimPrefix(buf, []byte("goroutine ")), []byte(" "))
	return string(id)
}

// ranIn runs a task through w and returns the goroutine it ran in, once it has run.
func ranIn(w *pageWorkers) string {
	ids := make(chan string, 1)
	w.run(func() { ids <- goroutineID() })
	id := <-ids
	synctest.Wait() // the worker is waiting for the next call
	return id
}

// A call started after another has ended runs in the same worker, whose stack has grown
// already; a worker idle for pageWorkerIdle stops (synctest.Test returns only once every
// goroutine of the bubble has ended), as do idle workers when the client closes.
func TestPageWorkersAreReusedThenStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w pageWorkers
		w.init()
		first := ranIn(&w)
		assert.NotEqual(t, goroutineID(), first, "the call runs beside its caller")
		assert.Equal(t, first, ranIn(&w), "the next call reuses the idle worker")

		time.Sleep(pageWorkerIdle)
		synctest.Wait()
		assert.NotEqual(t, first, ranIn(&w), "a worker idle for pageWorkerIdle has stopped")

		w.close()
		synctest.Wait()
		before := time.Now()
		second := ranIn(&w)
		third := ranIn(&w)
		assert.NotEqual(t, second, third, "after close, every call has a goroutine of its own")
		assert.Equal(t, before, time.Now(), "and no worker waits for the idle timeout")
	})
}

// Calls at the same time each get a worker: none waits for another's call to end.
func TestPageWorkersRunConcurrentCallsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w pageWorkers
		w.init()
		defer w.close()
		release := make(chan struct{})
		started := make(chan string, 8)
		for range 8 {
			w.run(func() {
				started <- goroutineID()
				<-release
			})
		}
		ids := map[string]bool{}
		for range 8 {
			ids[<-started] = true
		}
		require.Len(t, ids, 8, "eight calls in flight, eight workers")
		close(release)
	})
}
