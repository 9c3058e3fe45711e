package personalize

import (
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// cpuStarved reads the runtime's own count of goroutines waiting for a CPU: with four times
// its threshold of goroutines ready to run (each yielding the CPU in a loop), the process is
// short of CPU.
func TestCPUStarvedReadsTheRuntimesQueue(t *testing.T) {
	n := 4 * starvedPerCPU * runtime.GOMAXPROCS(0)
	stop := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			started.Done()
			for {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
			}
		}()
	}
	started.Wait()
	queued := runnableGoroutines()
	starved := (&finishing{}).cpuStarved()
	close(stop)
	done.Wait()
	require.True(t, starved, "%d goroutines ready to run, %d counted, threshold %d", n, queued, starvedPerCPU*runtime.GOMAXPROCS(0))
}
