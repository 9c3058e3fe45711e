// Package benchcpu reports the CPU time a benchmark's process spends per operation, next to
// ns/op: user and system time of every goroutine, the garbage collector's and the
// background workers' (event senders, an in-process server) included. ns/op is wall time:
// with RunParallel on more than one core it shrinks as the work spreads, and it leaves out
// work a benchmark's goroutine does not wait for; cpu-ns/op does neither.
//
//	stop := benchcpu.Start(b)
//	for b.Loop() { ... }
//	stop() // reports cpu-ns/op
package benchcpu

import (
	"testing"
	"time"
)

// Unit is the unit of the metric Start reports.
const Unit = "cpu-ns/op"

// Start starts measuring the process's CPU time; the function it returns reports the CPU
// time since then divided by b.N as cpu-ns/op. Call it where the measured work ends (after
// the loop, and after waiting for background work the operations left behind). Where the
// system has no per-process CPU accounting it reports nothing.
func Start(b *testing.B) (stop func()) {
	start, ok := processCPU()
	return func() {
		end, ok2 := processCPU()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), Unit)
		}
	}
}

// Since returns the process's CPU time since start, a value of Now.
func Since(start time.Duration) time.Duration {
	end, _ := processCPU()
	return end - start
}

// Now returns the process's CPU time so far (0 where it is unknown).
func Now() time.Duration {
	t, _ := processCPU()
	return t
}
