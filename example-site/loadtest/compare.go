package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Limits of a comparison's slices.
const (
	maxRounds = 10_000
	minSlice  = 10 * time.Millisecond
	maxWarmup = time.Minute
)

// Comparison is what compare measured: both targets and their ratios.
type Comparison struct {
	Pace   string `json:"pace"`
	Rounds int    `json:"rounds"`
	// Slice is how long each target was driven per round; Warmup per target before.
	Slice   Millis   `json:"slice_ms"`
	Warmup  Millis   `json:"warmup_ms"`
	A       Summary  `json:"a"`
	B       Summary  `json:"b"`
	Ratios  Ratios   `json:"ratios"`
	Checks  []Check  `json:"checks,omitempty"`
	Pass    bool     `json:"pass"`
	Metrics []Sample `json:"metrics,omitempty"`
}

// Ratios compare A with B: each is A's value over B's (0 when B's is 0). For a page (A)
// measured against a reference (B), RPS 0.95 means the page serves 95% of the reference's
// requests per second and P99 1.10 that its p99 is 10% longer.
type Ratios struct {
	RPS float64 `json:"rps"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// newRatios computes A/B ratios.
func newRatios(a, b Summary) Ratios {
	return Ratios{
		RPS: ratio(a.RPS, b.RPS),
		P50: ratio(float64(a.Latency.P50), float64(b.Latency.P50)),
		P90: ratio(float64(a.Latency.P90), float64(b.Latency.P90)),
		P99: ratio(float64(a.Latency.P99), float64(b.Latency.P99)),
		Max: ratio(float64(a.Latency.Max), float64(b.Latency.Max)),
	}
}

// Check is one acceptance check of a comparison.
type Check struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Op    string  `json:"op"` // ">=" or "<="
	Limit float64 `json:"limit"`
	OK    bool    `json:"ok"`
}

// checks are compare's optional acceptance limits (0: not checked).
type checks struct {
	minRPSRatio float64
	maxP99Ratio float64
	maxP50A     time.Duration
	maxMarked   float64
	checkMarked bool // -max-marked was given
}

// run evaluates the checks on c.
func (ck checks) run(c Comparison) []Check {
	var out []Check
	if ck.minRPSRatio > 0 {
		out = append(out, Check{Name: c.A.Name + "/" + c.B.Name + " requests/s", Value: c.Ratios.RPS,
			Op: ">=", Limit: ck.minRPSRatio, OK: c.Ratios.RPS >= ck.minRPSRatio})
	}
	if ck.maxP99Ratio > 0 {
		out = append(out, Check{Name: c.A.Name + "/" + c.B.Name + " p99", Value: c.Ratios.P99,
			Op: "<=", Limit: ck.maxP99Ratio, OK: c.Ratios.P99 > 0 && c.Ratios.P99 <= ck.maxP99Ratio})
	}
	if ck.maxP50A > 0 {
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		p50 := time.Duration(c.A.Latency.P50)
		out = append(out, Check{Name: c.A.Name + " p50 (ms)", Value: ms(p50), Op: "<=",
			Limit: ms(ck.maxP50A), OK: c.A.Requests > 0 && p50 <= ck.maxP50A})
	}
	if ck.checkMarked {
		for _, s := range []Summary{c.A, c.B} {
			out = append(out, Check{Name: s.Name + " share of answers holding the -count-body string",
				Value: s.markedShare(), Op: "<=", Limit: ck.maxMarked, OK: s.Requests > 0 && s.markedShare() <= ck.maxMarked})
		}
	}
	return out
}

// comparer drives two targets interleaved.
type comparer struct {
	a, b     *target
	pace     pace
	duration time.Duration // per target, measured
	rounds   int
	warmup   time.Duration // per target, not measured
	probe    *probe        // may be nil
}

// slice is how long each target is driven per round.
func (c *comparer) slice() time.Duration { return c.duration / time.Duration(c.rounds) }

// run warms both targets up, then drives them in rounds of one slice each, alternating which
// goes first (A B, B A, A B, ...) so neither always follows the other, and aggregates each
// target's slices. It returns early, with what it measured, when ctx ends.
func (c *comparer) run(ctx context.Context) Comparison {
	var discard tally
	c.pace.attack(ctx, c.a, c.warmup, &discard)
	c.pace.attack(ctx, c.b, c.warmup, &discard)

	var samples []Sample
	var wait func() *Sample
	if c.probe != nil {
		samples = append(samples, c.probe.fetch(ctx, "before"))
		wait = c.probe.during(ctx, c.duration) // half of the two targets' time
	}
	var ta, tb tally
	for i := 0; i < c.rounds && ctx.Err() == nil; i++ {
		if i%2 == 0 {
			c.pace.attack(ctx, c.a, c.slice(), &ta)
			c.pace.attack(ctx, c.b, c.slice(), &tb)
		} else {
			c.pace.attack(ctx, c.b, c.slice(), &tb)
			c.pace.attack(ctx, c.a, c.slice(), &ta)
		}
	}
	if c.probe != nil {
		if s := wait(); s != nil {
			samples = append(samples, *s)
		}
		samples = append(samples, c.probe.fetch(context.WithoutCancel(ctx), "after"))
	}
	res := Comparison{
		Pace:    c.pace.String(),
		Rounds:  c.rounds,
		Slice:   Millis(c.slice()),
		Warmup:  Millis(c.warmup),
		A:       ta.summary(c.a),
		B:       tb.summary(c.b),
		Metrics: samples,
	}
	res.Ratios = newRatios(res.A, res.B)
	return res
}

func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", stderr)
	var lf loadFlags
	lf.register(fs, "how long each target is driven, in total")
	urlA := fs.String("a", "", "URL of target A, e.g. the page (required)")
	urlB := fs.String("b", "", "URL of target B, e.g. the reference (required)")
	nameA := fs.String("name-a", "a", "name of target A in the output")
	nameB := fs.String("name-b", "b", "name of target B in the output")
	rounds := fs.Int("rounds", 0, "slices per target (default: one slice per second of -duration)")
	warmup := fs.Duration("warmup", time.Second, "load per target before measuring, not counted")
	var ck checks
	fs.Float64Var(&ck.minRPSRatio, "min-rps-ratio", 0, "check: A/B requests/s is at least this (e.g. 0.9)")
	fs.Float64Var(&ck.maxP99Ratio, "max-p99-ratio", 0, "check: A/B p99 is at most this (e.g. 1.2)")
	fs.DurationVar(&ck.maxP50A, "max-p50-a", 0, "check: A's p50 is at most this (e.g. 75ms)")
	fs.Func("max-marked", "check: in each target at most this share (0-1) of answers hold the -count-body string (e.g. 0: no fallback)",
		func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return fmt.Errorf("want a share between 0 and 1")
			}
			ck.maxMarked, ck.checkMarked = f, true
			return nil
		})
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := lf.pace()
	if err != nil {
		return err
	}
	c := &comparer{pace: p, duration: lf.duration, rounds: *rounds, warmup: *warmup}
	if c.rounds == 0 {
		c.rounds = max(1, int(lf.duration/time.Second))
	}
	switch {
	case c.rounds < 0 || c.rounds > maxRounds:
		return usagef("-rounds must be between 1 and %d", maxRounds)
	case c.slice() < minSlice:
		return usagef("slices of %s are too short: -duration/-rounds must be at least %s", c.slice(), minSlice)
	case c.warmup < 0 || c.warmup > maxWarmup:
		return usagef("-warmup must be between 0 and %s", maxWarmup)
	case *nameA == *nameB:
		return usagef("-name-a and -name-b must differ")
	}
	header := lf.header()
	if c.a, err = newTarget(*nameA, *urlA, header, lf.cookieJar, lf.allowRemote, lf.timeout); err != nil {
		return err
	}
	defer c.a.close()
	if c.b, err = newTarget(*nameB, *urlB, header, lf.cookieJar, lf.allowRemote, lf.timeout); err != nil {
		return err
	}
	defer c.b.close()
	c.a.marker, c.b.marker = []byte(lf.marker), []byte(lf.marker)
	if ck.checkMarked && lf.marker == "" {
		return usagef("-max-marked needs -count-body")
	}
	if c.probe, err = newProbe(lf.metricsURL, lf.allowRemote); err != nil {
		return err
	}
	if c.probe != nil {
		defer c.probe.close()
	}

	res := c.run(ctx)
	res.Checks = ck.run(res)
	res.Pass = true
	for _, k := range res.Checks {
		res.Pass = res.Pass && k.OK
	}
	if err := lf.output(stdout, res, func(w io.Writer) { writeComparison(w, res) }); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("loadtest: interrupted: %w", ctx.Err())
	}
	if !res.Pass {
		return errChecksFailed
	}
	return nil
}

// writeComparison prints a comparison as a table: both targets and the A/B ratios.
func writeComparison(w io.Writer, c Comparison) {
	fmt.Fprintf(w, "compare: %s, %d rounds of %s per target (interleaved, alternating order), warm-up %s\n",
		c.Pace, c.Rounds, c.Slice, c.Warmup)
	a, b := c.A, c.B
	ratioHead := a.Name + "/" + b.Name
	wv := max(10, len(a.Name), len(b.Name))
	wr := max(9, len(ratioHead))
	row := func(label, va, vb, r string) {
		line := fmt.Sprintf("%-10s  %*s  %*s  %*s", label, wv, va, wv, vb, wr, r)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	f := func(x float64) string { return fmt.Sprintf("%.3f", x) }
	row("", a.Name, b.Name, ratioHead)
	row("requests", fmt.Sprint(a.Requests), fmt.Sprint(b.Requests), "")
	row("requests/s", fmt.Sprintf("%.1f", a.RPS), fmt.Sprintf("%.1f", b.RPS), f(c.Ratios.RPS))
	row("p50", a.Latency.P50.String(), b.Latency.P50.String(), f(c.Ratios.P50))
	row("p90", a.Latency.P90.String(), b.Latency.P90.String(), f(c.Ratios.P90))
	row("p99", a.Latency.P99.String(), b.Latency.P99.String(), f(c.Ratios.P99))
	row("max", a.Latency.Max.String(), b.Latency.Max.String(), f(c.Ratios.Max))
	row("success", fmt.Sprintf("%.2f%%", 100*a.Success), fmt.Sprintf("%.2f%%", 100*b.Success), "")
	fmt.Fprintf(w, "status %s: %s\n", a.Name, statusText(a.StatusCodes))
	fmt.Fprintf(w, "status %s: %s\n", b.Name, statusText(b.StatusCodes))
	if a.Marker != "" {
		fmt.Fprintf(w, "answers holding '%s': %s %d, %s %d\n", a.Marker, a.Name, a.Marked, b.Name, b.Marked)
	}
	writeErrors(w, a)
	writeErrors(w, b)
	fmt.Fprintf(w, "%s serves %.1f%% of %s's requests/s; its p99 is %.2fx %s's\n",
		a.Name, 100*c.Ratios.RPS, b.Name, c.Ratios.P99, b.Name)
	for _, k := range c.Checks {
		verdict := "ok"
		if !k.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "check %s %.3f %s %.3f: %s\n", k.Name, k.Value, k.Op, k.Limit, verdict)
	}
	writeSamples(w, c.Metrics)
}
