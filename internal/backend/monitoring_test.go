package backend_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

const monitored = `
  force_destroy = true
  access_logging {
    retention_days = 90
  }
  cloudtrail {}`

const topicARN = "arn:aws:sns:us-east-1:123456789012:state-alerts"

const monitoredWithAlarms = `
  force_destroy = true
  access_logging {
    retention_days = 90
  }
  cloudtrail {
    alarms {
      sns_topic_arn = "` + topicARN + `"
    }
  }`

// checkAlarms reads the alarm pipeline from AWS directly.
func checkAlarms(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		c, ctx := acctest.Client(t), context.Background()
		group := "/securestate/" + a.Name + "/cloudtrail"
		lg, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: &group})
		if err != nil || len(lg.LogGroups) != 1 || aws.ToInt32(lg.LogGroups[0].RetentionInDays) != 90 {
			return fmt.Errorf("log group %s with 90 days retention (as the logs): %v", group, err)
		}
		if got := aws.ToString(lg.LogGroups[0].KmsKeyId); got != a.KeyARN {
			return fmt.Errorf("log group %s is encrypted with %q, want the backend key %s", group, got, a.KeyARN)
		}
		grant, err := logsKeyGrant(ctx, c, a.KeyID)
		if err != nil {
			return err
		}
		wantGroup := strings.TrimSuffix(aws.ToString(lg.LogGroups[0].Arn), ":*") // DescribeLogGroups adds the stream suffix
		if grant == nil || len(grant.Principal["Service"]) != 1 || grant.Principal["Service"][0] != "logs.us-east-1.amazonaws.com" ||
			len(grant.Condition["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]) != 1 ||
			grant.Condition["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"][0] != wantGroup {
			return fmt.Errorf("key policy does not grant CloudWatch Logs the key for %s only: %+v", wantGroup, grant)
		}
		tr, err := c.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(a.Name + "-tfstate-audit")})
		if err != nil || !strings.Contains(aws.ToString(tr.Trail.CloudWatchLogsLogGroupArn), group) || !strings.HasSuffix(aws.ToString(tr.Trail.CloudWatchLogsRoleArn), "role/securestate/"+a.Name+"-tfstate-trail-logs") {
			return fmt.Errorf("trail does not deliver to %s through its role: %v", group, err)
		}
		mf, err := c.Logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: &group})
		if err != nil || len(mf.MetricFilters) != 2 {
			return fmt.Errorf("metric filters: %v", err)
		}
		patterns := ""
		for _, f := range mf.MetricFilters {
			patterns += aws.ToString(f.FilterPattern)
		}
		if !strings.Contains(patterns, `"*.tfstate"`) || !strings.Contains(patterns, `"AccessDenied"`) || !strings.Contains(patterns, a.Bucket) {
			return fmt.Errorf("metric filters do not watch state deletions and access denied on %s: %s", a.Bucket, patterns)
		}
		al, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(a.Name + "-tfstate-")})
		// The replication failure alarm (with replication) is checked by
		// checkStateEvents.
		al.MetricAlarms = slices.DeleteFunc(al.MetricAlarms, func(m cwtypes.MetricAlarm) bool {
			return aws.ToString(m.AlarmName) == naming.ReplicationFailedAlarm(a.Name)
		})
		if err != nil || len(al.MetricAlarms) != 2 {
			return fmt.Errorf("alarms: %v", err)
		}
		for _, m := range al.MetricAlarms {
			if len(m.AlarmActions) != 1 || m.AlarmActions[0] != topicARN || !aws.ToBool(m.ActionsEnabled) {
				return fmt.Errorf("alarm %s notifies %v (actions enabled: %v)", aws.ToString(m.AlarmName), m.AlarmActions, aws.ToBool(m.ActionsEnabled))
			}
		}
		return nil
	}
}

