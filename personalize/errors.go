package personalize

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors, usable with errors.Is. Every error this package returns wraps one of them or is
// an *APIError.
var (
	// ErrInvalidRequest: the request would be rejected by the API (no or several identities, an
	// empty friendly ID, an invalid option); it is returned before any network call.
	ErrInvalidRequest = errors.New("personalize: invalid request")
	// ErrInvalidConfig: an option given to New is invalid.
	ErrInvalidConfig = errors.New("personalize: invalid configuration")
	// ErrTimeout: the call did not answer within its deadline (per-call timeout, page budget or
	// the caller's context).
	ErrTimeout = errors.New("personalize: timeout")
	// ErrLocalTimeout: the call timed out, but most of its time went in the site's own
	// process, not at the API: before the transport took the request, and from having a
	// connection to writing the request (CPU starvation, or a call started late in its page's
	// budget), against the time connecting and waiting for the answer; or, whatever the
	// split, the process's goroutines were queued for the CPU as it timed out (64 or more per
	// GOMAXPROCS ready to run), when every step of the call, a TLS handshake too, waits behind
	// them. It wraps ErrTimeout too, so errors.Is(err, ErrTimeout) still holds. It is not counted against the API: the
	// flow's breaker does not open for it.
	ErrLocalTimeout = errors.New("personalize: timeout in the site's own process")
	// ErrResponseTooLarge: the answer was larger than the configured cap.
	ErrResponseTooLarge = errors.New("personalize: response too large")
	// ErrMalformedResponse: the answer was not the JSON it should be.
	ErrMalformedResponse = errors.New("personalize: malformed response")
	// ErrUnavailable: the API could not be reached (connection refused, reset, DNS...).
	ErrUnavailable = errors.New("personalize: api unavailable")
	// ErrBreakerOpen: recent calls kept failing, so this one failed fast without a network call.
	ErrBreakerOpen = errors.New("personalize: circuit breaker open")
	// ErrShed: the client's limits on calls (WithLimits) were reached, so this one was not
	// made: the API is protected from the site's own peaks.
	ErrShed = errors.New("personalize: call shed by the client's limits")
	// ErrNoVisitor: the page has no visitor to personalize for (no consent, a bot, a prefetch,
	// or no identity could be had), so no call was made.
	ErrNoVisitor = errors.New("personalize: no visitor")
	// ErrNoPage: Flow, Track or Identify was called with a context that carries no page (see
	// StartPage; the middleware starts one for every request).
	ErrNoPage = errors.New("personalize: no page in context")
	// ErrCanceled: the caller's context was canceled before the call ended.
	ErrCanceled = errors.New("personalize: canceled")
	// ErrQueueFull: the client's event queue was full, so the event was dropped (and
	// counted, EventStats).
	ErrQueueFull = errors.New("personalize: event queue full")
	// ErrClosed: the client was closed, so the event was not queued.
	ErrClosed = errors.New("personalize: client closed")
)

// APIError is a non-2xx answer, or a 2xx answer whose body is Sitecore's error object
// {status, code, message, developerMessage, moreInfoUrl}. The browser endpoints' shape
// {error_msg, moreInfo} is read into Message and MoreInfoURL.
type APIError struct {
	// StatusCode is the HTTP status of the answer; for an error object sent with a 2xx status it
	// is that 2xx status, and Status holds the object's own status field.
	StatusCode       int
	Status           int
	Code             string
	Message          string
	DeveloperMessage string
	MoreInfoURL      string
	// Excerpt is the start of a body that was not an error object, for logs.
	Excerpt string
	// RetryAfter is how long a 429 or 503 answer's Retry-After header asked to wait (0 when
	// it had none); the flow's calls fail fast (ErrBreakerOpen) until then, at most 5 minutes.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("personalize: api error: http %d", e.StatusCode)
	if e.Code != "" {
		msg += " code " + e.Code
	}
	switch {
	case e.Message != "":
		msg += ": " + e.Message
	case e.Excerpt != "":
		msg += ": " + e.Excerpt
	}
	if e.DeveloperMessage != "" && e.DeveloperMessage != e.Message {
		// Often the only text that says what to fix ("no live flow with this friendly ID").
		msg += " (" + e.DeveloperMessage + ")"
	}
	return msg
}

// temporary reports whether the failure is on the API's side (5xx, 429) rather than caused by
// the request: the circuit breaker counts only these.
func (e *APIError) temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == 429 || e.Status >= 500 || e.Status == 429
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, args...)...)
}
