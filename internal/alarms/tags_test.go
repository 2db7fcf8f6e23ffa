package alarms

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

func roleTags(r *fakeRole) map[string]string {
	out := map[string]string{}
	for _, t := range r.role.Tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// Every create request carries the tags (ownership tag included): the log
// group, the role and both alarms. Where the service drops them, the
// verification read shows it and each part is tagged once; otherwise no tag
// call is made.
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
			if g := f.groupsMade[0]; !maps.Equal(g.Tags, spec.Tags) {
				t.Errorf("CreateLogGroup tags %v, want %v", g.Tags, spec.Tags)
			}
			sent := map[string]string{}
			for _, tg := range f.rolesMade[0].Tags {
				sent[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if !maps.Equal(sent, spec.Tags) {
				t.Errorf("CreateRole tags %v, want %v", sent, spec.Tags)
			}
			if len(f.alarmsPut) != 2 {
				t.Fatalf("PutMetricAlarm called %d times, want twice", len(f.alarmsPut))
			}
			for _, in := range f.alarmsPut {
				sent := map[string]string{}
				for _, tg := range in.Tags {
					sent[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
				if !maps.Equal(sent, spec.Tags) || sent[naming.OwnerTagKey] != "acme" {
					t.Errorf("PutMetricAlarm %s tags %v, want %v", aws.ToString(in.AlarmName), sent, spec.Tags)
				}
			}
			if want := map[bool]int{false: 0, true: 4}[drop]; len(f.tagged) != want {
				t.Errorf("tag calls %v, want %d", f.tagged, want)
			}
			sets := o.TagSets()
			if len(sets) != 4 {
				t.Fatalf("TagSets %v, want the group's, the role's and two alarms'", sets)
			}
			for _, set := range sets {
				if !maps.Equal(set, spec.Tags) {
					t.Errorf("observed tags %v, want %v", set, spec.Tags)
				}
			}
		})
	}
}

// On each part (log group, role, each alarm) a tag added out of band is
// removed, a removed one put back and a changed one restored, in one round
// of concurrent calls; the keys AWS reserves are left alone.
func TestEnsureSyncsTagsBothWays(t *testing.T) {
	spec := testSpec()
	spec.Tags["cost"] = "cc-1"
	drift := func(m map[string]string) map[string]string {
		m = maps.Clone(m)
		delete(m, "cost")
		m["team"] = "someone-else"
		m["intruder"] = "x"
		m["aws:cloudformation:stack-name"] = "stack"
		return m
	}
	want := maps.Clone(spec.Tags)
	want["aws:cloudformation:stack-name"] = "stack"
	for _, part := range []string{"log group", "role", "state deletion alarm", "access denied alarm"} {
		t.Run(part, func(t *testing.T) {
			f := newFake()
			if _, err := observeAndEnsure(context.Background(), f, spec, false); err != nil {
				t.Fatal(err)
			}
			switch part {
			case "log group":
				f.tags[groupARN(spec.LogGroup())] = drift(spec.Tags)
			case "role":
				r := f.roles[spec.RoleName()]
				r.role.Tags = nil
				d := drift(spec.Tags)
				for _, k := range slices.Sorted(maps.Keys(d)) {
					r.role.Tags = append(r.role.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(d[k])})
				}
			case "state deletion alarm":
				f.tags[alarmARN(spec.alarms()[0].name)] = drift(spec.Tags)
			case "access denied alarm":
				f.tags[alarmARN(spec.alarms()[1].name)] = drift(spec.Tags)
			}
			f.calls, f.tagged, f.untagged = nil, nil, nil
			o, err := observeAndEnsure(context.Background(), f, spec, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.untagged) != 1 || len(f.tagged) != 1 {
				t.Errorf("untag %v, tag %v; want one call of each on the %s", f.untagged, f.tagged, part)
			}
			if w := f.writes(); len(w) != 2 {
				t.Errorf("writes %v, want only the two tag calls", w)
			}
			got := map[string]map[string]string{
				"log group":            f.tags[groupARN(spec.LogGroup())],
				"role":                 roleTags(f.roles[spec.RoleName()]),
				"state deletion alarm": f.tags[alarmARN(spec.alarms()[0].name)],
				"access denied alarm":  f.tags[alarmARN(spec.alarms()[1].name)],
			}[part]
			if !maps.Equal(got, want) {
				t.Errorf("%s tags %v, want %v", part, got, want)
			}
			if tagsDiffer(spec, o) {
				t.Errorf("observed tags still differ: %v", o.TagSets())
			}
		})
	}
}

// Parts that do not exist report no tags; the tags of an alarm that is gone
// are not read as the alarm's.
func TestTagSetsOnlyOfExistingParts(t *testing.T) {
	f := newFake()
	spec := testSpec()
	if _, err := observeAndEnsure(context.Background(), f, spec, false); err != nil {
		t.Fatal(err)
	}
	delete(f.alarms, spec.alarms()[0].name)
	delete(f.roles, spec.RoleName())
	o, err := Find(context.Background(), f.clients(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if sets := o.TagSets(); len(sets) != 2 {
		t.Errorf("TagSets %v, want the log group's and one alarm's", sets)
	}
	if o, err := Find(context.Background(), newFake().clients(), spec); err != nil || len(o.TagSets()) != 0 {
		t.Errorf("nothing exists: TagSets %v (%v), want none", o.TagSets(), err)
	}
}
