package personalize_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
	"github.com/go-personalize/sdk/personalize"
)

// decisionAPI answers every flow call (and accepts every event) with a decision naming the visitor, their campaign and
// a serial number, so that a test sees whose decision, and which one, a page got. fail
// makes it answer 500; hang holds calls until the client gives up; latency delays them.
type decisionAPI struct {
	calls   atomic.Int64
	fail    atomic.Bool
	hang    atomic.Bool
	latency atomic.Int64 // ns
}

type decisionBody struct {
	Visitor  string `json:"visitor"`
	Campaign string `json:"campaign"`
	N        int64  `json:"n"`
}

func (a *decisionAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !flowPath(r.URL.Path) {
		w.WriteHeader(http.StatusCreated) // events
		return
	}
	n := a.calls.Add(1)
	raw, _ := io.ReadAll(r.Body)
	var req struct {
		BrowserID string `json:"browserId"`
		Email     string `json:"email"`
		Params    struct {
			UTM map[string]string `json:"utm"`
		} `json:"params"`
	}
	_ = json.Unmarshal(raw, &req)
	if d := time.Duration(a.latency.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if a.hang.Load() {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if a.fail.Load() {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"status":500,"code":"INTERNAL","message":"down"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(decisionBody{Visitor: req.BrowserID + req.Email, Campaign: req.Params.UTM["campaign"], N: n})
}

// cacheClient is a client of a decisionAPI with the decision cache for home_page_banner.
func cacheClient(t *testing.T, pol personalize.CachePolicy, opts ...personalize.Option) (*decisionAPI, *personalize.Client) {
	t.Helper()
	api := &decisionAPI{}
	srv := memnet.Serve(t, api)
	c := memClient(t, srv, append([]personalize.Option{
		personalize.WithCaching(personalize.Caching{Flows: map[string]personalize.CachePolicy{"home_page_banner": pol}}),
		personalize.WithBreaker(personalize.BreakerSettings{Disabled: true}),
	}, opts...)...)
	return api, c
}

// visit renders one page of the visitor and returns the banner's result, error and call.
func visit(c *personalize.Client, v personalize.Visitor) (*personalize.Result, personalize.CallInfo, error) {
	ctx, done := personalize.StartPage(context.Background(), c, v)
	defer done()
	res, err := personalize.Flow(ctx, "home_page_banner")
	calls := personalize.Calls(ctx)
	return res, calls[0], err
}

func decisionOf(t *testing.T, res *personalize.Result) decisionBody {
	t.Helper()
	require.NotNil(t, res)
	var d decisionBody
	require.NoError(t, res.Decode(&d))
	return d
}

const otherBrowserID = "5c2a5a0e-6f1b-4c55-9f2e-3c6a1a7b9d10"

func TestStaleOnFailureServesTheLastDecision(t *testing.T) {
	for _, fault := range []string{"api error", "timeout"} {
		t.Run(fault, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api, c := cacheClient(t, personalize.StaleOnFailure(10*time.Minute))
				alice := personalize.Visitor{BrowserID: seedBrowserID, Path: "/"}

				res, info, err := visit(c, alice)
				require.NoError(t, err)
				assert.Equal(t, int64(1), decisionOf(t, res).N)
				assert.Equal(t, personalize.CacheMiss, info.Cache)
				assert.Equal(t, personalize.CacheMiss, res.Cache)

				res, info, err = visit(c, alice)
				require.NoError(t, err)
				assert.Equal(t, int64(2), decisionOf(t, res).N, "the API answers: its decision, not the cache's")
				assert.Equal(t, personalize.CacheMiss, info.Cache)

				if fault == "timeout" {
					api.hang.Store(true)
				} else {
					api.fail.Store(true)
				}
				time.Sleep(time.Minute)
				res, info, err = visit(c, alice)
				require.NoError(t, err, "the visitor's last decision, instead of an error and the default")
				assert.Equal(t, int64(2), decisionOf(t, res).N)
				assert.Equal(t, personalize.CacheStale, res.Cache)
				assert.Equal(t, time.Minute, res.CacheAge)
				assert.Equal(t, personalize.CacheStale, info.Cache)
				assert.Equal(t, time.Minute, info.CacheAge)
				assert.Error(t, info.Err, "the call's own failure is reported")
				if fault == "timeout" {
					assert.Equal(t, personalize.OutcomeTimeout, info.Outcome)
				} else {
					assert.Equal(t, personalize.OutcomeAPIError, info.Outcome)
				}

				_, info, err = visit(c, personalize.Visitor{BrowserID: otherBrowserID, Path: "/"})
				require.Error(t, err, "another visitor has no entry: the default, never alice's decision")
				assert.Equal(t, personalize.CacheMiss, info.Cache)

				time.Sleep(10 * time.Minute)
				_, _, err = visit(c, alice)
				require.Error(t, err, "an entry older than the policy's age is not served")
			})
		})
	}
}