func TestAccBackend_alarms(t *testing.T) {
	name := acctest.RandomName("alarm")
	var got captured
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(checkMonitoringDestroyed(t, name), func(*terraform.State) error {
			out, err := acctest.Client(t).CloudWatch.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name + "-")})
			if err != nil || len(out.MetricAlarms) != 0 {
				return fmt.Errorf("alarms left after destroy: %v", err)
			}
			return nil
		}),
		Steps: []resource.TestStep{
			{
				Config:            config(name, monitoredWithAlarms),
				Check:             resource.ComposeTestCheckFunc(got.capture(), checkMonitored(t), checkAlarms(t)),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				// Import finds the log bucket, the trail and the alarms' topic.
				ResourceName:            resourceName,
				ImportState:             true,
				ImportStateId:           name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"force_destroy", "kms_deletion_window_days", "timeouts"},
			},
			{
				// An alarm deleted out of band is drift, repaired on apply.
				PreConfig: func() {
					if _, err := acctest.Client(t).CloudWatch.DeleteAlarms(context.Background(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{got.Name + "-tfstate-state-deleted"}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(name, monitoredWithAlarms),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
					expectControlDrift("alarm_state_deletion"),
				}},
				Check:             checkAlarms(t),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				// The access-denied alarm muted out of band (actions off, no
				// topic) is drift, repaired on apply.
				PreConfig: func() {
					c, ctx := acctest.Client(t), context.Background()
					alarm := got.Name + "-tfstate-access-denied"
					out, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
					if err != nil || len(out.MetricAlarms) != 1 {
						t.Fatalf("reading alarm %s: %v", alarm, err)
					}
					a := out.MetricAlarms[0]
					if _, err := c.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: a.AlarmName, MetricName: a.MetricName, Namespace: a.Namespace,
						Statistic: a.Statistic, Period: a.Period, EvaluationPeriods: a.EvaluationPeriods, Threshold: a.Threshold,
						ComparisonOperator: a.ComparisonOperator, ActionsEnabled: aws.Bool(false)}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(name, monitoredWithAlarms),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
					expectControlDrift("alarm_access_denied"),
				}},
				Check:             checkAlarms(t),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				// A log group no longer encrypted with the backend key is drift;
				// apply associates the key again without recreating the group.
				PreConfig: func() {
					if _, err := acctest.Client(t).Logs.DisassociateKmsKey(context.Background(), &cloudwatchlogs.DisassociateKmsKeyInput{
						LogGroupName: aws.String("/securestate/" + got.Name + "/cloudtrail")}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(name, monitoredWithAlarms),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
					expectControlDrift("alarm_log_delivery"),
				}},
				Check:             checkAlarms(t),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				// Alarms removed: the trail stops sending to CloudWatch Logs and the pipeline goes.
				Config: config(name, monitored),
				Check: resource.ComposeTestCheckFunc(checkMonitored(t), func(*terraform.State) error {
					c, ctx := acctest.Client(t), context.Background()
					al, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name + "-")})
					if err != nil || len(al.MetricAlarms) != 0 {
						return fmt.Errorf("alarms left after removing the block: %v", err)
					}
					tr, err := c.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(name + "-tfstate-audit")})
					if err != nil || aws.ToString(tr.Trail.CloudWatchLogsLogGroupArn) != "" {
						return fmt.Errorf("trail still sends to CloudWatch Logs: %v", err)
					}
					if grant, err := logsKeyGrant(ctx, c, got.KeyID); err != nil || grant != nil {
						return fmt.Errorf("key policy still grants CloudWatch Logs the key: %+v %v", grant, err)
					}
					return nil
				}),
			},
		},
	})
}

// logsKeyGrant is the key policy statement that lets CloudWatch Logs use the
// key (nil when there is none).
func logsKeyGrant(ctx context.Context, c *awsclient.Client, keyID string) (*policydoc.Statement, error) {
	kp, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &keyID, PolicyName: aws.String("default")})
	if err != nil {
		return nil, err
	}
	doc, err := policydoc.Parse(aws.ToString(kp.Policy))
	if err != nil {
		return nil, err
	}
	for _, st := range doc.Statement {
		if st.Sid == policies.SidLogsEncrypt {
			return &st, nil
		}
	}
	return nil, nil
}

// checkMonitored reads the log bucket, the state bucket's logging, the trail
// and (with every other control) the key policy's grants for them from AWS
// directly.
func checkMonitored(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		c, ctx := acctest.Client(t), context.Background()
		if err := acctest.CheckHardened(ctx, c, a); err != nil {
			return err
		}
		return acctest.CheckMonitored(ctx, c, a)
	}
}

