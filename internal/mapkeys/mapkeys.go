// Package mapkeys lists a map's keys in order. slices.Sorted(maps.Keys(m)) does the same, but
// it grows its slice from nothing, a few allocations per call; on a flow's answer, on every
// page, that was a dozen allocations a page (the example site's home page benchmark).
package mapkeys

import (
	"cmp"
	"slices"
)

// Sorted returns the keys of m in ascending order.
func Sorted[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SortedFunc returns the keys of m ordered by cmp.
func SortedFunc[M ~map[K]V, K comparable, V any](m M, cmp func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp)
	return keys
}
