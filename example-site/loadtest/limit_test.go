package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/cannedapi"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// pageServer is the page a limit server copies: it answers the visitor's cookie back in a
// header, to show the fetch sent it.
func pageServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Cookie", r.Header.Get("Cookie"))
		h.Set("Set-Cookie", "session=1")
		_, _ = io.WriteString(w, "<!doctype html><p>the page</p>")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// visitorID is the browser ID of getAsVisitor's requests.
const visitorID = "0f8fad5b-d9cb-469f-a165-70867728950e"

// getAsVisitor gets url as a visitor whose bid_k cookie holds visitorID.
func getAsVisitor(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: "bid_k", Value: visitorID})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// The limit server answers the page's bytes and headers as fetched once, without the
// per-answer ones; with an API, after the home page's three flow calls.
func TestLimitCommand(t *testing.T) {
	page := pageServer(t)
	api := cannedapi.New(cannedapi.Options{Default: []byte(`{"ok":true}`)})
	apiSrv := httptest.NewServer(api)
	t.Cleanup(apiSrv.Close)

	plain, out := startCmd(t, "limit", "-addr", "127.0.0.1:0", "-page-from", page.URL+"/", "-header", "Cookie: bid_k=abc")
	assert.Contains(t, out.String(), "no API calls")
	resp, body := get(t, plain+"/")
	assert.Equal(t, "<!doctype html><p>the page</p>", string(body))
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	assert.Equal(t, "bid_k=abc", resp.Header.Get("X-Cookie"), "the page was fetched with -header")
	assert.Empty(t, resp.Header.Values("Set-Cookie"))
	assert.Zero(t, api.Stats().Calls)

	calls, _ := startCmd(t, "limit", "-addr", "127.0.0.1:0", "-page-from", page.URL+"/", "-api", apiSrv.URL, "-client-key", "k")
	_, body2 := getAsVisitor(t, calls+"/")
	assert.True(t, bytes.Equal(body, body2))
	assert.Equal(t, uint64(3), api.Stats().Calls, "the page's three flows")
	assert.Zero(t, api.Stats().Events, "no VIEW without -view")
}

// With -view, the limit server also sends the page's VIEW event, as the site does: a valid
// event of the visitor's browser, the fourth request of the page.
func TestLimitCommandSendsTheView(t *testing.T) {
	page := pageServer(t)
	api := cannedapi.New(cannedapi.Options{Default: []byte(`{"ok":true}`)})
	events := make(chan []byte, 1)
	apiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == sandbox.PathEvents {
			b, _ := io.ReadAll(r.Body)
			events <- b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(apiSrv.Close)

	view, out := startCmd(t, "limit", "-addr", "127.0.0.1:0", "-page-from", page.URL+"/", "-api", apiSrv.URL,
		"-client-key", "k", "-point-of-sale", "shop/nl", "-view")
	assert.Contains(t, out.String(), "and a VIEW event")
	_, body := getAsVisitor(t, view+"/")
	assert.Equal(t, "<!doctype html><p>the page</p>", string(body))
	assert.Equal(t, uint64(3), api.Stats().Calls)
	assert.Equal(t, uint64(1), api.Stats().Views)

	var ev map[string]string
	require.NoError(t, json.Unmarshal(<-events, &ev))
	_, err := time.Parse(time.RFC3339Nano, ev["requested_at"])
	require.NoError(t, err)
	delete(ev, "requested_at")
	assert.Equal(t, map[string]string{"type": "VIEW", "browser_id": visitorID, "client_key": "k",
		"channel": "WEB", "language": "EN", "currency": "EUR", "page": "/", "pos": "shop/nl"}, ev)
}

func TestLimitCommandUsage(t *testing.T) {
	page := pageServer(t)
	for _, args := range [][]string{
		{"limit"},
		{"limit", "-page-from", "http://example.com/"},
		{"limit", "-page-from", page.URL, "-api", "http://example.com"},
		{"limit", "-page-from", page.URL, "-max-idle-conns", "0"},
		{"limit", "-page-from", page.URL, "-view"},
		{"limit", "-page-from", page.URL, "-addr", ":0"},
	} {
		code, _, errOut := runCmd(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
	missing := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(missing.Close)
	code, _, errOut := runCmd(t, "limit", "-page-from", missing.URL+"/")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "answered 404")
}
