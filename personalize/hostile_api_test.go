package personalize_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
)

// The API has no reason to redirect: a redirect is an error, and neither the flow call's body
// (client key, browser ID, UTM) nor an IDENTITY event's (email, names) goes to another host,
// whose answer is never rendered.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		answerJSON(http.StatusOK, `[{"name":"Evil offer"}]`)(w, r)
	})
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.srv.URL+r.URL.Path, status)
			})
			for _, hc := range []*http.Client{nil, {}} {
				var opts []personalize.Option
				if hc != nil {
					opts = append(opts, personalize.WithHTTPClient(hc)) // the caller's client, not changed
				}
				c := newClient(t, api.srv.URL, opts...)
				res, err := c.CallFlow(context.Background(), flowOf("f"))
				assert.Nil(t, res)
				apiErr, ok := errorsAsAPIError(err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, status, apiErr.StatusCode)
				assert.Contains(t, err.Error(), "redirect, not followed")
				assert.Equal(t, personalize.OutcomeAPIError, personalize.OutcomeOf(err))

				err = c.SendEvent(context.Background(), personalize.Event{Type: personalize.EventIdentity, BrowserID: seedBrowserID, Page: "/",
					Guest: &personalize.Guest{Identifiers: []personalize.GuestIdentifier{{ID: "u-1", Provider: "site"}}, Email: "jane@example.com"}})
				_, ok = errorsAsAPIError(err)
				assert.True(t, ok, "%v", err)
				if hc != nil {
					assert.Nil(t, hc.CheckRedirect, "the caller's client is left as it was")
				}
			}
			assert.Zero(t, elsewhere.Load(), "nothing reached the other host")
		})
	}
}

func errorsAsAPIError(err error) (*personalize.APIError, bool) {
	return errors.AsType[*personalize.APIError](err)
}

// What a visitor's request puts into a call is bounded: the User-Agent forwarded is cut to
// 512 bytes, and a referrer over 1 KiB is left out. A header the site forwards cannot make the
// API refuse or reset its calls.
func TestAVisitorsHeadersAreBoundedOnTheWayToTheAPI(t *testing.T) {
	rec := newRecorder(t, answerJSON(http.StatusOK, `{}`))
	c := newClient(t, rec.srv.URL)
	long := "Mozilla/5.0 " + strings.Repeat("é", 30<<10)
	req := flowOf("f")
	req.UserAgent, req.Referrer = long, "https://news.example/"+strings.Repeat("a", 2000)
	_, err := c.CallFlow(context.Background(), req)
	require.NoError(t, err)
	ua := rec.lastRequest(t).Header.Get("User-Agent")
	assert.LessOrEqual(t, len(ua), 512+len(" go-personalize/")+64)
	assert.True(t, strings.HasPrefix(ua, long[:100]), "the visitor's agent, cut")
	assert.True(t, strings.ToValidUTF8(ua, "") == ua, "cut at a character boundary")
	assert.NotContains(t, string(rec.lastBody(t)), "referrer", "an overlong referrer is left out")

	req.Referrer = "https://news.example/" + strings.Repeat("a", 1024-len("https://news.example/"))
	_, err = c.CallFlow(context.Background(), req)
	require.NoError(t, err)
	assert.Contains(t, string(rec.lastBody(t)), `"referrer":"https://news.example/aaa`, "1 KiB is kept")
}

// A Content-Length is a promise, not an allocation: a server announcing a body up to the cap
// but sending little costs the client what it sent.
func TestABodyIsReadAsItArrives(t *testing.T) {
	const cap = 1 << 20
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(cap))
		_, _ = io.WriteString(w, `{}`) // then the connection ends, short of the promise
	})
	c := newClient(t, rec.srv.URL, personalize.WithMaxResponseSize(cap), personalize.WithBreaker(personalize.BreakerSettings{Disabled: true}))
	_, err := c.CallFlow(context.Background(), flowOf("f")) // a connection first, outside the count
	require.ErrorIs(t, err, personalize.ErrUnavailable, "a body short of its Content-Length is a broken answer")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = c.CallFlow(context.Background(), flowOf("f"))
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, personalize.ErrUnavailable)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(cap/4), "the call did not allocate the promised megabyte")
}
