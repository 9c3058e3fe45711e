package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logPage answers /fail with a 500, everything else with a page.
var logPage = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/fail" {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, "<p>page</p>")
})

// TestRequestLogModes: REQUEST_LOG all logs every request (the sandbox's API and health checks
// at debug), errors only the server errors, off none.
func TestRequestLogModes(t *testing.T) {
	for _, tt := range []struct {
		mode  RequestLogMode
		level slog.Level
		want  []string
	}{
		{RequestLogAll, slog.LevelDebug, []string{"level=INFO msg=request method=GET path=/booking status=200 bytes=11",
			"level=DEBUG msg=request method=GET path=/healthz status=200", "level=ERROR msg=request method=GET path=/fail status=500"}},
		{RequestLogAll, slog.LevelInfo, []string{"level=INFO msg=request method=GET path=/booking status=200 bytes=11",
			"level=ERROR msg=request method=GET path=/fail status=500"}},
		{RequestLogErrors, slog.LevelDebug, []string{"level=ERROR msg=request method=GET path=/fail status=500"}},
		{RequestLogOff, slog.LevelDebug, nil},
	} {
		t.Run(string(tt.mode)+"/"+tt.level.String(), func(t *testing.T) {
			var logs strings.Builder
			s := &site{cfg: Config{RequestLog: tt.mode}, logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: tt.level}))}
			h := s.logRequests(logPage)
			for _, path := range []string{"/booking", "/healthz", "/fail"} {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
			}
			var lines []string
			for line := range strings.Lines(logs.String()) {
				lines = append(lines, line)
			}
			require.Len(t, lines, len(tt.want), logs.String())
			for i, want := range tt.want {
				assert.Contains(t, lines[i], want)
			}
		})
	}
}

// BenchmarkRequestLog is what the request log costs a page, beside none (off): a line to a
// file (/dev/null: the formatting and the write), a line the logger's level drops (debug
// only, for the sandbox's API), and errors only.
func BenchmarkRequestLog(b *testing.B) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(b, err)
	b.Cleanup(func() { _ = devNull.Close() })
	info := slog.New(slog.NewTextHandler(devNull, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for _, tt := range []struct {
		name string
		mode RequestLogMode
		path string
	}{
		{"off", RequestLogOff, "/booking"},
		{"errors", RequestLogErrors, "/booking"},
		{"all/below-level", RequestLogAll, "/healthz"},
		{"all", RequestLogAll, "/booking"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s := &site{cfg: Config{RequestLog: tt.mode}, logger: info}
			h := s.logRequests(logPage)
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			w := &discardResponse{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

// discardResponse is a ResponseWriter that keeps nothing.
type discardResponse struct{ h http.Header }

func (w *discardResponse) Header() http.Header         { return w.h }
func (w *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardResponse) WriteHeader(int)             {}
