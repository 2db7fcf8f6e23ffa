package alarms

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

func testSpec() Spec {
	return Spec{Backend: "acme", Partition: "aws", Region: "us-east-1", AccountID: "123456789012", StateBucket: "acme-tfstate-123456789012",
		TrailARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/acme-tfstate-audit", KeyARN: "arn:aws:kms:us-east-1:123456789012:key/k",
		TopicARN: "arn:aws:sns:us-east-1:123456789012:alerts", RetentionDays: 100,
		Tags: map[string]string{naming.OwnerTagKey: "acme", "team": "platform"}}
}

// observeAndEnsure does what the orchestrator does: one Find, then Ensure
// with what it observed.
func observeAndEnsure(ctx context.Context, f *fakeAWS, spec Spec, tracked bool) (*Observed, error) {
	have, err := Find(ctx, f.clients(), spec)
	if err != nil {
		return nil, err
	}
	return Ensure(ctx, f.clients(), spec, have, tracked)
}

// sameWrites compares the writes made with want as multisets (independent
// writes run concurrently) and checks the orderings that matter: a log group
// before its retention and filters, a role before its policy.
func sameWrites(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("writes %v, want %v in some order", got, want)
	}
	before := func(first string, then ...string) {
		i := slices.Index(got, first)
		for _, op := range then {
			if j := slices.Index(got, op); i >= 0 && j >= 0 && j < i {
				t.Errorf("writes %v: %s before %s", got, op, first)
			}
		}
	}
	before("CreateLogGroup", "PutRetentionPolicy", "PutMetricFilter")
	before("AssociateKmsKey", "PutRetentionPolicy", "PutMetricFilter")
	before("CreateRole", "PutRolePolicy")
}

// applied is a fake holding everything Ensure makes for testSpec, its calls
// forgotten.
func applied(t *testing.T) *fakeAWS {
	t.Helper()
	f := newFake()
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	f.groupsMade, f.keys, f.retention, f.filtersPut, f.alarmsPut, f.rolesMade, f.trusts, f.rolePolicy = nil, nil, nil, nil, nil, nil, nil, nil
	return f
}

func TestNames(t *testing.T) {
	s := testSpec()
	for got, want := range map[string]string{
		s.LogGroup():    "/securestate/acme/cloudtrail",
		s.GroupARN():    "arn:aws:logs:us-east-1:123456789012:log-group:/securestate/acme/cloudtrail",
		s.LogGroupARN(): "arn:aws:logs:us-east-1:123456789012:log-group:/securestate/acme/cloudtrail:*",
		s.RoleName():    "acme-tfstate-trail-logs",
		s.RoleARN():     "arn:aws:iam::123456789012:role/securestate/acme-tfstate-trail-logs",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	got := slices.Sorted(slices.Values(ControlNames()))
	want := []string{ControlAccessDenied, ControlDelivery, ControlReplication, ControlStateDeletion}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ControlNames = %v", got)
	}
}

