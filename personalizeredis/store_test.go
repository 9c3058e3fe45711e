package personalizeredis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalizeredis/redistest"
)

// generous is the OpTimeout of the tests that are not about time: far above any answer of
// a loopback Redis on a loaded machine under the race detector.
var generous = Options{OpTimeout: 5 * time.Second}

// visitor and key as the personalize client makes them: hex digests.
const (
	visitorA = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	visitorB = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	keyHome  = "5d41402abc4b2a76b9719d911017c592"
	keyOffer = "7d793037a0760186574b0282f2f435e7"
)

func decision(id string) personalize.CachedDecision {
	return personalize.CachedDecision{
		FriendlyID: id,
		StatusCode: 200,
		Raw:        []byte(`{"title":"Summer sale","flow":"` + id + `"}`),
		Stored:     time.UnixMilli(1_767_225_600_123), // 2026-01-01T00:00:00.123Z
	}
}

// sameDecision reports whether got is want as a store keeps it (Stored to the millisecond).
func sameDecision(got, want personalize.CachedDecision) bool {
	return got.FriendlyID == want.FriendlyID && got.StatusCode == want.StatusCode &&
		string(got.Raw) == string(want.Raw) && got.Stored.Equal(want.Stored.Truncate(time.Millisecond))
}

// rawClient is a go-redis client of the test's own on srv, to look at (and spoil) what the
// store wrote.
func rawClient(t testing.TB, srv *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// fakeClock is the clock of the entries' expiry in a test.
type fakeClock struct{ now atomic.Int64 } // unix nanoseconds

// fakeClockOf gives st a fake clock, at the time now.
func fakeClockOf(st *Store) *fakeClock {
	c := &fakeClock{}
	c.now.Store(time.Now().UnixNano())
	st.now = c.Now
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func mustGet(t *testing.T, st *Store, visitor, key string) (personalize.CachedDecision, bool) {
	t.Helper()
	e, ok, err := st.Get(bounded(t), visitor, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return e, ok
}

func mustSet(t *testing.T, st *Store, visitor, key string, e personalize.CachedDecision, ttl time.Duration) {
	t.Helper()
	if err := st.Set(bounded(t), visitor, key, e, ttl); err != nil {
		t.Fatalf("Set: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, redistest.Start(t), generous)
	want := decision("home_page_banner")
	want.Stored = time.Date(2026, 1, 1, 12, 30, 0, 456_789_000, time.UTC) // sub-millisecond part dropped
	mustSet(t, st, visitorA, keyHome, want, time.Minute)
	got, ok := mustGet(t, st, visitorA, keyHome)
	if !ok || !sameDecision(got, want) {
		t.Fatalf("Get = %+v, %v; want %+v", got, ok, want)
	}

	// Set replaces.
	next := decision("home_page_banner")
	next.Raw = []byte(`{"title":"Winter sale"}`)
	next.StatusCode = 201
	mustSet(t, st, visitorA, keyHome, next, time.Minute)
	if got, ok := mustGet(t, st, visitorA, keyHome); !ok || !sameDecision(got, next) {
		t.Fatalf("after a second Set, Get = %+v, %v; want %+v", got, ok, next)
	}
}

func TestLayoutIsOneHashPerVisitor(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st := newTestStore(t, srv, Options{OpTimeout: generous.OpTimeout}) // default prefix
	mustSet(t, st, visitorA, keyHome, decision("home_page_banner"), time.Minute)
	mustSet(t, st, visitorA, keyOffer, decision("ancillary_offers"), time.Minute)

	rc := rawClient(t, srv)
	ctx := bounded(t)
	keys, err := rc.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultPrefix + "v:" + visitorA; len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys = %q, want [%q]", keys, want)
	}
	fields, err := rc.HKeys(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 2 {
		t.Fatalf("fields = %q, want the two keys", fields)
	}
	v, err := rc.HGet(ctx, keys[0], keyHome).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != entryVersion {
		t.Errorf("the value starts with %#x, want the version %#x", v[0], entryVersion)
	}
}

func TestMiss(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, redistest.Start(t), generous)
	if _, ok := mustGet(t, st, visitorA, keyHome); ok {
		t.Fatal("hit on an empty Redis")
	}
	mustSet(t, st, visitorA, keyHome, decision("home_page_banner"), time.Minute)
	if _, ok := mustGet(t, st, visitorA, keyOffer); ok {
		t.Error("hit for a key never stored")
	}
	if _, ok := mustGet(t, st, visitorB, keyHome); ok {
		t.Error("hit for another visitor")
	}
}

func TestEntryExpiresAfterItsTTL(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, redistest.Start(t), generous)
	clock := fakeClockOf(st)

	mustSet(t, st, visitorA, keyHome, decision("home_page_banner"), 10*time.Minute)
	mustSet(t, st, visitorA, keyOffer, decision("ancillary_offers"), time.Minute)
	clock.Advance(time.Minute - time.Millisecond)
	if _, ok := mustGet(t, st, visitorA, keyOffer); !ok {
		t.Fatal("miss before the ttl passed")
	}
	clock.Advance(time.Millisecond)
	if _, ok := mustGet(t, st, visitorA, keyOffer); ok {
		t.Fatal("hit once the ttl passed")
	}
	if _, ok := mustGet(t, st, visitorA, keyHome); !ok {
		t.Fatal("the visitor's longer-lived entry expired with the shorter one")
	}
	// Set again: served again.
	mustSet(t, st, visitorA, keyOffer, decision("ancillary_offers"), time.Minute)
	if _, ok := mustGet(t, st, visitorA, keyOffer); !ok {
		t.Fatal("miss after storing an expired key again")
	}
}

func TestTTLUnderAMillisecond(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, redistest.Start(t), generous)
	clock := fakeClockOf(st)
	for _, ttl := range []time.Duration{0, -time.Second} {
		mustSet(t, st, visitorA, keyHome, decision("home_page_banner"), ttl)
		if _, ok := mustGet(t, st, visitorA, keyHome); ok {
			t.Errorf("ttl %v: stored", ttl)
		}
	}
	// The visitor's hash lives a minute (its other entry's ttl), so that Redis's own clock,
	// which the test does not control, cannot expire it between the Set and the Get on a
	// loaded machine: the entry's own millisecond is checked on the store's (fake) clock.
	mustSet(t, st, visitorA, keyOffer, decision("ancillary_offers"), time.Minute)
	mustSet(t, st, visitorA, keyHome, decision("home_page_banner"), time.Microsecond) // kept 1 ms
	if _, ok := mustGet(t, st, visitorA, keyHome); !ok {
		t.Error("ttl 1µs: not stored for a millisecond")
	}
	clock.Advance(time.Millisecond)
	if _, ok := mustGet(t, st, visitorA, keyHome); ok {
		t.Error("ttl 1µs: still served a millisecond later")
	}
}

// The visitor's hash lives as long as its longest-lived entry (PEXPIRE NX + GT), or, on a
// Redis that knows no GT, as long as the last entry stored.
func TestHashExpiry(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rc := rawClient(t, srv)
	pttl := func(st *Store) time.Duration {
		t.Helper()
		d, err := rc.PTTL(bounded(t), st.hashPrefix+visitorA).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	near := func(got, want time.Duration) bool { return got <= want && got > want-time.Minute }

	st := newTestStore(t, srv, Options{Prefix: "gt:", OpTimeout: generous.OpTimeout})
	mustSet(t, st, visitorA, keyHome, decision("home_page_banner"), 10*time.Minute)
	if got := pttl(st); !near(got, 10*time.Minute) {
		t.Fatalf("a new hash: PTTL %v, want about 10m", got)
	}
	mustSet(t, st, visitorA, keyOffer, decision("ancillary_offers"), time.Minute)
	if got := pttl(st); !near(got, 10*time.Minute) {
		t.Fatalf("after a shorter entry: PTTL %v, want still about 10m", got)
	}
	mustSet(t, st, visitorA, keyOffer, decision("ancillary_offers"), 20*time.Minute)
	if got := pttl(st); !near(got, 20*time.Minute) {
		t.Fatalf("after a longer entry: PTTL %v, want about 20m", got)
	}
	if st.noGT.Load() {
		t.Fatal("Redis 7 taken for a server without PEXPIRE GT")
	}

	legacy := newTestStore(t, srv, Options{Prefix: "legacy:", OpTimeout: generous.OpTimeout})
	legacy.noGT.Store(true)
	mustSet(t, legacy, visitorA, keyHome, decision("home_page_banner"), 10*time.Minute)
	mustSet(t, legacy, visitorA, keyOffer, decision("ancillary_offers"), time.Minute)
	if got := pttl(legacy); !near(got, time.Minute) {
		t.Fatalf("without GT: PTTL %v, want the last entry's ttl, about 1m", got)
	}
	if _, ok := mustGet(t, legacy, visitorA, keyOffer); !ok {
		t.Fatal("without GT: miss")
	}
}

func TestForgetDropsOnlyThatVisitor(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, redistest.Start(t), generous)
	for _, v := range []string{visitorA, visitorB} {
		mustSet(t, st, v, keyHome, decision("home_page_banner"), time.Minute)
		mustSet(t, st, v, keyOffer, decision("ancillary_offers"), time.Minute)
	}
	if err := st.Forget(bounded(t), visitorA); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{keyHome, keyOffer} {
		if _, ok := mustGet(t, st, visitorA, k); ok {
			t.Errorf("visitor A's %s survived Forget", k)
		}
		if _, ok := mustGet(t, st, visitorB, k); !ok {
			t.Errorf("visitor B's %s went with visitor A's", k)
		}
	}
	if err := st.Forget(bounded(t), "0000"); err != nil { // nobody: not an error
		t.Fatal(err)
	}
}

// Two stores on one Redis, as two servers of a site: a decision one stores, the other
// serves; a Forget on one is seen by the other. A store with another prefix sees neither.
func TestTwoServersShareEntries(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	web1 := newTestStore(t, srv, generous)
	web2 := newTestStore(t, srv, generous)
	other := newTestStore(t, srv, Options{Prefix: "othersite:", OpTimeout: generous.OpTimeout})

	want := decision("home_page_banner")
	mustSet(t, web1, visitorA, keyHome, want, time.Minute)
	if got, ok := mustGet(t, web2, visitorA, keyHome); !ok || !sameDecision(got, want) {
		t.Fatalf("the other server: Get = %+v, %v", got, ok)
	}
	if _, ok := mustGet(t, other, visitorA, keyHome); ok {
		t.Fatal("a store with another prefix served the entry")
	}
	if err := web2.Forget(bounded(t), visitorA); err != nil {
		t.Fatal(err)
	}
	if _, ok := mustGet(t, web1, visitorA, keyHome); ok {
		t.Fatal("the first server still serves what the second forgot")
	}
}

// Many goroutines on few visitors and keys, each entry naming its visitor and key: a Get
// never returns one visitor's (or key's) entry for another.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	stores := []*Store{newTestStore(t, srv, generous), newTestStore(t, srv, generous)}
	visitors := []string{visitorA, visitorB, "c0ffee00c0ffee00c0ffee00c0ffee00", "deadbeefdeadbeefdeadbeefdeadbeef"}
	keys := []string{keyHome, keyOffer, "e4da3b7fbbce2345d7772b0674a318d5"}

	const goroutines, ops = 16, 150
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			st := stores[g%len(stores)]
			ctx := context.Background()
			for i := range ops {
				v, k := visitors[(g+i)%len(visitors)], keys[(g*7+i)%len(keys)]
				var err error
				switch i % 10 {
				case 0:
					err = st.Forget(ctx, v)
				case 1, 2, 3, 4:
					e := personalize.CachedDecision{FriendlyID: v + "/" + k, StatusCode: 200,
						Raw: fmt.Appendf(nil, `{"visitor":%q,"key":%q,"n":%d}`, v, k, i), Stored: time.Now()}
					err = st.Set(ctx, v, k, e, time.Minute)
				default:
					var e personalize.CachedDecision
					var ok bool
					e, ok, err = st.Get(ctx, v, k)
					if err == nil && ok && (e.FriendlyID != v+"/"+k || !strings.Contains(string(e.Raw), fmt.Sprintf(`{"visitor":%q,"key":%q,`, v, k))) {
						err = fmt.Errorf("Get(%s, %s) returned %s's entry: %s", v, k, e.FriendlyID, e.Raw)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOversizedEntriesAreNotStored(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, redistest.Start(t), Options{OpTimeout: generous.OpTimeout, MaxEntryBytes: 1024})
	clock := fakeClockOf(st)

	fits := decision("home_page_banner")
	fits.Raw = []byte(`"` + strings.Repeat("a", 1024) + `"`)
	fits.Raw = fits.Raw[:len(fits.Raw)-(encodedSize(fits, clock.Now().Add(time.Minute).UnixMilli())-1024)]
	mustSet(t, st, visitorA, keyHome, fits, time.Minute)
	if _, ok := mustGet(t, st, visitorA, keyHome); !ok {
		t.Fatal("an entry of exactly MaxEntryBytes was not stored")
	}

	big := decision("home_page_banner")
	big.Raw = append(fits.Raw, 'a')
	mustSet(t, st, visitorA, keyHome, big, time.Minute) // nil error: a cache may decline
	if _, ok := mustGet(t, st, visitorA, keyHome); ok {
		t.Fatal("served after an oversized Set: the older entry should be gone")
	}
	if got := st.Stats().Oversized; got != 1 {
		t.Fatalf("Stats().Oversized = %d, want 1", got)
	}

	// The default cap: 256 KiB.
	def := newTestStore(t, redistest.Start(t), generous)
	big.Raw = make([]byte, DefaultMaxEntryBytes)
	mustSet(t, def, visitorA, keyHome, big, time.Minute)
	if _, ok := mustGet(t, def, visitorA, keyHome); ok || def.Stats().Oversized != 1 {
		t.Fatalf("a 256 KiB body was stored (oversized: %d)", def.Stats().Oversized)
	}
}

// Values the store did not write (another program under the same prefix, a later version of
// this package, a truncated write) are misses, counted; never an error or a panic.
func TestMalformedValuesAreMisses(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st := newTestStore(t, srv, generous)
	rc := rawClient(t, srv)
	ctx := bounded(t)

	good := encodeEntry(nil, decision("home_page_banner"), time.Now().Add(time.Hour).UnixMilli())
	values := map[string][]byte{
		"empty":          {},
		"json":           []byte(`{"title":"Summer sale"}`),
		"future version": append([]byte{entryVersion + 1}, good[1:]...),
		"truncated":      good[:4],
		"bad status":     encodeEntry(nil, personalize.CachedDecision{StatusCode: 7, Raw: []byte("{}")}, time.Now().Add(time.Hour).UnixMilli()),
	}
	n := 0
	for name, v := range values {
		if err := rc.HSet(ctx, st.hashPrefix+visitorA, name, v).Err(); err != nil {
			t.Fatal(err)
		}
		if e, ok := mustGet(t, st, visitorA, name); ok {
			t.Errorf("%s: a hit: %+v", name, e)
		}
		n++
	}
	// The visitor's key holds a string, not a hash.
	if err := rc.Set(ctx, st.hashPrefix+visitorB, "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok := mustGet(t, st, visitorB, keyHome); ok {
		t.Error("a string key: a hit")
	}
	n++
	if got := st.Stats().Malformed; got != uint64(n) {
		t.Errorf("Stats().Malformed = %d, want %d", got, n)
	}
	// Set on it is an error (the key is not the store's to overwrite); Forget clears it.
	if err := st.Set(ctx, visitorB, keyHome, decision("home_page_banner"), time.Minute); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("Set on a string key: %v, want a WRONGTYPE error", err)
	}
	if st.noGT.Load() {
		t.Error("a WRONGTYPE error was taken for a server without PEXPIRE GT")
	}
	if err := st.Forget(ctx, visitorB); err != nil {
		t.Fatal(err)
	}
	mustSet(t, st, visitorB, keyHome, decision("home_page_banner"), time.Minute)
	if _, ok := mustGet(t, st, visitorB, keyHome); !ok {
		t.Error("miss after Forget cleared the foreign key")
	}
}

// Redis killed mid-run: every operation is an error, at once (long before the caller's own
// deadline), that names neither the visitor nor the key; once Redis is back on its address,
// the same store works again.
func TestRedisKilledThenRestarted(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st := newTestStore(t, srv, Options{OpTimeout: 200 * time.Millisecond})
	st2 := newTestStore(t, srv, Options{OpTimeout: 200 * time.Millisecond})
	mustSet(t, st, visitorA, keyHome, decision("home_page_banner"), time.Minute)
	if _, ok := mustGet(t, st2, visitorA, keyHome); !ok { // st2 has a connection open too
		t.Fatal("miss before the kill")
	}

	srv.Kill()
	for i := range 30 {
		for _, s := range []*Store{st, st2} {
			err := failsFast(t, s, i)
			if !strings.HasPrefix(err.Error(), "personalizeredis: ") || strings.Contains(err.Error(), visitorA) || strings.Contains(err.Error(), keyHome) {
				t.Fatalf("operation %d: error %q", i, err)
			}
		}
	}

	srv.Restart()
	for _, s := range []*Store{st, st2} {
		waitUntilWorks(t, s)
	}
	want := decision("ancillary_offers")
	mustSet(t, st, visitorB, keyOffer, want, time.Minute)
	if got, ok := mustGet(t, st2, visitorB, keyOffer); !ok || !sameDecision(got, want) {
		t.Fatalf("after the restart: Get = %+v, %v", got, ok)
	}
}

// failsFast runs operation i of a round of Get, Set and Forget on st, and fails t unless it
// is an error returned before the caller's deadline (bounded), which it returns.
func failsFast(t *testing.T, st *Store, i int) error {
	t.Helper()
	ctx := bounded(t)
	var err error
	switch i % 3 {
	case 0:
		_, _, err = st.Get(ctx, visitorA, keyHome)
	case 1:
		err = st.Set(ctx, visitorA, keyHome, decision("home_page_banner"), time.Minute)
	case 2:
		err = st.Forget(ctx, visitorA)
	}
	if err == nil {
		t.Fatalf("operation %d: no error", i)
	}
	if ctx.Err() != nil {
		t.Fatalf("operation %d: returned only at the caller's deadline: %v", i, err)
	}
	return err
}

// waitUntilWorks polls st until a Set succeeds: go-redis redials a restarted Redis (at most
// once a second once its dials have failed PoolSize times).
func waitUntilWorks(t *testing.T, st *Store) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	for {
		err := st.Set(bounded(t), visitorB, keyHome, decision("home_page_banner"), time.Minute)
		if err == nil {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("the store still fails 15s after Redis restarted: %v", err)
		case <-tick.C:
		}
	}
}

// The caller's context bounds every operation too: a context already done is its error.
func TestCallerContext(t *testing.T) {
	t.Parallel()
	st := newTestStore(t, redistest.Start(t), generous)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := st.Get(ctx, visitorA, keyHome)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context: %v", err)
	}
	if err := st.Set(ctx, visitorA, keyHome, decision("home_page_banner"), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with a canceled context: %v", err)
	}
	if err := st.Forget(ctx, visitorA); !errors.Is(err, context.Canceled) {
		t.Errorf("Forget with a canceled context: %v", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil): no error")
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	st, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.hashPrefix != DefaultPrefix+"v:" || st.opTimeout != DefaultOpTimeout || st.maxEntry != DefaultMaxEntryBytes {
		t.Errorf("zero Options: prefix %q, op timeout %v, max entry %d", st.hashPrefix, st.opTimeout, st.maxEntry)
	}
	if err := st.Close(); err != nil { // not the store's client: left open
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel() // no dial: a closed client says so first
	if err := c.Ping(done).Err(); errors.Is(err, redis.ErrClosed) {
		t.Error("Store.Close closed the caller's client")
	}
	_ = c.Close()
	if err := c.Ping(done).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("a closed client's Ping: %v, want redis.ErrClosed", err)
	}
}

func TestNewFromURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://localhost:6379", "redis://user:s3cret@[::1", "redis://user:s3cret@host/0?nonsense=1"} {
		_, err := NewFromURL(u, Options{})
		if err == nil {
			t.Errorf("%q: no error", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error quotes the password: %v", u, err)
		}
	}

	st, err := NewFromURL("redis://127.0.0.1:1/2?dial_timeout=2s&max_retries=1", Options{OpTimeout: 80 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := st.rdb.(*redis.Client).Options()
	if !o.ContextTimeoutEnabled || o.DB != 2 || o.DialTimeout != 2*time.Second || o.MaxRetries != 1 ||
		o.ReadTimeout != 80*time.Millisecond || o.WriteTimeout != 80*time.Millisecond || o.PoolTimeout != 80*time.Millisecond || o.DialerRetries != 1 {
		t.Errorf("options: %+v", o)
	}
	st2, err := NewFromURL("redis://127.0.0.1:1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if o := st2.rdb.(*redis.Client).Options(); o.MaxRetries != 0 || o.DialTimeout != DefaultDialTimeout || o.ReadTimeout != DefaultOpTimeout {
		t.Errorf("defaults: max retries %d (0: none), dial timeout %v, read timeout %v", o.MaxRetries, o.DialTimeout, o.ReadTimeout)
	}
}