func TestAccBackend_monitoring(t *testing.T) {
	name := acctest.RandomName("mon")
	var got captured
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkMonitoringDestroyed(t, name),
		Steps: []resource.TestStep{
			{
				Config: config(name, monitored),
				Check:  resource.ComposeTestCheckFunc(got.capture(), checkHardened(t, true), checkMonitored(t)),
				ConfigStateChecks: []statecheck.StateCheck{
					allCompliant(),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("controls"), knownvalue.MapSizeExact(17+1+6+4)),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("trail_arn"), knownvalue.StringRegexp(regexp.MustCompile(`:trail/`+name+`-tfstate-audit$`))),
				},
			},
			{
				// Monitoring removed: the trail and the (forced) log bucket go, logging stops.
				Config: config(name, "  force_destroy = true"),
				Check: func(*terraform.State) error {
					c, ctx := acctest.Client(t), context.Background()
					if _, err := c.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(name + "-tfstate-audit")}); err == nil {
						return fmt.Errorf("trail still exists after cloudtrail was removed")
					}
					lg, err := c.S3.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: &got.Bucket})
					if err != nil || lg.LoggingEnabled != nil {
						return fmt.Errorf("state bucket still logs after access_logging was removed: %v", err)
					}
					if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(got.Bucket + "-logs")}); err == nil {
						return fmt.Errorf("log bucket still exists")
					}
					return nil
				},
				ConfigStateChecks: []statecheck.StateCheck{
					allCompliant(),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("log_bucket"), knownvalue.Null()),
				},
			},
		},
	})
}

func checkMonitoringDestroyed(t *testing.T, name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if err := checkDestroyed(t)(s); err != nil {
			return err
		}
		c, ctx := acctest.Client(t), context.Background()
		if _, err := c.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(name + "-tfstate-audit")}); err == nil {
			return fmt.Errorf("trail still exists")
		}
		out, err := c.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			return err
		}
		for _, b := range out.Buckets {
			if strings.HasPrefix(aws.ToString(b.Name), name+"-") {
				return fmt.Errorf("bucket %s still exists", aws.ToString(b.Name))
			}
		}
		return nil
	}
}

// Logging turned off, trail stopped or its selectors changed, log bucket
// policy removed: each shows in the plan and is repaired.
func TestAccBackend_monitoringDrift(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		control string
		change  func(c *awsclient.Client, a backendAttrs) error
	}{
		{"bucket_access_logging", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: &a.Bucket, BucketLoggingStatus: &s3types.BucketLoggingStatus{}})
			return err
		}},
		{"trail_logging", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.CloudTrail.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(a.Name + "-tfstate-audit")})
			return err
		}},
		{"trail_event_selectors", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.CloudTrail.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(a.Name + "-tfstate-audit"),
				EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, DataResources: []cttypes.DataResource{
					{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::" + a.Bucket + "/"}}}}}})
			return err
		}},
		{"log_bucket_policy", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(a.Bucket + "-logs")})
			return err
		}},
		{"log_bucket_versioning", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(a.Bucket + "-logs"),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
			return err
		}},
		{"log_bucket_encryption", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(a.Bucket + "-logs")})
			return err
		}},
		{"log_bucket_public_access_block", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(a.Bucket + "-logs")})
			return err
		}},
		{"log_bucket_ownership_controls", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(a.Bucket + "-logs"), OwnershipControls: &s3types.OwnershipControls{
				Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerPreferred}}}})
			return err
		}},
		{"log_bucket_lifecycle", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(a.Bucket + "-logs")})
			return err
		}},
		{"trail_log_file_validation", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.CloudTrail.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(a.Name + "-tfstate-audit"), EnableLogFileValidation: aws.Bool(false)})
			return err
		}},
		// Logs delivered under another prefix, outside the log bucket's grant.
		{"trail_destination", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.CloudTrail.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(a.Name + "-tfstate-audit"), S3KeyPrefix: aws.String("elsewhere")})
			return err
		}},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%02d_%s", i, tc.control), func(t *testing.T) {
			name := acctest.RandomName("mdrift")
			var got captured
			resource.ParallelTest(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				CheckDestroy:             checkMonitoringDestroyed(t, name),
				Steps: []resource.TestStep{
					{Config: config(name, monitored), Check: got.capture()},
					{
						PreConfig: func() {
							if err := tc.change(acctest.Client(t), got.backendAttrs); err != nil {
								t.Fatalf("changing %s out of band: %s", tc.control, err)
							}
						},
						Config: config(name, monitored),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
							expectControlDrift(tc.control),
						}},
						Check:             checkMonitored(t),
						ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
					},
				},
			})
		})
	}
}

