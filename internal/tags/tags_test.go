package tags

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	remove, set := Diff(map[string]string{"a": "1", "b": "2", "z": "0"}, map[string]string{"a": "1", "b": "3", "c": "4"})
	if !reflect.DeepEqual(remove, []string{"z"}) || !reflect.DeepEqual(set, map[string]string{"b": "3", "c": "4"}) {
		t.Errorf("Diff = %v, %v", remove, set)
	}
	remove, set = Diff(map[string]string{"a": "1"}, map[string]string{"a": "1"})
	if len(remove) != 0 || len(set) != 0 {
		t.Errorf("equal tags: Diff = %v, %v", remove, set)
	}
	if got := SortedKeys(map[string]string{"b": "", "a": "", "c": ""}); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("SortedKeys = %v", got)
	}
}

func TestApplySkipsEmptyCalls(t *testing.T) {
	var untagged []string
	var tagged map[string]string
	untag := func(k []string) error { untagged = k; return nil }
	tag := func(m map[string]string) error { tagged = m; return nil }
	if err := Apply(map[string]string{"a": "1"}, map[string]string{"a": "1"}, untag, tag); err != nil || untagged != nil || tagged != nil {
		t.Fatalf("equal tags made calls: %v %v %v", err, untagged, tagged)
	}
	if err := Apply(map[string]string{"old": "x"}, map[string]string{"new": "y"}, untag, tag); err != nil ||
		!reflect.DeepEqual(untagged, []string{"old"}) || !reflect.DeepEqual(tagged, map[string]string{"new": "y"}) {
		t.Fatalf("Apply: %v %v %v", err, untagged, tagged)
	}
}

// Each call is made only when it has something to do, even when the other
// has: no untag with an empty key list, no tag with an empty set.
func TestApplyCallsOnlyWhatIsNeeded(t *testing.T) {
	for name, tc := range map[string]struct {
		have, want   map[string]string
		untags, tags int
	}{
		"equal":      {map[string]string{"a": "1"}, map[string]string{"a": "1"}, 0, 0},
		"only added": {map[string]string{"a": "1"}, map[string]string{"a": "1", "b": "2"}, 0, 1},
		"only gone":  {map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "1"}, 1, 0},
		"both":       {map[string]string{"a": "1"}, map[string]string{"b": "2"}, 1, 1},
		"from none":  {nil, map[string]string{"b": "2"}, 0, 1},
	} {
		untags, tags := 0, 0
		err := Apply(tc.have, tc.want, func([]string) error { untags++; return nil }, func(map[string]string) error { tags++; return nil })
		if err != nil || untags != tc.untags || tags != tc.tags {
			t.Errorf("%s: %d untag and %d tag calls (%v), want %d and %d", name, untags, tags, err, tc.untags, tc.tags)
		}
	}
}

// Keys AWS reserves ("aws:…", in any case) are never removed nor counted as
// a difference: no caller can remove them.
func TestReservedKeysAreLeftAlone(t *testing.T) {
	have := map[string]string{"aws:cloudformation:stack-name": "s", "AWS:Other": "o", "team": "x", "extra": "y"}
	want := map[string]string{"team": "platform"}
	remove, set := Diff(have, want)
	if !reflect.DeepEqual(remove, []string{"extra"}) || !reflect.DeepEqual(set, map[string]string{"team": "platform"}) {
		t.Errorf("Diff = %v, %v", remove, set)
	}
	if Differ(map[string]string{"aws:x": "1", "team": "platform"}, want) {
		t.Error("a reserved tag counts as a difference")
	}
	if !Differ(have, want) {
		t.Error("an added and a changed tag do not count as a difference")
	}
	if got := WithoutReserved(have); !reflect.DeepEqual(got, map[string]string{"team": "x", "extra": "y"}) {
		t.Errorf("WithoutReserved = %v", got)
	}
	if got := OnlyReserved(have); !reflect.DeepEqual(got, map[string]string{"aws:cloudformation:stack-name": "s", "AWS:Other": "o"}) {
		t.Errorf("OnlyReserved = %v", got)
	}
	for _, k := range []string{"aws", "aw:x", "awsx:y", "team"} {
		if Reserved(k) {
			t.Errorf("Reserved(%q)", k)
		}
	}
}

// The untag comes first and the tag only after it returned: never both at
// once on one resource.
func TestApplyUntagsBeforeTagging(t *testing.T) {
	var (
		mu      sync.Mutex
		order   []string
		running int
		overlap bool
	)
	enter := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		running++
		overlap = overlap || running > 1
		order = append(order, name)
	}
	leave := func() {
		mu.Lock()
		defer mu.Unlock()
		running--
	}
	err := Apply(map[string]string{"old": "x"}, map[string]string{"new": "y"},
		func([]string) error { enter("untag"); time.Sleep(10 * time.Millisecond); leave(); return nil },
		func(map[string]string) error { enter("tag"); leave(); return nil })
	if err != nil || !reflect.DeepEqual(order, []string{"untag", "tag"}) || overlap {
		t.Errorf("Apply = %v, calls %v (overlapping: %v); want untag, then tag, one at a time", err, order, overlap)
	}
}

// A failed untag is reported, and the tag is not tried after it.
func TestApplyTagsAfterAFailedUntag(t *testing.T) {
	// A policy may deny removing tags and allow putting back a missing one
	// (the ownership tag): the tag call is made, and both failures reported.
	tagged := false
	err := Apply(map[string]string{"old": "x"}, map[string]string{"new": "y"},
		func([]string) error { return errUntag }, func(map[string]string) error { tagged = true; return nil })
	if !errors.Is(err, errUntag) || !tagged {
		t.Errorf("Apply = %v, tag called: %v; want the untag's failure and the tag made", err, tagged)
	}
	err = Apply(map[string]string{"old": "x"}, map[string]string{"new": "y"},
		func([]string) error { return errUntag }, func(map[string]string) error { return errTag })
	if !errors.Is(err, errUntag) || !errors.Is(err, errTag) {
		t.Errorf("Apply = %v, want both failures", err)
	}
}

var (
	errUntag = errors.New("untag failed")
	errTag   = errors.New("tag failed")
)
