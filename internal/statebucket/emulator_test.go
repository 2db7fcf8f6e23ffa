package statebucket_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// The component against the emulator, as the fake models S3: a bucket made
// with a default retention and EventBridge is compliant (versioning before
// Object Lock), a state written with the SDK's default checksum is retained
// until the rule's end and counted by Retained, drift on both controls is
// seen and repaired (others' notification configurations kept), and
// ClearDefaultRetention leaves Object Lock on without a rule.
func TestAccStateBucket_objectLockAndEvents(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t).S3
	name := acctest.RandomName("sb-lock")
	t.Cleanup(func() { removeRetainedBucket(t, c, name) })
	spec := statebucket.Spec{
		Backend: "acctest", Bucket: name, Region: c.Options().Region, NoncurrentDays: 1,
		KeyARN: "arn:aws:kms:" + c.Options().Region + ":123456789012:key/11111111-2222-3333-4444-555555555555",
		Policy: policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{{
			Sid: "DenyInsecureTransport", Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}}, Action: policydoc.StringSet{"s3:*"},
			Resource:  policydoc.StringSet{"arn:aws:s3:::" + name, "arn:aws:s3:::" + name + "/*"},
			Condition: policydoc.Conditions{"Bool": {"aws:SecureTransport": {"false"}}},
		}}},
		ObjectLock: &statebucket.ObjectLock{Mode: "GOVERNANCE", Days: 1}, EventBridge: true,
		Tags: map[string]string{naming.OwnerTagKey: "acctest"},
	}
	o, err := statebucket.Ensure(ctx, c, spec, nil, false)
	if err != nil {
		t.Fatalf("Ensure of a new bucket: %s", err)
	}
	drifttest.Compliant(t, "new bucket", statebucket.Drift(spec, o))

	start := time.Now()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &name, Key: aws.String("dev/terraform.tfstate"), Body: strings.NewReader("{}")}); err != nil {
		t.Fatalf("writing a state with the SDK's default checksum: %s", err)
	}
	n, until, err := statebucket.Retained(ctx, c, name, time.Now())
	if err != nil || n != 1 || until.Before(start.Add(23*time.Hour)) || until.After(start.Add(25*time.Hour)) {
		t.Errorf("Retained = %d, %s, %v; want 1 until a day after the write", n, until, err)
	}
	if n, _, err := statebucket.Retained(ctx, c, name, start.Add(48*time.Hour)); err != nil || n != 0 {
		t.Errorf("Retained two days later = %d, %v; want 0", n, err)
	}

	// Out of band: someone replaces the notification configuration with
	// their queue alone, and lengthens the default retention.
	queue := types.QueueConfiguration{Id: aws.String("audit"), QueueArn: aws.String("arn:aws:sqs:" + c.Options().Region + ":123456789012:audit"),
		Events: []types.Event{"s3:ObjectCreated:*"}}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: &name, SkipDestinationValidation: aws.Bool(true),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{queue}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &name, ObjectLockConfiguration: &types.ObjectLockConfiguration{
		ObjectLockEnabled: types.ObjectLockEnabledEnabled,
		Rule:              &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Days: aws.Int32(2)}},
	}}); err != nil {
		t.Fatal(err)
	}
	o, err = statebucket.Find(ctx, c, name)
	if err != nil {
		t.Fatal(err)
	}
	d := statebucket.Drift(spec, o)
	if d[statebucket.ControlObjectLock] != "default retention is GOVERNANCE 2 days, want GOVERNANCE 1 day" ||
		d[statebucket.ControlEventNotifications] != "events are not sent to EventBridge" {
		t.Errorf("drift %v, want the rule and the events named", d)
	}
	if o, err = statebucket.Ensure(ctx, c, spec, o, true); err != nil {
		t.Fatalf("Ensure repairing: %s", err)
	}
	drifttest.Compliant(t, "repaired", statebucket.Drift(spec, o))
	got, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: &name})
	if err != nil || len(got.QueueConfigurations) != 1 || aws.ToString(got.QueueConfigurations[0].Id) != "audit" {
		t.Errorf("notification configuration after the repair: %+v, %v; want the queue kept", got, err)
	}

	if err := statebucket.ClearDefaultRetention(ctx, c, name); err != nil {
		t.Fatalf("ClearDefaultRetention: %s", err)
	}
	if o, err = statebucket.Find(ctx, c, name); err != nil || !o.ObjectLockEnabled || o.ObjectLockMode != "" || o.ObjectLockDays != 0 {
		t.Errorf("after ClearDefaultRetention: %+v, %v; want Object Lock on without a rule", o, err)
	}
	if d := statebucket.Drift(spec, o); d[statebucket.ControlObjectLock] != "no default retention, want GOVERNANCE 1 day" {
		t.Errorf("drift after ClearDefaultRetention: %q", d[statebucket.ControlObjectLock])
	}
}

// removeRetainedBucket deletes the test bucket, bypassing its GOVERNANCE
// retention.
func removeRetainedBucket(t *testing.T, c *s3.Client, bucket string) {
	ctx := context.Background()
	_, _ = c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &bucket})
	if out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket}); err == nil {
		for _, v := range out.Versions {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId, BypassGovernanceRetention: aws.Bool(true)})
		}
		for _, m := range out.DeleteMarkers {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: m.Key, VersionId: m.VersionId})
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket}); err != nil {
		t.Logf("cleanup: deleting bucket %s: %s", bucket, err)
	}
}
