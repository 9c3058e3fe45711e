package personalize

import (
	"errors"
	"time"
)

// Outcome is how a flow call ended.
type Outcome uint8

const (
	// OutcomeDecision: the API answered with a flow response.
	OutcomeDecision Outcome = iota + 1
	// OutcomeTimeout: no answer within the deadline; the call was cancelled.
	OutcomeTimeout
	// OutcomeBreakerOpen: the circuit breaker was open, no call was made.
	OutcomeBreakerOpen
	// OutcomeAPIError: the API answered with an error (non-2xx or an error object).
	OutcomeAPIError
	// OutcomeInvalidRequest: the request was invalid, no call was made.
	OutcomeInvalidRequest
	// OutcomeNoVisitor: no consent, a bot or prefetch, or no identity: no call was made.
	OutcomeNoVisitor
	// OutcomeError: the API could not be reached, or its answer was malformed or too large.
	OutcomeError
	// OutcomeCanceled: the caller's context was canceled (the visitor went away).
	OutcomeCanceled
	// OutcomeShed: the client's limits (WithLimits) were reached, no call was made.
	OutcomeShed
	// OutcomeLocalTimeout: no answer within the deadline, but most of the time went in the
	// site's own process (ErrLocalTimeout): the request was written late, or not at all though
	// there was a connection, or the process's goroutines were queued for the CPU. Not
	// counted by the flow's breaker.
	OutcomeLocalTimeout
)

var outcomeNames = [...]string{
	OutcomeDecision:       "decision",
	OutcomeTimeout:        "timeout",
	OutcomeBreakerOpen:    "breaker_open",
	OutcomeAPIError:       "api_error",
	OutcomeInvalidRequest: "invalid_request",
	OutcomeNoVisitor:      "no_visitor",
	OutcomeError:          "error",
	OutcomeCanceled:       "canceled",
	OutcomeShed:           "shed",
	OutcomeLocalTimeout:   "local_timeout",
}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return "unknown"
}

// OutcomeOf classifies an error returned by this package; nil is OutcomeDecision.
func OutcomeOf(err error) Outcome {
	var apiErr *APIError
	switch {
	case err == nil:
		return OutcomeDecision
	case errors.Is(err, ErrLocalTimeout):
		return OutcomeLocalTimeout
	case errors.Is(err, ErrTimeout):
		return OutcomeTimeout
	case errors.Is(err, ErrBreakerOpen):
		return OutcomeBreakerOpen
	case errors.As(err, &apiErr):
		return OutcomeAPIError
	case errors.Is(err, ErrInvalidRequest):
		return OutcomeInvalidRequest
	case errors.Is(err, ErrNoVisitor):
		return OutcomeNoVisitor
	case errors.Is(err, ErrCanceled):
		return OutcomeCanceled
	case errors.Is(err, ErrShed):
		return OutcomeShed
	}
	return OutcomeError
}

// CallInfo describes one flow call, for hooks, logs and debug pages. It never holds an email
// address or identifier value.
type CallInfo struct {
	FriendlyID string
	Outcome    Outcome
	// Identity is the kind of identity used (browserId, email, identifiers).
	Identity IdentityKind
	// Start is when the call began; Duration how long it took, retries included.
	Start    time.Time
	Duration time.Duration
	// StatusCode is the HTTP status of the last answer, 0 when there was none.
	StatusCode int
	// Attempts is how many HTTP requests were sent (0, 1 or 2).
	Attempts int
	// BudgetLeft is how long the page's budget (or the request's deadline, when sooner) had
	// left when the call began; 0 for a call outside a page (Client.CallFlow).
	BudgetLeft time.Duration
	// Isolation is the state of the flow's circuit breaker when the call was made
	// (IsolationOpen for a call that failed fast); IsolationClosed for a call not made for
	// another reason.
	Isolation IsolationState
	// Transport is how the API was reached (TransportDirect or TransportEdge); "" when no
	// request was sent.
	Transport string
	// CorrelationID is the call's x-sc-correlation-id header (32 hex digits, as the Cloud SDK
	// makes them), also in the call's log line: give it to Sitecore support to find the call
	// on their side. "" when no request was sent.
	CorrelationID string
	// Cache is what the decision cache did (CacheUnused for a flow without a cache policy),
	// and CacheAge the age of the entry it served. With CacheStale the call failed (Outcome
	// and Err say how) but the visitor got their last decision: Flow returns it, and no error.
	Cache    CacheUse
	CacheAge time.Duration
	// Err is why the call failed, nil for a decision.
	Err error
}

// servedErr is the error Flow and CallFlow return for a call: none when the cache served the
// visitor's last decision after the call failed.
func (i *CallInfo) servedErr() error {
	if i.Cache == CacheStale {
		return nil
	}
	return i.Err
}
