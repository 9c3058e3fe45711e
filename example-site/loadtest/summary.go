package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxErrors caps the distinct errors a summary lists.
const maxErrors = 10

// Millis is a duration written to JSON as milliseconds (a number with microsecond
// precision), the unit scripts compare latencies in.
type Millis time.Duration

// MarshalJSON writes m in milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(m)/float64(time.Millisecond), 'f', 3, 64), nil
}

// UnmarshalJSON reads milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("loadtest: milliseconds: %w", err)
	}
	*m = Millis(f * float64(time.Millisecond))
	return nil
}

// String formats m as a duration rounded to the microsecond.
func (m Millis) String() string { return time.Duration(m).Round(time.Microsecond).String() }

// Latency is a target's latency distribution.
type Latency struct {
	Mean Millis `json:"mean"`
	P50  Millis `json:"p50"`
	P90  Millis `json:"p90"`
	P99  Millis `json:"p99"`
	Max  Millis `json:"max"`
}

// Summary is what a run measured for one target.
type Summary struct {
	Name     string  `json:"name"`
	URL      string  `json:"url"`
	Requests uint64  `json:"requests"`
	Seconds  float64 `json:"seconds"` // wall time under load
	RPS      float64 `json:"requests_per_second"`
	Slices   int     `json:"slices"` // attacks the target's numbers add up
	// Success is the share of answers with a status 200-399.
	Success     float64        `json:"success"`
	Latency     Latency        `json:"latency_ms"`
	StatusCodes map[string]int `json:"status_codes"`
	// Errors are the distinct errors (transport errors and non-2xx/3xx statuses), at most
	// maxErrors; ErrorCount is how many distinct errors there were.
	Errors     []string `json:"errors"`
	ErrorCount int      `json:"error_count"`
	// Marker is the -count-body string, and Marked how many answers' bodies held it.
	Marker string `json:"marker,omitempty"`
	Marked uint64 `json:"marked"`
}

// summary closes the tally's metrics and summarizes them. Requests per second are over the
// target's own slices (not the wall time of an interleaved run).
func (tl *tally) summary(t *target) Summary {
	m := &tl.metrics
	m.Close()
	s := Summary{
		Name:        t.name,
		URL:         t.url,
		Requests:    m.Requests,
		Seconds:     tl.elapsed.Seconds(),
		Slices:      tl.slices,
		Marker:      string(t.marker),
		Marked:      tl.marked,
		Success:     m.Success,
		StatusCodes: maps.Clone(m.StatusCodes),
		Errors:      slices.Clone(m.Errors),
		ErrorCount:  len(m.Errors),
		Latency: Latency{
			Mean: Millis(m.Latencies.Mean), P50: Millis(m.Latencies.P50), P90: Millis(m.Latencies.P90),
			P99: Millis(m.Latencies.P99), Max: Millis(m.Latencies.Max),
		},
	}
	if s.StatusCodes == nil {
		s.StatusCodes = map[string]int{}
	}
	if len(s.Errors) > maxErrors {
		s.Errors = s.Errors[:maxErrors]
	}
	if s.Errors == nil {
		s.Errors = []string{}
	}
	if s.Seconds > 0 {
		s.RPS = float64(s.Requests) / s.Seconds
	}
	return s
}

// statusText formats status codes as "200: 1234, 500: 2" (code 0 is a request that got no
// answer), sorted by code.
func statusText(codes map[string]int) string {
	if len(codes) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(codes))
	for _, c := range slices.Sorted(maps.Keys(codes)) {
		parts = append(parts, fmt.Sprintf("%s: %d", c, codes[c]))
	}
	return strings.Join(parts, ", ")
}

// markedShare is the share of answers whose body held the marker.
func (s Summary) markedShare() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Marked) / float64(s.Requests)
}

// writeErrors lists a summary's errors, indented, under a heading naming the target.
func writeErrors(w io.Writer, s Summary) {
	if s.ErrorCount == 0 {
		return
	}
	fmt.Fprintf(w, "errors of %s (%d distinct):\n", s.Name, s.ErrorCount)
	for _, e := range s.Errors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	if s.ErrorCount > len(s.Errors) {
		fmt.Fprintf(w, "  ... and %d more\n", s.ErrorCount-len(s.Errors))
	}
}

// writeSummary prints one target's summary, as run shows it.
func writeSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "target      %s (%s)\n", s.URL, s.Name)
	fmt.Fprintf(w, "requests    %d in %.2fs: %.1f requests/s, %.2f%% success\n",
		s.Requests, s.Seconds, s.RPS, 100*s.Success)
	fmt.Fprintf(w, "latency     p50 %s  p90 %s  p99 %s  max %s  mean %s\n",
		s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.Max, s.Latency.Mean)
	fmt.Fprintf(w, "status      %s\n", statusText(s.StatusCodes))
	if s.Marker != "" {
		fmt.Fprintf(w, "marked      %d answers hold '%s'\n", s.Marked, s.Marker)
	}
	if s.ErrorCount == 0 {
		fmt.Fprintf(w, "errors      none\n")
		return
	}
	writeErrors(w, s)
}
