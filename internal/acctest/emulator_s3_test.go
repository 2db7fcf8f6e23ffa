package acctest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
)

// versionedBucket makes a bucket with versioning Enabled, removed with every
// version (retained GOVERNANCE versions too, by bypassing the retention) at
// the end of the test.
func versionedBucket(t *testing.T, c *s3.Client, prefix string) string {
	t.Helper()
	ctx := context.Background()
	bucket := acctest.RandomName(prefix)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("creating bucket %s: %s", bucket, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
		if err == nil {
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
	})
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatalf("enabling versioning on %s: %s", bucket, err)
	}
	return bucket
}

// A bucket's events go to EventBridge when its notification configuration
// says so, and a backend reads the configuration back to see that they do.
// moto 5.2.5 accepts EventBridgeConfiguration and drops it on read; the
// harness returns it, beside the other configurations, and forgets it when a
// configuration without it is put.
func TestAccEmulator_eventBridgeNotificationReadBack(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t).S3
	bucket := versionedBucket(t, c, "events")
	queue := s3types.QueueConfiguration{Id: aws.String("audit"), QueueArn: aws.String("arn:aws:sqs:" + c.Options().Region + ":123456789012:audit"),
		Events: []s3types.Event{"s3:ObjectRemoved:*"}}
	put := func(cfg *s3types.NotificationConfiguration) {
		t.Helper()
		if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: &bucket,
			NotificationConfiguration: cfg, SkipDestinationValidation: aws.Bool(true)}); err != nil {
			t.Fatalf("PutBucketNotificationConfiguration: %s", err)
		}
	}
	get := func() *s3.GetBucketNotificationConfigurationOutput {
		t.Helper()
		out, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: &bucket})
		if err != nil {
			t.Fatalf("GetBucketNotificationConfiguration: %s", err)
		}
		return out
	}
	put(&s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}, QueueConfigurations: []s3types.QueueConfiguration{queue}})
	out := get()
	if out.EventBridgeConfiguration == nil {
		t.Error("EventBridgeConfiguration put but not read back")
	}
	if len(out.QueueConfigurations) != 1 || aws.ToString(out.QueueConfigurations[0].Id) != "audit" {
		t.Errorf("queue configurations %+v, want the one put beside EventBridge", out.QueueConfigurations)
	}
	put(&s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{queue}})
	if out := get(); out.EventBridgeConfiguration != nil || len(out.QueueConfigurations) != 1 {
		t.Errorf("after a put without EventBridge: EventBridge %v, %d queues; want none and the queue", out.EventBridgeConfiguration, len(out.QueueConfigurations))
	}
}

