package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestTarget(t *testing.T, name, url string) *target {
	t.Helper()
	tg, err := newTarget(name, url, http.Header{"X-Test": {"1"}}, false, false, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(tg.close)
	return tg
}

func TestCompareInterleavesAndAggregates(t *testing.T) {
	var log hitLog
	a := startHitServer(t, "a", http.StatusOK, &log)
	b := startHitServer(t, "b", http.StatusInternalServerError, &log)
	c := &comparer{
		a: newTestTarget(t, "page", a.URL), b: newTestTarget(t, "bare", b.URL),
		pace: pace{concurrency: 2}, duration: 150 * time.Millisecond, rounds: 3,
	}

	res := c.run(context.Background())

	assert.Equal(t, 3, res.Rounds)
	assert.Equal(t, Millis(50*time.Millisecond), res.Slice)
	for _, s := range []struct {
		sum    Summary
		server string
	}{{res.A, "a"}, {res.B, "b"}} {
		assert.Equal(t, log.count(s.server), s.sum.Requests, "every request the server got is counted once")
		assert.Positive(t, s.sum.Requests)
		assert.Equal(t, 3, s.sum.Slices)
		assert.InDelta(t, float64(s.sum.Requests)/s.sum.Seconds, s.sum.RPS, 1e-6)
		assert.Positive(t, s.sum.Seconds)
		assert.Less(t, s.sum.Seconds, 5.0)
	}
	assert.Equal(t, "page", res.A.Name)
	assert.Equal(t, map[string]int{"200": int(res.A.Requests)}, res.A.StatusCodes)
	assert.Equal(t, 1.0, res.A.Success)
	assert.Empty(t, res.A.Errors)
	assert.Equal(t, map[string]int{"500": int(res.B.Requests)}, res.B.StatusCodes)
	assert.Equal(t, 0.0, res.B.Success)
	assert.Equal(t, []string{"500 Internal Server Error"}, res.B.Errors)
	assert.InDelta(t, res.A.RPS/res.B.RPS, res.Ratios.RPS, 1e-9)
	assert.InDelta(t, float64(res.A.Latency.P99)/float64(res.B.Latency.P99), res.Ratios.P99, 1e-9)
	// A B | B A | A B: without interleaving the log would hold two runs.
	assert.GreaterOrEqual(t, log.blocks(), 3)
}

func TestCompareStopsWhenCanceled(t *testing.T) {
	var log hitLog
	a := startHitServer(t, "a", http.StatusOK, &log)
	b := startHitServer(t, "b", http.StatusOK, &log)
	c := &comparer{
		a: newTestTarget(t, "a", a.URL), b: newTestTarget(t, "b", b.URL),
		pace: pace{concurrency: 1}, duration: time.Hour, rounds: 2,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	res := c.run(ctx)

	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Positive(t, res.A.Requests)
	assert.Equal(t, log.count("a"), res.A.Requests)
}

func TestRatios(t *testing.T) {
	sum := func(rps float64, p50, p99 time.Duration) Summary {
		return Summary{RPS: rps, Latency: Latency{P50: Millis(p50), P90: Millis(p50), P99: Millis(p99), Max: Millis(p99)}}
	}
	tests := []struct {
		name string
		a, b Summary
		want Ratios
	}{
		{"page slower", sum(900, 2*time.Millisecond, 12*time.Millisecond), sum(1000, time.Millisecond, 10*time.Millisecond),
			Ratios{RPS: 0.9, P50: 2, P90: 2, P99: 1.2, Max: 1.2}},
		{"equal", sum(5, time.Second, time.Second), sum(5, time.Second, time.Second), Ratios{1, 1, 1, 1, 1}},
		{"b measured nothing", sum(5, time.Second, time.Second), Summary{}, Ratios{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newRatios(tt.a, tt.b)
			assert.InDelta(t, tt.want.RPS, got.RPS, 1e-9)
			assert.InDelta(t, tt.want.P50, got.P50, 1e-9)
			assert.InDelta(t, tt.want.P90, got.P90, 1e-9)
			assert.InDelta(t, tt.want.P99, got.P99, 1e-9)
			assert.InDelta(t, tt.want.Max, got.Max, 1e-9)
		})
	}
}

func TestChecks(t *testing.T) {
	c := Comparison{
		A:      Summary{Name: "page", Requests: 10, Marked: 1, Latency: Latency{P50: Millis(60 * time.Millisecond)}},
		B:      Summary{Name: "bare", Requests: 10, Marked: 2},
		Ratios: Ratios{RPS: 0.95, P99: 1.3},
	}
	tests := []struct {
		name string
		ck   checks
		want []bool
	}{
		{"none", checks{}, nil},
		{"rps ok", checks{minRPSRatio: 0.9}, []bool{true}},
		{"rps short", checks{minRPSRatio: 0.96}, []bool{false}},
		{"p99 over", checks{maxP99Ratio: 1.2}, []bool{false}},
		{"p50 within", checks{maxP50A: 75 * time.Millisecond}, []bool{true}},
		{"all", checks{minRPSRatio: 0.9, maxP99Ratio: 1.5, maxP50A: 50 * time.Millisecond}, []bool{true, true, false}},
		{"marked", checks{maxMarked: 0.1, checkMarked: true}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []bool
			for _, k := range tt.ck.run(c) {
				got = append(got, k.OK)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWriteComparison(t *testing.T) {
	ms := func(f float64) Millis { return Millis(f * float64(time.Millisecond)) }
	c := Comparison{
		Pace: "concurrency 8", Rounds: 4, Slice: ms(500), Warmup: ms(1000),
		A: Summary{Name: "page", Requests: 1900, RPS: 950, Success: 1,
			Latency:     Latency{P50: ms(2), P90: ms(4), P99: ms(12), Max: ms(30)},
			StatusCodes: map[string]int{"200": 1900}},
		B: Summary{Name: "bare", Requests: 2000, RPS: 1000, Success: 0.999,
			Latency:     Latency{P50: ms(1.5), P90: ms(3), P99: ms(10), Max: ms(20)},
			StatusCodes: map[string]int{"200": 1998, "0": 2}, Errors: []string{"timeout"}, ErrorCount: 1},
		Checks: []Check{{Name: "page/bare requests/s", Value: 0.95, Op: ">=", Limit: 0.9, OK: true}},
	}
	c.Ratios = newRatios(c.A, c.B)
	var sb strings.Builder

	writeComparison(&sb, c)

	want := `compare: concurrency 8, 4 rounds of 500ms per target (interleaved, alternating order), warm-up 1s
                  page        bare  page/bare
requests          1900        2000
requests/s       950.0      1000.0      0.950
p50                2ms       1.5ms      1.333
p90                4ms         3ms      1.333
p99               12ms        10ms      1.200
max               30ms        20ms      1.500
success        100.00%      99.90%
status page: 200: 1900
status bare: 0: 2, 200: 1998
errors of bare (1 distinct):
  timeout
page serves 95.0% of bare's requests/s; its p99 is 1.20x bare's
check page/bare requests/s 0.950 >= 0.900: ok
`
	assert.Equal(t, want, sb.String())
}

func TestCmdCompare(t *testing.T) {
	var log hitLog
	a := startHitServer(t, "a", http.StatusOK, &log)
	b := startHitServer(t, "b", http.StatusOK, &log)
	base := []string{"compare", "-a", a.URL, "-b", b.URL, "-name-a", "page", "-name-b", "bare",
		"-concurrency", "1", "-duration", "100ms", "-rounds", "2", "-warmup", "0"}

	t.Run("json", func(t *testing.T) {
		code, out, errOut := runCmd(t, append(base, "-json", "-min-rps-ratio", "0.0001")...)
		require.Equal(t, exitOK, code, errOut)
		var c Comparison
		require.NoError(t, json.Unmarshal([]byte(out), &c))
		assert.Equal(t, "page", c.A.Name)
		assert.Equal(t, "bare", c.B.Name)
		assert.Equal(t, a.URL, c.A.URL)
		assert.Equal(t, 2, c.A.Slices)
		assert.Equal(t, Millis(50*time.Millisecond), c.Slice)
		assert.Positive(t, c.A.Requests)
		assert.Positive(t, c.B.RPS)
		assert.InDelta(t, c.A.RPS/c.B.RPS, c.Ratios.RPS, 0.01)
		require.Len(t, c.Checks, 1)
		assert.True(t, c.Pass)
	})
	t.Run("failed check", func(t *testing.T) {
		code, out, errOut := runCmd(t, append(base, "-min-rps-ratio", "1000")...)
		assert.Equal(t, exitCheckFailed, code)
		assert.Contains(t, out, "check page/bare requests/s")
		assert.Contains(t, out, ": FAIL\n")
		assert.Contains(t, errOut, "checks failed")
	})
	t.Run("text", func(t *testing.T) {
		code, out, errOut := runCmd(t, base...)
		require.Equal(t, exitOK, code, errOut)
		lines := strings.Split(out, "\n")
		assert.True(t, strings.HasPrefix(lines[0], "compare: concurrency 1, 2 rounds of 50ms per target"), lines[0])
		assert.Equal(t, []string{"page", "bare", "page/bare"}, strings.Fields(lines[1]))
		assert.Contains(t, out, "page serves ")
	})
}
