package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cpu drives several servers, each a process of its own, in interleaved rounds and reports the
// CPU each spends per page, read from its /proc/<pid>/stat before and after every slice, next
// to requests/s and latency; with -api-stats, also the new connections each opened to the API
// per page and the events the API received per page.

// Limits of a cpu run.
const (
	maxCPUTargets  = 16
	maxDrain       = 30 * time.Second
	drainPoll      = 100 * time.Millisecond
	drainQuietPoll = 3 // polls without a new event that end a drain
)

// cpuTarget is a server under test: a name, the process that serves it and its page's URL.
type cpuTarget struct {
	name string
	pid  int
	url  string
}

// parseCPUTarget reads -target NAME:PID:URL. The name is letters, digits and "-_.+"
// (it names the target in checks and tables).
func parseCPUTarget(s string) (cpuTarget, error) {
	name, rest, ok := strings.Cut(s, ":")
	if !ok || !validTargetName(name) {
		return cpuTarget{}, usagef("-target %q: want NAME:PID:URL with a NAME of letters, digits and -_.+", s)
	}
	pidText, rawURL, ok := strings.Cut(rest, ":")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 || pidText[0] == '+' {
		return cpuTarget{}, usagef("-target %q: want NAME:PID:URL with a process ID above 0", s)
	}
	return cpuTarget{name: name, pid: pid, url: rawURL}, nil
}

func validTargetName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.+", c) >= 0) {
			return false
		}
	}
	return true
}

// cpuCheck is one acceptance check of a cpu run: A/B<=X compares CPU per page, A:conns<X the
// new API connections per page, A:events>=X the events delivered per page.
type cpuCheck struct {
	a, b   string // b is set for a CPU ratio
	metric string // "cpu", "conns" or "events"
	op     string
	limit  float64
}

var checkOps = []string{"<=", ">=", "<", ">"} // the two-byte ones first

// parseCPUCheck reads -check.
func parseCPUCheck(s string) (cpuCheck, error) {
	bad := usagef("-check %q: want A/B<=X (CPU per page), A:conns<X or A:events>=X, with <, <=, > or >=", s)
	var c cpuCheck
	var lhs, rhs string
	for _, op := range checkOps {
		if i := strings.Index(s, op); i > 0 {
			lhs, rhs, c.op = s[:i], s[i+len(op):], op
			break
		}
	}
	if c.op == "" {
		return cpuCheck{}, bad
	}
	f, err := strconv.ParseFloat(rhs, 64)
	if err != nil || f < 0 || math.IsNaN(f) || f > 1e9 {
		return cpuCheck{}, bad
	}
	c.limit = f
	if a, b, ok := strings.Cut(lhs, "/"); ok {
		c.a, c.b, c.metric = a, b, "cpu"
	} else if a, m, ok := strings.Cut(lhs, ":"); ok && (m == "conns" || m == "events") {
		c.a, c.metric = a, m
	} else {
		return cpuCheck{}, bad
	}
	if !validTargetName(c.a) || c.metric == "cpu" && !validTargetName(c.b) {
		return cpuCheck{}, bad
	}
	return c, nil
}

// String is the check as given.
func (c cpuCheck) String() string {
	if c.metric == "cpu" {
		return fmt.Sprintf("%s/%s CPU per page %s %g", c.a, c.b, c.op, c.limit)
	}
	return fmt.Sprintf("%s %s per page %s %g", c.a, map[string]string{"conns": "new API connections", "events": "events delivered"}[c.metric], c.op, c.limit)
}

func (c cpuCheck) holds(v float64) bool {
	switch c.op {
	case "<=":
		return v <= c.limit
	case ">=":
		return v >= c.limit
	case "<":
		return v < c.limit
	default:
		return v > c.limit
	}
}

// CPUReport is what a cpu run measured.
type CPUReport struct {
	Pace   string `json:"pace"`
	Rounds int    `json:"rounds"`
	Slice  Millis `json:"slice_ms"`
	Warmup Millis `json:"warmup_ms"`
	// Tick is the resolution of the CPU times: one clock tick of /proc.
	Tick Millis `json:"tick_ms"`
	// Ref is the server the others are compared with ("vs this site"); EventsOf the one the
	// API's events are counted for.
	Ref      string `json:"ref"`
	EventsOf string `json:"events_of,omitempty"`
	APIStats bool   `json:"api_stats"`
	// Marker is the -count-body string: the share of answers holding it is shown.
	Marker  string      `json:"marker,omitempty"`
	Servers []CPUServer `json:"servers"`
	Checks  []Check     `json:"checks,omitempty"`
	Pass    bool        `json:"pass"`
}

