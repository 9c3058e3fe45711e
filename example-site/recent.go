package main

import (
	"sync"

	"github.com/go-personalize/sdk/personalize"
)

// maxRecentCalls is how many flow calls the debug page lists.
const maxRecentCalls = 50

// recentCalls keeps the client's last flow calls for the debug page, fed by the client's
// hook. Safe for concurrent use; its memory is bounded.
type recentCalls struct {
	mu    sync.Mutex
	buf   [maxRecentCalls]personalize.CallInfo
	next  int
	count int
}

// add records a call; it is the client's hook, so it must be fast.
func (r *recentCalls) add(ci personalize.CallInfo) {
	r.mu.Lock()
	r.buf[r.next] = ci
	r.next = (r.next + 1) % maxRecentCalls
	if r.count < maxRecentCalls {
		r.count++
	}
	r.mu.Unlock()
}

// list returns the calls, newest first.
func (r *recentCalls) list() []personalize.CallInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]personalize.CallInfo, 0, r.count)
	for i := 1; i <= r.count; i++ {
		out = append(out, r.buf[(r.next-i+maxRecentCalls)%maxRecentCalls])
	}
	return out
}
