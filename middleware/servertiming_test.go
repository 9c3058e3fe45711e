package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// Server-Timing gives the page's flow time, first start to last end: flows in parallel count
// once, flows one after the other add up; responses without a flow, and every response when
// the option is off, get none.
func TestServerTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, srv := memSandbox(t)
		sb.SetFlowFault("a", sandbox.Fault{Latency: 30 * time.Millisecond})
		sb.SetFlowFault("b", sandbox.Fault{Latency: 50*time.Millisecond + 300*time.Microsecond})
		on := newSiteWith(t, sb, srv, Options{ServerTiming: true})
		off := newSiteWith(t, sb, srv, Options{})
		v := newVisitor(t)
		v.get(on.h, "/flow") // a browser ID: later pages time flows only

		for path, want := range map[string]string{
			"/parallel?f=a&f=b":        `personalize;dur=50.3;desc="2 flows"`,
			"/flow?f=a&f=b":            `personalize;dur=80.3;desc="2 flows"`,
			"/flow?f=a":                `personalize;dur=30.0;desc="1 flow"`,
			"/parallel?f=a&f=b&f=home": `personalize;dur=50.3;desc="3 flows"`,
		} {
			resp, _ := v.get(on.h, path)
			assert.Equal(t, []string{want}, resp.Header.Values("Server-Timing"), path)
			resp, _ = v.get(off.h, path)
			assert.Empty(t, resp.Header.Values("Server-Timing"), "off: %s", path)
		}
		resp, _ := v.get(on.h, "/static")
		assert.Empty(t, resp.Header.Values("Server-Timing"), "no flow, no timing")
	})
}

// The handler's own Server-Timing metrics stay; a flow still running when the headers go out
// counts until then.
func TestServerTimingBesideTheHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, srv := memSandbox(t)
		sb.SetFlowFault("a", sandbox.Fault{Latency: 100 * time.Millisecond})
		s := newSiteWith(t, sb, srv, Options{ServerTiming: true, BrowserIDs: MintLocally})
		h := s.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Server-Timing", "db;dur=2")
			personalize.Prefetch(r.Context(), "a")
			time.Sleep(40 * time.Millisecond)
			w.WriteHeader(http.StatusOK) // the flow is still running
		}))
		req := httptest.NewRequest(http.MethodGet, siteURL+"/", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, []string{"db;dur=2", `personalize;dur=40.0;desc="1 flow"`}, rec.Result().Header.Values("Server-Timing"))
	})
}

func TestServerTimingFormat(t *testing.T) {
	assert.Equal(t, `personalize;dur=0.0;desc="0 flows"`, serverTiming(0, 0))
	assert.Equal(t, `personalize;dur=1234.6;desc="12 flows"`, serverTiming(12, 1234567*time.Microsecond))
}

// BenchmarkServerTiming: a returning visitor's page of one flow, without and with
// Options.ServerTiming; off must cost nothing.
func BenchmarkServerTiming(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			mw := benchMiddleware(b)
			mw.cfg.serverTiming = on
			serveLoop(b, mw.Handler(flowRoute), newBenchRequest("/", returningCookies(b, mw)))
		})
	}
}
