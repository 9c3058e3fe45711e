package personalize_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/cannedapi"
	"github.com/go-personalize/sdk/personalize"
)

// cannedClient is a client whose every flow is answered in memory with the seed's four-offer
// answer: what is measured is the client's CPU, not a server's.
func cannedClient(b *testing.B, opts ...personalize.Option) *personalize.Client {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	require.NoError(b, err)
	api := cannedapi.New(cannedapi.Options{Default: raw})
	c, err := personalize.New(seedClientKey, append([]personalize.Option{personalize.WithBaseURL("http://api.test"),
		personalize.WithHTTPClient(api.Client()), personalize.WithPointOfSale("p"),
		personalize.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	require.NoError(b, err)
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// BenchmarkDecisionCache: one CallFlow answered in memory without a cache (call), and served
// by the in-memory decision cache (FreshFor: hit), which makes no call. Reading the offers
// (Result.Offers, about 5 allocations for the seed's four) is the page's, not the cache's.
func BenchmarkDecisionCache(b *testing.B) {
	req := personalize.FlowRequest{FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(seedBrowserID),
		UTM: map[string]string{"campaign": "summer_sale"}}
	for name, opts := range map[string][]personalize.Option{
		"call": nil,
		"hit": {personalize.WithCaching(personalize.Caching{Flows: map[string]personalize.CachePolicy{
			"home_page_banner": personalize.FreshFor(time.Hour)}})},
	} {
		b.Run(name, func(b *testing.B) {
			c := cannedClient(b, opts...)
			_, err := c.CallFlow(context.Background(), req)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.CallFlow(context.Background(), req)
				if err != nil || res.Empty() {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemoryStoreGet is the store's own share of a hit.
func BenchmarkMemoryStoreGet(b *testing.B) {
	s := personalize.NewMemoryStore(personalize.MemoryStoreOptions{})
	ctx := context.Background()
	require.NoError(b, s.Set(ctx, "visitor", "key", personalize.CachedDecision{FriendlyID: "f", Raw: []byte(`{}`), Stored: time.Now()}, time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, _ := s.Get(ctx, "visitor", "key"); !ok {
			b.Fatal("miss")
		}
	}
}
