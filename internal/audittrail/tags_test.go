package audittrail

import (
	"context"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The tags travel in the CreateTrail request; a service that drops them gets
// them again after the verification read shows them missing, and only then.
func TestEnsureTagsOnCreateAndRepairsDroppedTags(t *testing.T) {
	for name, drop := range map[string]bool{"kept on create": false, "dropped on create": true} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.dropCreateTags = drop
			spec := testSpec()
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			sent := map[string]string{}
			for _, tg := range f.created[0].TagsList {
				sent[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if !maps.Equal(sent, spec.Tags) {
				t.Errorf("CreateTrail tags %v, want %v (ownership tag included)", sent, spec.Tags)
			}
			if got, want := len(f.added), map[bool]int{false: 0, true: 1}[drop]; got != want {
				t.Errorf("AddTags called %d times, want %d", got, want)
			}
			if !maps.Equal(o.Tags, spec.Tags) {
				t.Errorf("observed tags %v, want %v", o.Tags, spec.Tags)
			}
		})
	}
}

// A tag added out of band is removed (the trail only ever gained tags
// before), a removed one put back, a changed one restored; the keys AWS
// reserves are left alone.
func TestEnsureSyncsTagsBothWays(t *testing.T) {
	f := newFake()
	spec := testSpec()
	spec.Tags["cost"] = "cc-1"
	tr := f.hardenedTrail(spec)
	delete(tr.tags, "cost")
	tr.tags["team"] = "someone-else"
	tr.tags["intruder"] = "x"
	tr.tags["aws:cloudformation:stack-name"] = "stack"
	o, err := observeAndEnsure(context.Background(), f, spec, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.removed) != 1 || len(f.removed[0].TagsList) != 1 || aws.ToString(f.removed[0].TagsList[0].Key) != "intruder" {
		t.Errorf("RemoveTags calls %+v, want one removing intruder", f.removed)
	}
	want := maps.Clone(spec.Tags)
	want["aws:cloudformation:stack-name"] = "stack"
	if !maps.Equal(o.Tags, want) {
		t.Errorf("tags %v, want %v", o.Tags, want)
	}
}
