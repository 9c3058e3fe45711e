package personalizeredis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-personalize/sdk/personalize"
)

const (
	// DefaultPrefix is Options.Prefix's default.
	DefaultPrefix = "personalize:"
	// DefaultOpTimeout is Options.OpTimeout's default.
	DefaultOpTimeout = 50 * time.Millisecond
	// DefaultMaxEntryBytes is Options.MaxEntryBytes's default: 256 KiB.
	DefaultMaxEntryBytes = 256 << 10
	// DefaultDialTimeout is the dial timeout NewFromURL gives its client.
	DefaultDialTimeout = 500 * time.Millisecond
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Prefix starts the name of every Redis key the store uses: a visitor's entries are the
	// hash "<Prefix>v:<visitor>". Give each site (or each environment sharing one Redis)
	// its own. Default DefaultPrefix.
	Prefix string
	// OpTimeout bounds each operation, on top of the deadline of the context it is given:
	// a Redis that is slow or unreachable is an error within it. Default DefaultOpTimeout.
	OpTimeout time.Duration
	// MaxEntryBytes is the largest entry stored, encoded (the body, the friendly ID and about 16
	// bytes more); Set drops a larger one (the key's older entry with it) and counts it in
	// Stats.Oversized. Default DefaultMaxEntryBytes.
	MaxEntryBytes int
}

// Stats counts what a Store chose not to do.
type Stats struct {
	// Oversized counts the entries Set did not store: larger than Options.MaxEntryBytes.
	Oversized uint64
	// Malformed counts the values Get found and could not decode (written by another
	// program, or by a later version of this package) and the visitor keys that were not
	// hashes, served as misses.
	Malformed uint64
}

// Store is a personalize.DecisionStore on Redis. It is safe for concurrent use.
type Store struct {
	rdb        redis.UniversalClient
	owned      bool // made by NewFromURL: Close closes it
	hashPrefix string
	opTimeout  time.Duration
	maxEntry   int
	now        func() time.Time // the clock of the entries' expiry; tests set it

	// noGT is set once the server refused PEXPIRE's NX and GT options (Redis before 7.0):
	// from then on Set sets the hash's expiry to each new entry's ttl.
	noGT atomic.Bool

	oversized, malformed atomic.Uint64
}

var _ personalize.DecisionStore = (*Store)(nil)

// New returns a store on client, which the caller keeps and closes (after the personalize
// client that uses the store is closed). client is any go-redis client: *redis.Client,
// *redis.ClusterClient, a failover client or a *redis.Ring.
//
// Operations are bounded by Options.OpTimeout through their context, and go-redis honours a
// context's deadline only when the client's options say so: give the client
// ContextTimeoutEnabled: true, or every read waits out its ReadTimeout (5 s by default)
// when Redis stalls. A client of its own for the store is best, set as NewFromURL sets its
// own: MaxRetries -1 (a miss is better than a retry), DialerRetries 1, DialTimeout about
// 500 ms, and ReadTimeout, WriteTimeout and PoolTimeout at OpTimeout.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("personalizeredis: New: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = DefaultOpTimeout
	}
	if opts.MaxEntryBytes <= 0 {
		opts.MaxEntryBytes = DefaultMaxEntryBytes
	}
	return &Store{
		rdb:        client,
		hashPrefix: opts.Prefix + "v:",
		opTimeout:  opts.OpTimeout,
		maxEntry:   opts.MaxEntryBytes,
		now:        time.Now,
	}, nil
}

// NewFromURL returns a store on a client of its own for rawURL, which redis.ParseURL reads
// ("redis://user:password@host:6379/0", "rediss://..." for TLS, "unix:///path/redis.sock").
// Close closes that client.
//
// The client is made for a cache, where a miss is better than a wait: it honours each
// operation's deadline (ContextTimeoutEnabled), never retries a command (MaxRetries -1),
// dials once per connection (DialerRetries 1) within DefaultDialTimeout, and its
// ReadTimeout, WriteTimeout and PoolTimeout are Options.OpTimeout. The URL's query
// parameters (dial_timeout, read_timeout, write_timeout, pool_timeout, max_retries,
// pool_size...) override those defaults. No Redis is needed to make it: connections are
// dialled as operations need them.
func NewFromURL(rawURL string, opts Options) (*Store, error) {
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		// url.Parse's error quotes the URL, with its password: keep only the reason.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("personalizeredis: NewFromURL: %w", err)
	}
	op := opts.OpTimeout
	if op <= 0 {
		op = DefaultOpTimeout
	}
	ro.ContextTimeoutEnabled = true
	ro.DialerRetries = 1
	if ro.MaxRetries == 0 {
		ro.MaxRetries = -1
	}
	if ro.DialTimeout == 0 {
		ro.DialTimeout = DefaultDialTimeout
	}
	for _, d := range []*time.Duration{&ro.ReadTimeout, &ro.WriteTimeout, &ro.PoolTimeout} {
		if *d == 0 {
			*d = op
		}
	}
	s, err := New(redis.NewClient(ro), opts)
	if err != nil {
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close closes the client NewFromURL made; it does nothing for a store made by New, whose
// client is the caller's. Close the personalize client that uses the store first.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("personalizeredis: close: %w", err)
	}
	return nil
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{Oversized: s.oversized.Load(), Malformed: s.malformed.Load()}
}

