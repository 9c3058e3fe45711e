package personalize

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkReadOffers is what the client and a slot do with Sitecore's documented 4-offer
// answer: the client checks it (checkFlowBody), the slot reads its offers.
func BenchmarkReadOffers(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		tree, err := checkFlowBody(200, raw)
		if err != nil {
			b.Fatal(err)
		}
		res := &Result{Raw: raw, tree: tree}
		if len(res.Offers()) != 4 {
			b.Fatal("offers")
		}
	}
}
