package bareref_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// The bare reference page against a sandbox: three flows called in parallel, one slot each.
func ExampleNewHandler() {
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define(bareref.FlowBanner).Returns(map[string]any{"title": "Fly for less"}),
		sandbox.Define(bareref.FlowDestinations).Returns([]any{map[string]any{"name": "Lisbon"}}),
		sandbox.Define(bareref.FlowNewsletter).Returns(map[string]any{"title": "Deals every Friday"}),
	)))
	defer srv.Close()
	h := bareref.NewHandler(srv.URL, sandbox.DefaultClientKey, "airline.example")
	defer h.CloseIdleConnections()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(rec.Code, srv.Sandbox.CallCount(""))
	// Output: 200 3
}
