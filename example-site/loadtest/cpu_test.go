package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/cannedapi"
)

func TestParseCPUTarget(t *testing.T) {
	got, err := parseCPUTarget("limit-calls:4242:http://127.0.0.1:8080/")
	require.NoError(t, err)
	assert.Equal(t, cpuTarget{name: "limit-calls", pid: 4242, url: "http://127.0.0.1:8080/"}, got)
	for _, bad := range []string{"", "site", "site:12", "site:x:http://h/", "site:0:http://h/", "site:-3:http://h/",
		"site:+3:http://h/", ":12:http://h/", "a b:12:http://h/", "site:99999999999999999999:http://h/"} {
		_, err := parseCPUTarget(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestParseCPUCheck(t *testing.T) {
	for in, want := range map[string]cpuCheck{
		"site/bare<=0.65":   {a: "site", b: "bare", metric: "cpu", op: "<=", limit: 0.65},
		"site/limit>1":      {a: "site", b: "limit", metric: "cpu", op: ">", limit: 1},
		"site:conns<0.01":   {a: "site", metric: "conns", op: "<", limit: 0.01},
		"site:events>=0.99": {a: "site", metric: "events", op: ">=", limit: 0.99},
	} {
		got, err := parseCPUCheck(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "site", "site<=1", "site/bare", "site/bare<=", "site/bare<=x", "site/bare<=-1",
		"site/bare<=NaN", "site:rps<3", "/bare<=1", "site/<=1", "a b/c<=1", "site/bare=<1", "<=1"} {
		_, err := parseCPUCheck(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// FuzzParseCPUFlags: the parsers of -target and -check never panic, and what they accept
// names valid targets.
func FuzzParseCPUFlags(f *testing.F) {
	for _, s := range []string{"site:12:http://127.0.0.1/", "site/bare<=0.65", "site:events>=0.99", "a:conns<1e-3", "x/y>>1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tg, err := parseCPUTarget(s); err == nil {
			require.True(t, validTargetName(tg.name))
			require.Positive(t, tg.pid)
		}
		if c, err := parseCPUCheck(s); err == nil {
			require.True(t, validTargetName(c.a))
			require.Contains(t, []string{"cpu", "conns", "events"}, c.metric)
			require.Contains(t, checkOps, c.op)
			require.GreaterOrEqual(t, c.limit, 0.0)
		}
	})
}

func TestWriteCPUReport(t *testing.T) {
	rep := CPUReport{Pace: "concurrency 16", Rounds: 6, Slice: Millis(time.Second), Warmup: Millis(time.Second),
		Tick: Millis(10 * time.Millisecond), Ref: "site", EventsOf: "site", APIStats: true, Marker: "fallback",
		Servers: []CPUServer{
			{Summary: Summary{Name: "limit", Requests: 1000, RPS: 20000, Success: 1,
				Latency: Latency{P50: Millis(380 * time.Microsecond), P99: Millis(4 * time.Millisecond)}},
				CPUPerPage: 13.04, RoundMin: 12.6, RoundMax: 13.6, VsRef: 0.0625},
			{Summary: Summary{Name: "site", Requests: 1000, RPS: 4400, Success: 0.995, Marked: 10,
				Latency: Latency{P50: Millis(3 * time.Millisecond), P99: Millis(13785 * time.Microsecond)}},
				CPUPerPage: 208.6, RoundMin: 181, RoundMax: 232, VsRef: 1, ConnsPerPage: 0.0002, EventsPerPage: 0.5534},
		},
		Checks: []Check{{Name: "site/limit CPU per page <= 1.6", Value: 16, Op: "<=", Limit: 1.6}},
	}
	var b bytes.Buffer
	writeCPUReport(&b, rep)
	want := `cpu: concurrency 16, 6 rounds of 1s per server (interleaved, order rotating), warm-up 1s; CPU from /proc/<pid>/stat (tick 10ms)

| server | CPU µs/page | vs site | rounds µs/page | requests/s | p50   | p99      | errors | marked | new API conns/page | events/page |
| ------ | ----------- | ------- | -------------- | ---------- | ----- | -------- | ------ | ------ | ------------------ | ----------- |
| limit  | 13.0        | 0.06    | 13–14          | 20000      | 380µs | 4ms      | 0      | 0.00%  | 0.0000             |             |
| site   | 208.6       | 1.00    | 181–232        | 4400       | 3ms   | 13.785ms | 0.50%  | 1.00%  | 0.0002             | 0.553       |

check site/limit CPU per page <= 1.6: 16.000: FAILED
marked: the share of answers holding 'fallback'
`
	assert.Equal(t, want, b.String())

	// Without API stats and a marker, their columns are left out.
	rep.APIStats, rep.Marker, rep.Checks = false, "", nil
	b.Reset()
	writeCPUReport(&b, rep)
	assert.Contains(t, b.String(), "| server | CPU µs/page | vs site | rounds µs/page | requests/s | p50   | p99      | errors |\n")
	assert.NotContains(t, b.String(), "conns")
}

// fakeCPU is the CPU time of made-up processes: each server's handler charges its own.
type fakeCPU struct {
	mu  sync.Mutex
	cpu map[int]time.Duration
}

func (f *fakeCPU) charge(pid int, d time.Duration) {
	f.mu.Lock()
	f.cpu[pid] += d
	f.mu.Unlock()
}

func (f *fakeCPU) of(pid int) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.cpu[pid]
	if !ok {
		return 0, fmt.Errorf("no process %d", pid)
	}
	return d, nil
}

// A run charges each server what its process spent, counts each server's new API
// connections in its own slices, the events for the server they are counted for (in its
// own slices: another server sends events too), and checks.
func TestCPURun(t *testing.T) {
	cpu := &fakeCPU{cpu: map[int]time.Duration{1: 0, 2: 0, 3: 0}}
	var conns, events atomic.Uint64
	stats := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(APIStats{Stats: cannedapi.Stats{Events: events.Load()}, Connections: conns.Load()})
	}))
	t.Cleanup(stats.Close)
	var order []string
	var orderMu sync.Mutex
	server := func(name string, pid int, perPage time.Duration, onPage func()) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			cpu.charge(pid, perPage)
			if onPage != nil {
				onPage()
			}
			// One server is driven at a time: a change of server is a new slice.
			orderMu.Lock()
			if len(order) == 0 || order[len(order)-1] != name {
				order = append(order, name)
			}
			orderMu.Unlock()
			_, _ = w.Write([]byte("page"))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	limit := server("limit", 1, 10*time.Microsecond, nil)
	site := server("site", 2, 200*time.Microsecond, func() { events.Add(1) })
	churn := server("churn", 3, 100*time.Microsecond, func() { conns.Add(1); events.Add(2) })

	r := &cpuRun{pace: pace{concurrency: 2}, duration: 300 * time.Millisecond, rounds: 3, warmup: 50 * time.Millisecond, ref: "site", eventsOf: "site",
		stats: &statsClient{url: stats.URL, hc: stats.Client()}, cpuOf: cpu.of}
	for _, tg := range []cpuTarget{{"limit", 1, limit.URL}, {"site", 2, site.URL}, {"churn", 3, churn.URL}} {
		target, err := newTarget(tg.name, tg.url, http.Header{}, false, false, time.Second)
		require.NoError(t, err)
		t.Cleanup(target.close)
		r.servers = append(r.servers, &cpuServer{cpuTarget: tg, t: target})
	}
	rep, err := r.run(context.Background())
	require.NoError(t, err)
	byName := map[string]CPUServer{}
	for _, s := range rep.Servers {
		require.Positive(t, s.Requests, s.Name)
		byName[s.Name] = s
	}
	assert.InDelta(t, 10, byName["limit"].CPUPerPage, 1e-9)
	assert.InDelta(t, 200, byName["site"].CPUPerPage, 1e-9)
	assert.InDelta(t, 100, byName["churn"].CPUPerPage, 1e-9)
	assert.InDelta(t, 0.05, byName["limit"].VsRef, 1e-9)
	assert.InDelta(t, 200, byName["site"].RoundMin, 1e-9)
	assert.InDelta(t, 200, byName["site"].RoundMax, 1e-9)
	assert.InDelta(t, 1, byName["churn"].ConnsPerPage, 1e-9, "every churn page opened a connection")
	assert.Zero(t, byName["site"].ConnsPerPage)
	assert.InDelta(t, 1, byName["site"].EventsPerPage, 1e-9, "one event per site page, counted after the warm-up, none of churn's")
	assert.Zero(t, byName["limit"].Events)
	// The warm-up goes in table order, then each round starts one server later.
	assert.Equal(t, strings.Fields("limit site churn limit site churn site churn limit churn limit site"), order)

	runChecks(&rep, []cpuCheck{
		{a: "limit", b: "site", metric: "cpu", op: "<=", limit: 0.1},
		{a: "churn", metric: "conns", op: "<", limit: 0.01},
		{a: "site", metric: "events", op: ">=", limit: 0.99},
		{a: "limit", metric: "events", op: ">=", limit: 0.99},
	})
	require.Len(t, rep.Checks, 4)
	assert.True(t, rep.Checks[0].OK)
	assert.False(t, rep.Checks[1].OK, "churn opens a connection per page")
	assert.True(t, rep.Checks[2].OK)
	assert.False(t, rep.Checks[3].OK, "events are counted for -events-of only")
	assert.False(t, rep.Pass)

	// A CPU ratio is not checked when the pages of the server it would flatter fell back
	// (they called nothing): A of A/B<=X, B of A/B>=X. The other side's fallbacks are
	// named, and do not stop the check.
	marked := rep
	marked.Checks, marked.Pass, marked.Marker = nil, true, "fallback"
	marked.Servers = append([]CPUServer(nil), rep.Servers...)
	for i := range marked.Servers {
		if marked.Servers[i].Name == "limit" {
			// Half of its pages (an even count: half of an odd one is not 50.0%).
			marked.Servers[i].Requests, marked.Servers[i].Marked = 200, 100
		}
	}
	runChecks(&marked, []cpuCheck{
		{a: "limit", b: "site", metric: "cpu", op: "<=", limit: 0.1},
		{a: "site", b: "limit", metric: "cpu", op: ">=", limit: 10},
		{a: "site", b: "limit", metric: "cpu", op: "<=", limit: 30},
		{a: "limit", b: "site", metric: "cpu", op: ">=", limit: 0.01},
	})
	require.Len(t, marked.Checks, 4)
	assert.False(t, marked.Checks[0].OK)
	assert.Contains(t, marked.Checks[0].Name, "not comparable: 50.0% of limit's pages marked")
	assert.False(t, marked.Checks[1].OK)
	assert.Contains(t, marked.Checks[1].Name, "not comparable: 50.0% of limit's pages marked")
	assert.True(t, marked.Checks[2].OK, "limit's fallbacks only make site/limit<=X harder")
	assert.Contains(t, marked.Checks[2].Name, "(50.0% of limit's pages marked)")
	assert.True(t, marked.Checks[3].OK, "limit's fallbacks only make limit/site>=X harder")
	assert.Contains(t, marked.Checks[3].Name, "(50.0% of limit's pages marked)")

	// A server whose process is gone ends the run with an error naming it.
	r.cpuOf = func(pid int) (time.Duration, error) {
		if pid == 3 {
			return 0, fmt.Errorf("no process %d", pid)
		}
		return cpu.of(pid)
	}
	_, err = r.run(context.Background())
	assert.ErrorContains(t, err, "server churn")
}
