package backend_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// checkStateEvents reads from AWS: the state bucket sends its events to
// EventBridge; the rule matches deleted objects of the state bucket other
// than lock files and notifies the alarm topic; with replication, the
// replication-failure alarm watches the rule's failed operations.
func checkStateEvents(t *testing.T, wantReplicationAlarm bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		c, ctx := acctest.Client(t), context.Background()
		n, err := c.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: &a.Bucket})
		if err != nil || n.EventBridgeConfiguration == nil {
			return fmt.Errorf("the state bucket does not send its events to EventBridge: %v %w", n, err)
		}
		rule := naming.StateEventsRule(a.Name)
		r, err := c.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: &rule})
		if err != nil {
			return fmt.Errorf("events rule %s: %w", rule, err)
		}
		var pattern struct {
			Source     []string `json:"source"`
			DetailType []string `json:"detail-type"`
			Detail     struct {
				Bucket struct {
					Name []string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key []map[string]any `json:"key"`
				} `json:"object"`
			} `json:"detail"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(r.EventPattern)), &pattern); err != nil {
			return fmt.Errorf("events rule pattern %q: %w", aws.ToString(r.EventPattern), err)
		}
		if !slices.Equal(pattern.Source, []string{"aws.s3"}) || !slices.Equal(pattern.DetailType, []string{"Object Deleted"}) ||
			!slices.Equal(pattern.Detail.Bucket.Name, []string{a.Bucket}) || len(pattern.Detail.Object.Key) != 1 {
			return fmt.Errorf("events rule pattern does not match deleted state objects of %s: %s", a.Bucket, aws.ToString(r.EventPattern))
		}
		if string(r.State) != "ENABLED" {
			return fmt.Errorf("events rule is %s", r.State)
		}
		targets, err := c.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: &rule})
		if err != nil || len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != topicARN {
			return fmt.Errorf("events rule targets %v, want the alarm topic only: %w", targets, err)
		}
		al, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{naming.ReplicationFailedAlarm(a.Name)}})
		if err != nil {
			return err
		}
		if got := len(al.MetricAlarms) == 1; got != wantReplicationAlarm {
			return fmt.Errorf("replication failure alarm present: %v, want %v", got, wantReplicationAlarm)
		}
		if wantReplicationAlarm {
			m := al.MetricAlarms[0]
			dims := map[string]string{}
			for _, d := range m.Dimensions {
				dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
			}
			if aws.ToString(m.MetricName) != "OperationsFailedReplication" || aws.ToString(m.Namespace) != "AWS/S3" ||
				dims["SourceBucket"] != a.Bucket || dims["DestinationBucket"] != a.ReplicaBucket || dims["RuleId"] != naming.ReplicationRuleID ||
				len(m.AlarmActions) != 1 || m.AlarmActions[0] != topicARN {
				return fmt.Errorf("replication failure alarm: %s %s %v actions %v", aws.ToString(m.Namespace), aws.ToString(m.MetricName), dims, m.AlarmActions)
			}
		}
		return nil
	}
}

// State-change events with alarms and replication: the bucket's EventBridge
// notifications, the rule to the alarm topic and the replication failure
// alarm; drift of the notifications and of the rule's target repaired;
// removing replication removes its alarm; destroy removes the rule.
func TestAccBackend_stateEvents(t *testing.T) {
	ctx := context.Background()
	name := acctest.RandomName("events")
	repl := monitoredWithAlarms + `
  replication {
    region = "` + replicaRegion + `"
  }`
	var bucket string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			rule := naming.StateEventsRule(name)
			if _, err := acctest.Client(t).Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: &rule}); err == nil {
				return fmt.Errorf("events rule %s left after destroy", rule)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config(name, repl),
				Check: resource.ComposeAggregateTestCheckFunc(checkAlarms(t), checkStateEvents(t, true), checkReplica(t),
					func(s *terraform.State) error { a, err := attrsOf(s); bucket = a.Bucket; return err }),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				PreConfig: func() {
					if _, err := acctest.Client(t).S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: &bucket,
						NotificationConfiguration: &s3types.NotificationConfiguration{}}); err != nil {
						t.Fatal(err)
					}
					rule := naming.StateEventsRule(name)
					if _, err := acctest.Client(t).Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: &rule, Ids: []string{"alarm-topic"}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(name, repl),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
					expectControlDrift("bucket_event_notifications", "state_delete_events"),
				}},
				Check:             checkStateEvents(t, true),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				Config:            config(name, monitoredWithAlarms),
				Check:             checkStateEvents(t, false),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
		},
	})
}
