package alarms

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// findReads are the calls of one Find of everything, sorted: the tags of the
// log group and of each alarm the backend may have (the replication alarm
// included, wanted or not) are read at once with them (the role's come with
// GetRole).
var findReads = []string{"DescribeAlarms", "DescribeLogGroups", "DescribeMetricFilters", "GetRole", "GetRolePolicy",
	"ListTagsForResource cloudwatch", "ListTagsForResource cloudwatch", "ListTagsForResource cloudwatch", "ListTagsForResource logs"}

func observe(t *testing.T, f *fakeAWS) *Observed {
	t.Helper()
	have, err := Find(context.Background(), f.clients(), testSpec())
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	return have
}

// Ensure of compliant alarms writes nothing and reads them once: the final Find.
func TestEnsureCompliantReadsOnce(t *testing.T) {
	f := applied(t)
	if _, err := Ensure(context.Background(), f.clients(), testSpec(), observe(t, f), false); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(f.calls)); !slices.Equal(got, findReads) {
		t.Errorf("calls %v, want one Find (%v) and no write", got, findReads)
	}
}

// Nothing observed: everything is made, without a read before the writes.
func TestEnsureNothingObservedCreates(t *testing.T) {
	f := newFake()
	o, err := Ensure(context.Background(), f.clients(), testSpec(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	sameWrites(t, f.writes(), []string{"CreateLogGroup", "PutRetentionPolicy", "CreateRole", "PutRolePolicy",
		"PutMetricFilter", "PutMetricAlarm", "PutMetricFilter", "PutMetricAlarm"})
	n := len(f.writes())
	if !slices.Equal(slices.Sorted(slices.Values(f.calls[:n])), slices.Sorted(slices.Values(f.writes()))) ||
		!slices.Equal(slices.Sorted(slices.Values(f.calls[n:])), findReads) {
		t.Errorf("calls %v, want the writes and then one Find", f.calls)
	}
	drifttest.Compliant(t, "new alarms", Drift(testSpec(), o))
}

// Ensure takes what was observed: every read comes after the last write.
func TestEnsureReadsOnlyAfterItsWrites(t *testing.T) {
	f := applied(t)
	spec := testSpec()
	f.groups[spec.LogGroup()].RetentionInDays = aws.Int32(7)
	f.roles[spec.RoleName()].policies = map[string]string{}
	delete(f.alarms, spec.alarms()[1].name)
	if _, err := Ensure(context.Background(), f.clients(), spec, observe(t, f), false); err != nil {
		t.Fatal(err)
	}
	sameWrites(t, f.writes(), []string{"PutRetentionPolicy", "PutRolePolicy", "PutMetricAlarm"})
	if n := len(f.writes()); !slices.Equal(slices.Sorted(slices.Values(f.calls[n:])), findReads) {
		t.Errorf("calls %v, want the writes and then one Find", f.calls)
	}
}

func TestCheckRefusesAForeignRole(t *testing.T) {
	spec := testSpec()
	for name, owner := range map[string]string{"no ownership tag": "", "another backend's": "acme-2"} {
		o := &Observed{Role: true, RoleOwner: owner, Filters: map[string]string{}}
		if err := Check(spec, o); err == nil || !strings.Contains(err.Error(), "not created by this backend") || !strings.Contains(err.Error(), spec.RoleName()) {
			t.Errorf("%s: Check = %v, want a refusal naming %s", name, err, spec.RoleName())
		}
		f := newFake()
		f.roles[spec.RoleName()] = &fakeRole{role: iamtypes.Role{RoleName: aws.String(spec.RoleName()),
			Tags: []iamtypes.Tag{{Key: aws.String(naming.OwnerTagKey), Value: aws.String(owner)}}}, policies: map[string]string{}}
		// Nothing is written, the log group included.
		if _, err := Ensure(context.Background(), f.clients(), spec, o, false); err == nil || len(f.calls) != 0 {
			t.Errorf("%s: Ensure = %v after calls %v, want a refusal without I/O", name, err, f.calls)
		}
	}
	for name, o := range map[string]*Observed{"own role": {Role: true, RoleOwner: "acme"}, "no role": {}} {
		if err := Check(spec, o); err != nil {
			t.Errorf("%s: Check = %v", name, err)
		}
	}
}

func TestFindReportsEveryFailure(t *testing.T) {
	f := applied(t)
	errs := map[string]error{}
	for op, want := range map[string]string{
		"DescribeMetricFilters": "logs:DescribeMetricFilters " + testSpec().LogGroup(),
		"GetRolePolicy":         "iam:GetRolePolicy " + testSpec().RoleName(),
		"DescribeAlarms":        "cloudwatch:DescribeAlarms",
	} {
		errs[want] = errors.New(op + " denied")
		f.fail[op] = []error{errs[want]}
	}
	_, err := Find(context.Background(), f.clients(), testSpec())
	for want, e := range errs {
		if !errors.Is(err, e) || !strings.Contains(err.Error(), want) {
			t.Errorf("Find = %v, want %s reported", err, want)
		}
	}
}
