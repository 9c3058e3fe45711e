package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A server's CPU time, as Linux accounts it in /proc/<pid>/stat: the user (utime) and system
// (stime) time of all its threads, the ones that ended included, in clock ticks.

// atClkTck is AT_CLKTCK, the auxiliary vector's entry for the clock tick rate (<elf.h>).
const atClkTck = 17

// userHZ is the clock tick rate Linux reports to user space on every architecture Go runs on
// (USER_HZ), used when the auxiliary vector cannot be read.
const userHZ = 100

// clockTicks is the rate of /proc's clock ticks per second: sysconf(_SC_CLK_TCK), which libc
// reads from the auxiliary vector's AT_CLKTCK.
var clockTicks = sync.OnceValue(func() int64 {
	auxv, err := unix.Auxv()
	if err == nil {
		for _, kv := range auxv {
			if kv[0] == atClkTck && kv[1] > 0 {
				return int64(kv[1])
			}
		}
	}
	return userHZ
})

// tick is the length of one clock tick: the resolution of a CPU time read from /proc.
func tick() time.Duration { return time.Second / time.Duration(clockTicks()) }

// errStatFormat is a /proc/<pid>/stat line that is not as proc(5) documents it.
var errStatFormat = errors.New("loadtest: unexpected /proc stat format")

// parseStatCPU returns utime + stime, in clock ticks, from the content of /proc/<pid>/stat:
// "pid (comm) state ppid ... utime stime ...", where comm may hold spaces and parentheses
// (it ends at the line's last ')'), utime is field 14 and stime field 15.
func parseStatCPU(b []byte) (ticks uint64, err error) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 || bytes.IndexByte(b[:end], '(') < 0 {
		return 0, fmt.Errorf("%w: no (comm)", errStatFormat)
	}
	fields := bytes.Fields(b[end+1:])
	// fields[0] is field 3 (state): utime (14) and stime (15) are fields[11] and fields[12].
	if len(fields) < 13 {
		return 0, fmt.Errorf("%w: %d fields after comm, want at least 13", errStatFormat, len(fields))
	}
	utime, err := strconv.ParseUint(string(fields[11]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: utime: %v", errStatFormat, err)
	}
	stime, err := strconv.ParseUint(string(fields[12]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: stime: %v", errStatFormat, err)
	}
	if utime > maxTicks || stime > maxTicks {
		return 0, fmt.Errorf("%w: CPU time out of range", errStatFormat)
	}
	return utime + stime, nil
}

// maxTicks bounds utime and stime so that their sum, and its conversion to a duration, never
// overflow (about 2.9 years of CPU at 100 ticks a second).
const maxTicks = 1 << 33

// processCPU is the CPU time (user + system, all threads) the process pid has used so far.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("loadtest: CPU time of process %d: %w", pid, err)
	}
	ticks, err := parseStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("loadtest: CPU time of process %d: %w", pid, err)
	}
	return time.Duration(ticks) * tick(), nil
}