func TestEnsureCreatesEverything(t *testing.T) {
	f := newFake()
	spec := testSpec()
	o, err := observeAndEnsure(context.Background(), f, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CreateLogGroup", "PutRetentionPolicy", "CreateRole", "PutRolePolicy",
		"PutMetricFilter", "PutMetricAlarm", "PutMetricFilter", "PutMetricAlarm"}
	sameWrites(t, f.writes(), want)
	g := f.groupsMade[0]
	if aws.ToString(g.LogGroupName) != spec.LogGroup() || aws.ToString(g.KmsKeyId) != spec.KeyARN || g.Tags["team"] != "platform" || g.Tags[naming.OwnerTagKey] != "acme" {
		t.Errorf("CreateLogGroup %+v, want %s encrypted with %s and tagged", g, spec.LogGroup(), spec.KeyARN)
	}
	if r := f.retention[0]; aws.ToString(r.LogGroupName) != spec.LogGroup() || aws.ToInt32(r.RetentionInDays) != 120 {
		t.Errorf("PutRetentionPolicy(%s, %d), want 120 days (the shortest accepted ≥ 100)", aws.ToString(r.LogGroupName), aws.ToInt32(r.RetentionInDays))
	}
	r := f.rolesMade[0]
	if aws.ToString(r.RoleName) != spec.RoleName() || aws.ToString(r.Path) != naming.PolicyPath || !strings.Contains(aws.ToString(r.Description), "backend acme") {
		t.Errorf("CreateRole %+v", r)
	}
	if ok, _ := policydoc.Equivalent(aws.ToString(r.AssumeRolePolicyDocument), spec.trustPolicy()); !ok || !strings.Contains(spec.trustPolicy(), spec.TrailARN) {
		t.Errorf("CreateRole trust %s, want CloudTrail of %s only", aws.ToString(r.AssumeRolePolicyDocument), spec.TrailARN)
	}
	tags := map[string]string{}
	for _, tg := range r.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags[naming.OwnerTagKey] != "acme" || tags["team"] != "platform" || len(tags) != 2 {
		t.Errorf("CreateRole tags %v", tags)
	}
	if p := f.rolePolicy[0]; aws.ToString(p.RoleName) != spec.RoleName() || aws.ToString(p.PolicyName) != rolePolicyName || aws.ToString(p.PolicyDocument) != spec.rolePolicy() ||
		!strings.Contains(spec.rolePolicy(), spec.LogGroupARN()) {
		t.Errorf("PutRolePolicy %+v, want the write permission on %s", p, spec.LogGroupARN())
	}
	// Written concurrently: each found by its name.
	slices.SortFunc(f.filtersPut, func(a, b *cloudwatchlogs.PutMetricFilterInput) int {
		return slices.Index(spec.alarmNames(), aws.ToString(a.FilterName)) - slices.Index(spec.alarmNames(), aws.ToString(b.FilterName))
	})
	slices.SortFunc(f.alarmsPut, func(a, b *cloudwatch.PutMetricAlarmInput) int {
		return slices.Index(spec.alarmNames(), aws.ToString(a.AlarmName)) - slices.Index(spec.alarmNames(), aws.ToString(b.AlarmName))
	})
	for i, a := range spec.alarms() {
		mf := f.filtersPut[i]
		if aws.ToString(mf.LogGroupName) != spec.LogGroup() || aws.ToString(mf.FilterName) != a.name || aws.ToString(mf.FilterPattern) != a.pattern ||
			len(mf.MetricTransformations) != 1 || aws.ToString(mf.MetricTransformations[0].MetricName) != a.metric ||
			aws.ToString(mf.MetricTransformations[0].MetricNamespace) != Namespace || aws.ToString(mf.MetricTransformations[0].MetricValue) != "1" {
			t.Errorf("PutMetricFilter %+v, want %s counting 1 per match into %s/%s", mf, a.name, Namespace, a.metric)
		}
		al := f.alarmsPut[i]
		if aws.ToString(al.AlarmName) != a.name || aws.ToString(al.MetricName) != a.metric || aws.ToString(al.Namespace) != Namespace ||
			al.Statistic != cwtypes.StatisticSum || aws.ToInt32(al.Period) != 300 || aws.ToInt32(al.EvaluationPeriods) != 1 ||
			aws.ToFloat64(al.Threshold) != 1 || al.ComparisonOperator != cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold ||
			aws.ToString(al.TreatMissingData) != "notBreaching" || !aws.ToBool(al.ActionsEnabled) || !slices.Equal(al.AlarmActions, []string{spec.TopicARN}) ||
			aws.ToString(al.AlarmDescription) != a.description {
			t.Errorf("PutMetricAlarm %+v, want %s: sum over 5 minutes ≥ 1 notifies %s", al, a.name, spec.TopicARN)
		}
	}
	drifttest.Compliant(t, "new alarms", Drift(spec, o))
	if !o.LogGroup || !o.Role || o.RoleOwner != "acme" || o.KeyARN != spec.KeyARN || o.Retention != 120 || len(o.Filters) != 2 || len(o.Alarms) != 2 {
		t.Errorf("observed %+v", o)
	}
}

