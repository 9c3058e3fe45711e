package personalize

import (
	"errors"
	"fmt"

	"github.com/sony/gobreaker/v2"
)

func newBreaker(s BreakerSettings) *gobreaker.CircuitBreaker[struct{}] {
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "personalize",
		MaxRequests: 1,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= s.Failures
		},
		IsSuccessful: func(err error) bool { return !isAPIFault(err) },
		// A request the caller cancelled or got wrong says nothing about the API's health.
		IsExcluded: func(err error) bool {
			return errors.Is(err, ErrCanceled) || errors.Is(err, ErrInvalidRequest)
		},
	})
}

// isAPIFault reports whether err is the API's fault: timeouts, connection errors, malformed or
// oversized answers, 5xx and 429. A 4xx caused by the request is not.
func isAPIFault(err error) bool {
	if err == nil {
		return false
	}
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.temporary()
	}
	return errors.Is(err, ErrTimeout) || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, ErrMalformedResponse) || errors.Is(err, ErrResponseTooLarge)
}

// guard runs fn through the circuit breaker, if there is one.
func (c *Client) guard(fn func() error) error {
	if c.breaker == nil {
		return fn()
	}
	_, err := c.breaker.Execute(func() (struct{}, error) { return struct{}{}, fn() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return fmt.Errorf("%w: failing fast after repeated API failures", ErrBreakerOpen)
	}
	return err
}