// CPUServer is one server's numbers.
type CPUServer struct {
	Summary
	PID int `json:"pid"`
	// CPU is the process's CPU time over the measured rounds, its own slices and the others'
	// (work it did in the background: events, timers); Own is within its own slices.
	CPU Millis `json:"cpu_ms"`
	Own Millis `json:"own_cpu_ms"`
	// CPUPerPage is CPU over the requests it answered, in µs; RoundMin and RoundMax the
	// lowest and highest own CPU per page of a slice; VsRef CPUPerPage over Ref's.
	CPUPerPage float64 `json:"cpu_us_per_page"`
	RoundMin   float64 `json:"round_min_us_per_page"`
	RoundMax   float64 `json:"round_max_us_per_page"`
	VsRef      float64 `json:"vs_ref"`
	// NewConns are the connections the API accepted during its slices; Events the events
	// the API received during its slices and until they stopped coming after each (for
	// EventsOf only: other servers' events do not count), and their share per page.
	NewConns      uint64  `json:"new_api_connections"`
	ConnsPerPage  float64 `json:"new_api_connections_per_page"`
	Events        uint64  `json:"events"`
	EventsPerPage float64 `json:"events_per_page"`
}

// statsClient fetches the api command's stats.
type statsClient struct {
	url string
	hc  *http.Client
}

func (s *statsClient) fetch(ctx context.Context) (APIStats, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return APIStats{}, fmt.Errorf("loadtest: API stats: %w", err)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return APIStats{}, fmt.Errorf("loadtest: API stats: %w", err)
	}
	defer resp.Body.Close()
	var st APIStats
	if resp.StatusCode != http.StatusOK {
		return APIStats{}, fmt.Errorf("loadtest: API stats: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxProbeBody)).Decode(&st); err != nil {
		return APIStats{}, fmt.Errorf("loadtest: API stats: %w", err)
	}
	return st, nil
}

// cpuServer is a target under load and what was measured of it.
type cpuServer struct {
	cpuTarget
	t        *target
	tl       tally
	own      time.Duration
	rounds   []float64
	newConns uint64
	events   uint64 // the API's, in and after its slices (for eventsOf only)
}

// cpuRun drives the servers interleaved.
type cpuRun struct {
	servers  []*cpuServer
	pace     pace
	duration time.Duration // per server, measured
	rounds   int
	warmup   time.Duration
	ref      string
	eventsOf string
	stats    *statsClient // nil: no API stats
	// cpuOf reads a process's CPU time (processCPU; tests replace it).
	cpuOf func(pid int) (time.Duration, error)
}

func (r *cpuRun) slice() time.Duration { return r.duration / time.Duration(r.rounds) }

// sampleCPU reads every server's CPU time.
func (r *cpuRun) sampleCPU() ([]time.Duration, error) {
	out := make([]time.Duration, len(r.servers))
	for i, s := range r.servers {
		var err error
		if out[i], err = r.cpuOf(s.pid); err != nil {
			return nil, fmt.Errorf("%w (did server %s exit?)", err, s.name)
		}
	}
	return out, nil
}

// drain waits until the API has received no new event for drainQuietPoll polls, at most
// maxDrain, so that events a server queued are counted, and returns the last stats.
func (r *cpuRun) drain(ctx context.Context) (APIStats, error) {
	st, err := r.stats.fetch(ctx)
	if err != nil {
		return APIStats{}, err
	}
	deadline := time.Now().Add(maxDrain)
	for quiet := 0; quiet < drainQuietPoll && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return st, nil
		case <-time.After(drainPoll):
		}
		next, err := r.stats.fetch(ctx)
		if err != nil {
			return APIStats{}, err
		}
		if next.Events == st.Events {
			quiet++
		} else {
			quiet = 0
		}
		st = next
	}
	return st, nil
}

