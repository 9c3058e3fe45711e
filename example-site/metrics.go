package main

import (
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
)

// processMetrics is what /_personalize/metrics reports: enough to see that memory and
// goroutines stay flat under load and come back after it (docs/performance.md).
type processMetrics struct {
	Goroutines int    `json:"goroutines"`
	HeapAlloc  uint64 `json:"heap_alloc_bytes"`
	HeapInuse  uint64 `json:"heap_inuse_bytes"`
	// HeapLive is the heap the last garbage collection found reachable: what the process
	// holds, without the garbage HeapAlloc counts until the next collection.
	HeapLive    uint64 `json:"heap_live_bytes"`
	StackInuse  uint64 `json:"stack_inuse_bytes"` // goroutine stacks, outside the heap
	HeapObjects uint64 `json:"heap_objects"`
	Sys         uint64 `json:"sys_bytes"`
	NumGC       uint32 `json:"num_gc"`
	RSS         uint64 `json:"rss_bytes,omitempty"` // Linux only
	EventsSent  uint64 `json:"events_sent"`
	EventsLost  uint64 `json:"events_failed_or_dropped"`
}

// metrics answers the process's memory, goroutines and the client's state as JSON. Like the
// debug page, protect or remove it on a real site.
func (s *site) metrics(w http.ResponseWriter, _ *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := processMetrics{
		Goroutines:  runtime.NumGoroutine(),
		HeapAlloc:   ms.HeapAlloc,
		HeapInuse:   ms.HeapInuse,
		HeapLive:    liveHeapBytes(),
		StackInuse:  ms.StackInuse,
		HeapObjects: ms.HeapObjects,
		Sys:         ms.Sys,
		NumGC:       ms.NumGC,
		RSS:         residentBytes(),
	}
	st := s.client.EventStats()
	m.EventsSent, m.EventsLost = st.Sent, st.Failed+st.Dropped
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(m)
}

// liveHeapBytes is the runtime's /gc/heap/live:bytes: the heap marked live by the last
// garbage collection (0 before the first).
func liveHeapBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// residentBytes reads the resident set size from /proc/self/statm; 0 where there is none.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}
