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

// Apply turns have into want with a service's own calls: untag with the keys to
// remove, tag with the tags to add or change; a call with nothing to do is skipped.
func Apply(have, want map[string]string, untag func([]string) error, tag func(map[string]string) error) error {
	remove, set := Diff(have, want)
	if len(remove) > 0 {
		if err := untag(remove); err != nil {
			return err
		}
	}
	if len(set) > 0 {
		return tag(set)
	}
	return nil
}
