package personalize

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var retryAfterNow = time.Date(2026, 3, 4, 12, 30, 0, 0, time.UTC)

func TestRetryAfter(t *testing.T) {
	in := func(d time.Duration) string { return retryAfterNow.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		status int
		value  string
		want   time.Duration
	}{
		{429, "120", 2 * time.Minute},
		{503, "120", 2 * time.Minute},
		{503, " 7 ", 7 * time.Second},
		{429, "0", 0},
		{429, "4294967295", 4294967295 * time.Second},
		{429, in(90 * time.Second), 90 * time.Second},
		{503, in(time.Hour), time.Hour},
		{503, retryAfterNow.Add(time.Minute).Format(time.RFC850), time.Minute},
		{503, retryAfterNow.Add(time.Minute).Format(time.ANSIC), time.Minute},
		{503, "Wed, 01 May 7000 00:00:00 GMT", 1<<63 - 1}, // as far as a Duration goes; the hold is capped
		{503, in(-time.Minute), 0},                        // in the past
		{503, in(0), 0},
		{429, "", 0},
		{429, "-1", 0},
		{429, "+5", 0},
		{429, "1.5", 0},
		{429, "5s", 0},
		{429, "4294967296", 0}, // beyond what is read as seconds, and no date
		{429, "soon", 0},
		{500, "120", 0}, // only 429 and 503 ask to wait
		{502, in(time.Minute), 0},
		{200, "120", 0},
		{404, "120", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		assert.Equal(t, tt.want, retryAfter(tt.status, h, retryAfterNow), "%d %q", tt.status, tt.value)
	}
	assert.Zero(t, retryAfter(429, nil, retryAfterNow), "no header at all")
}

// FuzzRetryAfter: whatever the header holds, the wait is never negative; it is the header's
// seconds, or the time until its date, or nothing; and only 429 and 503 ask to wait.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"120", " 7 ", "0", "-1", "1e3", "4294967295", "4294967296", "99999999999999999999",
		retryAfterNow.Add(time.Minute).Format(http.TimeFormat), retryAfterNow.Add(-time.Minute).Format(http.TimeFormat),
		"Sun, 06 Nov 1994 08:49:37 GMT", "Wed, 01 MAY 7000 0:00:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "", "\x00", "\t\n"} {
		f.Add(429, s)
		f.Add(503, s)
	}
	f.Add(500, "120")
	f.Fuzz(func(t *testing.T, status int, value string) {
		h := http.Header{"Retry-After": []string{value}}
		d := retryAfter(status, h, retryAfterNow)
		if d < 0 {
			t.Fatalf("negative wait %v for %q", d, value)
		}
		if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable && d != 0 {
			t.Fatalf("status %d asked to wait %v", status, d)
		}
		if d == 0 {
			return
		}
		v := strings.TrimSpace(value)
		if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
			if d != time.Duration(secs)*time.Second {
				t.Fatalf("%q: %v, want %d seconds", value, d, secs)
			}
			return
		}
		when, err := http.ParseTime(v) // a date beyond 292 years is as far as a Duration goes
		if err != nil || when.Sub(retryAfterNow) != d {
			t.Fatalf("%q: %v is neither its seconds nor the time until its date", value, d)
		}
	})
}
