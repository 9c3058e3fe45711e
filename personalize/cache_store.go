package personalize

import (
	"context"
	"time"
)

// DecisionStore keeps the decision cache's entries (see Caching): the in-memory MemoryStore,
// or a shared one such as package personalizeredis's, so that a visitor's decision follows
// them across the servers of a site. Implementations must be safe for concurrent use and
// must honour ctx's deadline: the client gives every operation a short one
// (Caching.StoreTimeout), and treats an error, or a deadline passed, as a miss.
//
// visitor and key are opaque: lower-case hex digests the client makes. visitor stands for
// one visitor of one client key (a digest of their identity, never the identity itself);
// key for everything the decision depends on (flow, identity, channel, language, currency,
// point of sale, parameters, UTM). A visitor has few keys at a time: about one per flow and
// campaign.
type DecisionStore interface {
	// Get returns the entry stored under key for visitor. A miss, also an entry whose ttl
	// has passed, is ok false with a nil error; an error says the store failed.
	Get(ctx context.Context, visitor, key string) (entry CachedDecision, ok bool, err error)
	// Set stores entry under key for visitor, replacing any, for ttl (> 0): after ttl it is
	// never returned again.
	Set(ctx context.Context, visitor, key string, entry CachedDecision, ttl time.Duration) error
	// Forget drops every entry of visitor (after an IDENTITY event: who they are changed).
	Forget(ctx context.Context, visitor string) error
}

// CachedDecision is one decision in a DecisionStore: a flow's answer as the API gave it.
type CachedDecision struct {
	// FriendlyID is the flow that answered.
	FriendlyID string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Raw is the answer's body (valid JSON). It may hold what the experience put in it about
	// the guest (a name in a greeting): store it as the site stores its sessions.
	Raw []byte
	// Stored is when the answer was received.
	Stored time.Time

	// tree is what checking Raw found out, kept by stores in this process (MemoryStore) so
	// that a hit checks nothing again; unchecked from any other store.
	tree answer
}
