package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/views"
)

// faultRun is what a run of the home page against a flaky API gave.
type faultRun struct {
	pages, apiCalls       int
	bannerReal, slotsReal int // slots that showed a decision (real or from the cache)
	bannerStale           int // of which the cache served
	latencies             []time.Duration
	p50, p99, max         time.Duration
}

// flakyAPI delays every flow call by latency and holds every fifth one until the client
// gives up: a fifth of the calls hang, spread over every flow and visitor.
func flakyAPI(latency time.Duration, calls *atomic.Int64, release <-chan struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v2/callFlows" {
				next.ServeHTTP(w, r)
				return
			}
			n := calls.Add(1)
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
			if n%5 == 0 {
				select {
				case <-r.Context().Done():
				case <-release: // the test is over
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// runFaults has visitors returning visitors load the home page, pages each, one after the
// other, all visitors at once, against an API at 50 ms whose every fifth call hangs. It runs
// in a synctest bubble: the times are the bubble's, exact and the same on every machine.
func runFaults(t *testing.T, visitors, pages int, env ...string) faultRun {
	var run faultRun
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		release := make(chan struct{})
		s, sb := bubbleSiteBehind(t, flakyAPI(50*time.Millisecond, &calls, release), env...)
		t.Cleanup(func() { close(release) }) // before the site's own clean-up
		var mu sync.Mutex
		var wg sync.WaitGroup
		for v := range visitors {
			id := fmt.Sprintf("a38b230c-11eb-4cf9-8d5d-%012d", v)
			sb.AddBrowser(id)
			wg.Go(func() {
				time.Sleep(time.Duration(v) * 53 * time.Millisecond) // arrivals spread over two seconds
				for range pages {
					req := httptest.NewRequest(http.MethodGet, "/", nil)
					req.Header.Set("User-Agent", browserUA)
					req.AddCookie(&http.Cookie{Name: "bid_tenant-client-key", Value: id})
					rec := httptest.NewRecorder()
					start := time.Now()
					s.ServeHTTP(rec, req)
					took := time.Since(start)
					doc, err := goquery.NewDocumentFromReader(rec.Body)
					require.NoError(t, err)
					mu.Lock()
					run.pages++
					run.latencies = append(run.latencies, took)
					doc.Find("[data-personalize-slot]").Each(func(_ int, sel *goquery.Selection) {
						if state, _ := sel.Attr("data-personalize-state"); state == "decision" {
							run.slotsReal++
							if slot, _ := sel.Attr("data-personalize-slot"); slot == views.FlowHomeBanner {
								run.bannerReal++
								if use, _ := sel.Attr("data-personalize-cache"); use == "stale" {
									run.bannerStale++
								}
							}
						}
					})
					mu.Unlock()
					time.Sleep(2 * time.Second) // the visitor reads the page
				}
			})
		}
		wg.Wait()
		run.apiCalls = int(calls.Load())
	})
	slices.Sort(run.latencies)
	q := func(p float64) time.Duration { return run.latencies[int(p*float64(len(run.latencies)-1))] }
	run.p50, run.p99, run.max = q(0.50), q(0.99), run.latencies[len(run.latencies)-1]
	return run
}

func (r faultRun) String() string {
	return fmt.Sprintf("banner real %5.1f%% (%4.1f%% from the cache)  all slots real %5.1f%%  p50 %v  p99 %v  max %v  API calls/page %.2f",
		100*float64(r.bannerReal)/float64(r.pages), 100*float64(r.bannerStale)/float64(r.pages),
		100*float64(r.slotsReal)/float64(3*r.pages), r.p50, r.p99, r.max, float64(r.apiCalls)/float64(r.pages))
}

// TestStaleOnFailureUnderAFlakyAPI: the site's real handler, 40 returning visitors of 15 pages
// each, the API at 50 ms with a fifth of its calls hanging. With the banner's
// stale-on-failure (the default), nearly every banner is a real decision, against about
// four in five without; the page takes as long, and calls the API as often (the policy that
// keeps every execution counted). docs/performance.md has the figures.
func TestStaleOnFailureUnderAFlakyAPI(t *testing.T) {
	t.Parallel()
	before := runFaults(t, 40, 15, "PERSONALIZE_STALE_FOR", "off")
	after := runFaults(t, 40, 15)
	t.Logf("without the cache:    %v", before)
	t.Logf("stale-on-failure 10m: %v", after)

	assert.Less(t, float64(before.bannerReal)/float64(before.pages), 0.9, "without the cache, hung calls show the default")
	assert.Greater(t, float64(after.bannerReal)/float64(after.pages), 0.93, "with it, the visitor's last decision (all but some first pages)")
	assert.Positive(t, after.bannerStale)
	assert.Greater(t, after.slotsReal, before.slotsReal)
	assert.InDelta(t, float64(before.apiCalls)/float64(before.pages), float64(after.apiCalls)/float64(after.pages), 0.2,
		"stale-on-failure calls the API as often")
}
