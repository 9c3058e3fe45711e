package mapkeys

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSorted(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c"}, Sorted(map[string]int{"c": 3, "a": 1, "b": 2}))
	assert.Empty(t, Sorted(map[string]int(nil)))
	byLower := func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }
	assert.Equal(t, []string{"a", "B", "c"}, SortedFunc(map[string]bool{"c": true, "B": true, "a": true}, byLower))
}

func TestSortedAllocatesOnce(t *testing.T) {
	m := map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9}
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = Sorted(m) }))
}
