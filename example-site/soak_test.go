package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// soakFor turns the fault soak on and sets the length of its fault phase. It is a load run on
// the wall clock, so it is not part of the default test run (TestOneMisbehavingFlow and
// TestEveryFaultOfTheAPI check the same behaviour deterministically); scripts/perf.sh runs it
// (SOAK=60s), or:
//
//	go test -run TestFaultSoak -soak 60s -v ./example-site/
var soakFor = flag.Duration("soak", 0, "fault soak: run it, with a fault phase this long (e.g. 60s); off by default")

// soakFault is one fault the sandbox holds for a while during the soak.
type soakFault struct {
	name  string
	fault sandbox.Fault
}

// The faults the API can throw at the site, in the order the soak cycles through them.
var soakFaults = []soakFault{
	{"latency spike within the budget", sandbox.Fault{Latency: 150 * time.Millisecond}},
	{"latency spike over the budget", sandbox.Fault{Latency: time.Second}},
	{"500", sandbox.Fault{Status: http.StatusInternalServerError}},
	{"429", sandbox.Fault{Status: http.StatusTooManyRequests}},
	{"503", sandbox.Fault{Status: http.StatusServiceUnavailable}},
	{"hang", sandbox.Fault{Hang: true}},
	{"connection reset", sandbox.Fault{Reset: true}},
	{"malformed JSON", sandbox.Fault{Malformed: true}},
	{"oversized body", sandbox.Fault{Oversized: 2 << 20}},
	{"error object with 200", sandbox.Fault{ErrorObject: true}},
}

// soakSample is one page a soak visitor got.
type soakSample struct {
	phase     string
	status    int
	latency   time.Duration
	err       error
	slots     int // slots on the page
	decisions int // slots that rendered a decision
}

