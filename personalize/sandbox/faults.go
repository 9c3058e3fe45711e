package sandbox

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Fault makes requests fail the way a real API sometimes does. The zero Fault is no fault.
// Latency composes with the others (wait, then fail); of the others the first set in the
// order Hang, Reset, Status, ErrorObject, Malformed, Empty, Oversized applies.
type Fault struct {
	// Latency delays the answer. It ends early, without an answer, when the client goes away
	// or the server closes.
	Latency time.Duration
	// Status answers this HTTP status (e.g. 429, 500, 503) with Sitecore's error object.
	// Values outside 400-599 answer 500.
	Status int
	// Malformed answers 200 with a body that is not JSON.
	Malformed bool
	// Oversized answers 200 with a valid JSON body of at least this many bytes: the normal
	// answer padded with a string.
	Oversized int
	// ErrorObject answers 200 with Sitecore's error object as the body.
	ErrorObject bool
	// Hang never answers: the request is held until the client gives up or the server (or
	// the Sandbox) closes, then the connection is dropped.
	Hang bool
	// Reset closes the connection without answering, with a TCP reset.
	Reset bool
	// Empty answers 200 with an empty body.
	Empty bool
}

// IsZero reports whether f is no fault.
func (f Fault) IsZero() bool { return f == Fault{} }

// faultKind is the failure a fault causes, besides its latency.
type faultKind uint8

const (
	kindNone faultKind = iota
	kindHang
	kindReset
	kindStatus
	kindErrorObject
	kindMalformed
	kindEmpty
	kindOversized
)

// kind returns the failure that applies, in the documented order.
func (f Fault) kind() faultKind {
	switch {
	case f.Hang:
		return kindHang
	case f.Reset:
		return kindReset
	case f.Status != 0:
		return kindStatus
	case f.ErrorObject:
		return kindErrorObject
	case f.Malformed:
		return kindMalformed
	case f.Empty:
		return kindEmpty
	case f.Oversized > 0:
		return kindOversized
	}
	return kindNone
}

// needsAnswer reports whether the normal answer is needed: sent as is, or padded.
func (f Fault) needsAnswer() bool {
	k := f.kind()
	return k == kindNone || k == kindOversized
}

// String describes the fault, e.g. "latency=100ms status=503"; "" for no fault.
func (f Fault) String() string {
	var parts []string
	if f.Latency > 0 {
		parts = append(parts, "latency="+f.Latency.String())
	}
	switch f.kind() {
	case kindHang:
		parts = append(parts, "hang")
	case kindReset:
		parts = append(parts, "reset")
	case kindStatus:
		parts = append(parts, fmt.Sprintf("status=%d", f.status()))
	case kindErrorObject:
		parts = append(parts, "error-object")
	case kindMalformed:
		parts = append(parts, "malformed")
	case kindEmpty:
		parts = append(parts, "empty")
	case kindOversized:
		parts = append(parts, fmt.Sprintf("oversized=%d", f.Oversized))
	}
	return strings.Join(parts, " ")
}

func (f Fault) status() int {
	if f.Status < 400 || f.Status > 599 {
		return http.StatusInternalServerError
	}
	return f.Status
}

// merge composes the global fault with a flow's: latencies add up; the global failure, if
// any, wins over the flow's.
func merge(global, flow Fault) Fault {
	out := flow
	if global.kind() != kindNone {
		out = global
	}
	out.Latency = global.Latency + flow.Latency
	return out
}

// outcome is the status and body the fault answers instead of status and normal: status 0
// and a nil body for a hang or a reset.
func (f Fault) outcome(status int, normal []byte) (int, []byte) {
	switch f.kind() {
	case kindHang, kindReset:
		return 0, nil
	case kindStatus:
		st := f.status()
		return st, newAPIError(st, CodeFault, http.StatusText(st), fmt.Sprintf("sandbox: injected fault: status %d", st)).json()
	case kindErrorObject:
		return http.StatusOK, newAPIError(http.StatusInternalServerError, CodeFault, "Internal Server Error",
			"sandbox: injected fault: error object").json()
	case kindMalformed:
		return http.StatusOK, malformedBody
	case kindEmpty:
		return http.StatusOK, []byte{}
	case kindOversized:
		return http.StatusOK, pad(normal, f.Oversized)
	}
	return status, normal
}

// malformedBody is the body of a Malformed fault: JSON cut short.
var malformedBody = []byte(`{"offers": [{"name": "Ancillary bag", "trackingUrl": "`)

// wait sleeps for d; false when the request ended or the sandbox closed first.
func (s *Sandbox) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closed:
	}
	return false
}

// answer writes status and body (the fault's outcome) after the fault's latency, or hangs or
// resets as the fault says. Handlers call it last: a hang, a reset or an interrupted latency
// abort the handler.
func (s *Sandbox) answer(w http.ResponseWriter, r *http.Request, f Fault, status int, body []byte) {
	if !s.wait(r, f.Latency) {
		panic(http.ErrAbortHandler)
	}
	switch f.kind() {
	case kindHang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		panic(http.ErrAbortHandler)
	case kindReset:
		reset(w)
		return
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, body)
}

// reset drops the connection with a TCP reset (SO_LINGER 0), or aborts the response where the
// connection cannot be taken over (HTTP/2, a recorder).
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	c := conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// pad returns body grown to at least n bytes and still valid JSON: a padding string is added
// to the object or array, or the body is wrapped in an object with one.
func pad(body []byte, n int) []byte {
	if len(body) >= n {
		return body
	}
	trimmed := bytes.TrimSpace(body)
	// The padding alone makes up the difference, so the result is at least n bytes.
	fill := max(n-len(trimmed), 1)
	padding := `"` + strings.Repeat("x", fill) + `"`
	var out bytes.Buffer
	out.Grow(n + 32)
	switch {
	case len(trimmed) > 1 && trimmed[0] == '{':
		out.WriteString(`{"padding":` + padding)
		if rest := bytes.TrimSpace(trimmed[1:]); len(rest) > 0 && rest[0] != '}' {
			out.WriteByte(',')
		}
		out.Write(trimmed[1:])
	case len(trimmed) > 1 && trimmed[0] == '[':
		out.WriteString("[" + padding)
		if rest := bytes.TrimSpace(trimmed[1:]); len(rest) > 0 && rest[0] != ']' {
			out.WriteByte(',')
		}
		out.Write(trimmed[1:])
	default:
		if len(trimmed) == 0 {
			trimmed = []byte("null")
		}
		out.WriteString(`{"padding":` + padding + `,"response":`)
		out.Write(trimmed)
		out.WriteByte('}')
	}
	return out.Bytes()
}
