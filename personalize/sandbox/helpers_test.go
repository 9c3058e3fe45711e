package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
)

const testBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

// body builds a callFlows body: the seed's browserId example with fields changed by kv pairs
// (a nil value removes the field).
func body(t *testing.T, kv ...any) string {
	t.Helper()
	m := map[string]any{
		"clientKey":    DefaultClientKey,
		"channel":      "WEB",
		"language":     "en",
		"currencyCode": "EUR",
		"pointOfSale":  "myretailsite/ireland",
		"browserId":    testBrowserID,
		"friendlyId":   "home_page_banner",
	}
	require.Zero(t, len(kv)%2, "key/value pairs")
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1]
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// endpoint is what the helpers send requests to: a Server on loopback, or a sandbox served in
// memory (memStart) for a test in a synctest bubble.
type endpoint interface {
	baseURL() string
	Client() *http.Client
}

func (srv *Server) baseURL() string { return srv.URL }

// memServer is a sandbox served in memory (memnet) with a client that reaches it. In a
// synctest bubble its latencies and hangs follow the bubble's fake clock: a latency passes at
// once and exactly, and a held request is durably blocked (synctest.Wait returns).
type memServer struct {
	// URL is the base URL of the server.
	URL string
	// Sandbox is the sandbox it serves.
	Sandbox *Sandbox

	client *http.Client
}

func (m *memServer) baseURL() string      { return m.URL }
func (m *memServer) Client() *http.Client { return m.client }

// memStart serves a new sandbox made with opts in memory until the test ends. Call it inside
// the synctest bubble, so the sandbox and its connections belong to the bubble.
func memStart(t testing.TB, opts ...Option) *memServer {
	t.Helper()
	sb := New(opts...)
	srv := memnet.Serve(t, sb)
	return &memServer{URL: srv.URL, Sandbox: sb, client: srv.Client}
}

// do sends a request to the server and returns the response with its body read.
func do(t *testing.T, srv endpoint, method, path, contentType, reqBody string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.baseURL()+path, strings.NewReader(reqBody))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// callFlows posts a JSON body to /v2/callFlows.
func callFlows(t *testing.T, srv endpoint, reqBody string) (*http.Response, []byte) {
	t.Helper()
	return do(t, srv, http.MethodPost, PathCallFlows, "application/json", reqBody)
}

// errorBody decodes an error object.
func errorBody(t *testing.T, b []byte) ErrorBody {
	t.Helper()
	var e ErrorBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&e), "error object: %s", b)
	return e
}

// createBrowser creates a browser through the API and returns its ID.
func createBrowser(t *testing.T, srv endpoint) string {
	t.Helper()
	resp, b := do(t, srv, http.MethodGet, PathBrowserCreate+"?client_key="+DefaultClientKey+"&message=%7B%7D", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	var created struct {
		Ref string `json:"ref"`
	}
	require.NoError(t, json.Unmarshal(b, &created))
	return created.Ref
}

// event builds an events body for browser id with fields changed by kv pairs.
func event(t *testing.T, id string, kv ...any) string {
	t.Helper()
	m := map[string]any{
		"type":       "VIEW",
		"browser_id": id,
		"client_key": DefaultClientKey,
		"channel":    "WEB",
		"pos":        "myretailsite/ireland",
		"language":   "EN",
		"currency":   "EUR",
		"page":       "/",
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1]
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// identityEvent builds an IDENTITY event body for browser id: Ada's identifier and first
// name, with fields changed by kv pairs.
func identityEvent(t *testing.T, id string, kv ...any) string {
	t.Helper()
	base := []any{
		"type", "IDENTITY",
		"identifiers", []any{map[string]any{"id": "GA-1001", "provider": "GO_AIRWAYS"}},
		"firstname", "Ada",
	}
	return event(t, id, append(base, kv...)...)
}

// decode unmarshals b into a new T.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	return v
}

// start starts a server for a new sandbox made with opts and closes it when the test ends
// (personalizetest.NewSandbox, which these in-package tests cannot import).
func start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	srv := NewServer(New(opts...))
	t.Cleanup(srv.Close)
	return srv
}
