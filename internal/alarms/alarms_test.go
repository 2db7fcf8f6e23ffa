package alarms

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
)

func TestDrift(t *testing.T) {
	spec := Spec{Backend: "acme", Partition: "aws", Region: "us-east-1", AccountID: "123456789012", StateBucket: "acme-tfstate-123456789012",
		TrailARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/acme-tfstate-audit", KeyARN: "arn:aws:kms:us-east-1:123456789012:key/k",
		TopicARN: "arn:aws:sns:us-east-1:123456789012:alerts", RetentionDays: 365}
	compliant := func() *Observed {
		o := &Observed{LogGroup: true, Retention: RetentionFor(spec.RetentionDays), KeyARN: spec.KeyARN, Role: true,
			Trust: spec.trustPolicy(), RolePolicy: spec.rolePolicy(), Filters: map[string]string{}, Alarms: map[string]cwtypes.MetricAlarm{}}
		for _, a := range spec.alarms() {
			o.Filters[a.name] = a.pattern
			o.Alarms[a.name] = cwtypes.MetricAlarm{AlarmName: aws.String(a.name), MetricName: aws.String(a.metric), Namespace: aws.String(Namespace),
				AlarmActions: []string{spec.TopicARN}, ActionsEnabled: aws.Bool(true)}
		}
		return o
	}
	drifttest.Compliant(t, "compliant alarms", Drift(spec, compliant()))
	deletion := spec.alarms()[0].name
	cases := map[string]struct {
		mutate  func(*Observed)
		control string
		want    string
	}{
		"log group gone":      {func(o *Observed) { o.LogGroup = false }, ControlDelivery, "is missing"},
		"log group unkeyed":   {func(o *Observed) { o.KeyARN = "" }, ControlDelivery, "not encrypted with the backend key"},
		"retention shortened": {func(o *Observed) { o.Retention = 7 }, ControlDelivery, "7 days"},
		"role gone":           {func(o *Observed) { o.Role = false }, ControlDelivery, "role"},
		"trust widened": {func(o *Observed) {
			o.Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		}, ControlDelivery, "trust policy differs"},
		"role policy replaced": {func(o *Observed) { o.RolePolicy = "" }, ControlDelivery, "permissions differ"},
		"filter changed":       {func(o *Observed) { o.Filters[deletion] = `{ $.eventName = "x" }` }, ControlStateDeletion, "metric filter"},
		"alarm deleted":        {func(o *Observed) { delete(o.Alarms, deletion) }, ControlStateDeletion, "is missing"},
		"alarm silenced": {func(o *Observed) {
			a := o.Alarms[deletion]
			a.ActionsEnabled = aws.Bool(false)
			o.Alarms[deletion] = a
		}, ControlStateDeletion, "does not notify"},
		"alarm to another topic": {func(o *Observed) {
			a := o.Alarms[deletion]
			a.AlarmActions = []string{"arn:aws:sns:us-east-1:123456789012:elsewhere"}
			o.Alarms[deletion] = a
		}, ControlStateDeletion, "does not notify"},
	}
	for name, tc := range cases {
		o := compliant()
		tc.mutate(o)
		drifttest.Expect(t, name, Drift(spec, o), tc.control, tc.want)
	}
}

func TestRetentionFor(t *testing.T) {
	for days, want := range map[int32]int32{1: 1, 2: 3, 90: 90, 91: 120, 365: 365, 3653: 3653, 3654: 3653, 10000: 3653} {
		if got := RetentionFor(days); got != want {
			t.Errorf("RetentionFor(%d) = %d, want %d", days, got, want)
		}
	}
}
