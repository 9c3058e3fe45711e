package components_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// cannedAnswer is the seed's four offers as the API sends them, with tracking links as long
// as real ones.
var cannedAnswer = func() []byte {
	var b strings.Builder
	b.WriteString("[")
	for i, name := range seedNames {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"trackingUrl":"https://api-engage-eu.sitecorecloud.io/v3/trackers/eyJjaGFubmVsIjoiV0VCIiwib2ZmZXIiOiIlZCIsInJlZiI6IjQ1NjcifQ%d",`+
			`"destination":"/booking/%d","Name":%q,"imageURLForTesting":"https://png.icons8.com/ios/50/000000/box-%d.png","nonDependent":"false"}`, i, i, name, i)
	}
	b.WriteString("]")
	return []byte(b.String())
}()

// cannedTransport answers every flow call in memory with cannedAnswer: what is measured is
// the library's CPU and memory, not a server's or a network's.
type cannedTransport struct{ body []byte }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, ContentLength: int64(len(c.body)),
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

// cannedClient is a client whose calls are answered by rt.
func cannedClient(b testing.TB, rt http.RoundTripper, opts ...personalize.Option) *personalize.Client {
	b.Helper()
	c, err := personalize.New(sandbox.DefaultClientKey, append([]personalize.Option{
		personalize.WithBaseURL("https://api-engage-eu.sitecorecloud.io"),
		personalize.WithHTTPClient(&http.Client{Transport: rt}), personalize.WithPointOfSale("bench"),
		personalize.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	require.NoError(b, err)
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// slotPage is a page of n slots, each showing its own flow's four offers, as the example site's
// pages do: the page prefetches its flows, then renders each slot.
func slotPage(n int) (ids []string, page templ.Component) {
	slots := make([]templ.Component, n)
	for i := range n {
		id := fmt.Sprintf("flow_%d", i)
		ids = append(ids, id)
		slots[i] = components.Slot(components.SlotProps{
			FriendlyID: id,
			Decision:   components.OfferListDecision(components.OfferListProps{Heading: "Add to your trip"}),
			Fallback:   fallback,
		})
	}
	return ids, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		for _, s := range slots {
			if err := s.Render(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkPageOfSlots is a whole personalized page, without the middleware: a page is
// started, its flows are prefetched, answered in memory (cannedTransport), decoded and
// rendered as slots of four offer cards. The cost of one slot is the difference between
// slots=3 and slots=1, halved: the flow call (request encoding, the client's checks, the
// answer's decoding) and its rendering.
func BenchmarkPageOfSlots(b *testing.B) {
	client := cannedClient(b, cannedTransport{cannedAnswer})
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("slots=%d", n), func(b *testing.B) {
			ids, page := slotPage(n)
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				ctx, done := personalize.StartPage(context.Background(), client, personalize.Visitor{BrowserID: testBrowserID})
				personalize.Prefetch(ctx, ids...)
				err := page.Render(ctx, &buf)
				done()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			require.Equal(b, n, strings.Count(buf.String(), `data-personalize-state="decision"`), buf.String())
		})
	}
}

// maxSlotAllocs is the most allocations a slot of four offers may cost, its flow call
// included (issue 14's target; BenchmarkPageOfSlots measures it).
const maxSlotAllocs = 120

// TestSlotAllocations guards the cost of a slot: a page of three slots makes at most
// 2 × maxSlotAllocs allocations more than a page of one.
func TestSlotAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts vary under the race detector")
	}
	client := cannedClient(t, cannedTransport{cannedAnswer})
	allocs := func(n int) float64 {
		ids, page := slotPage(n)
		var buf bytes.Buffer
		return testing.AllocsPerRun(50, func() {
			buf.Reset()
			ctx, done := personalize.StartPage(context.Background(), client, personalize.Visitor{BrowserID: testBrowserID})
			personalize.Prefetch(ctx, ids...)
			err := page.Render(ctx, &buf)
			done()
			require.NoError(t, err)
			require.Equal(t, n, strings.Count(buf.String(), `data-personalize-state="decision"`))
		})
	}
	one, three := allocs(1), allocs(3)
	perSlot := (three - one) / 2
	t.Logf("a page of 1 slot: %.0f allocations, of 3: %.0f; a slot: %.0f", one, three, perSlot)
	assert.LessOrEqual(t, perSlot, float64(maxSlotAllocs), "allocations per slot")
}
