package personalize_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-personalize/personalize/internal/bareref"
	"github.com/go-personalize/personalize/personalize"
)

// cannedRT answers every request with the same body, in memory: the network's cost out of
// the way, what is left is the client's own.
type cannedRT struct{ body []byte }

func (c cannedRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, ContentLength: int64(len(c.body)), Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

// BenchmarkCallFlowOverhead compares the client's own CPU per call with the bare reference's,
// both over an in-memory transport: validation, breaker, deadline, decoding and offers on one
// side, a plain request and json.Decode on the other.
func BenchmarkCallFlowOverhead(b *testing.B) {
	raw, _ := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	hc := &http.Client{Transport: cannedRT{raw}}
	b.Run("client", func(b *testing.B) {
		c, _ := personalize.New("k", personalize.WithBaseURL("http://x"), personalize.WithHTTPClient(hc), personalize.WithPointOfSale("p"))
		req := personalize.FlowRequest{FriendlyID: "f", Identity: personalize.BrowserID(seedBrowserID)}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			res, err := c.CallFlow(context.Background(), req)
			if err != nil || len(res.Offers()) != 4 {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		body := bareBody()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			v, err := bareref.CallFlow(context.Background(), hc, "http://x", body)
			if err != nil || len(v.([]any)) != 4 {
				b.Fatal(err)
			}
		}
	})
}
