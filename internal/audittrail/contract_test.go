package audittrail

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// findReads are the calls of one Find, sorted.
var findReads = []string{"GetEventSelectors", "GetTrail", "GetTrailStatus", "ListTags"}

func observe(t *testing.T, f *fakeCloudTrail) *Observed {
	t.Helper()
	have, err := Find(context.Background(), f, testSpec().Name, testSpec().ARN)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	return have
}

// Ensure of a compliant trail writes nothing and reads it once: the final Find.
func TestEnsureCompliantReadsOnce(t *testing.T) {
	f := newFake()
	f.hardenedTrail(testSpec())
	if _, err := Ensure(context.Background(), f, testSpec(), observe(t, f), false); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(f.calls)); !slices.Equal(got, findReads) {
		t.Errorf("calls %v, want one Find (%v) and no write", got, findReads)
	}
}

// Without anything observed, Ensure creates the trail, sets its selectors,
// starts it, and reads it once afterwards.
func TestEnsureNothingObservedCreates(t *testing.T) {
	f := newFake()
	o, err := Ensure(context.Background(), f, testSpec(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"CreateTrail", "PutEventSelectors", "StartLogging"}; !slices.Equal(f.writes(), want) {
		t.Errorf("writes %v, want %v", f.writes(), want)
	}
	var reads []string
	for _, c := range f.calls {
		if slices.Contains(findReads, c) {
			reads = append(reads, c)
		}
	}
	if slices.Sort(reads); !slices.Equal(reads, findReads) {
		t.Errorf("reads %v, want one Find %v", reads, findReads)
	}
	if !o.Logging || o.Tags[naming.OwnerTagKey] != "acme" || len(o.Selectors) != 2 {
		t.Errorf("observed %+v, want the new trail logging its selectors", o)
	}
}

// Ensure takes what was observed: every read comes after the last write.
func TestEnsureReadsOnlyAfterItsWrites(t *testing.T) {
	f := newFake()
	tr := f.hardenedTrail(testSpec())
	tr.logging, tr.selectors, tr.trail.S3BucketName = false, nil, aws.String("elsewhere")
	delete(tr.tags, "team")
	if _, err := Ensure(context.Background(), f, testSpec(), observe(t, f), false); err != nil {
		t.Fatal(err)
	}
	w := f.writes()
	if len(w) != 4 || w[len(w)-1] != "StartLogging" && w[len(w)-1] != "AddTags" {
		t.Fatalf("writes %v, want UpdateTrail, PutEventSelectors, AddTags and StartLogging last but for the tags", w)
	}
	if i := slices.Index(w, "StartLogging"); slices.Contains(w[i:], "UpdateTrail") || slices.Contains(w[i:], "PutEventSelectors") {
		t.Errorf("writes %v: logging started before its destination and selectors", w)
	}
	if n := len(w); !slices.Equal(f.calls[:n], w) || !slices.Equal(slices.Sorted(slices.Values(f.calls[n:])), findReads) {
		t.Errorf("calls %v, want the writes and then one Find", f.calls)
	}
}

func TestCheckRefusesAForeignTrail(t *testing.T) {
	spec := testSpec()
	for name, tags := range map[string]map[string]string{
		"no ownership tag":  {"team": "platform"},
		"another backend's": {naming.OwnerTagKey: "acme-2"},
	} {
		o := &Observed{ARN: trailARN, Tags: tags}
		if err := Check(spec, o); err == nil || !strings.Contains(err.Error(), "not created by this backend") || !strings.Contains(err.Error(), spec.Name) {
			t.Errorf("%s: Check = %v, want a refusal naming %s", name, err, spec.Name)
		}
		f := newFake()
		if _, err := Ensure(context.Background(), f, spec, o, false); err == nil || len(f.calls) != 0 {
			t.Errorf("%s: Ensure = %v after calls %v, want a refusal without I/O", name, err, f.calls)
		}
	}
	if err := Check(spec, &Observed{Tags: spec.Tags}); err != nil {
		t.Errorf("own trail: Check = %v", err)
	}
}

func TestFindReportsEveryFailure(t *testing.T) {
	f := newFake()
	f.hardenedTrail(testSpec())
	errs := map[string]error{}
	for _, op := range findReads {
		errs[op] = errors.New(op + " denied")
		f.fail[op] = []error{errs[op]}
	}
	_, err := Find(context.Background(), f, "acme-tfstate-audit", trailARN)
	for op, want := range errs {
		if !errors.Is(err, want) || !strings.Contains(err.Error(), "cloudtrail:"+op+" acme-tfstate-audit") {
			t.Errorf("Find = %v, want cloudtrail:%s reported", err, op)
		}
	}
	// A missing trail is not found, whatever the other reads say.
	f = newFake()
	f.fail["GetTrailStatus"] = []error{errors.New("denied")}
	if _, err := Find(context.Background(), f, "acme-tfstate-audit", trailARN); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing trail = %v, want not found", err)
	}
}

// Without the ARN (import), the tags are read with the ARN GetTrail reports.
func TestFindWithoutARN(t *testing.T) {
	f := newFake()
	f.hardenedTrail(testSpec())
	o, err := Find(context.Background(), f, "acme-tfstate-audit", "")
	if err != nil || o.ARN != trailARN || o.Tags[naming.OwnerTagKey] != "acme" {
		t.Fatalf("Find = %+v, %v", o, err)
	}
	if i := slices.Index(f.calls, "ListTags"); i != len(f.calls)-1 {
		t.Errorf("calls %v, want ListTags after the others", f.calls)
	}
}