func TestEnsureRepairs(t *testing.T) {
	spec := testSpec()
	deletion := spec.alarms()[0].name
	for name, tc := range map[string]struct {
		mutate func(f *fakeAWS)
		writes []string
	}{
		"compliant":         {func(*fakeAWS) {}, nil},
		"key removed":       {func(f *fakeAWS) { f.groups[spec.LogGroup()].KmsKeyId = nil }, []string{"AssociateKmsKey"}},
		"retention changed": {func(f *fakeAWS) { f.groups[spec.LogGroup()].RetentionInDays = aws.Int32(7) }, []string{"PutRetentionPolicy"}},
		"log group deleted": {func(f *fakeAWS) { delete(f.groups, spec.LogGroup()); delete(f.filters, spec.LogGroup()) }, []string{"CreateLogGroup", "PutRetentionPolicy", "PutMetricFilter", "PutMetricAlarm", "PutMetricFilter", "PutMetricAlarm"}},
		"trust widened": {func(f *fakeAWS) {
			f.roles[spec.RoleName()].role.AssumeRolePolicyDocument = aws.String(`{"Version":"2012-10-17","Statement":[]}`)
		}, []string{"UpdateAssumeRolePolicy"}},
		"role policy gone": {func(f *fakeAWS) { f.roles[spec.RoleName()].policies = map[string]string{} }, []string{"PutRolePolicy"}},
		"role policy edited": {func(f *fakeAWS) {
			f.roles[spec.RoleName()].policies[rolePolicyName] = `{"Version":"2012-10-17","Statement":[]}`
		}, []string{"PutRolePolicy"}},
		"filter changed": {func(f *fakeAWS) {
			mf := f.filters[spec.LogGroup()][deletion]
			mf.FilterPattern = aws.String("x")
			f.filters[spec.LogGroup()][deletion] = mf
		}, []string{"PutMetricFilter", "PutMetricAlarm"}},
		// A changed alarm is repaired alone: its filter is not written again.
		"alarm silenced": {func(f *fakeAWS) {
			a := f.alarms[deletion]
			a.ActionsEnabled = aws.Bool(false)
			f.alarms[deletion] = a
		}, []string{"PutMetricAlarm"}},
		"alarm deleted": {func(f *fakeAWS) { delete(f.alarms, deletion) }, []string{"PutMetricAlarm"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := applied(t)
			tc.mutate(f)
			o, err := observeAndEnsure(context.Background(), f, spec, true)
			if err != nil {
				t.Fatal(err)
			}
			sameWrites(t, f.writes(), tc.writes)
			for _, k := range f.keys {
				if aws.ToString(k.LogGroupName) != spec.LogGroup() || aws.ToString(k.KmsKeyId) != spec.KeyARN {
					t.Errorf("AssociateKmsKey %+v, want %s with %s", k, spec.LogGroup(), spec.KeyARN)
				}
			}
			for _, u := range f.trusts {
				if aws.ToString(u.RoleName) != spec.RoleName() || aws.ToString(u.PolicyDocument) != spec.trustPolicy() {
					t.Errorf("UpdateAssumeRolePolicy %+v, want the trail's trust policy", u)
				}
			}
			drifttest.Compliant(t, name, Drift(spec, o))
		})
	}
}

