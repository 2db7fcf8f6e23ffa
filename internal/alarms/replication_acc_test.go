package alarms_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/alarms"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// The replication alarm on the emulator: made with the others and read back
// compliant (CloudWatch's own answer carries the dimensions Drift compares),
// repaired when its rule ID changes out of band, deleted by the next Ensure
// once replication is removed (the other alarms stay), and Delete leaves
// nothing though the replication alarm is gone by then.
func TestAccAlarms_replicationAlarm(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t)
	clients := alarms.Clients{Logs: c.Logs, Alarms: c.CloudWatch, IAM: c.IAM}
	name := acctest.RandomName("al")
	bucket := naming.StateBucket(name, c.AccountID)
	spec := alarms.Spec{Backend: name, Partition: c.Partition, Region: c.Region, AccountID: c.AccountID, StateBucket: bucket,
		TrailARN: "arn:aws:cloudtrail:" + c.Region + ":" + c.AccountID + ":trail/" + naming.Trail(name),
		KeyARN:   "arn:aws:kms:" + c.Region + ":" + c.AccountID + ":key/00000000-0000-0000-0000-000000000000",
		TopicARN: "arn:aws:sns:" + c.Region + ":" + c.AccountID + ":" + name, RetentionDays: 90,
		Tags:        map[string]string{naming.OwnerTagKey: name},
		Replication: &alarms.ReplicationAlarm{SourceBucket: bucket, DestinationBucket: naming.ReplicaBucket(bucket), RuleID: naming.ReplicationRuleID}}
	t.Cleanup(func() { _ = alarms.Delete(context.Background(), clients, spec) })
	replication := naming.ReplicationFailedAlarm(name)

	o, err := alarms.Ensure(ctx, clients, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	drifttest.Compliant(t, "created", alarms.Drift(spec, o))
	stored, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{replication}})
	if err != nil || len(stored.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms %s = %v, %v", replication, stored, err)
	}
	a := stored.MetricAlarms[0]
	if aws.ToString(a.Namespace) != "AWS/S3" || aws.ToString(a.MetricName) != "OperationsFailedReplication" || len(a.Dimensions) != 3 ||
		aws.ToFloat64(a.Threshold) != 0 || a.ComparisonOperator != "GreaterThanThreshold" || aws.ToString(a.TreatMissingData) != "notBreaching" {
		t.Errorf("stored alarm %+v", a)
	}

	// Another rule ID out of band: drift, then repaired.
	if _, err := c.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(replication), Namespace: a.Namespace,
		MetricName: a.MetricName, Dimensions: a.Dimensions[:2], Statistic: a.Statistic,
		Period: a.Period, EvaluationPeriods: a.EvaluationPeriods, Threshold: a.Threshold, ComparisonOperator: a.ComparisonOperator,
		AlarmActions: a.AlarmActions, ActionsEnabled: a.ActionsEnabled}); err != nil {
		t.Fatal(err)
	}
	if o, err = alarms.Find(ctx, clients, spec); err != nil {
		t.Fatal(err)
	}
	if d := alarms.Drift(spec, o)[alarms.ControlReplication]; d == "" {
		t.Error("a dimension dropped out of band is not drift")
	}
	if o, err = alarms.Ensure(ctx, clients, spec, o, true); err != nil {
		t.Fatal(err)
	}
	drifttest.Compliant(t, "repaired", alarms.Drift(spec, o))

	// Replication removed: the next Ensure deletes its alarm, and only it.
	without := spec
	without.Replication = nil
	if o, err = alarms.Find(ctx, clients, without); err != nil {
		t.Fatal(err)
	}
	if d := alarms.Drift(without, o)[alarms.ControlReplication]; d == "" {
		t.Error("the replication alarm left after replication was removed is not drift")
	}
	if o, err = alarms.Ensure(ctx, clients, without, o, true); err != nil {
		t.Fatal(err)
	}
	drifttest.Compliant(t, "replication removed", alarms.Drift(without, o))
	left, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name + "-")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range left.MetricAlarms {
		names = append(names, aws.ToString(a.AlarmName))
	}
	if want := []string{naming.AccessDeniedAlarm(name), naming.StateDeletedAlarm(name)}; !slices.Equal(slices.Sorted(slices.Values(names)), want) {
		t.Errorf("alarms left %v, want %v", names, want)
	}

	if err := alarms.Delete(ctx, clients, spec); err != nil {
		t.Fatal(err)
	}
	if left, err = c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name + "-")}); err != nil || len(left.MetricAlarms) != 0 {
		t.Errorf("after Delete: alarms %v, %v", left.MetricAlarms, err)
	}
}
