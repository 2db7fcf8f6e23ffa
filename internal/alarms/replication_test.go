package alarms

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

func replicatedSpec() Spec {
	s := testSpec()
	s.Replication = &ReplicationAlarm{SourceBucket: s.StateBucket, DestinationBucket: naming.ReplicaBucket(s.StateBucket), RuleID: naming.ReplicationRuleID}
	return s
}

var replicationAlarm = naming.ReplicationFailedAlarm("acme")

// appliedWith is a fake holding everything Ensure makes for spec, its calls
// and recorded inputs forgotten.
func appliedWith(t *testing.T, spec Spec) *fakeAWS {
	t.Helper()
	f := newFake()
	if _, err := observeAndEnsure(context.Background(), f, spec, false); err != nil {
		t.Fatal(err)
	}
	f.calls, f.alarmsPut, f.alarmsGone, f.filtersPut, f.tagged, f.untagged = nil, nil, nil, nil, nil, nil
	return f
}

// With replication, a third alarm watches S3's OperationsFailedReplication
// of the rule (source bucket, replica bucket, rule ID): any failure in five
// minutes notifies the topic, no data is not a failure, and no metric filter
// is made for it.
func TestEnsureCreatesTheReplicationAlarm(t *testing.T) {
	f := newFake()
	spec := replicatedSpec()
	o, err := observeAndEnsure(context.Background(), f, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	sameWrites(t, f.writes(), []string{"CreateLogGroup", "PutRetentionPolicy", "CreateRole", "PutRolePolicy",
		"PutMetricFilter", "PutMetricAlarm", "PutMetricFilter", "PutMetricAlarm", "PutMetricAlarm"})
	var in *cloudwatch.PutMetricAlarmInput
	for _, put := range f.alarmsPut {
		if aws.ToString(put.AlarmName) == replicationAlarm {
			in = put
		}
	}
	if in == nil {
		t.Fatalf("no PutMetricAlarm of %s in %v", replicationAlarm, f.alarmsPut)
	}
	dims := map[string]string{}
	for _, d := range in.Dimensions {
		dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	wantDims := map[string]string{"SourceBucket": spec.StateBucket, "DestinationBucket": naming.ReplicaBucket(spec.StateBucket), "RuleId": naming.ReplicationRuleID}
	if aws.ToString(in.Namespace) != "AWS/S3" || aws.ToString(in.MetricName) != "OperationsFailedReplication" || !maps.Equal(dims, wantDims) ||
		len(in.Dimensions) != 3 || in.Statistic != cwtypes.StatisticSum || aws.ToInt32(in.Period) != 300 || aws.ToInt32(in.EvaluationPeriods) != 1 ||
		aws.ToFloat64(in.Threshold) != 0 || in.ComparisonOperator != cwtypes.ComparisonOperatorGreaterThanThreshold ||
		aws.ToString(in.TreatMissingData) != "notBreaching" || !aws.ToBool(in.ActionsEnabled) || !slices.Equal(in.AlarmActions, []string{spec.TopicARN}) ||
		!strings.Contains(aws.ToString(in.AlarmDescription), naming.ReplicaBucket(spec.StateBucket)) {
		t.Errorf("PutMetricAlarm %+v (dimensions %v), want Sum of AWS/S3 OperationsFailedReplication %v over 5 minutes > 0 notifying %s",
			in, dims, wantDims, spec.TopicARN)
	}
	sent := map[string]string{}
	for _, tg := range in.Tags {
		sent[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if !maps.Equal(sent, spec.Tags) {
		t.Errorf("PutMetricAlarm tags %v, want %v", sent, spec.Tags)
	}
	for _, mf := range f.filtersPut {
		if aws.ToString(mf.FilterName) == replicationAlarm {
			t.Errorf("a metric filter %+v was made for the replication alarm", mf)
		}
	}
	drifttest.Compliant(t, "replicated alarms", Drift(spec, o))
	if len(o.Alarms) != 3 || len(o.TagSets()) != 5 {
		t.Errorf("observed %d alarms, %d tag sets; want 3 and 5", len(o.Alarms), len(o.TagSets()))
	}
	// A second Ensure writes nothing.
	f.calls = nil
	if _, err := observeAndEnsure(context.Background(), f, spec, true); err != nil || len(f.writes()) != 0 {
		t.Errorf("second Ensure = %v with writes %v, want none", err, f.writes())
	}
}

func TestDriftReplicationAlarm(t *testing.T) {
	spec := replicatedSpec()
	for name, tc := range map[string]struct {
		mutate func(*fakeAWS)
		want   string
	}{
		"deleted": {func(f *fakeAWS) { delete(f.alarms, replicationAlarm) }, "the alarm " + replicationAlarm + " is missing"},
		"another rule": {func(f *fakeAWS) {
			a := f.alarms[replicationAlarm]
			a.Dimensions = []cwtypes.Dimension{{Name: aws.String("SourceBucket"), Value: aws.String(spec.StateBucket)},
				{Name: aws.String("DestinationBucket"), Value: aws.String(naming.ReplicaBucket(spec.StateBucket))}, {Name: aws.String("RuleId"), Value: aws.String("other")}}
			f.alarms[replicationAlarm] = a
		}, "is changed or does not notify"},
		"a dimension dropped": {func(f *fakeAWS) {
			a := f.alarms[replicationAlarm]
			a.Dimensions = a.Dimensions[:2]
			f.alarms[replicationAlarm] = a
		}, "is changed or does not notify"},
		"another namespace": {func(f *fakeAWS) {
			a := f.alarms[replicationAlarm]
			a.Namespace = aws.String(Namespace)
			f.alarms[replicationAlarm] = a
		}, "is changed or does not notify"},
		"silenced": {func(f *fakeAWS) {
			a := f.alarms[replicationAlarm]
			a.ActionsEnabled = aws.Bool(false)
			f.alarms[replicationAlarm] = a
		}, "does not notify " + spec.TopicARN},
	} {
		t.Run(name, func(t *testing.T) {
			f := appliedWith(t, spec)
			tc.mutate(f)
			o := observeWith(t, f, spec)
			drifttest.Expect(t, name, Drift(spec, o), ControlReplication, tc.want)
			// Ensure repairs it with one PutMetricAlarm.
			o, err := Ensure(context.Background(), f.clients(), spec, o, true)
			if err != nil {
				t.Fatal(err)
			}
			if w := f.writes(); !slices.Equal(w, []string{"PutMetricAlarm"}) {
				t.Errorf("writes %v, want one PutMetricAlarm", w)
			}
			drifttest.Compliant(t, name+" repaired", Drift(spec, o))
		})
	}
	// Dimensions in another order are the same.
	if !sameDimensions([]cwtypes.Dimension{{Name: aws.String("a"), Value: aws.String("1")}, {Name: aws.String("b"), Value: aws.String("2")}},
		[]cwtypes.Dimension{{Name: aws.String("b"), Value: aws.String("2")}, {Name: aws.String("a"), Value: aws.String("1")}}) {
		t.Error("dimensions in another order differ")
	}
}

func observeWith(t *testing.T, f *fakeAWS, spec Spec) *Observed {
	t.Helper()
	o, err := Find(context.Background(), f.clients(), spec)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	return o
}

// Replication removed: the next Ensure deletes the backend's replication
// alarm (its own DeleteAlarms call) and touches nothing else; until then the
// drift says why.
func TestEnsureRemovesTheReplicationAlarmNoLongerWanted(t *testing.T) {
	f := appliedWith(t, replicatedSpec())
	spec := testSpec() // no replication
	o := observeWith(t, f, spec)
	drifttest.Expect(t, "replication removed", Drift(spec, o), ControlReplication, "left from replication")
	if _, ok := o.Alarms[replicationAlarm]; !ok {
		t.Fatalf("Find without replication does not report the backend's replication alarm: %v", slices.Collect(maps.Keys(o.Alarms)))
	}
	o, err := Ensure(context.Background(), f.clients(), spec, o, true)
	if err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); !slices.Equal(w, []string{"DeleteAlarms"}) {
		t.Errorf("writes %v, want one DeleteAlarms", w)
	}
	if len(f.alarmsGone) != 1 || !slices.Equal(f.alarmsGone[0].AlarmNames, []string{replicationAlarm}) {
		t.Errorf("DeleteAlarms %v, want only %s", f.alarmsGone, replicationAlarm)
	}
	if _, ok := f.alarms[replicationAlarm]; ok || len(f.alarms) != 2 {
		t.Errorf("alarms left %v, want the two of the trail", slices.Collect(maps.Keys(f.alarms)))
	}
	drifttest.Compliant(t, "after removal", Drift(spec, o))
	if len(o.Alarms) != 2 || len(o.TagSets()) != 4 {
		t.Errorf("observed %d alarms, %d tag sets; want 2 and 4", len(o.Alarms), len(o.TagSets()))
	}
}

// An alarm of that name without this backend's ownership tag is not the
// backend's: without replication it is neither reported, deleted nor tagged.
func TestEnsureLeavesAnotherOwnersReplicationAlarm(t *testing.T) {
	for name, owner := range map[string]string{"no ownership tag": "", "another backend's": "acme-2"} {
		t.Run(name, func(t *testing.T) {
			f := appliedWith(t, replicatedSpec())
			f.tags[alarmARN(replicationAlarm)] = map[string]string{"team": "platform"}
			if owner != "" {
				f.tags[alarmARN(replicationAlarm)][naming.OwnerTagKey] = owner
			}
			spec := testSpec()
			o := observeWith(t, f, spec)
			if _, ok := o.Alarms[replicationAlarm]; ok {
				t.Errorf("Find reports %s, which is not the backend's", replicationAlarm)
			}
			drifttest.Compliant(t, name, Drift(spec, o))
			if _, err := Ensure(context.Background(), f.clients(), spec, o, true); err != nil {
				t.Fatal(err)
			}
			if w := f.writes(); len(w) != 0 {
				t.Errorf("writes %v, want none", w)
			}
			if _, ok := f.alarms[replicationAlarm]; !ok {
				t.Error("another owner's alarm was deleted")
			}
		})
	}
}

func TestEnsureReportsAFailedRemoval(t *testing.T) {
	boom := errors.New("boom")
	f := appliedWith(t, replicatedSpec())
	f.fail["DeleteAlarms"] = []error{boom}
	_, err := observeAndEnsure(context.Background(), f, testSpec(), true)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "cloudwatch:DeleteAlarms "+replicationAlarm) {
		t.Errorf("Ensure = %v, want the DeleteAlarms failure naming %s", err, replicationAlarm)
	}
}

// DeleteAlarms deletes nothing when one of its names does not exist (as
// CloudWatch documents it): Delete gives each alarm a call of its own, so an
// alarm deleted out of band, or the replication alarm of a backend without
// replication, does not keep the others.
func TestDeleteEachAlarmAlone(t *testing.T) {
	for name, spec := range map[string]Spec{"without replication": testSpec(), "with replication": replicatedSpec()} {
		t.Run(name, func(t *testing.T) {
			f := appliedWith(t, spec)
			delete(f.alarms, spec.alarms()[0].name)
			if err := Delete(context.Background(), f.clients(), spec); err != nil {
				t.Fatal(err)
			}
			if len(f.alarms) != 0 {
				t.Errorf("alarms left: %v", slices.Collect(maps.Keys(f.alarms)))
			}
			for _, in := range f.alarmsGone {
				if len(in.AlarmNames) != 1 {
					t.Errorf("DeleteAlarms %v, want one alarm per call", in.AlarmNames)
				}
			}
		})
	}
	// Each failure is reported by name.
	boom := errors.New("boom")
	f := appliedWith(t, replicatedSpec())
	f.fail["DeleteAlarms"] = []error{boom, boom, boom}
	err := Delete(context.Background(), f.clients(), replicatedSpec())
	for _, n := range replicatedSpec().allAlarmNames() {
		if !strings.Contains(err.Error(), "cloudwatch:DeleteAlarms "+n) {
			t.Errorf("Delete = %v, want %s named", err, n)
		}
	}
}
