package benchcpu

import (
	"crypto/sha256"
	"runtime"
	"testing"
)

// Work done shows up as CPU time: hashing for a while moves the process's CPU clock.
func TestProcessCPUMoves(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no per-process CPU accounting here")
	}
	start, ok := processCPU()
	if !ok {
		t.Fatal("no CPU time on a unix system")
	}
	buf := make([]byte, 1<<20)
	for Since(start) == 0 {
		sum := sha256.Sum256(buf)
		buf[0] = sum[0]
	}
	if Now() < start {
		t.Fatalf("the CPU clock went back: %v < %v", Now(), start)
	}
}

func BenchmarkReport(b *testing.B) {
	stop := Start(b)
	buf := make([]byte, 4096)
	for b.Loop() {
		sum := sha256.Sum256(buf)
		buf[0] = sum[0]
	}
	stop()
}
