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
