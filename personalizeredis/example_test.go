package personalizeredis_test

import (
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-personalize/sdk/personalizeredis"
)

// A store of its own on the site's Redis, from a URL: it is made without a round trip, so a
// Redis that is down at start-up only makes misses until it is back.
func Example() {
	store, err := personalizeredis.NewFromURL(os.Getenv("REDIS_URL"), personalizeredis.Options{
		Prefix: "goairways:", // one per site sharing the Redis
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // after the personalize client that uses it

	// Then: personalize.New(clientKey, ..., personalize.WithCaching(personalize.Caching{
	//	Store: store,
	//	Flows: map[string]personalize.CachePolicy{"home_page_banner": personalize.StaleOnFailure(10 * time.Minute)},
	// }))
}

// A client the application makes itself (here a cluster's): it must honour the contexts'
// deadlines, and had best not retry.
func ExampleNew() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"redis-1:6379", "redis-2:6379", "redis-3:6379"},
		ContextTimeoutEnabled: true, // each operation ends at its deadline (Options.OpTimeout)
		MaxRetries:            -1,   // a miss is better than a retry
		DialTimeout:           500 * time.Millisecond,
		ReadTimeout:           100 * time.Millisecond,
		WriteTimeout:          100 * time.Millisecond,
		PoolTimeout:           100 * time.Millisecond,
	})
	defer client.Close()

	store, err := personalizeredis.New(client, personalizeredis.Options{OpTimeout: 100 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	_ = store // personalize.Caching{Store: store, ...}
}