// A replication rule reads back as it was put, so that drift on every part
// of it can be seen. moto 5.2.5 drops SourceSelectionCriteria, reads
// DeleteMarkerReplication as Disabled and every Filter as an empty prefix;
// the harness returns what was put. No object is replicated (the emulator
// copies nothing, and the harness does not pretend to): the destination
// stays empty.
func TestAccEmulator_replicationReadBack(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t).S3
	source := versionedBucket(t, c, "repl-src")
	dest := versionedBucket(t, c, "repl-dst")
	role := "arn:aws:iam::123456789012:role/securestate/replication"
	keyARN := "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	cfg := &s3types.ReplicationConfiguration{Role: aws.String(role), Rules: []s3types.ReplicationRule{
		{
			ID: aws.String("state"), Priority: aws.Int32(1), Status: s3types.ReplicationRuleStatusEnabled,
			Filter:                  &s3types.ReplicationRuleFilter{Prefix: aws.String("")},
			DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusEnabled},
			SourceSelectionCriteria: &s3types.SourceSelectionCriteria{SseKmsEncryptedObjects: &s3types.SseKmsEncryptedObjects{Status: s3types.SseKmsEncryptedObjectsStatusEnabled}},
			Destination: &s3types.Destination{
				Bucket:                  aws.String("arn:aws:s3:::" + dest),
				EncryptionConfiguration: &s3types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String(keyARN)},
				Metrics:                 &s3types.Metrics{Status: s3types.MetricsStatusEnabled, EventThreshold: &s3types.ReplicationTimeValue{Minutes: aws.Int32(15)}},
				ReplicationTime:         &s3types.ReplicationTime{Status: s3types.ReplicationTimeStatusEnabled, Time: &s3types.ReplicationTimeValue{Minutes: aws.Int32(15)}},
			},
		},
		{
			ID: aws.String("tagged"), Priority: aws.Int32(2), Status: s3types.ReplicationRuleStatusDisabled,
			Filter: &s3types.ReplicationRuleFilter{And: &s3types.ReplicationRuleAndOperator{Prefix: aws.String("env/"),
				Tags: []s3types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}},
			DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusDisabled},
			Destination:             &s3types.Destination{Bucket: aws.String("arn:aws:s3:::" + dest), StorageClass: s3types.StorageClassStandardIa},
		},
	}}
	if _, err := c.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: &source, ReplicationConfiguration: cfg}); err != nil {
		t.Fatalf("PutBucketReplication: %s", err)
	}
	out, err := c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: &source})
	if err != nil {
		t.Fatalf("GetBucketReplication: %s", err)
	}
	got := out.ReplicationConfiguration
	if aws.ToString(got.Role) != role || len(got.Rules) != 2 {
		t.Fatalf("read back role %s with %d rules, want %s with 2", aws.ToString(got.Role), len(got.Rules), role)
	}
	r := got.Rules[0]
	checks := map[string]bool{
		"ID":                              aws.ToString(r.ID) == "state",
		"Priority":                        aws.ToInt32(r.Priority) == 1,
		"Status":                          r.Status == s3types.ReplicationRuleStatusEnabled,
		"Filter (empty prefix)":           r.Filter != nil && aws.ToString(r.Filter.Prefix) == "" && r.Filter.And == nil && r.Filter.Tag == nil,
		"DeleteMarkerReplication Enabled": r.DeleteMarkerReplication != nil && r.DeleteMarkerReplication.Status == s3types.DeleteMarkerReplicationStatusEnabled,
		"SourceSelectionCriteria SseKmsEncryptedObjects Enabled": r.SourceSelectionCriteria != nil && r.SourceSelectionCriteria.SseKmsEncryptedObjects != nil &&
			r.SourceSelectionCriteria.SseKmsEncryptedObjects.Status == s3types.SseKmsEncryptedObjectsStatusEnabled,
		"Destination bucket": r.Destination != nil && aws.ToString(r.Destination.Bucket) == "arn:aws:s3:::"+dest,
		"Destination ReplicaKmsKeyID": r.Destination != nil && r.Destination.EncryptionConfiguration != nil &&
			aws.ToString(r.Destination.EncryptionConfiguration.ReplicaKmsKeyID) == keyARN,
		"Destination Metrics 15 minutes": r.Destination != nil && r.Destination.Metrics != nil && r.Destination.Metrics.Status == s3types.MetricsStatusEnabled &&
			r.Destination.Metrics.EventThreshold != nil && aws.ToInt32(r.Destination.Metrics.EventThreshold.Minutes) == 15,
		"Destination ReplicationTime 15 minutes": r.Destination != nil && r.Destination.ReplicationTime != nil &&
			r.Destination.ReplicationTime.Status == s3types.ReplicationTimeStatusEnabled && r.Destination.ReplicationTime.Time != nil &&
			aws.ToInt32(r.Destination.ReplicationTime.Time.Minutes) == 15,
	}
	r2 := got.Rules[1]
	checks["second rule ID, priority, status"] = aws.ToString(r2.ID) == "tagged" && aws.ToInt32(r2.Priority) == 2 && r2.Status == s3types.ReplicationRuleStatusDisabled
	checks["second rule And filter"] = r2.Filter != nil && r2.Filter.And != nil && aws.ToString(r2.Filter.And.Prefix) == "env/" && len(r2.Filter.And.Tags) == 2 &&
		aws.ToString(r2.Filter.And.Tags[1].Key) == "b"
	checks["second rule DeleteMarkerReplication Disabled"] = r2.DeleteMarkerReplication != nil && r2.DeleteMarkerReplication.Status == s3types.DeleteMarkerReplicationStatusDisabled
	checks["second rule storage class"] = r2.Destination != nil && r2.Destination.StorageClass == s3types.StorageClassStandardIa
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s not read back as put", what)
		}
	}

	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &source, Key: aws.String("env/terraform.tfstate"), Body: strings.NewReader("{}")}); err != nil {
		t.Fatalf("PutObject: %s", err)
	}
	if listed, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &dest}); err != nil || len(listed.Versions) != 0 {
		t.Errorf("destination after a write to the source: %v, %v; want it empty (the emulator replicates nothing)", listed, err)
	}
}

// withoutSDKChecksumHeader sends a request with its x-amz-checksum-<algorithm>
// header or trailer but without x-amz-sdk-checksum-algorithm, as clients that
// compute the checksum themselves do.
func withoutSDKChecksumHeader(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("dropSDKChecksumAlgorithm",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Header.Del("X-Amz-Sdk-Checksum-Algorithm")
				}
				return next.HandleFinalize(ctx, in)
			}), "Signing", middleware.Before)
	})
}

func expectCode(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if !awserr.HasCode(err, code) || !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("%s: %v, want %s (HTTP %d)", what, err, code, status)
	}
}

