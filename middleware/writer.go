package middleware

import (
	"io"
	"net/http"
)

// responseWriter adds the middleware's headers (browser ID cookie, session, cache headers) just
// before the response's headers go out: at WriteHeader, the first Write, ReadFrom or Flush,
// or when the handler returns without writing. The ID and the session change lazily while the
// handler runs, so they cannot be set earlier.
//
// It keeps http.Flusher and io.ReaderFrom working, and http.ResponseController reaches the
// writer underneath (Hijack, SetReadDeadline, ...) through Unwrap.
type responseWriter struct {
	http.ResponseWriter
	st    *request
	wrote bool
	// status is the status written (0: none yet, 200 once the body starts); first is the
	// first Write's bytes while the headers go out, to sniff a missing Content-Type.
	status int
	first  []byte
}

func (w *responseWriter) before() {
	if !w.wrote {
		w.wrote = true
		w.st.beforeHeaders()
	}
}

// WriteHeader adds the middleware's headers, then writes the status. Informational statuses
// (103 Early Hints) pass through: the final headers are still to come.
func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
		if !w.wrote {
			w.status = code
		}
		w.before()
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write adds the middleware's headers before the first byte.
func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.first = b
		w.before()
		w.first = nil
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom lets io.Copy use the underlying writer's ReadFrom (sendfile for static files).
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	w.before()
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, src)
}

// Flush sends the headers (with the middleware's) and any buffered body.
func (w *responseWriter) Flush() {
	_ = w.FlushError()
}

// FlushError is Flush reporting the underlying writer's error, as http.ResponseController
// expects.
func (w *responseWriter) FlushError() error {
	w.before()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writerOnly hides every method but Write, so io.Copy does not call ReadFrom again.
type writerOnly struct{ io.Writer }
