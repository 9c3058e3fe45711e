package personalize

import (
	"sync"
	"time"
)

// pageWorkerIdle is how long a page worker waits for another task before it stops.
const pageWorkerIdle = 2 * time.Second

// pageWorkers runs the client's background work of a page (a prefetched flow call, the HTTP
// exchange of a call, a decision cache's shared call) in goroutines that stay a while after
// their task, waiting for the next one.
// A flow call goes deep into net/http, so a new goroutine's stack grows (and is copied) two or
// three times per call; a worker's grows once and then serves the calls that follow. A call
// is handed to an idle worker, or else to a new one: the workers are as many as the calls in
// flight, and none is left 2 s after the last call, or once the client is closed.
type pageWorkers struct {
	tasks     chan func() // unbuffered: a send succeeds when a worker is waiting
	quit      chan struct{}
	closeOnce sync.Once
}

func (w *pageWorkers) init() {
	w.tasks = make(chan func())
	w.quit = make(chan struct{})
}

// run runs f in a worker: an idle one, else a new one.
func (w *pageWorkers) run(f func()) {
	select {
	case w.tasks <- f:
	default:
		go w.work(f)
	}
}

// work runs f, then the calls handed to it, until it has waited pageWorkerIdle for one or the
// client is closed.
func (w *pageWorkers) work(f func()) {
	f()
	idle := time.NewTimer(pageWorkerIdle)
	defer idle.Stop()
	for {
		select {
		case f = <-w.tasks:
			f()
			idle.Reset(pageWorkerIdle)
		case <-idle.C:
			return
		case <-w.quit:
			return
		}
	}
}

// close stops the idle workers, and the busy ones once their call is done; calls started
// after it each get a goroutine of their own.
func (w *pageWorkers) close() {
	w.closeOnce.Do(func() { close(w.quit) })
}
