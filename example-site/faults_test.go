package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/views"
	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// These tests run the example site's real handler (chi, the real middleware, templ pages)
// against the sandbox in a synctest bubble, over in-memory connections: latencies, budgets and
// the flows' isolation pass on the bubble's fake clock, so a page's time is exact and the
// tests are as fast as the CPU allows.

// The faults the API can throw, and whether the slot still shows a decision.
var apiFaults = []struct {
	name    string
	fault   sandbox.Fault
	decided bool
}{
	{"latency within the budget", sandbox.Fault{Latency: 150 * time.Millisecond}, true},
	{"latency over the budget", sandbox.Fault{Latency: time.Second}, false},
	{"500", sandbox.Fault{Status: http.StatusInternalServerError}, false},
	{"429", sandbox.Fault{Status: http.StatusTooManyRequests}, false},
	{"503", sandbox.Fault{Status: http.StatusServiceUnavailable}, false},
	{"hang", sandbox.Fault{Hang: true}, false},
	{"connection reset", sandbox.Fault{Reset: true}, false},
	{"malformed JSON", sandbox.Fault{Malformed: true}, false},
	{"empty body", sandbox.Fault{Empty: true}, false},
	{"oversized body", sandbox.Fault{Oversized: 2 << 20}, false},
	{"error object with 200", sandbox.Fault{ErrorObject: true}, false},
}

const bubbleBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

// bubbleSite is the site in tenant mode, in the current synctest bubble, calling a sandbox
// (with the site's flows) over in-memory connections, for a returning visitor's browser.
func bubbleSite(t *testing.T, env ...string) (*site, *sandbox.Sandbox) {
	t.Helper()
	return bubbleSiteBehind(t, nil, env...)
}

// bubbleSiteBehind is bubbleSite with the API's requests going through front (when not nil)
// before the sandbox.
func bubbleSiteBehind(t *testing.T, front func(http.Handler) http.Handler, env ...string) (*site, *sandbox.Sandbox) {
	t.Helper()
	flows, err := sandbox.LoadFlows(bytes.NewReader(defaultFlows))
	require.NoError(t, err)
	sb := sandbox.New(sandbox.WithClientKeys("tenant-client-key"), sandbox.WithFlows(flows...))
	sb.AddBrowser(bubbleBrowserID)
	var h http.Handler = sb
	if front != nil {
		h = front(sb)
	}
	api := memnet.Serve(t, h)
	vars := tenantSiteEnv(api.URL)
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	cfg, err := loadConfig(envOf(vars))
	require.NoError(t, err)
	cfg.httpClient = api.Client
	h, cleanup, err := newServer(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(cleanup)
	return h.(*site), sb
}

// homeVisit is one home page as the site served it.
type homeVisit struct {
	status int
	took   time.Duration
	states map[string]string // slot: decision or fallback
}

func visitHome(t *testing.T, s *site) homeVisit {
	t.Helper()
	doc, v := visitPage(t, s, "/")
	doc.Find("[data-personalize-slot]").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-personalize-slot")
		v.states[id], _ = s.Attr("data-personalize-state")
	})
	return v
}

// visitPage gets a page of the site as the returning visitor, and how long it took.
func visitPage(t *testing.T, s *site, path string) (*goquery.Document, homeVisit) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("User-Agent", browserUA)
	req.AddCookie(&http.Cookie{Name: "bid_tenant-client-key", Value: bubbleBrowserID})
	rec := httptest.NewRecorder()
	start := time.Now()
	s.ServeHTTP(rec, req)
	v := homeVisit{status: rec.Code, took: time.Since(start), states: map[string]string{}}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	require.NoError(t, err)
	return doc, v
}

var homeSlots = []string{views.FlowHomeBanner, views.FlowDestinations, views.FlowNewsletter}

// TestOneMisbehavingFlow: one flow fails in every way the API can fail while the other two
// answer. Every page is a 200 with its three slots; the other two show their decisions. The
// page waits at most the budget on the first failures, and nothing at all once the bad flow
// is isolated (its breaker opens after five failures).
func TestOneMisbehavingFlow(t *testing.T) {
	t.Parallel()
	for _, f := range apiFaults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s, sb := bubbleSite(t)
				sb.SetFlowFault(views.FlowHomeBanner, f.fault)
				want := "fallback"
				if f.decided {
					want = "decision"
				}
				for i := range 8 {
					v := visitHome(t, s)
					require.Equal(t, http.StatusOK, v.status, "page %d", i)
					require.Len(t, v.states, 3, "page %d renders its three slots", i)
					assert.Equal(t, want, v.states[views.FlowHomeBanner], "page %d: the misbehaving flow's slot", i)
					assert.Equal(t, "decision", v.states[views.FlowDestinations], "page %d: the other flows answer", i)
					assert.Equal(t, "decision", v.states[views.FlowNewsletter], "page %d: the other flows answer", i)
					assert.LessOrEqual(t, v.took, personalize.DefaultBudget, "page %d takes no longer than the budget", i)
					if i >= 5 && !f.decided {
						assert.Zero(t, v.took, "page %d: the isolated flow costs the page nothing", i)
					}
				}
			})
		})
	}
}

// TestEveryFaultOfTheAPI: the whole API fails in every way it can. Every page is a 200 with
// its three slots on their default content, within the budget; once the flows are isolated,
// at once. When the API recovers, personalization comes back after the breakers' open time.
func TestEveryFaultOfTheAPI(t *testing.T) {
	t.Parallel()
	for _, f := range apiFaults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s, sb := bubbleSite(t)
				sb.SetFault(f.fault)
				for i := range 8 {
					v := visitHome(t, s)
					require.Equal(t, http.StatusOK, v.status, "page %d", i)
					require.Len(t, v.states, 3, "page %d renders its three slots", i)
					for _, id := range homeSlots {
						if f.decided {
							assert.Equal(t, "decision", v.states[id], "page %d: %s", i, id)
						} else {
							assert.Equal(t, "fallback", v.states[id], "page %d: %s", i, id)
						}
					}
					assert.LessOrEqual(t, v.took, personalize.DefaultBudget, "page %d takes no longer than the budget", i)
					if i >= 5 && !f.decided {
						assert.Zero(t, v.took, "page %d: isolated flows cost the page nothing", i)
					}
				}
				sb.SetFault(sandbox.Fault{})
				time.Sleep(5*time.Second + time.Millisecond) // the breakers' default open time
				v := visitHome(t, s)
				for _, id := range homeSlots {
					assert.Equal(t, "decision", v.states[id], "%s is personalized again", id)
				}
			})
		})
	}
}
