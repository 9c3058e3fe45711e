// Package personalizeredis is a decision store on Redis for the go-personalize client's
// decision cache (personalize.DecisionStore): with it, a visitor's cached decisions follow
// them across the servers of a site, and survive a deploy. It is a module of its own
// (github.com/go-personalize/sdk/personalizeredis), so that a site without Redis does not
// depend on go-redis.
//
//	store, err := personalizeredis.NewFromURL("redis://redis.internal:6379/0", personalizeredis.Options{})
//	if err != nil { ... }
//	defer store.Close() // after client.Close
//	client, err := personalize.New(clientKey, personalize.WithRegion(personalize.RegionEU),
//		personalize.WithCaching(personalize.Caching{
//			Store: store,
//			Flows: map[string]personalize.CachePolicy{"home_page_banner": personalize.StaleOnFailure(10 * time.Minute)},
//		}))
//
// New takes a go-redis client the application made (a cluster, a failover client, one shared
// with the rest of the site); NewFromURL makes one of its own, set for a cache.
//
// # Failures
//
// The store is a cache: the client treats every error as a miss, and a page never waits for
// Redis longer than its store timeout (personalize.Caching.StoreTimeout). The store bounds
// each operation itself too (Options.OpTimeout, 50 ms by default), so a Redis that is down,
// unreachable or stalled is an error at once or within that bound, never a hang (and, with
// NewFromURL's client, never a retry); connections are dialled again when Redis comes back. A
// client given to New must honour the contexts' deadlines for that (ContextTimeoutEnabled:
// see New).
// A timeout matches context.DeadlineExceeded; a Redis error matches go-redis's. Errors name
// the operation, never the visitor or the key.
//
// # In Redis
//
// Each visitor's entries are one hash, "<Prefix>v:<visitor>", a field per key; visitor and key
// are the digests the client makes, never an identity. Get is one HGET; Set one transaction
// (MULTI, HSET, PEXPIRE NX, PEXPIRE GT, EXEC) in one round trip, which keeps the hash for as
// long as its longest-lived entry; Forget (after an IDENTITY event) one DEL of the hash.
// That is Redis 7.0 or later (or Valkey). A Redis before 7.0 refuses PEXPIRE's NX and GT: the
// store finds out at its first Set and from then on sets the hash's expiry to each new
// entry's ttl, so an entry stored before with a longer ttl may end early, as a miss.
//
// Each entry carries its own expiry, checked by the server that reads it against its own
// clock (so keep the servers' clocks in step, as NTP does): an entry is never served past its
// ttl, even while the hash lives on for a longer-lived one. An expired entry stays in the
// hash until the next Set of its key, or the hash's expiry.
//
// A value is a version byte, then Stored and the expiry in unix milliseconds, the HTTP status
// and the friendly ID's length (varints), the friendly ID and the answer's body as it came.
// Entries larger than Options.MaxEntryBytes (256 KiB by default) are not stored. A value that
// is not one of these (another program's, a later version's) is a miss, counted in Stats.
//
// The body may hold what the experience put in it about the guest (a name in a greeting):
// give this Redis the protection the site's sessions have (a password, TLS with rediss://, a
// network of its own).
package personalizeredis
