package accesspolicy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// findReads are the calls of one Find, sorted.
var findReads = []string{"GetPolicy", "GetPolicyVersion", "ListPolicyTags"}

func isFindRead(op string) bool { return slices.Contains(findReads, op) }

// Ensure of a compliant policy writes nothing and reads it once: the final Find.
func TestEnsureCompliantReadsOnce(t *testing.T) {
	f := newFake()
	spec := testSpec()
	f.add(spec.Name, spec.Tags, wanted)
	have, err := Find(context.Background(), f, spec.ARN)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	if _, err := Ensure(context.Background(), f, spec, have, false); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(f.calls)); !slices.Equal(got, findReads) {
		t.Errorf("calls %v, want one Find (%v) and no write", got, findReads)
	}
}

// Without anything observed, Ensure creates the policy with its document and
// tags, and reads it once afterwards.
func TestEnsureNothingObservedCreates(t *testing.T) {
	f := newFake()
	spec := testSpec()
	o, err := Ensure(context.Background(), f, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.writes(), []string{"CreatePolicy"}) || len(f.created[0].Tags) != len(spec.Tags) {
		t.Errorf("writes %v, want CreatePolicy with every tag", f.writes())
	}
	var reads []string
	for _, c := range f.calls {
		if c != "CreatePolicy" {
			reads = append(reads, c)
		}
	}
	if slices.Sort(reads); !slices.Equal(reads, findReads) {
		t.Errorf("reads %v, want one Find %v", reads, findReads)
	}
	if Drift(spec, o) != "" || o.Tags[naming.OwnerTagKey] != "acme" {
		t.Errorf("observed %+v, want the compliant new policy", o)
	}
}

// Ensure takes what was observed: no read of the policy before its writes,
// only the final Find after them.
func TestEnsureReadsOnlyAfterItsWrites(t *testing.T) {
	f := newFake()
	spec := testSpec()
	f.add(spec.Name, map[string]string{naming.OwnerTagKey: "acme", "stale": "x"}, wider, wider, wider, wider, wider)
	have, err := Find(context.Background(), f, spec.ARN)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	if _, err := Ensure(context.Background(), f, spec, have, false); err != nil {
		t.Fatal(err)
	}
	last := -1
	for i, c := range f.calls {
		if !isFindRead(c) && !strings.HasPrefix(c, "List") {
			last = i
		}
	}
	if want := []string{"DeletePolicyVersion", "CreatePolicyVersion", "UntagPolicy", "TagPolicy"}; len(f.writes()) != len(want) {
		t.Fatalf("writes %v, want %v in some order", f.writes(), want)
	}
	var reads []string
	for i, c := range f.calls {
		if isFindRead(c) {
			if i < last {
				t.Errorf("calls %v: %s before the last write", f.calls, c)
			}
			reads = append(reads, c)
		}
	}
	if slices.Sort(reads); !slices.Equal(reads, findReads) {
		t.Errorf("reads %v, want one Find %v", reads, findReads)
	}
}

func TestCheckRefusesAForeignPolicy(t *testing.T) {
	spec := testSpec()
	for name, tags := range map[string]map[string]string{
		"no ownership tag":  {"team": "platform"},
		"another backend's": {naming.OwnerTagKey: "acme-2"},
	} {
		o := &Observed{ARN: spec.ARN, Document: wanted, Tags: tags}
		if err := Check(spec, o); err == nil || !strings.Contains(err.Error(), "not created by this backend") || !strings.Contains(err.Error(), spec.ARN) {
			t.Errorf("%s: Check = %v, want a refusal naming %s", name, err, spec.ARN)
		}
		f := newFake()
		f.add(spec.Name, tags, wanted)
		if _, err := Ensure(context.Background(), f, spec, o, false); err == nil || len(f.calls) != 0 {
			t.Errorf("%s: Ensure = %v after calls %v, want a refusal without I/O", name, err, f.calls)
		}
		if _, err := Ensure(context.Background(), f, spec, o, true); err != nil {
			t.Errorf("%s, tracked: Ensure = %v, want the policy repaired", name, err)
		}
	}
	if err := Check(spec, &Observed{Tags: spec.Tags}); err != nil {
		t.Errorf("own policy: Check = %v", err)
	}
}

// A policy made meanwhile by someone else is not adopted by a create.
func TestEnsureCreateRefusesAPolicyMadeMeanwhile(t *testing.T) {
	f := newFake()
	spec := testSpec()
	f.add(spec.Name, map[string]string{"team": "other"}, wider)
	if _, err := Ensure(context.Background(), f, spec, nil, false); err == nil || !strings.Contains(err.Error(), "not created by this backend") {
		t.Errorf("Ensure = %v, want a refusal", err)
	}
}

func TestFindReportsEveryFailure(t *testing.T) {
	f := newFake()
	spec := testSpec()
	f.add(spec.Name, spec.Tags, wanted)
	getErr, tagErr := errors.New("get denied"), errors.New("tags denied")
	f.fail["GetPolicy"] = []error{getErr}
	f.fail["ListPolicyTags"] = []error{tagErr}
	_, err := Find(context.Background(), f, spec.ARN)
	if !errors.Is(err, getErr) || !errors.Is(err, tagErr) || !strings.Contains(err.Error(), "iam:GetPolicy "+spec.ARN) || !strings.Contains(err.Error(), "iam:ListPolicyTags "+spec.ARN) {
		t.Errorf("Find = %v, want both failures named", err)
	}
	// A missing policy is not found, whatever the tag read says.
	f = newFake()
	f.fail["ListPolicyTags"] = []error{tagErr}
	if _, err := Find(context.Background(), f, spec.ARN); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing policy = %v, want not found", err)
	}
}
