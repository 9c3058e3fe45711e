package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statLine is a /proc/<pid>/stat line as Linux writes it, with comm, utime and stime given.
func statLine(comm string, utime, stime uint64) string {
	return fmt.Sprintf("4242 (%s) S 1 4242 4242 0 -1 4194560 1234 0 0 0 %d %d 0 0 20 0 9 0 123456 1234567 890 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		comm, utime, stime)
}

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want uint64
	}{
		{"plain", statLine("site", 1500, 250), 1750},
		{"comm with spaces and parentheses", statLine("my (odd) server )", 7, 3), 10},
		{"zero", statLine("x", 0, 0), 0},
		{"no newline", strings.TrimSuffix(statLine("x", 1, 2), "\n"), 3},
	} {
		got, err := parseStatCPU([]byte(tc.line))
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
	for _, bad := range []string{
		"", "4242 site S 1", "4242 (site) S 1 2 3", ")(", "4242 (site) S 1 4242 4242 0 -1 4194560 1234 0 0 0 x 1",
		"4242 (site) S 1 4242 4242 0 -1 4194560 1234 0 0 0 -5 1", statLine("x", 1<<40, 0),
		"4242 (site) S 1 4242 4242 0 -1 4194560 1234 0 0 0 1 99999999999999999999999",
	} {
		_, err := parseStatCPU([]byte(bad))
		assert.ErrorIs(t, err, errStatFormat, "%q", bad)
	}
}

// FuzzParseStatCPU: any content gives a sum or an errStatFormat, never a panic; a line
// written as Linux writes it, whatever its comm, gives back its utime + stime.
func FuzzParseStatCPU(f *testing.F) {
	f.Add("site", uint64(1500), uint64(250), []byte(statLine("site", 1500, 250)))
	f.Add("a) (b", uint64(0), uint64(1), []byte("1 (a) b) R"))
	f.Fuzz(func(t *testing.T, comm string, utime, stime uint64, raw []byte) {
		if n, err := parseStatCPU(raw); err != nil {
			require.ErrorIs(t, err, errStatFormat)
		} else {
			require.LessOrEqual(t, n, uint64(2*maxTicks))
		}
		// comm is at most 15 bytes (TASK_COMM_LEN) and holds no NUL or newline.
		if len(comm) > 15 || strings.ContainsAny(comm, "\x00\n") {
			return
		}
		utime, stime = utime%maxTicks, stime%maxTicks
		got, err := parseStatCPU([]byte(statLine(comm, utime, stime)))
		require.NoError(t, err)
		require.Equal(t, utime+stime, got)
	})
}

func TestClockTicks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	assert.Equal(t, int64(100), clockTicks(), "USER_HZ is 100 on Linux")
	assert.Equal(t, 10*time.Millisecond, tick())
}

// The process's own CPU time, read from /proc, grows as it works.
func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	start, err := processCPU(os.Getpid())
	require.NoError(t, err)
	buf := make([]byte, 1<<20)
	for {
		now, err := processCPU(os.Getpid())
		require.NoError(t, err)
		if now > start {
			break
		}
		sum := sha256.Sum256(buf)
		buf[0] = sum[0]
	}
	_, err = processCPU(1 << 30) // no such process
	assert.Error(t, err)
}
