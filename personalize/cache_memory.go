package personalize

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// MemoryStoreOptions bound a MemoryStore. Zero values take the defaults.
type MemoryStoreOptions struct {
	// MaxEntries is the most entries kept; the least recently used go first. Default
	// DefaultMemoryStoreEntries.
	MaxEntries int
	// MaxBytes is the most bytes of answers (and keys) kept; the least recently used go
	// first. An answer larger than an eighth of it is not kept. Default
	// DefaultMemoryStoreBytes.
	MaxBytes int64
}

const (
	// DefaultMemoryStoreEntries is MemoryStoreOptions.MaxEntries's default.
	DefaultMemoryStoreEntries = 100_000
	// DefaultMemoryStoreBytes is MemoryStoreOptions.MaxBytes's default: 64 MiB.
	DefaultMemoryStoreBytes = 64 << 20
	// memEntryOverhead is what an entry costs beyond its answer and keys, about.
	memEntryOverhead = 160
)

// MemoryStore is a DecisionStore in this process's memory, bounded by entries and by bytes,
// least recently used first out. It is the decision cache's default. Safe for concurrent use.
type MemoryStore struct {
	maxEntries int
	maxBytes   int64
	now        func() time.Time

	mu       sync.Mutex
	lru      list.List // of *memEntry, least recently used first
	visitors map[string]map[string]*list.Element
	bytes    int64
}

type memEntry struct {
	visitor, key string
	entry        CachedDecision
	expires      time.Time
	size         int64
}

// NewMemoryStore makes an empty MemoryStore.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	s := &MemoryStore{maxEntries: opts.MaxEntries, maxBytes: opts.MaxBytes, now: time.Now,
		visitors: make(map[string]map[string]*list.Element)}
	if s.maxEntries <= 0 {
		s.maxEntries = DefaultMemoryStoreEntries
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMemoryStoreBytes
	}
	return s
}

// Get returns the entry of visitor under key, if it has not expired.
func (s *MemoryStore) Get(_ context.Context, visitor, key string) (CachedDecision, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.visitors[visitor][key]
	if el == nil {
		return CachedDecision{}, false, nil
	}
	e := el.Value.(*memEntry)
	if !s.now().Before(e.expires) {
		s.remove(el)
		return CachedDecision{}, false, nil
	}
	s.lru.MoveToBack(el)
	return e.entry, true, nil
}

// Set keeps entry for ttl, evicting the least recently used entries beyond the bounds.
func (s *MemoryStore) Set(_ context.Context, visitor, key string, entry CachedDecision, ttl time.Duration) error {
	// An answer the client checked is kept twice: as received and as the checked copy its
	// offers are read from.
	size := int64(len(entry.Raw)+len(entry.tree.body)+len(visitor)+len(key)+len(entry.FriendlyID)) + memEntryOverhead
	if ttl <= 0 || size > s.maxBytes/8 {
		return nil // not worth keeping, or would push out an eighth of the store
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el := s.visitors[visitor][key]; el != nil {
		s.remove(el)
	}
	byKey := s.visitors[visitor]
	if byKey == nil {
		byKey = make(map[string]*list.Element, 2)
		s.visitors[visitor] = byKey
	}
	byKey[key] = s.lru.PushBack(&memEntry{visitor: visitor, key: key, entry: entry, expires: s.now().Add(ttl), size: size})
	s.bytes += size
	for s.lru.Len() > s.maxEntries || s.bytes > s.maxBytes {
		s.remove(s.lru.Front())
	}
	return nil
}

// Forget drops every entry of visitor.
func (s *MemoryStore) Forget(_ context.Context, visitor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, el := range s.visitors[visitor] {
		s.remove(el)
	}
	return nil
}

// Len returns how many entries the store holds, and their size in bytes (about).
func (s *MemoryStore) Len() (entries int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len(), s.bytes
}

// remove drops one entry. The caller holds s.mu.
func (s *MemoryStore) remove(el *list.Element) {
	e := s.lru.Remove(el).(*memEntry)
	s.bytes -= e.size
	byKey := s.visitors[e.visitor]
	delete(byKey, e.key)
	if len(byKey) == 0 {
		delete(s.visitors, e.visitor)
	}
}
