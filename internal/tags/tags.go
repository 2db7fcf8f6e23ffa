// Package tags holds the tag arithmetic every component shares: a stable key
// order for API calls, and the difference between the tags an object has and
// the tags it should have.
package tags

import "sort"

// SortedKeys returns the keys of m in order, so API calls are deterministic.
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Diff returns the keys to remove (sorted) and the tags to add or change to
// turn have into want.
func Diff(have, want map[string]string) (remove []string, set map[string]string) {
	for k := range have {
		if _, ok := want[k]; !ok {
			remove = append(remove, k)
		}
	}
	sort.Strings(remove)
	set = map[string]string{}
	for k, v := range want {
		if cur, ok := have[k]; !ok || cur != v {
			set[k] = v
		}
	}
	return remove, set
}