func TestFreshForServesWithoutCalling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, c := cacheClient(t, personalize.FreshFor(30*time.Minute))
		alice := personalize.Visitor{BrowserID: seedBrowserID, Path: "/"}
		res, _, err := visit(c, alice)
		require.NoError(t, err)
		assert.Equal(t, int64(1), decisionOf(t, res).N)

		time.Sleep(29 * time.Minute)
		res, info, err := visit(c, alice)
		require.NoError(t, err)
		assert.Equal(t, int64(1), decisionOf(t, res).N)
		assert.Equal(t, personalize.CacheHit, info.Cache)
		assert.Equal(t, 29*time.Minute, info.CacheAge)
		assert.Zero(t, info.Attempts)
		assert.Equal(t, int64(1), api.calls.Load(), "no call while the entry is fresh")

		res, _, err = visit(c, personalize.Visitor{BrowserID: seedBrowserID, Path: "/", UTM: map[string]string{"campaign": "summer_sale"}})
		require.NoError(t, err)
		assert.Equal(t, "summer_sale", decisionOf(t, res).Campaign, "another campaign is another entry")
		assert.Equal(t, int64(2), api.calls.Load())

		time.Sleep(2 * time.Minute)
		res, info, err = visit(c, alice)
		require.NoError(t, err)
		assert.Equal(t, int64(3), decisionOf(t, res).N, "expired: called again")
		assert.Equal(t, personalize.CacheMiss, info.Cache)
	})
}

func TestStaleWhileRevalidateRefreshesInTheBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, c := cacheClient(t, personalize.StaleWhileRevalidate(time.Hour))
		alice := personalize.Visitor{BrowserID: seedBrowserID, Path: "/"}
		res, _, err := visit(c, alice)
		require.NoError(t, err)
		assert.Equal(t, int64(1), decisionOf(t, res).N)

		api.latency.Store(int64(300 * time.Millisecond))
		start := time.Now()
		res, info, err := visit(c, alice)
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "served at once, without waiting for the API")
		assert.Equal(t, int64(1), decisionOf(t, res).N)
		assert.Equal(t, personalize.CacheRevalidated, info.Cache)

		synctest.Wait()
		time.Sleep(time.Second) // the refresh, outside the page, answers
		synctest.Wait()
		assert.Equal(t, int64(2), api.calls.Load())
		res, _, _ = visit(c, alice)
		assert.Equal(t, int64(2), decisionOf(t, res).N, "the refreshed decision")

		api.hang.Store(true)
		res, _, err = visit(c, alice)
		require.NoError(t, err, "a hanging API costs the page nothing")
		assert.Equal(t, int64(2), decisionOf(t, res).N)
		require.NoError(t, c.Close(context.Background()), "Close waits for the refresh, which ends at the client's timeout")
	})
}

