package personalize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Result is a flow's answer: the JSON the experience's API response template composed, kept
// raw. A nil *Result is valid and holds nothing.
type Result struct {
	// FriendlyID is the flow that answered.
	FriendlyID string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Duration is how long the call took, retries included.
	Duration time.Duration
	// Raw is the body as received (valid JSON).
	Raw json.RawMessage
	// Cache says whether the answer came from the decision cache (see Caching): Served
	// reports whether it did, and CacheAge is then how old it is (0 for a fresh answer).
	Cache    CacheUse
	CacheAge time.Duration

	// tree is what the client found out checking Raw (an unchecked answer when it did not):
	// Empty and Offers read it instead of decoding Raw again.
	tree       answer
	offersOnce sync.Once
	offers     []Offer
}

// Decode unmarshals the answer into v.
func (r *Result) Decode(v any) error {
	if r == nil || len(r.Raw) == 0 {
		return fmt.Errorf("%w: empty result", ErrMalformedResponse)
	}
	if err := json.Unmarshal(r.Raw, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedResponse, err)
	}
	return nil
}

// Empty reports whether the answer holds nothing to show: no result, null, an empty object, an
// empty array or an empty string (whatever white space they are written with).
func (r *Result) Empty() bool {
	if r == nil {
		return true
	}
	a := r.tree
	if !a.checked {
		var err error
		if a, err = checkAnswer(r.Raw); err != nil {
			return len(bytes.TrimSpace(r.Raw)) == 0
		}
	}
	return a.empty
}

// Offers returns the offers in the answer; safe for concurrent use. It understands the
// common shapes: a top-level array of offer objects (as in Sitecore's documentation), an
// object holding such an array (under any key, e.g. "offers" or "decisions"), and a single
// offer object. Anything else (scalars, arrays of scalars) has no offers. At most the first
// 100 offers are kept.
func (r *Result) Offers() []Offer {
	if r == nil {
		return nil
	}
	r.offersOnce.Do(func() {
		a := r.tree
		if !a.checked {
			a, _ = checkAnswer(r.Raw)
		}
		r.offers = offersIn(a)
	})
	return r.offers
}
