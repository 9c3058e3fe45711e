package personalizeotel

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
)

// The cache of attribute sets keeps at most maxSets, and still answers beyond them.
func TestSetCacheIsBounded(t *testing.T) {
	var c setCache
	for i := range 3 * maxSets {
		id := fmt.Sprint("flow_", i)
		s := c.get(setKey{id, "decision"}, func() (attribute.Set, string) {
			return attribute.NewSet(AttrFriendlyID.String(id)), "personalize.flow " + id
		})
		v, _ := s.set.Value(AttrFriendlyID)
		assert.Equal(t, id, v.AsString())
		assert.Equal(t, "personalize.flow "+id, s.name)
	}
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, maxSets, n)
	assert.Equal(t, int64(maxSets), c.n.Load())
}
