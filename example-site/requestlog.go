package main

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// statusWriter records the status and size of a response for the request log. It unwraps
// for http.ResponseController and passes Flush on, so streaming still works through it.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs requests with their method, path, status, size and duration, as
// REQUEST_LOG says (Config.RequestLog): with all, every request, the sandbox's API endpoints
// and health checks (which the site and probes call all the time) at debug level, pages and
// assets at info, server errors at error; with errors, only server errors; with off, none, and
// the handler is next itself. The line is built only when the logger takes its level.
func (s *site) logRequests(next http.Handler) http.Handler {
	if s.cfg.RequestLog == RequestLogOff {
		return next
	}
	errorsOnly := s.cfg.RequestLog == RequestLogErrors
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			switch {
			case status >= 500:
				level = slog.LevelError
			case errorsOnly:
				return
			case quietPath(r.URL.Path):
				level = slog.LevelDebug
			}
			if !s.logger.Enabled(r.Context(), level) {
				return
			}
			s.logger.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)))
		}()
		next.ServeHTTP(sw, r)
	})
}

// quietPath reports whether requests to p are logged at debug level only.
func quietPath(p string) bool {
	return p == "/healthz" || strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/v1.2/") || strings.HasPrefix(p, "/v1/")
}