func TestIdentifyDropsTheVisitorsDecisions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, c := cacheClient(t, personalize.FreshFor(time.Hour))
		alice := personalize.Visitor{BrowserID: seedBrowserID, Path: "/"}
		_, _, err := visit(c, alice)
		require.NoError(t, err)
		_, _, err = visit(c, personalize.Visitor{BrowserID: otherBrowserID, Path: "/"})
		require.NoError(t, err)
		require.Equal(t, int64(2), api.calls.Load())

		ctx, done := personalize.StartPage(context.Background(), c, alice)
		require.NoError(t, personalize.Identify(ctx, personalize.Guest{Email: "ada@example.com",
			Identifiers: []personalize.GuestIdentifier{{ID: "ada", Provider: "site"}}}))
		done()

		res, info, err := visit(c, alice)
		require.NoError(t, err)
		assert.Equal(t, personalize.CacheMiss, info.Cache, "signed in: decided again")
		assert.Equal(t, int64(3), decisionOf(t, res).N)
		_, info, _ = visit(c, personalize.Visitor{BrowserID: otherBrowserID, Path: "/"})
		assert.Equal(t, personalize.CacheHit, info.Cache, "another visitor keeps theirs")

		// An IDENTITY event sent directly drops the entries of the browser it names, and of
		// the guest's email.
		res, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "home_page_banner", Identity: personalize.ByEmail("ada@example.com")})
		require.NoError(t, err)
		assert.Equal(t, int64(4), decisionOf(t, res).N)
		require.NoError(t, c.SendEvent(context.Background(), personalize.Event{Type: personalize.EventIdentity, BrowserID: seedBrowserID, Page: "/",
			Guest: &personalize.Guest{Email: "Ada@Example.com", Identifiers: []personalize.GuestIdentifier{{ID: "ada", Provider: "site"}}}}))
		res, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "home_page_banner", Identity: personalize.ByEmail("ada@example.com")})
		require.NoError(t, err)
		assert.Equal(t, personalize.CacheMiss, res.Cache)
		_, info, _ = visit(c, alice)
		assert.Equal(t, personalize.CacheMiss, info.Cache)
	})
}

// Concurrent pages of one visitor share one call; the caller who leaves ends it for nobody.
func TestConcurrentCallsOfAVisitorShareOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, c := cacheClient(t, personalize.StaleOnFailure(time.Hour))
		api.latency.Store(int64(100 * time.Millisecond))
		alice := personalize.Visitor{BrowserID: seedBrowserID, Path: "/"}
		var wg sync.WaitGroup
		infos := make([]personalize.CallInfo, 5)
		results := make([]*personalize.Result, 5)
		for i := range 5 {
			wg.Go(func() {
				var err error
				results[i], infos[i], err = visit(c, alice)
				assert.NoError(t, err)
			})
		}
		leaver, leave := context.WithCancel(context.Background())
		wg.Go(func() {
			ctx, done := personalize.StartPage(leaver, c, alice)
			defer done()
			_, err := personalize.Flow(ctx, "home_page_banner")
			assert.ErrorIs(t, err, personalize.ErrCanceled)
		})
		synctest.Wait()
		leave()
		wg.Wait()
		assert.Equal(t, int64(1), api.calls.Load(), "one call for six pages")
		shared := 0
		for i := range 5 {
			assert.Equal(t, int64(1), decisionOf(t, results[i]).N)
			if infos[i].Cache == personalize.CacheShared {
				shared++
				assert.Zero(t, infos[i].Attempts)
			}
		}
		assert.GreaterOrEqual(t, shared, 4, "the others joined the first")

		_, info, err := visit(c, personalize.Visitor{BrowserID: otherBrowserID, Path: "/"})
		require.NoError(t, err)
		assert.Equal(t, personalize.CacheMiss, info.Cache, "another visitor's call is their own")
	})
}

// Many visitors at once, under -race: each gets their own decision, never another's.
func TestNoVisitorIsServedAnothersDecision(t *testing.T) {
	for _, pol := range []personalize.CachePolicy{personalize.StaleOnFailure(time.Hour), personalize.FreshFor(time.Hour),
		personalize.StaleWhileRevalidate(time.Hour)} {
		t.Run(pol.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api, c := cacheClient(t, pol)
				var wg sync.WaitGroup
				for v := range 20 {
					id := fmt.Sprintf("a38b230c-11eb-4cf9-8d5d-%012d", v)
					for range 10 {
						wg.Go(func() {
							for round := range 3 {
								if round == 2 && v%2 == 0 {
									api.fail.Store(true) // some pages stale, others not
								}
								res, _, err := visit(c, personalize.Visitor{BrowserID: id, Path: "/"})
								if err != nil {
									continue // a failure without an entry yet: the default
								}
								assert.Equal(t, id, decisionOf(t, res).Visitor)
							}
						})
					}
				}
				wg.Wait()
			})
		})
	}
}