func TestEnsureRefusesAnotherBackendsRole(t *testing.T) {
	spec := testSpec()
	for name, tc := range map[string]struct {
		tags    []iamtypes.Tag
		tracked bool
		wantErr bool
	}{
		"no ownership tag":  {nil, false, true},
		"another backend's": {[]iamtypes.Tag{{Key: aws.String(naming.OwnerTagKey), Value: aws.String("acme-2")}}, false, true},
		"tracked":           {nil, true, false},
	} {
		f := newFake()
		f.roles[spec.RoleName()] = &fakeRole{role: iamtypes.Role{RoleName: aws.String(spec.RoleName()), AssumeRolePolicyDocument: aws.String(spec.trustPolicy()), Tags: tc.tags},
			policies: map[string]string{rolePolicyName: spec.rolePolicy()}}
		_, err := observeAndEnsure(context.Background(), f, spec, tc.tracked)
		if tc.wantErr != (err != nil) || tc.wantErr && !strings.Contains(err.Error(), "not created by this backend") {
			t.Errorf("%s: error %v, want a refusal: %v", name, err, tc.wantErr)
		}
		if slices.Contains(f.writes(), "UpdateAssumeRolePolicy") || slices.Contains(f.writes(), "PutRolePolicy") {
			t.Errorf("%s: writes %v touch the role", name, f.writes())
		}
	}
}

func TestEnsureFailures(t *testing.T) {
	boom := errors.New("boom")
	spec := testSpec()
	deletion := spec.alarms()[0].name
	for name, tc := range map[string]struct {
		fresh  bool
		mutate func(*fakeAWS)
		op     string
		want   string
	}{
		"describe groups":  {true, nil, "DescribeLogGroups", "logs:DescribeLogGroups"},
		"describe filters": {false, nil, "DescribeMetricFilters", "logs:DescribeMetricFilters"},
		"get role":         {true, nil, "GetRole", "iam:GetRole"},
		"get role policy":  {false, nil, "GetRolePolicy", "iam:GetRolePolicy"},
		"describe alarms":  {true, nil, "DescribeAlarms", "cloudwatch:DescribeAlarms"},
		"create group":     {true, nil, "CreateLogGroup", "logs:CreateLogGroup"},
		"retention":        {true, nil, "PutRetentionPolicy", "logs:PutRetentionPolicy"},
		"create role":      {true, nil, "CreateRole", "iam:CreateRole"},
		"role policy":      {true, nil, "PutRolePolicy", "iam:PutRolePolicy"},
		"filter":           {true, nil, "PutMetricFilter", "logs:PutMetricFilter"},
		"alarm":            {true, nil, "PutMetricAlarm", "cloudwatch:PutMetricAlarm"},
		"key":              {false, func(f *fakeAWS) { f.groups[spec.LogGroup()].KmsKeyId = nil }, "AssociateKmsKey", "logs:AssociateKmsKey"},
		"trust": {false, func(f *fakeAWS) { f.roles[spec.RoleName()].role.AssumeRolePolicyDocument = aws.String("{}") },
			"UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy"},
		"repair alarm": {false, func(f *fakeAWS) { delete(f.alarms, deletion) }, "PutMetricAlarm", "cloudwatch:PutMetricAlarm " + deletion},
	} {
		t.Run(name, func(t *testing.T) {
			var f *fakeAWS
			if tc.fresh {
				f = newFake()
			} else {
				f = applied(t)
			}
			if tc.mutate != nil {
				tc.mutate(f)
			}
			f.fail[tc.op] = []error{boom}
			_, err := observeAndEnsure(context.Background(), f, spec, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, boom) {
				t.Errorf("error %v, want %q wrapping the failure", err, tc.want)
			}
		})
	}
}

// A log group made by a create whose reply was lost is used as it is.
func TestEnsureLogGroupAlreadyMade(t *testing.T) {
	f := newFake()
	f.lostGroups = []error{apiError("ResourceAlreadyExistsException")}
	o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	drifttest.Compliant(t, "alarms", Drift(testSpec(), o))
}