// run warms every server up, then drives them in rounds of one slice each, the order
// rotating every round (A B C, B C A, C A B, ...) so that each is first as often; it returns
// early, with what it measured, when ctx ends.
func (r *cpuRun) run(ctx context.Context) (CPUReport, error) {
	var discard tally
	for _, s := range r.servers {
		r.pace.attack(ctx, s.t, r.warmup, &discard)
	}
	if r.stats != nil {
		// The warm-up's events are not the first slice's.
		if _, err := r.drain(ctx); err != nil {
			return CPUReport{}, err
		}
	}
	start, err := r.sampleCPU()
	if err != nil {
		return CPUReport{}, err
	}
	for round := 0; round < r.rounds && ctx.Err() == nil; round++ {
		for k := range r.servers {
			s := r.servers[(round+k)%len(r.servers)]
			if err := r.runSlice(ctx, s); err != nil {
				return CPUReport{}, err
			}
		}
	}
	end, err := r.sampleCPU()
	if err != nil {
		return CPUReport{}, err
	}
	return r.report(start, end), nil
}

// runSlice drives s for one slice and adds its own CPU, new API connections and events.
func (r *cpuRun) runSlice(ctx context.Context, s *cpuServer) error {
	var before APIStats
	var err error
	if r.stats != nil {
		if before, err = r.stats.fetch(ctx); err != nil {
			return err
		}
	}
	cpu0, err := r.cpuOf(s.pid)
	if err != nil {
		return fmt.Errorf("%w (did server %s exit?)", err, s.name)
	}
	reqs := s.tl.metrics.Requests
	r.pace.attack(ctx, s.t, r.slice(), &s.tl)
	cpu1, err := r.cpuOf(s.pid)
	if err != nil {
		return fmt.Errorf("%w (did server %s exit?)", err, s.name)
	}
	s.own += cpu1 - cpu0
	if n := s.tl.metrics.Requests - reqs; n > 0 {
		s.rounds = append(s.rounds, float64(cpu1-cpu0)/float64(time.Microsecond)/float64(n))
	}
	if r.stats != nil {
		// The events of the server they are counted for: those of its slice, and those it
		// still sends after it (its queue), before the next slice begins; so other servers
		// sending events of their own do not count.
		fetch := r.stats.fetch
		if s.name == r.eventsOf {
			fetch = r.drain
		}
		after, err := fetch(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
		s.newConns += after.Connections - before.Connections
		s.events += after.Events - before.Events
	}
	return nil
}

// report sums the run up.
func (r *cpuRun) report(start, end []time.Duration) CPUReport {
	rep := CPUReport{Pace: r.pace.String(), Rounds: r.rounds, Slice: Millis(r.slice()), Warmup: Millis(r.warmup),
		Tick: Millis(tick()), Ref: r.ref, APIStats: r.stats != nil, Pass: true}
	if r.stats != nil {
		rep.EventsOf = r.eventsOf
	}
	if len(r.servers) > 0 {
		rep.Marker = string(r.servers[0].t.marker)
	}
	var refCPU float64
	for i, s := range r.servers {
		cs := CPUServer{Summary: s.tl.summary(s.t), PID: s.pid, CPU: Millis(end[i] - start[i]), Own: Millis(s.own),
			NewConns: s.newConns}
		if cs.Requests > 0 {
			pages := float64(cs.Requests)
			cs.CPUPerPage = float64(end[i]-start[i]) / float64(time.Microsecond) / pages
			cs.ConnsPerPage = float64(s.newConns) / pages
			if r.stats != nil && s.name == r.eventsOf {
				cs.Events = s.events
				cs.EventsPerPage = float64(cs.Events) / pages
			}
		}
		if len(s.rounds) > 0 {
			cs.RoundMin, cs.RoundMax = s.rounds[0], s.rounds[0]
			for _, v := range s.rounds {
				cs.RoundMin, cs.RoundMax = min(cs.RoundMin, v), max(cs.RoundMax, v)
			}
		}
		if s.name == r.ref {
			refCPU = cs.CPUPerPage
		}
		rep.Servers = append(rep.Servers, cs)
	}
	for i := range rep.Servers {
		rep.Servers[i].VsRef = ratio(rep.Servers[i].CPUPerPage, refCPU)
	}
	return rep
}

// maxMarkedForCPU is the largest share of answers holding the -count-body string (a slot that
// fell back) with which a CPU ratio is checked on the side it would flatter: a page that
// calls nothing costs less, and a server that sheds its calls would pass for a cheap one.
const maxMarkedForCPU = 0.01

// runChecks evaluates checks on rep. A CPU ratio fails when the server whose fallbacks would
// help it pass marked more than maxMarkedForCPU of its answers (with -count-body): A of
// A/B<=X (a cheaper A passes more easily), B of A/B>=X. The other side's fallbacks only make
// the check harder (a cheaper B raises A/B<=X) or are what that server costs under this load
// (pages that waited out their budget still paid for their calls), so they do not stop it.
func runChecks(rep *CPUReport, checks []cpuCheck) {
	byName := map[string]CPUServer{}
	for _, s := range rep.Servers {
		byName[s.Name] = s
	}
	for _, c := range checks {
		a := byName[c.a]
		var v float64
		ok := a.Requests > 0
		name := c.String()
		switch c.metric {
		case "cpu":
			b := byName[c.b]
			v = ratio(a.CPUPerPage, b.CPUPerPage)
			ok = ok && b.Requests > 0 && b.CPUPerPage > 0
			flattered, other := a, b
			if c.op == ">" || c.op == ">=" {
				flattered, other = b, a
			}
			switch {
			case rep.Marker == "":
			case flattered.markedShare() > maxMarkedForCPU:
				ok = false
				name = fmt.Sprintf("%s (not comparable: %.1f%% of %s's pages marked)", name, 100*flattered.markedShare(), flattered.Name)
			case other.markedShare() > maxMarkedForCPU:
				name = fmt.Sprintf("%s (%.1f%% of %s's pages marked)", name, 100*other.markedShare(), other.Name)
			}
		case "conns":
			v = a.ConnsPerPage
			ok = ok && rep.APIStats
		case "events":
			v = a.EventsPerPage
			ok = ok && rep.APIStats && c.a == rep.EventsOf
		}
		k := Check{Name: name, Value: v, Op: c.op, Limit: c.limit, OK: ok && c.holds(v)}
		rep.Checks = append(rep.Checks, k)
		rep.Pass = rep.Pass && k.OK
	}
}

// writeCPUReport prints the report as a Markdown table, then the checks.
func writeCPUReport(w io.Writer, rep CPUReport) {
	fmt.Fprintf(w, "cpu: %s, %d rounds of %s per server (interleaved, order rotating), warm-up %s; CPU from /proc/<pid>/stat (tick %s)\n\n",
		rep.Pace, rep.Rounds, rep.Slice, rep.Warmup, rep.Tick)
	head := []string{"server", "CPU µs/page", "vs " + rep.Ref, "rounds µs/page", "requests/s", "p50", "p99", "errors"}
	if rep.Marker != "" {
		head = append(head, "marked")
	}
	if rep.APIStats {
		head = append(head, "new API conns/page", "events/page")
	}
	rows := [][]string{head, nil}
	for _, s := range rep.Servers {
		row := []string{s.Name, fmt.Sprintf("%.1f", s.CPUPerPage), fmt.Sprintf("%.2f", s.VsRef),
			fmt.Sprintf("%.0f–%.0f", s.RoundMin, s.RoundMax), fmt.Sprintf("%.0f", s.RPS),
			s.Latency.P50.String(), s.Latency.P99.String(), errorsText(s.Summary)}
		if rep.Marker != "" {
			row = append(row, fmt.Sprintf("%.2f%%", 100*s.markedShare()))
		}
		if rep.APIStats {
			events := ""
			if s.Name == rep.EventsOf {
				events = fmt.Sprintf("%.3f", s.EventsPerPage)
			}
			row = append(row, fmt.Sprintf("%.4f", s.ConnsPerPage), events)
		}
		rows = append(rows, row)
	}
	writeMarkdownTable(w, rows)
	for _, k := range rep.Checks {
		verdict := "ok"
		if !k.OK {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "check %s: %.3f: %s\n", k.Name, k.Value, verdict)
	}
	if rep.Marker != "" {
		fmt.Fprintf(w, "marked: the share of answers holding '%s'\n", rep.Marker)
	}
	for _, s := range rep.Servers {
		writeErrors(w, s.Summary)
	}
}

// errorsText is the share of answers that were not a 2xx or 3xx, "0" when none.
func errorsText(s Summary) string {
	if s.Requests == 0 {
		return "no answer"
	}
	if s.Success >= 1 {
		return "0"
	}
	return fmt.Sprintf("%.2f%%", 100*(1-s.Success))
}

// writeMarkdownTable prints rows (the first a header, a nil row the separator) with padded
// columns: numbers and text alike, readable as text and as Markdown.
func writeMarkdownTable(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString("|")
		for i, width := range widths {
			if r == nil {
				b.WriteString(" " + strings.Repeat("-", max(3, width)) + " |")
				continue
			}
			c := ""
			if i < len(r) {
				c = r[i]
			}
			b.WriteString(" " + c + strings.Repeat(" ", max(3, width)-len([]rune(c))) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintln(w)
}

func cmdCPU(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cpu", stderr)
	var lf loadFlags
	lf.register(fs, "how long each server is driven, in total")
	var targets []cpuTarget
	fs.Func("target", "a server under test, NAME:PID:URL (repeatable, in table order): its page's URL and the process serving it",
		func(v string) error {
			t, err := parseCPUTarget(v)
			if err != nil {
				return err
			}
			targets = append(targets, t)
			return nil
		})
	var checks []cpuCheck
	fs.Func("check", "check (repeatable): A/B<=X (CPU per page), A:conns<X (new API connections per page), A:events>=X (events delivered per page)",
		func(v string) error {
			c, err := parseCPUCheck(v)
			if err != nil {
				return err
			}
			checks = append(checks, c)
			return nil
		})
	ref := fs.String("ref", "", "the server the others are compared with (default: the first)")
	eventsOf := fs.String("events-of", "", "the server whose events the API counts (default: -ref)")
	apiStats := fs.String("api-stats", "", "URL of the api command's stats endpoint: new API connections and events per page")
	rounds := fs.Int("rounds", 0, "slices per server (default: one per second of -duration)")
	warmup := fs.Duration("warmup", time.Second, "load per server before measuring, not counted")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := lf.pace()
	if err != nil {
		return err
	}
	r := &cpuRun{pace: p, duration: lf.duration, rounds: *rounds, warmup: *warmup, cpuOf: processCPU}
	if r.rounds == 0 {
		r.rounds = max(1, int(lf.duration/time.Second))
	}
	switch {
	case len(targets) == 0 || len(targets) > maxCPUTargets:
		return usagef("give 1 to %d -target", maxCPUTargets)
	case r.rounds < 0 || r.rounds > maxRounds:
		return usagef("-rounds must be between 1 and %d", maxRounds)
	case r.slice() < minSlice:
		return usagef("slices of %s are too short: -duration/-rounds must be at least %s", r.slice(), minSlice)
	case r.warmup < 0 || r.warmup > maxWarmup:
		return usagef("-warmup must be between 0 and %s", maxWarmup)
	}
	names := map[string]bool{}
	for _, t := range targets {
		if names[t.name] {
			return usagef("two -target are named %q", t.name)
		}
		names[t.name] = true
	}
	r.ref = cmp.Or(*ref, targets[0].name)
	r.eventsOf = cmp.Or(*eventsOf, r.ref)
	for _, n := range []string{r.ref, r.eventsOf} {
		if !names[n] {
			return usagef("%q is not a -target", n)
		}
	}
	for _, c := range checks {
		if !names[c.a] || c.metric == "cpu" && !names[c.b] {
			return usagef("-check %s: names a server that is not a -target", c)
		}
		if c.metric != "cpu" && *apiStats == "" {
			return usagef("-check %s needs -api-stats", c)
		}
	}
	if *apiStats != "" {
		if _, err := checkTargetURL(*apiStats, lf.allowRemote); err != nil {
			return err
		}
		r.stats = &statsClient{url: *apiStats, hc: &http.Client{Timeout: probeTimeout}}
		defer r.stats.hc.CloseIdleConnections()
	}
	header := lf.header()
	for _, t := range targets {
		tg, err := newTarget(t.name, t.url, header, lf.cookieJar, lf.allowRemote, lf.timeout)
		if err != nil {
			return err
		}
		defer tg.close()
		tg.marker = []byte(lf.marker)
		r.servers = append(r.servers, &cpuServer{cpuTarget: t, t: tg})
	}
	rep, err := r.run(ctx)
	if err != nil {
		return err
	}
	runChecks(&rep, checks)
	if err := lf.output(stdout, rep, func(w io.Writer) { writeCPUReport(w, rep) }); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("loadtest: interrupted: %w", ctx.Err())
	}
	if !rep.Pass {
		return errChecksFailed
	}
	return nil
}
