package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var bannerJSON = map[string]any{"title": "Fly for less", "items": []any{1, 2}}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  Fault
		status int
		check  func(t *testing.T, resp *http.Response, b []byte)
	}{
		{name: "none", status: 200, check: func(t *testing.T, _ *http.Response, b []byte) {
			assert.JSONEq(t, `{"title":"Fly for less","items":[1,2]}`, string(b))
		}},
		{name: "status 429", fault: Fault{Status: 429}, status: 429, check: func(t *testing.T, resp *http.Response, b []byte) {
			e := errorBody(t, b)
			assert.Equal(t, 429, e.Status)
			assert.Equal(t, CodeFault, e.Code)
			assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		}},
		{name: "status 500", fault: Fault{Status: 500}, status: 500, check: func(t *testing.T, _ *http.Response, b []byte) {
			assert.Equal(t, 500, errorBody(t, b).Status)
		}},
		{name: "status 503", fault: Fault{Status: 503}, status: 503, check: func(t *testing.T, _ *http.Response, b []byte) {
			assert.Equal(t, 503, errorBody(t, b).Status)
		}},
		{name: "status out of range answers 500", fault: Fault{Status: 200}, status: 500},
		{name: "malformed", fault: Fault{Malformed: true}, status: 200, check: func(t *testing.T, _ *http.Response, b []byte) {
			assert.NotEmpty(t, b)
			assert.False(t, json.Valid(b), "%s", b)
		}},
		{name: "oversized", fault: Fault{Oversized: 2 << 20}, status: 200, check: func(t *testing.T, _ *http.Response, b []byte) {
			assert.GreaterOrEqual(t, len(b), 2<<20)
			var v map[string]any
			require.NoError(t, json.Unmarshal(b, &v), "valid JSON")
			assert.Equal(t, "Fly for less", v["title"], "the answer is kept")
		}},
		{name: "error object", fault: Fault{ErrorObject: true}, status: 200, check: func(t *testing.T, _ *http.Response, b []byte) {
			e := errorBody(t, b)
			assert.GreaterOrEqual(t, e.Status, 400)
			assert.NotEmpty(t, e.Message)
		}},
		{name: "empty", fault: Fault{Empty: true}, status: 200, check: func(t *testing.T, resp *http.Response, b []byte) {
			assert.Empty(t, b)
			assert.Equal(t, int64(0), resp.ContentLength)
		}},
		{name: "latency with status", fault: Fault{Latency: 50 * time.Millisecond, Status: 503}, status: 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// In a bubble, on the fake clock, a request takes exactly the fault's latency.
			synctest.Test(t, func(t *testing.T) {
				srv := memStart(t, WithFlows(Define("home_page_banner").Returns(bannerJSON)))
				srv.Sandbox.SetFlowFault("home_page_banner", tc.fault)
				start := time.Now()
				resp, b := callFlows(t, srv, body(t))
				elapsed := time.Since(start)
				require.Equal(t, tc.status, resp.StatusCode, "%.200s", b)
				assert.Equal(t, tc.fault.Latency, elapsed)
				if tc.check != nil {
					tc.check(t, resp, b)
				}
				calls := srv.Sandbox.Calls()
				require.Len(t, calls, 1)
				assert.Equal(t, tc.status, calls[0].Status)
				assert.Equal(t, tc.fault.String(), calls[0].Fault)
				assert.Equal(t, len(b), calls[0].ResponseSize)
			})
		})
	}
}

func TestFaultLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := memStart(t, WithFlows(Define("home_page_banner").Returns(bannerJSON).WithFault(Fault{Latency: 100 * time.Millisecond})))
		start := time.Now()
		resp, _ := callFlows(t, srv, body(t))
		require.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))

		// SetFlowFault overrides the flow's own fault; Fault{} goes back to it.
		srv.Sandbox.SetFlowFault("home_page_banner", Fault{Status: 500})
		start = time.Now()
		resp, _ = callFlows(t, srv, body(t))
		assert.Equal(t, 500, resp.StatusCode)
		assert.Zero(t, time.Since(start), "the override replaces the flow's latency too")
		srv.Sandbox.SetFlowFault("home_page_banner", Fault{})
		start = time.Now()
		resp, _ = callFlows(t, srv, body(t))
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "the flow's own latency is back")
	})
}

func TestFaultLatencyEndsWhenClientGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := memStart(t, WithFlows(Define("home_page_banner").Returns(bannerJSON).WithFault(Fault{Latency: time.Hour})))
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+PathCallFlows, strings.NewReader(body(t)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		_, err = srv.Client().Do(req)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "the client's deadline, not the hour")
	})
}