// A flow without a policy is called as always, beside one with.
func TestFlowsWithoutAPolicyAreAlwaysCalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, c := cacheClient(t, personalize.FreshFor(time.Hour))
		for range 3 {
			res, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "newsletter_offer", Identity: personalize.ByBrowserID(seedBrowserID)})
			require.NoError(t, err)
			assert.Equal(t, personalize.CacheUnused, res.Cache)
		}
		assert.Equal(t, int64(3), api.calls.Load())
	})
}

// failingStore fails every operation, or holds it until its context ends.
type failingStore struct{ hang bool }

func (s failingStore) wait(ctx context.Context) error {
	if s.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return errors.New("store down")
}

func (s failingStore) Get(ctx context.Context, _, _ string) (personalize.CachedDecision, bool, error) {
	return personalize.CachedDecision{}, false, s.wait(ctx)
}

func (s failingStore) Set(ctx context.Context, _, _ string, _ personalize.CachedDecision, _ time.Duration) error {
	return s.wait(ctx)
}
func (s failingStore) Forget(ctx context.Context, _ string) error { return s.wait(ctx) }

func TestAStoreThatFailsIsAMiss(t *testing.T) {
	for _, hang := range []bool{false, true} {
		t.Run(fmt.Sprintf("hang=%v", hang), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var log lockedBuffer
				api := &decisionAPI{}
				srv := memnet.Serve(t, api)
				c := memClient(t, srv, personalize.WithLogger(slog.New(slog.NewTextHandler(&log, nil))), personalize.WithCaching(personalize.Caching{
					Flows: map[string]personalize.CachePolicy{"home_page_banner": personalize.FreshFor(time.Hour)},
					Store: failingStore{hang: hang}, StoreTimeout: 20 * time.Millisecond,
				}))
				start := time.Now()
				res, info, err := visit(c, personalize.Visitor{BrowserID: seedBrowserID, Path: "/"})
				require.NoError(t, err)
				assert.Equal(t, int64(1), decisionOf(t, res).N)
				assert.Equal(t, personalize.CacheMiss, info.Cache)
				if hang {
					assert.Equal(t, 20*time.Millisecond, time.Since(start), "bounded by StoreTimeout")
				}
				require.NoError(t, c.Close(context.Background()))
				assert.Contains(t, log.String(), "decision cache store failed")
			})
		})
	}
}

func TestLimitsShedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, c := cacheClient(t, personalize.StaleOnFailure(time.Hour), personalize.WithLimits(personalize.Limits{Concurrent: 1}))
		alice := personalize.Visitor{BrowserID: seedBrowserID, Path: "/"}
		_, _, err := visit(c, alice) // an entry for alice
		require.NoError(t, err)

		api.latency.Store(int64(time.Second))
		var wg sync.WaitGroup
		wg.Go(func() {
			_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "newsletter_offer", Identity: personalize.ByBrowserID(otherBrowserID)})
			assert.NoError(t, err)
		})
		synctest.Wait() // that call holds the only place

		_, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "newsletter_offer", Identity: personalize.ByBrowserID(seedBrowserID)})
		assert.ErrorIs(t, err, personalize.ErrShed)
		assert.Equal(t, personalize.OutcomeShed, personalize.OutcomeOf(err))

		res, info, err := visit(c, alice)
		require.NoError(t, err, "shed, and served alice's last decision")
		assert.Equal(t, personalize.CacheStale, info.Cache)
		assert.Equal(t, personalize.OutcomeShed, info.Outcome)
		assert.Equal(t, int64(1), decisionOf(t, res).N)
		wg.Wait()
		assert.Equal(t, int64(2), api.calls.Load(), "the shed calls never reached the API")
	})
}

func TestLimitsPerSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, c := cacheClient(t, personalize.FreshFor(time.Hour), personalize.WithLimits(personalize.Limits{PerSecond: 2}))
		shed := 0
		for range 5 {
			_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "newsletter_offer", Identity: personalize.ByBrowserID(seedBrowserID)})
			if errors.Is(err, personalize.ErrShed) {
				shed++
			}
		}
		assert.Equal(t, 3, shed, "a burst of 2, then the pace")
		time.Sleep(time.Second)
		_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "newsletter_offer", Identity: personalize.ByBrowserID(seedBrowserID)})
		assert.NoError(t, err, "a second later, room again")
		assert.Equal(t, int64(3), api.calls.Load())
	})
}

