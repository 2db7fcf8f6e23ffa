package locktable

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// findReads are the calls of one Find, sorted.
var findReads = []string{"DescribeContinuousBackups", "DescribeTable", "GetResourcePolicy", "ListTagsOfResource"}

func observe(t *testing.T, f *fakeDynamoDB) *Observed {
	t.Helper()
	have, err := Find(context.Background(), f, testSpec().Table, testSpec().ARN)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	return have
}

// Ensure of a compliant table writes nothing and reads it once: the final Find.
func TestEnsureCompliantReadsOnce(t *testing.T) {
	f := newFake()
	f.hardened(testSpec())
	if _, err := Ensure(context.Background(), f, testSpec(), observe(t, f), false); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(f.calls)); !slices.Equal(got, findReads) {
		t.Errorf("calls %v, want one Find (%v) and no write", got, findReads)
	}
}

// Without anything observed, Ensure creates the table with every control
// (PITR once it is ACTIVE) and no read before CreateTable.
func TestEnsureNothingObservedCreates(t *testing.T) {
	f := newFake()
	o, err := Ensure(context.Background(), f, testSpec(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"CreateTable", "UpdateContinuousBackups"}; !slices.Equal(f.writes(), want) {
		t.Errorf("writes %v, want %v", f.writes(), want)
	}
	if f.calls[0] != "CreateTable" {
		t.Errorf("calls %v, want CreateTable first", f.calls)
	}
	in := f.created[0]
	if len(in.Tags) != len(testSpec().Tags) || in.SSESpecification == nil || !*in.DeletionProtectionEnabled || in.BillingMode == "" {
		t.Errorf("CreateTable %+v, want tags, SSE, deletion protection and billing set at create", in)
	}
	if !o.PITR || o.Tags[naming.OwnerTagKey] != "acme" {
		t.Errorf("observed %+v, want the hardened new table", o)
	}
}

// Ensure takes what was observed: the table's backups and tags are read only
// by the final Find, after every write; DescribeTable only by the waiter
// after UpdateTable and by that Find.
func TestEnsureReadsOnlyAfterItsWrites(t *testing.T) {
	f := newFake()
	tb := f.hardened(testSpec())
	tb.deletionProtection, tb.pitr, tb.tags["stale"] = false, false, "x"
	if _, err := Ensure(context.Background(), f, testSpec(), observe(t, f), false); err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); len(w) != 3 || w[0] != "UpdateTable" {
		t.Fatalf("writes %v, want UpdateTable, then UpdateContinuousBackups and UntagResource", w)
	}
	if f.calls[0] != "UpdateTable" {
		t.Errorf("calls %v, want no read before the first write", f.calls)
	}
	last := 0
	for i, c := range f.calls {
		if !slices.Contains(findReads, c) {
			last = i
		}
	}
	var after []string
	for i, c := range f.calls {
		if c != "DescribeTable" && slices.Contains(findReads, c) && i < last {
			t.Errorf("calls %v: %s before the last write", f.calls, c)
		}
		if i > last {
			after = append(after, c)
		}
	}
	if slices.Sort(after); !slices.Equal(after, findReads) {
		t.Errorf("reads after the writes %v, want one Find %v", after, findReads)
	}
}

func TestCheckRefusesAForeignTable(t *testing.T) {
	spec := testSpec()
	for name, tags := range map[string]map[string]string{
		"no ownership tag":  {"team": "platform"},
		"another backend's": {naming.OwnerTagKey: "acme-2"},
	} {
		o := &Observed{Name: spec.Table, ARN: tableARN, Status: types.TableStatusActive, HashKey: HashKey, Tags: tags}
		if err := Check(spec, o); err == nil || !strings.Contains(err.Error(), "not created by this backend") || !strings.Contains(err.Error(), spec.Table) {
			t.Errorf("%s: Check = %v, want a refusal naming %s", name, err, spec.Table)
		}
		f := newFake()
		if _, err := Ensure(context.Background(), f, spec, o, false); err == nil || len(f.calls) != 0 {
			t.Errorf("%s: Ensure = %v after calls %v, want a refusal without I/O", name, err, f.calls)
		}
	}
	if err := Check(spec, &Observed{Tags: spec.Tags}); err != nil {
		t.Errorf("own table: Check = %v", err)
	}
}

func TestFindReportsEveryFailure(t *testing.T) {
	f := newFake()
	f.hardened(testSpec())
	descErr, backupErr, tagErr, policyErr := errors.New("describe denied"), errors.New("backups denied"), errors.New("tags denied"), errors.New("policy denied")
	f.fail["DescribeTable"] = []error{descErr}
	f.fail["DescribeContinuousBackups"] = []error{backupErr}
	f.fail["ListTagsOfResource"] = []error{tagErr}
	f.fail["GetResourcePolicy"] = []error{policyErr}
	_, err := Find(context.Background(), f, "acme-tflock", tableARN)
	for _, want := range []error{descErr, backupErr, tagErr, policyErr} {
		if !errors.Is(err, want) {
			t.Errorf("Find = %v, want it to report %v", err, want)
		}
	}
	for _, op := range []string{"DescribeTable", "DescribeContinuousBackups", "ListTagsOfResource", "GetResourcePolicy"} {
		if err == nil || !strings.Contains(err.Error(), "dynamodb:"+op+" acme-tflock") {
			t.Errorf("Find = %v, want dynamodb:%s named", err, op)
		}
	}
	// A missing table is not found, whatever the other reads say.
	f = newFake()
	f.fail["DescribeContinuousBackups"] = []error{backupErr}
	if _, err := Find(context.Background(), f, "acme-tflock", tableARN); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing table = %v, want not found", err)
	}
}

// With the ARN the four reads run at once; without it (import), the tags
// and the resource policy are read with the ARN DescribeTable reports.
func TestFindWithoutARN(t *testing.T) {
	f := newFake()
	spec := testSpec()
	spec.Policy = grants(tableARN)
	f.hardened(spec)
	o, err := Find(context.Background(), f, "acme-tflock", "")
	if err != nil || o.ARN != tableARN || o.Tags[naming.OwnerTagKey] != "acme" || o.Policy != spec.Policy.String() {
		t.Fatalf("Find = %+v, %v", o, err)
	}
	if got := slices.Sorted(slices.Values(f.calls)); !slices.Equal(got, findReads) {
		t.Errorf("calls %v, want each of %v once", f.calls, findReads)
	}
	described := slices.Index(f.calls, "DescribeTable")
	for _, op := range []string{"ListTagsOfResource", "GetResourcePolicy"} {
		if i := slices.Index(f.calls, op); i < described {
			t.Errorf("calls %v, want %s after DescribeTable", f.calls, op)
		}
	}
}