func TestBackend_monitoringInvalid(t *testing.T) {
	cases := map[string]struct{ args, want string }{
		"cloudtrail without access_logging": {"name = \"acme\"\ncloudtrail {}", `cloudtrail needs access_logging`},
		"target_bucket with cloudtrail":     {"name = \"acme\"\naccess_logging {\n target_bucket = \"acme-logs\"\n}\ncloudtrail {}", `target_bucket cannot be combined with cloudtrail`},
		"logs into the state bucket":        {"name = \"acme\"\nbucket = \"acme-state\"\naccess_logging {\n target_bucket = \"acme-state\"\n}", `Logs cannot go to the state bucket`},
		"retention zero":                    {"name = \"acme\"\naccess_logging {\n retention_days = 0\n}", `retention_days[\s\S]*between 1 and 3650`},
		"target bucket invalid":             {"name = \"acme\"\naccess_logging {\n target_bucket = \"Bad_Bucket\"\n}", `target_bucket[\s\S]*lowercase`},
		"alarms without topic":              {"name = \"acme\"\naccess_logging {}\ncloudtrail {\n alarms {}\n}", `Missing sns_topic_arn`},
		"alarms topic not SNS":              {"name = \"acme\"\naccess_logging {}\ncloudtrail {\n alarms {\n sns_topic_arn = \"arn:aws:sqs:us-east-1:123456789012:q\"\n }\n}", `sns_topic_arn[\s\S]*not an SNS topic ARN`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      offlineProvider + "resource \"securestate_backend\" \"test\" {\n" + tc.args + "\n}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
}

// A target_bucket that does not exist is refused at plan.
func TestAccBackend_accessLoggingTargetMustExist(t *testing.T) {
	name := acctest.RandomName("tgt")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config(name, "  access_logging {\n    target_bucket = \""+name+"-nowhere\"\n  }"),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`target_bucket does not exist`),
		}},
	})
}

// Destroy refuses while the managed log bucket holds logs, before deleting
// anything; with force_destroy it removes logs and bucket too.
// A target_bucket known only at apply is checked at apply: the state bucket's
// own name is refused there as it is at plan, and nothing is created.
func TestAccBackend_accessLoggingTargetCheckedAtApply(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tgtu")
	stateBucket := naming.StateBucket(name, acctest.Client(t).AccountID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if ok, err := statebucket.Exists(context.Background(), acctest.Client(t).S3, stateBucket); err != nil || ok {
				return fmt.Errorf("state bucket %s exists (%v) after a refused create", stateBucket, err)
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: `
resource "terraform_data" "target" {
  input = "` + stateBucket + `"
}
` + config(name, "  access_logging {\n    target_bucket = terraform_data.target.output\n  }"),
			ExpectError: regexp.MustCompile(`Logs cannot go to the state bucket`),
		}},
	})
}

// Principals of another account could never use the key or the bucket: the
// plan refuses them, naming principals.
func TestAccBackend_principalInAnotherAccount(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config(acctest.RandomName("xacct"), `  principals = ["arn:aws:iam::210987654321:role/ci"]`),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Principal in another account.*principals = .*belongs to account 210987654321`),
		}},
	})
}

func TestAccBackend_destroyRefusedWhileLogsExist(t *testing.T) {
	name := acctest.RandomName("keeplogs")
	var got captured
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkMonitoringDestroyed(t, name),
		Steps: []resource.TestStep{
			{
				Config: config(name, "  access_logging {}"),
				Check: resource.ComposeTestCheckFunc(got.capture(), func(*terraform.State) error {
					_, err := acctest.Client(t).S3.PutObject(context.Background(), &s3.PutObjectInput{
						Bucket: aws.String(got.Bucket + "-logs"), Key: aws.String("state-bucket/2026-11-23-00-00-00-LOG"), Body: strings.NewReader("log line")})
					return err
				}),
			},
			{
				Config:      config(name, "  access_logging {}"),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)Backend still holds state or logs.*holds [0-9]+ object\s+versions.*access\s+logs`),
			},
			{
				// The refused destroy deleted nothing.
				Config: config(name, "  force_destroy = true\n  access_logging {}"),
				Check:  checkHardened(t, true),
			},
		},
	})
}
