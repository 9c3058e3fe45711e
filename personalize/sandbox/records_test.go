package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve sends one request straight to the handler.
func serve(sb *Sandbox, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, req)
	return rec
}

func TestRecordsAreCapped(t *testing.T) {
	sb := New(WithFlows(Define("home_page_banner").Returns(map[string]any{"destination": "/x"})))
	for _, m := range []int{sb.calls.max, sb.events.max, sb.clicks.max, sb.browserList.max, sb.tokens.max} {
		require.Equal(t, MaxRecords, m)
	}
	require.Equal(t, MaxBrowsers, sb.browsers.max)
	// The same mechanism with a small cap, so the test stays quick.
	const maxRecords = 300
	sb.calls, sb.events = newRing[CallRecord](maxRecords), newRing[EventRecord](maxRecords)
	rec := serve(sb, http.MethodGet, PathBrowserCreate+"?client_key="+DefaultClientKey, "")
	require.Equal(t, 200, rec.Code)
	id := decode[map[string]string](t, rec.Body.Bytes())["ref"]

	const n = maxRecords + 50
	var link string
	for i := range n {
		rec := serve(sb, http.MethodPost, PathCallFlows, body(t, "browserId", id, "params", map[string]any{"i": i}))
		require.Equal(t, 200, rec.Code)
		link = decode[map[string]any](t, rec.Body.Bytes())["trackingUrl"].(string)
		rec = serve(sb, http.MethodPost, PathEvents, event(t, id, "i", i))
		require.Equal(t, 201, rec.Code)
	}
	calls := sb.Calls()
	require.Len(t, calls, maxRecords)
	assert.Equal(t, "50", calls[0].Request.Param("i"), "the oldest are dropped")
	assert.Equal(t, fmt.Sprint(n-1), calls[len(calls)-1].Request.Param("i"))
	assert.Equal(t, n, sb.CallCount("home_page_banner"), "counts are not capped")
	assert.Equal(t, n, calls[len(calls)-1].Request.CallCount)
	assert.Len(t, calls[len(calls)-1].Request.Events, MaxBrowserEvents, "events rules see are capped per browser")
	assert.Len(t, sb.Events(), maxRecords)

	for range 20 {
		serve(sb, http.MethodGet, strings.TrimPrefix(link, "http://example.com"), "")
	}
	assert.Len(t, sb.Clicks(), 20)

	sb.Reset()
	assert.Empty(t, sb.Calls())
	assert.Empty(t, sb.Events())
	assert.Empty(t, sb.Clicks())
	assert.Empty(t, sb.Browsers())
	assert.Zero(t, sb.CallCount(""))
	assert.True(t, sb.KnowsBrowser(id), "known browsers survive Reset")
	assert.Equal(t, []string{"home_page_banner"}, sb.Flows(), "flows survive Reset")
	rec = serve(sb, http.MethodPost, PathCallFlows, body(t, "browserId", id))
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, 1, sb.Calls()[0].Request.CallCount)
	assert.Empty(t, sb.Calls()[0].Request.Events)
}

func TestRecordedBodiesAreCapped(t *testing.T) {
	sb := New(WithFlows(Define("home_page_banner").Returns(map[string]any{"big": strings.Repeat("b", MaxRecordedBody)})))
	big := body(t, "params", map[string]any{"big": strings.Repeat("a", MaxRecordedBody)})
	rec := serve(sb, http.MethodPost, PathCallFlows, big)
	require.Equal(t, 200, rec.Code)
	c := sb.Calls()[0]
	assert.Nil(t, c.Body)
	assert.Equal(t, len(big), c.BodySize)
	assert.Nil(t, c.Response)
	assert.Equal(t, rec.Body.Len(), c.ResponseSize)
}

func TestRecordsAreCopies(t *testing.T) {
	sb := New(WithFlows(Define("home_page_banner").Returns(map[string]any{"title": "x"})))
	serve(sb, http.MethodPost, PathCallFlows, body(t))
	c := sb.Calls()[0]
	c.Response[0] = '!'
	rec := serve(sb, http.MethodPost, PathCallFlows, body(t))
	assert.JSONEq(t, `{"title":"x"}`, rec.Body.String(), "a record cannot change the flow")
}

func TestRing(t *testing.T) {
	r := newRing[int](3)
	assert.Empty(t, r.all())
	for i := 1; i <= 7; i++ {
		r.push(i)
	}
	assert.Equal(t, []int{5, 6, 7}, r.all())
	assert.Equal(t, 3, r.len())
	r.reset()
	assert.Empty(t, r.all())
}

func TestFIFOMap(t *testing.T) {
	m := newFIFOMap[int, string](3)
	for i := range 1000 {
		m.set(i, fmt.Sprint(i))
		m.set(i, fmt.Sprint(i)) // setting again neither grows nor evicts
	}
	assert.Equal(t, 3, m.len())
	for i := range 997 {
		_, ok := m.get(i)
		assert.False(t, ok)
	}
	v, ok := m.get(999)
	assert.True(t, ok)
	assert.Equal(t, "999", v)
	assert.Less(t, len(m.order), 200, "the key queue is compacted")
	m.reset()
	assert.Zero(t, m.len())
}

func TestConcurrentCalls(t *testing.T) {
	srv := start(t, WithFlows(
		Define("a").Returns(map[string]any{"destination": "/a"}).When(Returning(), map[string]any{"returning": true}),
		Define("b").Returns([]any{map[string]any{"trackingUrl": "{tracker}", "Name": "b"}}),
	))
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*3)
	for w := range workers {
		wg.Go(func() {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", w)
			srv.Sandbox.AddBrowser(id)
			for i := range perWorker {
				for _, fid := range []string{"a", "b"} {
					resp, err := srv.Client().Post(srv.URL+PathCallFlows, "application/json",
						strings.NewReader(fmt.Sprintf(`{"clientKey":%q,"pointOfSale":"p","friendlyId":%q,"browserId":%q}`, DefaultClientKey, fid, id)))
					if err != nil {
						errs <- err
						continue
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs <- fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				resp, err := srv.Client().Post(srv.URL+PathEvents, "application/json",
					strings.NewReader(fmt.Sprintf(`{"type":"VIEW","browser_id":%q,"client_key":%q,"channel":"WEB","language":"en","currency":"EUR","page":"/","pos":"p","i":%d}`, id, DefaultClientKey, i)))
				if err != nil {
					errs <- err
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 201 {
					errs <- fmt.Errorf("event status %d", resp.StatusCode)
				}
				_ = srv.Sandbox.Calls() // readers run alongside writers
				srv.Sandbox.SetFault(Fault{})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, workers*perWorker, srv.Sandbox.CallCount("a"))
	assert.Equal(t, workers*perWorker, srv.Sandbox.CallCount("b"))
	assert.Equal(t, 2*workers*perWorker, srv.Sandbox.CallCount(""))
	assert.Len(t, srv.Sandbox.Events(), workers*perWorker)
	maxCount := map[string]int{}
	for _, c := range srv.Sandbox.Calls() {
		k := c.Request.BrowserID + c.FriendlyID
		maxCount[k] = max(maxCount[k], c.Request.CallCount)
	}
	assert.Len(t, maxCount, 2*workers)
	for k, n := range maxCount {
		assert.Equal(t, perWorker, n, k)
	}
}
