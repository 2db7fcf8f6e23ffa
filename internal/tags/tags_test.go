package tags

import (
	"reflect"
	"testing"
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