func TestCachingConfig(t *testing.T) {
	for name, opt := range map[string]personalize.Option{
		"zero policy":     personalize.WithCaching(personalize.Caching{Flows: map[string]personalize.CachePolicy{"f": {}}}),
		"zero age":        personalize.WithCaching(personalize.Caching{Flows: map[string]personalize.CachePolicy{"f": personalize.FreshFor(0)}}),
		"empty id":        personalize.WithCaching(personalize.Caching{Flows: map[string]personalize.CachePolicy{" ": personalize.FreshFor(time.Second)}}),
		"negative bound":  personalize.WithCaching(personalize.Caching{StoreTimeout: -1}),
		"negative limits": personalize.WithLimits(personalize.Limits{Concurrent: -1}),
		"burst alone":     personalize.WithLimits(personalize.Limits{Burst: 3}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := personalize.New(seedClientKey, opt)
			assert.ErrorIs(t, err, personalize.ErrInvalidConfig)
		})
	}
	assert.Equal(t, "stale-on-failure 10m0s", personalize.StaleOnFailure(10*time.Minute).String())
	assert.Equal(t, "stale-while-revalidate 1h0m0s", personalize.StaleWhileRevalidate(time.Hour).String())
	assert.Equal(t, "fresh-for 30m0s", personalize.FreshFor(30*time.Minute).String())
	assert.Equal(t, "off", personalize.CachePolicy{}.String())
	assert.Equal(t, time.Hour, personalize.FreshFor(time.Hour).MaxAge())
	for use, name := range map[personalize.CacheUse]string{personalize.CacheUnused: "unused", personalize.CacheMiss: "miss",
		personalize.CacheHit: "hit", personalize.CacheStale: "stale", personalize.CacheRevalidated: "revalidated",
		personalize.CacheShared: "shared", 99: "unknown"} {
		assert.Equal(t, name, use.String())
	}
	assert.True(t, personalize.CacheStale.Served())
	assert.False(t, personalize.CacheShared.Served())
	assert.Equal(t, "shed", personalize.OutcomeShed.String())
}

func TestMemoryStoreBounds(t *testing.T) {
	ctx := context.Background()
	entry := func(n int) personalize.CachedDecision {
		return personalize.CachedDecision{FriendlyID: "f", StatusCode: 200, Raw: make([]byte, n), Stored: time.Now()}
	}
	t.Run("entries", func(t *testing.T) {
		s := personalize.NewMemoryStore(personalize.MemoryStoreOptions{MaxEntries: 3})
		for i := range 4 {
			require.NoError(t, s.Set(ctx, fmt.Sprint("v", i), "k", entry(10), time.Hour))
		}
		n, _ := s.Len()
		assert.Equal(t, 3, n)
		_, ok, _ := s.Get(ctx, "v0", "k")
		assert.False(t, ok, "the least recently used is out")
		_, ok, _ = s.Get(ctx, "v1", "k") // v1 used: v2 is now the least recent
		assert.True(t, ok)
		require.NoError(t, s.Set(ctx, "v4", "k", entry(10), time.Hour))
		_, ok, _ = s.Get(ctx, "v2", "k")
		assert.False(t, ok)
		_, ok, _ = s.Get(ctx, "v1", "k")
		assert.True(t, ok)
	})
	t.Run("bytes", func(t *testing.T) {
		s := personalize.NewMemoryStore(personalize.MemoryStoreOptions{MaxBytes: 8 << 10})
		require.NoError(t, s.Set(ctx, "v", "big", entry(2<<10), time.Hour))
		_, ok, _ := s.Get(ctx, "v", "big")
		assert.False(t, ok, "larger than an eighth of the store: not kept")
		for i := range 20 {
			require.NoError(t, s.Set(ctx, "v", fmt.Sprint("k", i), entry(500), time.Hour))
		}
		_, size := s.Len()
		assert.LessOrEqual(t, size, int64(8<<10))
		_, ok, _ = s.Get(ctx, "v", "k19")
		assert.True(t, ok)
	})
	t.Run("forget and expiry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := personalize.NewMemoryStore(personalize.MemoryStoreOptions{})
			require.NoError(t, s.Set(ctx, "a", "k1", entry(1), time.Hour))
			require.NoError(t, s.Set(ctx, "a", "k2", entry(1), time.Hour))
			require.NoError(t, s.Set(ctx, "b", "k1", entry(1), time.Minute))
			require.NoError(t, s.Forget(ctx, "a"))
			_, ok, _ := s.Get(ctx, "a", "k1")
			assert.False(t, ok)
			_, ok, _ = s.Get(ctx, "b", "k1")
			assert.True(t, ok, "another visitor's stay")
			time.Sleep(time.Minute)
			_, ok, _ = s.Get(ctx, "b", "k1")
			assert.False(t, ok, "expired")
			n, size := s.Len()
			assert.Zero(t, n)
			assert.Zero(t, size)
		})
	})
}

