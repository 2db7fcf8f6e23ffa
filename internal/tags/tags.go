// Package tags holds the tag arithmetic every component shares: a stable key
// order for API calls, and the difference between the tags an object has and
// the tags it should have.
package tags

import (
	"errors"
	"maps"
	"sort"
	"strings"
)

// SortedKeys returns the keys of m in order, so API calls are deterministic.
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// reservedPrefix starts the tag keys AWS reserves for itself (CloudFormation,
// Service Catalog, …): no caller can set, change or remove them, in any case.
const reservedPrefix = "aws:"

// Reserved reports whether AWS reserves the tag key (it starts with "aws:",
// in any case).
func Reserved(key string) bool {
	return len(key) >= len(reservedPrefix) && strings.EqualFold(key[:len(reservedPrefix)], reservedPrefix)
}

// WithoutReserved returns m without the keys AWS reserves (a copy; never nil).
func WithoutReserved(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if !Reserved(k) {
			out[k] = v
		}
	}
	return out
}

// OnlyReserved returns the tags of m that AWS reserves (a copy; never nil):
// what a call replacing a whole tag set (S3) has to send back unchanged.
func OnlyReserved(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if Reserved(k) {
			out[k] = v
		}
	}
	return out
}

// Diff returns the keys to remove (sorted) and the tags to add or change to
// turn have into want. Keys AWS reserves are never removed.
func Diff(have, want map[string]string) (remove []string, set map[string]string) {
	for k := range have {
		if _, ok := want[k]; !ok && !Reserved(k) {
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

// Differ reports whether have is not want, leaving aside the keys AWS
// reserves: whether a sync has anything to do.
func Differ(have, want map[string]string) bool {
	return !maps.Equal(WithoutReserved(have), WithoutReserved(want))
}

// Apply turns have into want with a service's own calls: untag with the keys to
// remove, then tag with the tags to add or change; a call with nothing to do
// is skipped. The two run one after the other, not concurrently: AWS answers
// concurrent changes to one resource with a conflict (IAM
// ConcurrentModification, CloudTrail ConflictException, DynamoDB
// ResourceInUseException). That costs a round trip only when both are
// needed; the common case (tags added or changed) makes one call. A failed
// untag does not stop the tag call; both failures are returned.
func Apply(have, want map[string]string, untag func([]string) error, tag func(map[string]string) error) error {
	remove, set := Diff(have, want)
	var untagErr, tagErr error
	if len(remove) > 0 {
		untagErr = untag(remove)
	}
	// Tagging goes on after a failed untag: a policy may deny removing tags
	// and still allow putting back a missing one (the ownership tag).
	if len(set) > 0 {
		tagErr = tag(set)
	}
	return errors.Join(untagErr, tagErr)
}