// TestFaultSoak puts the example site under steady load while its Personalize API (the
// sandbox) cycles through every fault it can throw, then recovers. Every page must be a 200
// with default or personalized content, pages must stay within the time budget (+50ms) while
// the faults last, personalization must resume once they end (the circuit breaker closes),
// and goroutines and heap must come back to their baseline.
func TestFaultSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("the fault soak is a load run: go test -run TestFaultSoak -soak 60s ./example-site/ (scripts/perf.sh runs it with SOAK=60s)")
	}
	const (
		visitors  = 3
		budget    = personalize.DefaultBudget
		allowance = 50 * time.Millisecond
		// A short open time lets a trial call through often, so every fault of the cycle
		// reaches the API instead of only the first few.
		breakerOpenFor = 200 * time.Millisecond
	)
	phase := *soakFor / time.Duration(len(soakFaults))

	// The site logs warnings only, as in production: a soak's worth of debug lines would be
	// most of the test's heap.
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ts := startSiteLogging(t, map[string]string{
		"PERSONALIZE_BUDGET":           budget.String(),
		"PERSONALIZE_BREAKER_OPEN_FOR": breakerOpenFor.String(),
	}, logger)
	sb := ts.sandbox(t)

	// Baseline: the site warmed up (every visitor has its browser and session), then
	// measured at rest.
	var clients []*visitor
	for range visitors {
		v := ts.newVisitor(t)
		v.page("/")
		clients = append(clients, v)
	}
	idle := func() {
		// Let the events sender finish what the load queued: its deliveries open connections.
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if st := ts.site.client.EventStats(); st.Queued+st.InFlight == 0 {
				break
			}
		}
		for _, v := range clients {
			v.hc.CloseIdleConnections()
		}
		// The site's client calls its own server (the sandbox is mounted in it): closing the
		// server's side of every connection ends the client's idle ones too.
		ts.srv.CloseClientConnections()
	}
	baseGoroutines, baseHeap := settle(sb, idle)

	var (
		mu      sync.Mutex
		current = "healthy"
		samples []soakSample
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	setPhase := func(name string, f sandbox.Fault) {
		mu.Lock()
		current = name
		mu.Unlock()
		sb.SetFault(f)
	}
	for _, v := range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				p := current
				mu.Unlock()
				s := soakGet(v, "/")
				s.phase = p
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		})
	}

	time.Sleep(phase) // healthy, under load
	for _, f := range soakFaults {
		setPhase(f.name, f.fault)
		time.Sleep(phase)
	}
	setPhase("recovery", sandbox.Fault{})

	// Personalization resumes: the breaker lets a trial call through once its open time is
	// over, and decisions come back.
	recovered := false
	deadline := time.Now().Add(breakerOpenFor + 5*time.Second)
	for !recovered && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		for _, s := range samples {
			if s.phase == "recovery" && s.err == nil && s.slots == 3 && s.decisions == 3 {
				recovered = true
				break
			}
		}
		mu.Unlock()
	}
	close(stop)
	wg.Wait()

	// What the load saw.
	byPhase := map[string][]soakSample{}
	var order []string
	for _, s := range samples {
		if _, ok := byPhase[s.phase]; !ok {
			order = append(order, s.phase)
		}
		byPhase[s.phase] = append(byPhase[s.phase], s)
	}
	for _, name := range order {
		ss := byPhase[name]
		var lat []time.Duration
		decided := 0
		for _, s := range ss {
			lat = append(lat, s.latency)
			decided += s.decisions
		}
		t.Logf("%-32s %5d pages  p50 %-9v p99 %-9v max %-9v decisions %d/%d slots",
			name, len(ss), pct(lat, 50), pct(lat, 99), pct(lat, 100), decided, 3*len(ss))
	}

	require.NotEmpty(t, samples)
	for _, s := range samples {
		if !assert.NoError(t, s.err, "phase %s", s.phase) {
			continue
		}
		assert.Equal(t, http.StatusOK, s.status, "phase %s: every page is a 200", s.phase)
		assert.Equal(t, 3, s.slots, "phase %s: the page renders its three slots, personalized or not", s.phase)
	}
	var during []time.Duration
	for _, f := range soakFaults {
		assert.NotEmpty(t, byPhase[f.name], "the load ran during %q", f.name)
		for _, s := range byPhase[f.name] {
			during = append(during, s.latency)
		}
	}
	assert.LessOrEqual(t, pct(during, 99), budget+allowance, "p99 of pages during the faults is within the budget + 50ms")
	assert.True(t, recovered, "personalization resumes once the API recovers")
	for _, f := range []string{"500", "hang", "connection reset"} {
		decided := 0
		for _, s := range byPhase[f] {
			decided += s.decisions
		}
		assert.Less(t, decided, 3*len(byPhase[f]), "during %q pages fell back to their defaults", f)
	}

	// Nothing left behind: goroutines and heap return to their baseline.
	goroutines, heap := settle(sb, idle)
	t.Logf("baseline: %d goroutines, %d KiB heap; after: %d goroutines, %d KiB heap",
		baseGoroutines, baseHeap>>10, goroutines, heap>>10)
	assert.LessOrEqual(t, goroutines, baseGoroutines+2, "goroutines return to the baseline")
	assert.LessOrEqual(t, heap, baseHeap+8<<20, "the heap returns to the baseline (+8 MiB)")
}

// soakGet fetches a page as a soak visitor and counts its slots and decisions.
func soakGet(v *visitor, path string) soakSample {
	req, err := http.NewRequest(http.MethodGet, v.ts.URL+path, nil)
	if err != nil {
		return soakSample{err: err}
	}
	req.Header.Set("User-Agent", browserUA)
	start := time.Now()
	resp, err := v.hc.Do(req)
	if err != nil {
		return soakSample{err: err, latency: time.Since(start)}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s := soakSample{status: resp.StatusCode, latency: time.Since(start), err: err}
	if err != nil {
		return s
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		s.err = fmt.Errorf("page is not HTML: %w", err)
		return s
	}
	slots := doc.Find("[data-personalize-slot]")
	s.slots = slots.Length()
	s.decisions = slots.Filter(`[data-personalize-state="decision"]`).Length()
	return s
}

// settle lets the process come to rest and returns its goroutines and live heap, waiting up
// to a few seconds for goroutines that are ending. Kept-alive connections are closed first
// (their goroutines are a pool, not a leak, and its size depends on the load's peak), and the
// sandbox's records are cleared (its own bounded memory, not the site's).
func settle(sb *sandbox.Sandbox, closeIdle func()) (int, uint64) {
	closeIdle()
	sb.Reset()
	var goroutines int
	for i := range 50 {
		runtime.GC()
		n := runtime.NumGoroutine()
		if i > 0 && n >= goroutines {
			goroutines = n
			break
		}
		goroutines = n
		time.Sleep(100 * time.Millisecond)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return goroutines, ms.HeapAlloc
}

// pct is the p-th percentile of ds (100: the maximum).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max((len(s)*p+99)/100, 1)
	return s[min(i, len(s))-1]
}
