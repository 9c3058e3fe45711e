package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCmdRun(t *testing.T) {
	var log hitLog
	srv := startHitServer(t, "s", http.StatusOK, &log)
	var metricsHits atomic.Int32
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		metricsHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"goroutines": 7,
			"heap": 1024}`))
	}))
	t.Cleanup(metrics.Close)

	t.Run("text", func(t *testing.T) {
		code, out, errOut := runCmd(t, "run", "-url", srv.URL, "-concurrency", "2", "-duration", "100ms",
			"-header", "Cookie: bid_k=1", "-metrics-url", metrics.URL)
		require.Equal(t, exitOK, code, errOut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 9, out)
		assert.Equal(t, "load        concurrency 2 for 100ms", lines[0])
		assert.Equal(t, "target      "+srv.URL+" (target)", lines[1])
		assert.Regexp(t, `^requests    \d+ in \d+\.\d\ds: \d+\.\d requests/s, 100\.00% success$`, lines[2])
		assert.Regexp(t, `^latency     p50 \S+  p90 \S+  p99 \S+  max \S+  mean \S+$`, lines[3])
		assert.Regexp(t, `^status      200: \d+$`, lines[4])
		assert.Equal(t, "errors      none", lines[5])
		assert.Equal(t, `metrics before  {"goroutines":7,"heap":1024}`, lines[6])
		assert.Equal(t, `metrics during  {"goroutines":7,"heap":1024}`, lines[7])
		assert.Equal(t, `metrics after   {"goroutines":7,"heap":1024}`, lines[8])
		assert.EqualValues(t, 3, metricsHits.Load())
	})
	t.Run("json at a rate", func(t *testing.T) {
		before := log.count("s")
		code, out, errOut := runCmd(t, "run", "-url", srv.URL, "-rate", "100", "-duration", "200ms", "-json")
		require.Equal(t, exitOK, code, errOut)
		var res RunResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		assert.Equal(t, "rate 100/s", res.Pace)
		assert.Equal(t, Millis(200*time.Millisecond), res.Duration)
		assert.Equal(t, log.count("s")-before, res.Target.Requests)
		// 100/s for 200 ms is about 20 requests; a loaded machine may send fewer, never many more.
		assert.Positive(t, res.Target.Requests)
		assert.LessOrEqual(t, res.Target.Requests, uint64(22))
		assert.Empty(t, res.Metrics)
	})
}

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no command", nil, "usage: loadtest"},
		{"unknown command", []string{"attack"}, "unknown command"},
		{"rate and concurrency", []string{"run", "-url", "http://127.0.0.1:1/", "-rate", "5", "-concurrency", "2", "-duration", "1s"}, "not both"},
		{"no duration", []string{"run", "-url", "http://127.0.0.1:1/"}, "-duration is required"},
		{"duration too long", []string{"run", "-url", "http://127.0.0.1:1/", "-duration", "2h"}, "over 1h"},
		{"no url", []string{"run", "-duration", "1s"}, "URL is required"},
		{"bad header", []string{"run", "-url", "http://127.0.0.1:1/", "-duration", "1s", "-header", "nope"}, "Key: Value"},
		{"extra argument", []string{"run", "-url", "http://127.0.0.1:1/", "-duration", "1s", "x"}, "unexpected argument"},
		{"slices too short", []string{"compare", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:2/", "-duration", "100ms", "-rounds", "20"}, "too short"},
		{"same names", []string{"compare", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:2/", "-duration", "1s", "-name-a", "x", "-name-b", "x"}, "must differ"},
		{"bad latency", []string{"sandbox", "-latency", "-1s"}, "-latency"},
		{"max-marked alone", []string{"compare", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:2/", "-duration", "1s", "-max-marked", "0"}, "needs -count-body"},
		{"max-marked out of range", []string{"compare", "-a", "http://127.0.0.1:1/", "-b", "http://127.0.0.1:2/", "-duration", "1s", "-max-marked", "2"}, "between 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tt.args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.msg)
		})
	}
}

func TestRunStopsWhenCanceled(t *testing.T) {
	var log hitLog
	srv := startHitServer(t, "s", http.StatusOK, &log)
	tg := newTestTarget(t, "t", srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	res := runLoad(ctx, tg, pace{concurrency: 1}, time.Hour, nil)

	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Equal(t, log.count("s"), res.Target.Requests)
}
