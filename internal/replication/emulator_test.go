package replication_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/replication"
)

// replicaRegion is the replica's region on the emulator (buckets of another
// region work there).
const replicaRegion = "us-west-2"

// The package's contract with the AWS API, on the emulator: what EnsureRole
// and EnsureRule write reads back through FindRole and FindRule as compliant
// (RoleDrift and RuleDrift, by AWS's semantics), drift made out of band is
// found and repaired, S3's versioning refusal is recognised by its real text,
// and the deletes leave nothing (a second delete is done, not an error).
// The rule's read-back needs the harness's replication fix
// (scripts/emulator/server.py): plain moto 5.2.5 drops SourceSelectionCriteria
// and reads DeleteMarkerReplication as Disabled. What the emulator cannot
// prove: that S3 copies anything (no object is replicated), that the role's
// permissions suffice (policies' rendered document tests prove what they
// grant), propagation delays.
func TestAccReplication_emulatorContract(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t)
	replicaS3 := s3.New(c.S3.Options(), func(o *s3.Options) { o.Region = replicaRegion })

	name := acctest.RandomName("repl")
	bucket := name + "-tfstate"
	spec := replication.Spec{Backend: name, Partition: c.Partition, AccountID: c.AccountID, Bucket: bucket, Region: c.Region,
		ReplicaBucket: naming.ReplicaBucket(bucket), ReplicaRegion: replicaRegion,
		ReplicaKeyARN: fmt.Sprintf("arn:%s:kms:%s:%s:key/00000000-0000-4000-8000-000000000016", c.Partition, replicaRegion, c.AccountID),
		RoleName:      naming.ReplicationRole(name), Metrics: true, TimeControl: true,
		Tags: map[string]string{naming.OwnerTagKey: name}}
	b := policies.Backend{Partition: c.Partition, Region: c.Region, AccountID: c.AccountID, Bucket: bucket,
		KeyARN:  fmt.Sprintf("arn:%s:kms:%s:%s:key/00000000-0000-4000-8000-000000000001", c.Partition, c.Region, c.AccountID),
		Replica: &policies.Replica{Bucket: spec.ReplicaBucket, Region: replicaRegion, KeyARN: spec.ReplicaKeyARN, RoleARN: spec.RoleARN()}}
	spec.TrustPolicy, spec.RolePolicy = policies.ReplicationTrustPolicy(b), policies.ReplicationRolePolicy(b)

	makeBucket(t, c.S3, bucket, "", true)
	makeBucket(t, replicaS3, spec.ReplicaBucket, replicaRegion, true)

	// The role: made, read back compliant, repaired after an out-of-band change.
	role, err := replication.EnsureRole(ctx, c.IAM, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replication.DeleteRole(context.Background(), c.IAM, spec.RoleName) })
	if d := replication.RoleDrift(spec, role); d != "" || role.ARN != spec.RoleARN() || role.Tags[naming.OwnerTagKey] != name {
		t.Fatalf("the role as made: drift %q, ARN %s, tags %v", d, role.ARN, role.Tags)
	}
	wider := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	if _, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(spec.RoleName), PolicyName: aws.String(replication.RolePolicyName), PolicyDocument: aws.String(wider)}); err != nil {
		t.Fatal(err)
	}
	have, err := replication.FindRole(ctx, c.IAM, spec.RoleName)
	if err != nil || !strings.Contains(replication.RoleDrift(spec, have), "permissions differ") {
		t.Fatalf("a widened role policy: %v, drift %q", err, replication.RoleDrift(spec, have))
	}
	if role, err = replication.EnsureRole(ctx, c.IAM, spec, have, true); err != nil || replication.RoleDrift(spec, role) != "" {
		t.Fatalf("repairing the role: %v, drift %q", err, replication.RoleDrift(spec, role))
	}

	// The rule: written, read back compliant, repaired after an out-of-band change.
	rule, err := replication.EnsureRule(ctx, c.S3, spec)
	if err != nil {
		t.Fatal(err)
	}
	if d := replication.RuleDrift(spec, rule); d != "" {
		t.Errorf("the rule as written reads back with drift (an emulator read-back gap if AWS keeps it): %s", d)
	}
	narrowed := replication.WantRule(spec)
	narrowed.Filter = &types.ReplicationRuleFilter{Prefix: aws.String("prod/")}
	if _, err := c.S3.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String(bucket), ReplicationConfiguration: &types.ReplicationConfiguration{
		Role: aws.String(spec.RoleARN()), Rules: []types.ReplicationRule{narrowed}}}); err != nil {
		t.Fatal(err)
	}
	got, err := replication.FindRule(ctx, c.S3, bucket)
	if err != nil || !strings.Contains(replication.RuleDrift(spec, got), "every state object") {
		t.Fatalf("a narrowed rule: %v, drift %q", err, replication.RuleDrift(spec, got))
	}
	if rule, err = replication.EnsureRule(ctx, c.S3, spec); err != nil || len(rule.Rules) != 1 || aws.ToString(rule.Rules[0].Filter.Prefix) != "" {
		t.Fatalf("repairing the rule: %v, %+v", err, rule)
	}

	// A bucket without versioning: S3's refusal, recognised by its text.
	plain := name + "-unversioned"
	makeBucket(t, c.S3, plain, "", false)
	other := spec
	other.Bucket = plain
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := replication.EnsureRule(short, c.S3, other); err == nil || !strings.Contains(err.Error(), "versioning must be Enabled") {
		t.Errorf("EnsureRule on an unversioned bucket = %v, want the versioning refusal", err)
	}

	// Deletes: nothing left, a second delete is done.
	for i := range 2 {
		if err := replication.DeleteRule(ctx, c.S3, bucket); err != nil {
			t.Fatalf("DeleteRule %d: %v", i+1, err)
		}
		if err := replication.DeleteRole(ctx, c.IAM, spec.RoleName); err != nil {
			t.Fatalf("DeleteRole %d: %v", i+1, err)
		}
	}
	if _, err := replication.FindRule(ctx, c.S3, bucket); !awserr.IsNotFound(err) {
		t.Errorf("after DeleteRule: FindRule = %v, want not found", err)
	}
	if _, err := replication.FindRole(ctx, c.IAM, spec.RoleName); !awserr.IsNotFound(err) {
		t.Errorf("after DeleteRole: FindRole = %v, want not found", err)
	}
}

// makeBucket creates a bucket (in region, "" for the client's) with
// versioning on or not, removed when the test ends.
func makeBucket(t *testing.T, api *s3.Client, bucket, region string, versioned bool) {
	t.Helper()
	ctx := context.Background()
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	if _, err := api.CreateBucket(ctx, in); err != nil {
		t.Fatalf("creating %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		_, err := api.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
		if err != nil && !errors.Is(err, context.Canceled) && !awserr.HasCode(err, "NoSuchBucket") {
			t.Logf("removing %s: %v", bucket, err)
		}
	})
	if versioned {
		if _, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatalf("versioning %s: %v", bucket, err)
		}
	}
}
