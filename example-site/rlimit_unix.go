//go:build unix

package main

import "syscall"

// openFileLimit is the process's limit on open files (the soft RLIMIT_NOFILE), false when it
// cannot be read. An unlimited one reads as a huge number.
func openFileLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true // int64 on some BSDs
}
