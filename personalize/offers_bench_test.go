package personalize

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkReadOffers checks Sitecore's documented 4-offer answer and reads its offers, as a
// slot does: scan is checkAnswer and offersIn (the offers' well-known fields are substrings
// of the answer), tree is how it was done before, decoding the answer into a tree and making
// an offer of each map (decodeTree, then NewOffer over offersOfTree).
func BenchmarkReadOffers(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	require.NoError(b, err)
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			a, err := checkAnswer(raw)
			if err != nil || len(offersIn(a)) != 4 {
				b.Fatal(err)
			}
		}
	})
	b.Run("tree", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			tree, err := decodeTree(raw)
			if err != nil {
				b.Fatal(err)
			}
			var offers []Offer
			for _, m := range offersOfTree(tree) {
				offers = append(offers, NewOffer(m))
			}
			if len(offers) != 4 {
				b.Fatal(len(offers))
			}
		}
	})
}