// Get returns the entry stored under key for visitor: one HGET. An entry past its ttl, or a
// value this package cannot decode, is a miss.
func (s *Store) Get(ctx context.Context, visitor, key string) (personalize.CachedDecision, bool, error) {
	opCtx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	b, err := s.rdb.HGet(opCtx, s.hashPrefix+visitor, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return personalize.CachedDecision{}, false, nil
	case redis.HasErrorPrefix(err, "WRONGTYPE"): // the key is not a hash: not ours
		s.malformed.Add(1)
		return personalize.CachedDecision{}, false, nil
	case err != nil:
		return personalize.CachedDecision{}, false, fail("get", err)
	}
	e, ok := decodeEntry(b)
	if !ok {
		s.malformed.Add(1)
		return personalize.CachedDecision{}, false, nil
	}
	// An expired entry is left in place: the next Set of its key replaces it, and the hash
	// expires with its longest-lived entry. Deleting it here could delete a newer entry
	// another server has just stored.
	if s.now().UnixMilli() >= e.expires {
		return personalize.CachedDecision{}, false, nil
	}
	return e.decision, true, nil
}

// Set stores entry under key for visitor for ttl, in one round trip: a transaction of HSET
// and of PEXPIRE NX and GT, so that the visitor's hash lives as long as its longest-lived
// entry (always the last entry's ttl on a Redis before 7.0). An entry larger than
// Options.MaxEntryBytes is not stored, and the key's older entry is dropped: Get then misses.
// A ttl of 0 or less stores nothing; one under a millisecond is a millisecond.
func (s *Store) Set(ctx context.Context, visitor, key string, entry personalize.CachedDecision, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	ms := max(ttl.Milliseconds(), 1)
	expires := s.now().UnixMilli() + ms
	hash := s.hashPrefix + visitor
	opCtx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()

	size := encodedSize(entry, expires)
	if size > s.maxEntry {
		s.oversized.Add(1)
		if err := s.rdb.HDel(opCtx, hash, key).Err(); err != nil {
			return fail("set", err)
		}
		return nil
	}
	value := encodeEntry(make([]byte, 0, size), entry, expires)
	pttl := strconv.FormatInt(ms, 10)

	if !s.noGT.Load() {
		_, err := s.rdb.TxPipelined(opCtx, func(p redis.Pipeliner) error {
			p.HSet(opCtx, hash, key, value)
			p.Do(opCtx, "PEXPIRE", hash, pttl, "NX") // a new hash has no expiry: GT would keep it so
			p.Do(opCtx, "PEXPIRE", hash, pttl, "GT")
			return nil
		})
		if err == nil {
			return nil
		}
		if !refusedNXGT(err) {
			return fail("set", err)
		}
		// A server before 7.0: it refuses NX and GT, and discards the whole transaction.
		// Try without them; if that works, keep to it.
	}
	_, err := s.rdb.TxPipelined(opCtx, func(p redis.Pipeliner) error {
		p.HSet(opCtx, hash, key, value)
		p.PExpire(opCtx, hash, time.Duration(ms)*time.Millisecond)
		return nil
	})
	if err != nil {
		return fail("set", err)
	}
	s.noGT.Store(true)
	return nil
}

// Forget drops every entry of visitor: one DEL of its hash.
func (s *Store) Forget(ctx context.Context, visitor string) error {
	opCtx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	if err := s.rdb.Del(opCtx, s.hashPrefix+visitor).Err(); err != nil {
		return fail("forget", err)
	}
	return nil
}

// refusedNXGT reports whether err is a server's refusal of PEXPIRE's NX and GT options (or
// the transaction that refusal discarded): Redis 6.2 checks PEXPIRE's arity as the command
// is queued, later versions would call an unknown option a syntax error.
func refusedNXGT(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	msg := strings.ToLower(rerr.Error())
	return strings.HasPrefix(msg, "execabort") ||
		strings.Contains(msg, "wrong number of arguments") ||
		strings.Contains(msg, "syntax error") ||
		strings.Contains(msg, "unsupported option")
}

// fail wraps err, from go-redis, for op, without quoting the visitor or the key. A timeout
// of the connection's own (an i/o timeout at the context's deadline or the client's
// ReadTimeout) matches context.DeadlineExceeded too, as a context's own timeout does.
func fail(op string, err error) error {
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("personalizeredis: %s: no answer in time (%w): %w", op, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("personalizeredis: %s: %w", op, err)
}
