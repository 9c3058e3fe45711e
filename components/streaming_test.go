package components_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
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
// slot follows in the same response.
func TestStreaming(t *testing.T) {
	const latency = 400 * time.Millisecond
	var answered atomic.Bool
	e := newEnv(t, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers()).WithFault(sandbox.Fault{Latency: latency})},
		personalize.WithBudget(slowBudget),
		personalize.WithHook(func(personalize.CallInfo) { answered.Store(true) }),
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, done := personalize.StartPage(r.Context(), e.client, personalize.Visitor{BrowserID: testBrowserID})
		defer done()
		// Start the flow before the first byte: a browser ID (and its cookie) must exist by then.
		personalize.Prefetch(ctx, "ancillary_offers")
		templ.Handler(streamedPage, templ.WithStreaming()).ServeHTTP(w, r.WithContext(ctx))
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	client := srv.Client()
	t.Cleanup(client.CloseIdleConnections)

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
	assert.True(t, strings.HasPrefix(head, "<!DOCTYPE html><html><head><title>Booking</title>"))
	assert.NotContains(t, head, "data-personalize-slot", "the slot is not in the first bytes")

	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.True(t, answered.Load(), "the slot waited for the flow")
	doc := parse(t, head+string(rest))
	assert.Equal(t, "Your booking", text(one(t, doc, "h1")))
	root := slotRoot(t, doc, "ancillary_offers")
	assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
	assert.Len(t, find(root, "article"), 4)
	assert.Equal(t, 1, e.srv.Sandbox.CallCount("ancillary_offers"))
}
