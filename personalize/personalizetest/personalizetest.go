// Package personalizetest starts the sandbox for a test and points clients at it, with the
// same public options production uses; everything it starts is stopped when the test ends.
//
//	func TestHome(t *testing.T) {
//		srv := personalizetest.NewSandbox(t, sandbox.WithFlows(
//			sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}),
//		))
//		client := personalizetest.NewClient(t, srv)
//		...
//	}
//
// Like net/http/httptest, it is for tests only: package sandbox itself does not import
// testing, so a site that mounts the sandbox for local development does not link it.
package personalizetest

import (
	"context"
	"testing"
	"time"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// PointOfSale is the point of sale NewClient's clients send.
const PointOfSale = "personalizetest"

// NewSandbox starts a sandbox made with opts on a loopback port, closed when the test ends.
func NewSandbox(t testing.TB, opts ...sandbox.Option) *sandbox.Server {
	t.Helper()
	srv := sandbox.NewServer(sandbox.New(opts...))
	t.Cleanup(srv.Close)
	return srv
}

// NewClient makes a client of the sandbox srv: its client key is sandbox.DefaultClientKey and
// its point of sale PointOfSale, then opts apply (a later option wins, so they may replace
// either). The client is closed when the test ends, after delivering its queued events; a
// failure to make it fails the test.
func NewClient(t testing.TB, srv *sandbox.Server, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	all := append([]personalize.Option{personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale(PointOfSale)}, opts...)
	c, err := personalize.New(sandbox.DefaultClientKey, all...)
	if err != nil {
		t.Fatalf("personalizetest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Logf("personalizetest: closing the client: %v", err)
		}
	})
	return c
}
