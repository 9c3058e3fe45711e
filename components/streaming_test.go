package components_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// streamedPage is a page that flushes its head and the content above its slot before the slot
// waits for its flow. In a .templ file it reads:
//
//	templ bookingPage() {
//		<!DOCTYPE html>
//		<html><head><title>Booking</title></head><body><h1>Your booking</h1>
//		@templ.Flush()
//		@components.Slot(components.SlotProps{FriendlyID: "ancillary_offers", Fallback: defaultOffers()})
//		</body></html>
//	}
var streamedPage = templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
	if _, err := io.WriteString(w, `<!DOCTYPE html><html><head><title>Booking</title></head><body><h1>Your booking</h1>`); err != nil {
		return err
	}
	if err := templ.Flush().Render(ctx, w); err != nil {
		return err
	}
	if err := components.Slot(components.SlotProps{FriendlyID: "ancillary_offers", Fallback: fallback}).Render(ctx, w); err != nil {
		return err
	}
	_, err := io.WriteString(w, `</body></html>`)
	return err
})

// TestStreaming: the head of the page reaches the visitor before the slow flow answers, and the
// slot follows in the same response. It runs in a synctest bubble over in-memory connections:
// the flow's latency passes on the bubble's clock only once every goroutine waits, so the head
// cannot lose a race with it on a loaded machine, and the times are exact.
func TestStreaming(t *testing.T) {
	synctest.Test(t, testStreaming)
}

func testStreaming(t *testing.T) {
	const latency = 400 * time.Millisecond
	var answered atomic.Bool
	e := newMemEnv(t, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers()).WithFault(sandbox.Fault{Latency: latency})},
		personalize.WithBudget(slowBudget),
		personalize.WithHooks(personalize.Hooks{FlowCall: func(context.Context, personalize.CallInfo) { answered.Store(true) }}),
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, done := personalize.StartPage(r.Context(), e.client, personalize.Visitor{BrowserID: testBrowserID})
		defer done()
		// Start the flow before the first byte: a browser ID (and its cookie) must exist by then.
		personalize.Prefetch(ctx, "ancillary_offers")
		templ.Handler(streamedPage, templ.WithStreaming()).ServeHTTP(w, r.WithContext(ctx))
	})
	srv := memnet.Serve(t, handler)
	client := srv.Client

	start := time.Now()
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Content-Length"), "streamed, not buffered")

	// Read until the content above the slot has arrived.
	var got bytes.Buffer
	chunk := make([]byte, 4096)
	for !strings.Contains(got.String(), "</h1>") {
		n, err := resp.Body.Read(chunk)
		got.Write(chunk[:n])
		require.NoError(t, err, "the head arrives before the body ends")
	}
	head := got.String()
	assert.False(t, answered.Load(), "the head arrived before the flow answered")
	assert.Zero(t, time.Since(start), "the head did not wait for the flow")
	assert.True(t, strings.HasPrefix(head, "<!DOCTYPE html><html><head><title>Booking</title>"))
	assert.NotContains(t, head, "data-personalize-slot", "the slot is not in the first bytes")

	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.True(t, answered.Load(), "the slot waited for the flow")
	assert.Equal(t, latency, time.Since(start), "the rest came when the flow answered")
	doc := parse(t, head+string(rest))
	assert.Equal(t, "Your booking", text(one(t, doc, "h1")))
	root := slotRoot(t, doc, "ancillary_offers")
	assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
	assert.Len(t, find(root, "article"), 4)
	assert.Equal(t, 1, e.sb.CallCount("ancillary_offers"))
}
