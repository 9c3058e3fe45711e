package components_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// TestStreamingKeepsTheCookie: behind the middleware, a new visitor's page prefetches its flow,
// then streams: the head arrives before the slow flow answers and still carries the browser ID
// cookie, created by Sitecore (the sandbox) for this visitor. Like TestStreaming, it runs in a
// synctest bubble over in-memory connections, so the order does not depend on the machine's
// speed.
func TestStreamingKeepsTheCookie(t *testing.T) {
	synctest.Test(t, testStreamingKeepsTheCookie)
}

func testStreamingKeepsTheCookie(t *testing.T) {
	const latency = 400 * time.Millisecond
	var answered atomic.Bool
	e := newMemEnv(t, []*sandbox.FlowDef{sandbox.Define("ancillary_offers").Returns(seedOffers()).WithFault(sandbox.Fault{Latency: latency})},
		personalize.WithBudget(slowBudget),
		personalize.WithHooks(personalize.Hooks{FlowCall: func(context.Context, personalize.CallInfo) { answered.Store(true) }}),
	)
	mw, err := middleware.New(e.client, middleware.Options{
		SessionKeys: [][]byte{bytes.Repeat([]byte("k"), 64)},
		Logger:      slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	site := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		personalize.Prefetch(r.Context(), "ancillary_offers") // before the first byte
		templ.Handler(streamedPage, templ.WithStreaming()).ServeHTTP(w, r)
	}))
	srv := memnet.Serve(t, site)
	client := srv.Client

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/booking", nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
	start := time.Now()
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var got bytes.Buffer
	chunk := make([]byte, 4096)
	for !strings.Contains(got.String(), "</h1>") {
		n, err := resp.Body.Read(chunk)
		got.Write(chunk[:n])
		require.NoError(t, err, "the head arrives before the body ends")
	}
	assert.False(t, answered.Load(), "the head arrived before the flow answered")
	assert.Zero(t, time.Since(start), "the head did not wait for the flow")
	assert.NotContains(t, got.String(), "data-personalize-slot")

	var bid *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "bid_"+sandbox.DefaultClientKey || c.Name == middleware.CloudSDKBrowserCookie {
			bid = c
		}
	}
	require.NotNil(t, bid, "the browser ID cookie went out with the streamed headers")
	assert.Equal(t, []string{bid.Value}, e.sb.Browsers(), "the ID Sitecore created for this visitor")

	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	root := slotRoot(t, parse(t, got.String()+string(rest)), "ancillary_offers")
	assert.Equal(t, components.StateDecision, attr(root, "data-personalize-state"))
	assert.Len(t, find(root, "article"), 4)
	assert.Equal(t, 1, e.sb.CallCount("ancillary_offers"))
}