// Object Lock as AWS applies it, which state history relies on. The harness
// makes moto 5.2.5 take an Object Lock configuration on a bucket that holds
// objects (moto: InvalidBucket), refuse to suspend the versioning of a bucket
// with Object Lock (moto suspends it, and then deletes retained versions),
// accept an x-amz-checksum-<algorithm> header as the integrity proof of a
// retained upload and refuse an upload without one with AWS's InvalidRequest
// (moto: its own code, and only Content-MD5 or x-amz-sdk-checksum-algorithm),
// and answer GetObjectRetention (moto returns the object). What moto does by
// itself is checked here too: the default retention applies to new versions,
// a retained version cannot be deleted (one by one or in a batch), and a
// delete without a version ID adds a delete marker.
func TestAccEmulator_objectLock(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t).S3
	noChecksum := func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired }
	bucket := versionedBucket(t, c, "object-lock")
	before, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("before"), Body: strings.NewReader("v0")})
	if err != nil {
		t.Fatalf("PutObject before Object Lock: %s", err)
	}

	// Switched on for a versioned bucket that already holds an object.
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &bucket, ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
		ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
		Rule:              &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}},
	}}); err != nil {
		t.Fatalf("PutObjectLockConfiguration on a bucket holding an object: %s", err)
	}
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
	expectCode(t, "suspending versioning with Object Lock", err, "InvalidBucketState", http.StatusBadRequest)

	// Uploads need an integrity header.
	key := aws.String("dev/terraform.tfstate")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: key, Body: strings.NewReader("v1")}, noChecksum)
	expectCode(t, "PutObject without a checksum", err, "InvalidRequest", http.StatusBadRequest)
	if err != nil && !strings.Contains(err.Error(), "Content-MD5 OR x-amz-checksum- HTTP header is required") {
		t.Errorf("PutObject without a checksum: %s, want AWS's message", err)
	}
	sum := sha256.Sum256([]byte("v1"))
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: key, Body: strings.NewReader("v1"),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:]))}, noChecksum, withoutSDKChecksumHeader); err != nil {
		t.Errorf("PutObject with only an x-amz-checksum-sha256 header: %s, want it accepted as on AWS", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: key, Body: strings.NewReader("v1"), ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256},
		withoutSDKChecksumHeader); err != nil {
		t.Errorf("PutObject with only an x-amz-checksum-sha256 trailer: %s, want it accepted as on AWS", err)
	}
	start := time.Now()
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: key, Body: strings.NewReader("v2")})
	if err != nil {
		t.Fatalf("PutObject with the SDK's default checksum: %s", err)
	}

	// The new version carries the default retention; the older one none.
	ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &bucket, Key: key, VersionId: put.VersionId})
	if err != nil {
		t.Fatalf("GetObjectRetention: %s", err)
	}
	if ret.Retention == nil || ret.Retention.Mode != s3types.ObjectLockRetentionModeGovernance || ret.Retention.RetainUntilDate == nil ||
		ret.Retention.RetainUntilDate.Before(start.Add(23*time.Hour)) || ret.Retention.RetainUntilDate.After(start.Add(25*time.Hour)) {
		t.Errorf("retention %+v, want GOVERNANCE until a day after the upload", ret.Retention)
	}
	_, err = c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &bucket, Key: aws.String("before"), VersionId: before.VersionId})
	expectCode(t, "GetObjectRetention of a version written before Object Lock", err, "NoSuchObjectLockConfiguration", http.StatusNotFound)

	// A retained version cannot be deleted; a delete marker can be added.
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: key, VersionId: put.VersionId})
	expectCode(t, "DeleteObject of a retained version", err, "AccessDenied", http.StatusForbidden)
	batch, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: key, VersionId: put.VersionId}}}})
	if err != nil || len(batch.Errors) != 1 || aws.ToString(batch.Errors[0].Code) != "AccessDenied" || len(batch.Deleted) != 0 {
		t.Errorf("DeleteObjects of a retained version: %+v, %v; want one AccessDenied and nothing deleted", batch, err)
	}
	marker, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: key})
	if err != nil || !aws.ToBool(marker.DeleteMarker) {
		t.Errorf("DeleteObject without a version ID: %+v, %v; want a delete marker", marker, err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: key, VersionId: put.VersionId}); err != nil {
		t.Errorf("the retained version after the delete marker: %s, want it kept", err)
	}

	// The default retention removed: Object Lock stays on, uploads need no
	// checksum any more.
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &bucket,
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled}}); err != nil {
		t.Fatalf("removing the default retention of a bucket holding objects: %s", err)
	}
	if got, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &bucket}); err != nil ||
		got.ObjectLockConfiguration.ObjectLockEnabled != s3types.ObjectLockEnabledEnabled || got.ObjectLockConfiguration.Rule != nil {
		t.Errorf("Object Lock configuration after removing the rule: %+v, %v; want Enabled without a rule", got, err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: key, Body: strings.NewReader("v3")}, noChecksum); err != nil {
		t.Errorf("PutObject without a checksum and no default retention: %s", err)
	}

	// A bucket without Object Lock has no retention to tell.
	plain := versionedBucket(t, c, "no-lock")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &plain, Key: key, Body: strings.NewReader("v1")}); err != nil {
		t.Fatalf("PutObject: %s", err)
	}
	_, err = c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &plain, Key: key})
	expectCode(t, "GetObjectRetention in a bucket without Object Lock", err, "InvalidRequest", http.StatusBadRequest)
}
