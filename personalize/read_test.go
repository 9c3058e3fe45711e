package personalize

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// A body whose length is announced and under the cap is read into one buffer of that length
// (and a byte more, where its end shows): no buffer is grown and thrown away per answer.
func TestReadLimitedKnownLengthOneAllocation(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1642)
	r := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(body)
		raw, err := readLimited(r, int64(len(body)), 1<<20)
		if err != nil || len(raw) != len(body) {
			t.Fatalf("readLimited: %d bytes, %v", len(raw), err)
		}
	})
	require.Equal(t, 1.0, allocs)
}

// Whatever the announced length (none, short of the body, past it) and however the body
// arrives (a byte at a time, with its last bytes and io.EOF together), readLimited returns the
// body, or ErrResponseTooLarge once it passes the cap: it never keeps more than cap+1 bytes.
func TestReadLimitedAnyLength(t *testing.T) {
	body := []byte(strings.Repeat("0123456789", 300))
	for _, length := range []int64{-1, 0, 1, 100, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 1, 1 << 20} {
		for name, r := range map[string]func() io.Reader{
			"whole":        func() io.Reader { return bytes.NewReader(body) },
			"byte by byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) },
			"data and EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(body)) },
		} {
			raw, err := readLimited(r(), length, int64(len(body)))
			require.NoError(t, err, "%s, length %d", name, length)
			require.Equal(t, body, raw, "%s, length %d", name, length)

			raw, err = readLimited(r(), length, int64(len(body))-1)
			require.ErrorIs(t, err, ErrResponseTooLarge, "%s, length %d", name, length)
			require.Nil(t, raw)
		}
	}
	_, err := readLimited(iotest.TimeoutReader(bytes.NewReader(body)), -1, 1<<20)
	require.ErrorIs(t, err, iotest.ErrTimeout, "a read error is returned as it is")
}

// A client sends straight to its RoundTripper when http.Client.Do would add nothing (no jar,
// no timeout of its own: redirects are refused anyway), and through Do otherwise; either way
// a failed request is a *url.Error named as Do names it.
func TestRoundTripDirectUnlessJarOrTimeout(t *testing.T) {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		hc     *http.Client
		direct bool
	}{
		{"own client", nil, true},
		{"caller's plain client", &http.Client{}, true},
		{"caller's client with a jar", &http.Client{Jar: jar}, false},
		{"caller's client with a timeout", &http.Client{Timeout: 1 << 40}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			if tc.hc != nil {
				opts = append(opts, WithHTTPClient(tc.hc))
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "api", Value: "1"})
				w.Write([]byte(`{}`))
			}))
			c, err := New("key", append(opts, WithBaseURL(srv.URL), WithPointOfSale("pos"))...)
			require.NoError(t, err)
			require.Equal(t, tc.direct, c.direct)

			req, err := c.newRequest(t.Context(), http.MethodPost, c.callFlowsURL, strings.NewReader(`{}`))
			require.NoError(t, err)
			require.Equal(t, srv.URL+"/v2/callFlows", req.URL.String())
			resp, err := c.roundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			if tc.hc != nil && tc.hc.Jar != nil {
				u, _ := url.Parse(c.callFlowsURL)
				require.Len(t, jar.Cookies(u), 1, "through Do, the caller's jar keeps the API's cookies")
			}

			srv.Close()
			req, err = c.newRequest(t.Context(), http.MethodPost, c.callFlowsURL, strings.NewReader(`{}`))
			require.NoError(t, err)
			_, err = c.roundTrip(req)
			var ue *url.Error
			require.True(t, errors.As(err, &ue), "%T %v", err, err)
			require.Equal(t, "Post", ue.Op)
			require.Equal(t, srv.URL+"/v2/callFlows", ue.URL)
		})
	}
}

// Each request gets its own copy of an endpoint's parsed URL: changing one request's URL
// (as a RoundTripper may on its copy) changes no other request's.
func TestNewRequestOwnURL(t *testing.T) {
	c, err := New("key", WithBaseURL("https://api.example"), WithPointOfSale("pos"))
	require.NoError(t, err)
	a, err := c.newRequest(t.Context(), http.MethodPost, c.eventsURL, nil)
	require.NoError(t, err)
	a.URL.Path = "/changed"
	b, err := c.newRequest(t.Context(), http.MethodPost, c.eventsURL, nil)
	require.NoError(t, err)
	require.Equal(t, "https://api.example/v1.2/events", b.URL.String())
	require.Equal(t, "api.example", b.Host)
	other, err := c.newRequest(t.Context(), http.MethodGet, "https://api.example/v1.2/browser/x/show.json?a=1", nil)
	require.NoError(t, err)
	require.Equal(t, "a=1", other.URL.RawQuery, "a URL of no endpoint is parsed as it comes")
}
