package personalize_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
)

// BenchmarkFlowMemoized is a flow asked for again on the same page: no I/O (the first call is
// answered in memory). The library beside the bare reference, with flows answered in memory
// and over loopback (CallFlow, Page3Flows), is in example-site/internal/bareref.
func BenchmarkFlowMemoized(b *testing.B) {
	c := cannedClient(b)
	ctx, done := personalize.StartPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
	b.Cleanup(done)
	_, err := personalize.Flow(ctx, "home_page_banner")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := personalize.Flow(ctx, "home_page_banner"); err != nil {
			b.Fatal(err)
		}
	}
}
