package personalize

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// SendEvent sends one event now (POST /v1.2/events) and waits for the answer; a 2xx answer
// that is not Sitecore's error object is success. Invalid events fail before any network call
// (ErrInvalidRequest); other failures are mapped as for flows (ErrTimeout, ErrUnavailable,
// *APIError...). Like a flow call, it is retried once at once only when the connection failed
// before the request was sent or the API answered 503.
//
// Events do not go through the client's circuit breaker: failing events must not stop a
// site's personalization, and a breaker opened by flows must not drop goal data. In a
// handler, use Track or Identify instead: they never wait for the API.
func (c *Client) SendEvent(ctx context.Context, ev Event) error {
	if c.zero() {
		return errZeroClient
	}
	start := time.Now()
	payload, err := c.encodeEvent(&ev, start)
	if err != nil {
		c.eventHooks(ctx, EventInfo{Type: ev.Type, BrowserID: ev.BrowserID, Outcome: EventInvalid, Start: start, Err: err})
		return err
	}
	if ev.Type == EventIdentity {
		c.cache.forget(ctx, identified(ByBrowserID(ev.BrowserID), ev.Guest)...)
	}
	raw, status, attempts, err := c.send(ctx, http.MethodPost, c.eventsURL, payload, callHeaders{event: true})
	if err == nil {
		err = checkEventAnswer(status, raw)
	}
	err = redactGuest(err, guestSecrets(ev.Guest))
	if s := c.hooks.load(); s.events > 0 {
		info := EventInfo{Type: ev.Type, BrowserID: ev.BrowserID, Outcome: EventSent, Start: start, Duration: time.Since(start),
			StatusCode: status, Attempts: attempts, Transport: c.transport, Err: err}
		if err != nil {
			info.Outcome = EventFailed
		}
		c.eventHooks(ctx, info)
	}
	return err
}

// checkEventAnswer rejects a 2xx answer that is Sitecore's error object. Any other body (the
// API answers {"status":"OK",...}, or nothing) is success.
func checkEventAnswer(status int, raw []byte) error {
	if apiErr := errorObject(status, raw); apiErr != nil {
		return apiErr
	}
	return nil
}

// guestSecrets lists the values of a guest that must not appear in an error or a log line, in
// case the API echoes them.
func guestSecrets(g *Guest) []string {
	if g == nil {
		return nil
	}
	s := make([]string, 0, len(g.Identifiers)+5)
	for _, id := range g.Identifiers {
		s = append(s, id.ID)
	}
	s = append(s, g.Email, g.Mobile, g.Phone, g.FirstName, g.LastName)
	out := s[:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// redactGuest removes the guest's values from an API error that may have echoed them.
func redactGuest(err error, secrets []string) error {
	var apiErr *APIError
	if err == nil || len(secrets) == 0 || !errors.As(err, &apiErr) {
		return err
	}
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, "[redacted]")
	}
	r := strings.NewReplacer(pairs...)
	apiErr.Message = r.Replace(apiErr.Message)
	apiErr.DeveloperMessage = r.Replace(apiErr.DeveloperMessage)
	if apiErr.Excerpt != "" {
		// An excerpt is cut short, and so may be a value in it: drop it whole.
		apiErr.Excerpt = "[redacted]"
	}
	return err
}
