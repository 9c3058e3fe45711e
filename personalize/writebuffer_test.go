package personalize_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
)

// countingListener counts the bytes its connections read: the requests a client wrote.
type countingListener struct {
	net.Listener
	read atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, read: &l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// newCountingAPI serves answer over loopback HTTP, counting the bytes of the requests, and
// records the bodies it received.
func newCountingAPI(t *testing.T, answer http.HandlerFunc) (*httptest.Server, *countingListener, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewUnstartedServer(rec.handler(answer))
	l := &countingListener{Listener: srv.Listener}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, l, rec
}

// A flow call and a VIEW event, headers and body, fit the write buffer each connection of the
// client's own transport keeps (smaller than the transport's default 4 KiB), so that each
// is written in one piece.
func TestAFlowCallAndAnEventFitTheWriteBuffer(t *testing.T) {
	srv, l, _ := newCountingAPI(t, answerJSON(http.StatusOK, `{"title":"x"}`))
	c := newClient(t, srv.URL)

	req := flowOf("home_page_banner")
	req.Params = map[string]any{"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring_sale_2026",
		"referrer": "https://www.example.com/some/long/path/to/an/article?with=query&and=more"}
	_, err := c.CallFlow(context.Background(), req)
	require.NoError(t, err)
	flowCall := l.read.Swap(0)
	assert.Positive(t, flowCall)
	t.Logf("a flow call: %d bytes", flowCall)
	assert.LessOrEqual(t, flowCall, int64(personalize.WriteBufferSize), "a flow call's request")

	require.NoError(t, c.SendEvent(context.Background(), personalize.Event{Type: "VIEW", BrowserID: seedBrowserID,
		Page: "/destinations/reykjavik-and-the-golden-circle", Referrer: "https://www.example.com/some/long/path"}))
	event := l.read.Swap(0)
	assert.Positive(t, event)
	t.Logf("a VIEW event: %d bytes", event)
	assert.LessOrEqual(t, event, int64(personalize.WriteBufferSize), "a VIEW event's request")
}

// A request larger than the write buffer is written in pieces, and arrives whole.
func TestARequestLargerThanTheWriteBufferArrivesWhole(t *testing.T) {
	srv, l, rec := newCountingAPI(t, answerJSON(http.StatusOK, `{"title":"x"}`))
	c := newClient(t, srv.URL)

	long := strings.Repeat("abcdefghij", 2*personalize.WriteBufferSize/10)
	req := flowOf("home_page_banner")
	req.Params = map[string]any{"long": long}
	_, err := c.CallFlow(context.Background(), req)
	require.NoError(t, err)
	assert.Greater(t, l.read.Load(), int64(2*personalize.WriteBufferSize))
	var body struct {
		Params map[string]any `json:"params"`
	}
	require.NoError(t, jsonUnmarshal(rec.lastBody(t), &body))
	assert.Equal(t, long, body.Params["long"])
}