// hangingPost posts a callFlows body to srv from a goroutine and returns the channel its error
// (nil when it got an answer) comes on.
func hangingPost(t *testing.T, srv endpoint, ctx context.Context) <-chan error {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.baseURL()+PathCallFlows, strings.NewReader(body(t)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	return errc
}

func TestFaultHang(t *testing.T) {
	t.Run("ends when the client cancels", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := memStart(t, WithFlows(Define("home_page_banner").Returns(bannerJSON).WithFault(Fault{Hang: true})))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := hangingPost(t, srv, ctx)
			synctest.Wait() // the request has arrived and is held
			require.Equal(t, 1, srv.Sandbox.CallCount("home_page_banner"))
			time.Sleep(time.Hour) // on the fake clock
			synctest.Wait()
			select {
			case err := <-errc:
				t.Fatalf("a hang answered: %v", err)
			default:
			}
			cancel()
			synctest.Wait()
			select {
			case err := <-errc:
				require.ErrorIs(t, err, context.Canceled)
			default:
				t.Fatal("the request did not end when the client canceled")
			}
			assert.Equal(t, 0, srv.Sandbox.Calls()[0].Status)
		})
	})

	// About the loopback Server itself, so on a real socket: the request is known to be in the
	// sandbox when the server answers 100 Continue, which it does as the handler starts reading
	// the body; the timeouts only keep a broken Close from hanging the test.
	t.Run("ends when the server closes", func(t *testing.T) {
		srv := NewServer(New(WithFlows(Define("home_page_banner").Returns(bannerJSON))))
		srv.Sandbox.SetFault(Fault{Hang: true})
		arrived := make(chan struct{})
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			Got100Continue: func() { close(arrived) },
		})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+PathCallFlows, strings.NewReader(body(t)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Expect", "100-continue")
		errc := make(chan error, 1)
		go func() {
			resp, err := srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		select {
		case <-arrived:
		case err := <-errc:
			srv.Close()
			t.Fatalf("the request ended before it reached the sandbox: %v", err)
		case <-time.After(10 * time.Second):
			srv.Close()
			t.Fatal("the request did not reach the sandbox")
		}
		closed := make(chan struct{})
		go func() { srv.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not end the hung request")
		}
		require.Error(t, <-errc, "the client gets no answer")
		calls := srv.Sandbox.Calls()
		require.Len(t, calls, 1, "the request reached the sandbox before Close")
		assert.Equal(t, 0, calls[0].Status, "and was held by the hang")
		assert.Equal(t, "hang", calls[0].Fault)
	})

	t.Run("ends when the sandbox closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := memStart(t, WithFlows(Define("home_page_banner").Returns(bannerJSON)))
			srv.Sandbox.SetFault(Fault{Hang: true})
			errc := hangingPost(t, srv, context.Background())
			synctest.Wait() // the request has arrived and is held
			require.Equal(t, 1, srv.Sandbox.CallCount(""))
			select {
			case err := <-errc:
				t.Fatalf("a hang answered: %v", err)
			default:
			}
			srv.Sandbox.Close()
			synctest.Wait()
			select {
			case err := <-errc:
				require.Error(t, err)
			default:
				t.Fatal("Sandbox.Close did not end the hung request")
			}
		})
	})
}

func TestFaultReset(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns(bannerJSON).WithFault(Fault{Reset: true})))
	resp, err := srv.Client().Post(srv.URL+PathCallFlows, "application/json", strings.NewReader(body(t)))
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
	assert.Equal(t, 0, srv.Sandbox.Calls()[0].Status)
}

func TestGlobalFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := memStart(t, WithFlows(Define("home_page_banner").Returns(bannerJSON).WithFault(Fault{Latency: 20 * time.Millisecond, Malformed: true})))
		srv.Sandbox.SetFault(Fault{Status: 503, Latency: 20 * time.Millisecond})

		start := time.Now()
		resp, b := callFlows(t, srv, body(t))
		assert.Equal(t, 503, resp.StatusCode, "the global failure wins")
		assert.Equal(t, 40*time.Millisecond, time.Since(start), "latencies add up")
		assert.Equal(t, "latency=40ms status=503", srv.Sandbox.Calls()[0].Fault)
		assert.Equal(t, 503, errorBody(t, b).Status)

		resp, _ = callFlows(t, srv, body(t, "friendlyId", ""))
		assert.Equal(t, 503, resp.StatusCode, "even for requests that would be rejected")
		resp, _ = do(t, srv, http.MethodGet, PathBrowserCreate+"?client_key="+DefaultClientKey, "", "")
		assert.Equal(t, 503, resp.StatusCode, "browser create")
		assert.Empty(t, srv.Sandbox.Browsers(), "a failed create creates nothing")
		resp, _ = do(t, srv, http.MethodPost, PathEvents, "application/json", event(t, testBrowserID))
		assert.Equal(t, 503, resp.StatusCode, "events")

		srv.Sandbox.SetFault(Fault{})
		resp, b = callFlows(t, srv, body(t))
		assert.Equal(t, 200, resp.StatusCode)
		assert.False(t, json.Valid(b), "the flow's own fault is back")
	})
}

func TestGlobalFaultSparesTrackers(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").Returns(map[string]any{"destination": "/x"})))
	_, b := callFlows(t, srv, body(t))
	link := decode[map[string]any](t, b)["trackingUrl"].(string)
	srv.Sandbox.SetFault(Fault{Status: 500})
	resp := get(t, srv, link)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
}

func TestPad(t *testing.T) {
	for _, in := range []string{`{}`, `{"a":1}`, `[]`, `[1]`, `"s"`, `3`, ``, ` { "a" : 1 } `} {
		out := pad([]byte(in), 100)
		assert.GreaterOrEqual(t, len(out), 100, in)
		assert.True(t, json.Valid(out), "%s -> %s", in, out)
	}
	assert.Equal(t, `{"a":1}`, string(pad([]byte(`{"a":1}`), 3)), "large enough already")
}

// get follows nothing: it returns the tracker's own answer.
func get(t *testing.T, srv *Server, url string) *http.Response {
	t.Helper()
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