func TestFindReadsOnlyTheBackendsGroup(t *testing.T) {
	f := applied(t)
	f.calls = nil
	spec := testSpec()
	// A group whose name merely starts with the backend's is not it.
	other := spec.LogGroup() + "-other"
	g := *f.groups[spec.LogGroup()]
	g.LogGroupName = aws.String(other)
	f.groups[other] = &g
	delete(f.groups, spec.LogGroup())
	o, err := Find(context.Background(), f.clients(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if o.LogGroup || o.Retention != 0 || o.KeyARN != "" || len(o.Filters) != 0 {
		t.Errorf("Find = %+v, want no log group", o)
	}
	if slices.Contains(f.calls, "DescribeMetricFilters") {
		t.Error("metric filters read without a log group")
	}
	if p := aws.ToString(f.describedAs[0].LogGroupNamePrefix); p != spec.LogGroup() {
		t.Errorf("DescribeLogGroups prefix %q, want %q", p, spec.LogGroup())
	}
}

func TestDelete(t *testing.T) {
	boom := errors.New("boom")
	spec := testSpec()
	t.Run("everything", func(t *testing.T) {
		f := applied(t)
		if err := Delete(context.Background(), f.clients(), spec); err != nil {
			t.Fatal(err)
		}
		if len(f.groups)+len(f.alarms)+len(f.roles) != 0 {
			t.Errorf("left groups %v, alarms %v, roles %v", f.groups, f.alarms, f.roles)
		}
		var names []string
		for _, in := range f.alarmsGone {
			names = append(names, in.AlarmNames...)
		}
		if want := spec.allAlarmNames(); !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(want))) {
			t.Errorf("DeleteAlarms %v, want every alarm the backend may have (%v)", names, want)
		}
		// Everything already gone: nothing to do, no error.
		if err := Delete(context.Background(), f.clients(), spec); err != nil {
			t.Errorf("Delete again: %v", err)
		}
	})
	for op, want := range map[string]string{
		"DeleteAlarms":     "cloudwatch:DeleteAlarms",
		"DeleteLogGroup":   "logs:DeleteLogGroup",
		"DeleteRolePolicy": "iam:DeleteRolePolicy",
		"DeleteRole":       "iam:DeleteRole",
	} {
		t.Run(op, func(t *testing.T) {
			f := applied(t)
			f.fail[op] = []error{boom}
			if err := Delete(context.Background(), f.clients(), spec); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, boom) {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
	t.Run("alarms already gone", func(t *testing.T) {
		f := applied(t)
		f.fail["DeleteAlarms"] = []error{apiError("ResourceNotFound")}
		if err := Delete(context.Background(), f.clients(), spec); err != nil {
			t.Errorf("Delete: %v", err)
		}
	})
}

func TestDriftAlarmDetails(t *testing.T) {
	spec := testSpec()
	f := applied(t)
	o, err := Find(context.Background(), f.clients(), spec)
	if err != nil {
		t.Fatal(err)
	}
	deletion := spec.alarms()[0].name
	for name, mutate := range map[string]func(a *cwtypes.MetricAlarm){
		"other metric":    func(a *cwtypes.MetricAlarm) { a.MetricName = aws.String("x") },
		"other namespace": func(a *cwtypes.MetricAlarm) { a.Namespace = aws.String("x") },
		"two actions": func(a *cwtypes.MetricAlarm) {
			a.AlarmActions = append(a.AlarmActions, "arn:aws:sns:us-east-1:123456789012:x")
		},
		"no action": func(a *cwtypes.MetricAlarm) { a.AlarmActions = nil },
	} {
		a := o.Alarms[deletion]
		a.AlarmActions = slices.Clone(a.AlarmActions)
		mutate(&a)
		changed := *o
		changed.Alarms = map[string]cwtypes.MetricAlarm{deletion: a, spec.alarms()[1].name: o.Alarms[spec.alarms()[1].name]}
		drifttest.Expect(t, name, Drift(spec, &changed), ControlStateDeletion, "is changed or does not notify")
	}
	// A trust policy not reported is not drift; a role policy not reported is.
	noTrust := *o
	noTrust.Trust = ""
	drifttest.Compliant(t, "trust not reported", Drift(spec, &noTrust))
}