// Everything that can change a decision is in its key: a FreshFor entry is served only for
// the very same request.
func TestTheKeyCoversEveryInput(t *testing.T) {
	base := personalize.FlowRequest{FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(seedBrowserID),
		UTM: map[string]string{"campaign": "summer_sale"}, Referrer: "https://search.example/", Params: map[string]any{"tier": "gold"}}
	changes := map[string]func(r *personalize.FlowRequest){
		"identity":      func(r *personalize.FlowRequest) { r.Identity = personalize.ByBrowserID(otherBrowserID) },
		"email":         func(r *personalize.FlowRequest) { r.Identity = personalize.ByEmail("ada@example.com") },
		"identifier":    func(r *personalize.FlowRequest) { r.Identity = personalize.ByIdentifier("ada", "site") },
		"provider":      func(r *personalize.FlowRequest) { r.Identity = personalize.ByIdentifier("ada", "crm") },
		"channel":       func(r *personalize.FlowRequest) { r.Channel = "MOBILE_APP" },
		"language":      func(r *personalize.FlowRequest) { r.Language = "FR" },
		"currency":      func(r *personalize.FlowRequest) { r.Currency = "USD" },
		"point of sale": func(r *personalize.FlowRequest) { r.PointOfSale = "myretailsite/france" },
		"campaign":      func(r *personalize.FlowRequest) { r.UTM = map[string]string{"campaign": "winter"} },
		"another utm": func(r *personalize.FlowRequest) {
			r.UTM = map[string]string{"campaign": "summer_sale", "source": "ads"}
		},
		"no utm":         func(r *personalize.FlowRequest) { r.UTM = nil },
		"referrer":       func(r *personalize.FlowRequest) { r.Referrer = "https://other.example/" },
		"params":         func(r *personalize.FlowRequest) { r.Params = map[string]any{"tier": "silver"} },
		"no params":      func(r *personalize.FlowRequest) { r.Params = nil },
		"a param's type": func(r *personalize.FlowRequest) { r.Params = map[string]any{"tier": 1} },
	}
	if onEdge(t) {
		delete(changes, "point of sale") // refused through the Edge
		changes["guest ref"] = func(r *personalize.FlowRequest) { r.GuestRef = "g-2" }
		changes["variants"] = func(r *personalize.FlowRequest) { r.Variants = []string{"v1"} }
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api, c := cacheClient(t, personalize.FreshFor(time.Hour))
				_, err := c.CallFlow(context.Background(), base)
				require.NoError(t, err)
				same := base
				same.UTM = map[string]string{"Campaign": "summer_sale"} // the same UTM key, as the API gets it
				res, err := c.CallFlow(context.Background(), same)
				require.NoError(t, err)
				assert.Equal(t, personalize.CacheHit, res.Cache, "the same request")

				other := base
				change(&other)
				res, err = c.CallFlow(context.Background(), other)
				require.NoError(t, err)
				assert.Equal(t, personalize.CacheMiss, res.Cache)
				assert.Equal(t, int64(2), api.calls.Load())
			})
		})
	}
}
