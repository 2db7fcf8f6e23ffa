package backend_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// replicaRegion is where the tests replicate to; the emulator serves every
// region from one endpoint, with separate state per region.
const replicaRegion = "us-west-2"

// checkReplica reads every replication control from AWS (both regions).
func checkReplica(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		return acctest.CheckReplica(context.Background(), acctest.Client(t), a)
	}
}

// The emulator stores the replication rule but copies no object: what is
// proven here is every replica-side control, the role and the rule as AWS
// reads them back; that S3 replicates with them is proven only by the
// rendered documents (internal/policies) and on AWS.
//
// replication {} on a new backend: replica bucket, key, role and rule, the
// failover configuration known at plan; drift of the replica bucket, its
// key, the role and the rule planned and repaired; destroy refused while the
// replica holds versions, then forced.
func TestAccBackend_replication(t *testing.T) {
	ctx := context.Background()
	name := acctest.RandomName("repl")
	const repl = `  environments = ["dev", "prod"]
  replication {
    region = "` + replicaRegion + `"
  }`
	var replicaBucket string
	regional := func() *s3.Client { return acctest.Client(t).InRegion(replicaRegion).S3 }
	repairs := func(control string, change func() error) resource.TestStep {
		return resource.TestStep{
			PreConfig: func() {
				if err := change(); err != nil {
					t.Fatalf("changing %s out of band: %s", control, err)
				}
			},
			Config: config(name, repl),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
				expectControlDrift(control),
			}},
			Check:             resource.ComposeAggregateTestCheckFunc(checkHardened(t, true), checkReplica(t)),
			ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(checkDestroyed(t), checkReplicaDestroyed(t)),
		Steps: []resource.TestStep{
			{
				Config: config(name, repl),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					// The failover configuration is known before anything exists.
					plancheck.ExpectKnownValue(resourceName, tfjsonpath.New("replica_backend_hcl").AtMapKey("dev"),
						knownvalue.StringRegexp(regexp.MustCompile(`bucket += "`+name+`-tfstate-\d{12}-replica"[\s\S]*region += "`+replicaRegion+
							`"[\s\S]*kms_key_id += "arn:aws:kms:`+replicaRegion+`:\d{12}:alias/`+name+`-tfstate-replica"`))),
					plancheck.ExpectUnknownValue(resourceName, tfjsonpath.New("replica_kms_key_arn")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(checkHardened(t, true), checkReplica(t),
					func(s *terraform.State) error {
						a, err := attrsOf(s)
						replicaBucket = a.ReplicaBucket
						return err
					}),
				ConfigStateChecks: []statecheck.StateCheck{
					allCompliant(),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("replica_backend_config").AtMapKey("prod"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"bucket":               knownvalue.StringRegexp(regexp.MustCompile(`-replica$`)),
						"key":                  knownvalue.StringExact("prod/terraform.tfstate"),
						"region":               knownvalue.StringExact(replicaRegion),
						"encrypt":              knownvalue.Bool(true),
						"kms_key_id":           knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:kms:` + replicaRegion + `:`)),
						"dynamodb_table":       knownvalue.Null(),
						"use_lockfile":         knownvalue.Null(),
						"workspace_key_prefix": knownvalue.StringExact("prod/workspaces"),
					})),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("replication_role_arn"),
						knownvalue.StringRegexp(regexp.MustCompile(`:role/securestate/`+name+`-tfstate-replication$`))),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("controls").AtMapKey("replication_rule"), knownvalue.StringExact("compliant")),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("controls").AtMapKey("replica_bucket_versioning"), knownvalue.StringExact("compliant")),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("controls").AtMapKey("replica_kms_key_rotation"), knownvalue.StringExact("compliant")),
				},
			},
			repairs("replica_bucket_versioning", func() error {
				_, err := regional().PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &replicaBucket,
					VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
				return err
			}),
			repairs("replica_bucket_public_access_block", func() error {
				_, err := regional().DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: &replicaBucket})
				return err
			}),
			repairs("replica_bucket_policy", func() error {
				_, err := regional().DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &replicaBucket})
				return err
			}),
			repairs("replica_bucket_lifecycle", func() error {
				_, err := regional().DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: &replicaBucket})
				return err
			}),
			repairs("replica_bucket_encryption", func() error {
				_, err := regional().PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &replicaBucket,
					ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
						ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
				return err
			}),
			repairs("replica_kms_key_rotation", func() error {
				_, err := acctest.Client(t).InRegion(replicaRegion).KMS.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: aws.String(naming.ReplicaKeyAlias(name))})
				if err != nil {
					// DisableKeyRotation takes no alias on AWS: resolve it.
					d, derr := acctest.Client(t).InRegion(replicaRegion).KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(naming.ReplicaKeyAlias(name))})
					if derr != nil {
						return derr
					}
					_, err = acctest.Client(t).InRegion(replicaRegion).KMS.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: d.KeyMetadata.KeyId})
				}
				return err
			}),
			repairs("replication_role", func() error {
				role := naming.ReplicationRole(name)
				out, err := acctest.Client(t).IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &role})
				if err != nil || len(out.PolicyNames) == 0 {
					return fmt.Errorf("role policies %v: %w", out, err)
				}
				wide := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
				if _, err = acctest.Client(t).IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &out.PolicyNames[0], PolicyDocument: &wide}); err != nil {
					return err
				}
				// And a second inline policy: deleted on apply (CheckReplica
				// wants exactly one).
				_, err = acctest.Client(t).IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: aws.String("escalate"), PolicyDocument: &wide})
				return err
			}),
			repairs("replication_rule", func() error {
				a := acctest.Client(t)
				bucket := strings.TrimSuffix(replicaBucket, "-replica")
				_, err := a.S3.DeleteBucketReplication(ctx, &s3.DeleteBucketReplicationInput{Bucket: &bucket})
				return err
			}),
			{
				// Replication Time Control on: the rule changes in place.
				Config: config(name, strings.Replace(repl, `region = "`+replicaRegion+`"`, `region = "`+replicaRegion+`"
    time_control = true`, 1)),
				Check:             checkReplica(t),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				// The replica's bucket name is global, and the old replica
				// would be kept: a region change is refused at plan.
				Config:      config(name, strings.Replace(repl, replicaRegion, "eu-west-1", 1)),
				PlanOnly:    true,
				ExpectError: wrapped(`Replica region cannot change in place[\s\S]*from "` + replicaRegion + `" to "eu-west-1"`),
			},
			{
				// A version in the replica (the emulator does not replicate:
				// put there directly): destroy is refused.
				PreConfig: func() {
					if _, err := regional().PutObject(ctx, &s3.PutObjectInput{Bucket: &replicaBucket, Key: aws.String("dev/terraform.tfstate"),
						Body: strings.NewReader(`{"version":4}`)}); err != nil {
						t.Fatalf("writing into the replica: %s", err)
					}
				},
				Config:      config(name, repl),
				Destroy:     true,
				ExpectError: wrapped(`Backend still holds state or logs[\s\S]*` + name + `-tfstate-\d{12}-replica holds 1 object versions \(the replicated copies`),
			},
			{Config: config(name, repl+"\n  force_destroy = true")},
		},
	})
}

// Removing replication removes the rule and the role. A replica bucket that
// holds versions is kept, with its key (a warning says so); an empty one is
// deleted and its key scheduled for deletion. Adding the block again adopts
// the kept replica.
func TestAccBackend_replicationRemoved(t *testing.T) {
	ctx := context.Background()
	name := acctest.RandomName("reprm")
	repl := `  replication {
    region = "` + replicaRegion + `"
  }`
	var a acctest.Backend
	remember := func(s *terraform.State) (err error) { a, err = attrsOf(s); return err }
	rc := func() (*s3.Client, *kms.Client) {
		c := acctest.Client(t).InRegion(replicaRegion)
		return c.S3, c.KMS
	}
	ruleAndRoleGone := func(*terraform.State) error {
		c := acctest.Client(t)
		if _, err := c.S3.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: &a.Bucket}); err == nil {
			return fmt.Errorf("the replication rule is still on %s", a.Bucket)
		}
		role := naming.ReplicationRole(name)
		if _, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &role}); err == nil {
			return fmt.Errorf("the replication role %s still exists", role)
		}
		return nil
	}
	replicaKept := func(*terraform.State) error {
		s3c, kmsc := rc()
		if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &a.ReplicaBucket}); err != nil {
			return fmt.Errorf("the replica bucket holding a version was not kept: %w", err)
		}
		k, err := kmsc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &a.ReplicaKeyARN})
		if err != nil || k.KeyMetadata.KeyState != kmstypes.KeyStateEnabled {
			return fmt.Errorf("the kept replica's key is not enabled: %v %w", k, err)
		}
		return nil
	}
	replicaGone := func(*terraform.State) error {
		s3c, kmsc := rc()
		if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &a.ReplicaBucket}); err == nil {
			return fmt.Errorf("the empty replica bucket %s was kept", a.ReplicaBucket)
		}
		k, err := kmsc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &a.ReplicaKeyARN})
		if err != nil || k.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion {
			return fmt.Errorf("the empty replica's key is not pending deletion: %v %w", k, err)
		}
		return nil
	}
	nulls := []statecheck.StateCheck{
		statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("replica_bucket"), knownvalue.Null()),
		statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("replica_backend_hcl"), knownvalue.Null()),
		noControl("replication_rule"),
		allCompliant(),
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{
			{Config: config(name, repl), Check: resource.ComposeAggregateTestCheckFunc(checkReplica(t), remember)},
			{
				// Removed while the replica holds a version: kept.
				PreConfig: func() {
					s3c, _ := rc()
					if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &a.ReplicaBucket, Key: aws.String("default/terraform.tfstate"),
						Body: strings.NewReader(`{"version":4}`)}); err != nil {
						t.Fatalf("writing into the replica: %s", err)
					}
				},
				Config:            config(name, ""),
				Check:             resource.ComposeAggregateTestCheckFunc(checkHardened(t, true), ruleAndRoleGone, replicaKept),
				ConfigStateChecks: nulls,
			},
			{
				// Added again: the kept replica and its key are adopted.
				Config: config(name, repl),
				Check: resource.ComposeAggregateTestCheckFunc(checkReplica(t), func(s *terraform.State) error {
					b, err := attrsOf(s)
					if err == nil && b.ReplicaKeyARN != a.ReplicaKeyARN {
						return fmt.Errorf("replica key %s, want the kept %s", b.ReplicaKeyARN, a.ReplicaKeyARN)
					}
					return err
				}),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
			},
			{
				// Removed while the replica is empty: deleted, its key
				// scheduled for deletion.
				PreConfig: func() {
					s3c, _ := rc()
					out, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &a.ReplicaBucket})
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range out.Versions {
						if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &a.ReplicaBucket, Key: v.Key, VersionId: v.VersionId}); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config:            config(name, ""),
				Check:             resource.ComposeAggregateTestCheckFunc(checkHardened(t, true), ruleAndRoleGone, replicaGone),
				ConfigStateChecks: nulls,
			},
		},
	})
}

// checkReplicaDestroyed: after destroy, the replica bucket and the role
// are gone, the replica key's alias too and the key pending deletion.
func checkReplicaDestroyed(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		c := acctest.Client(t)
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		rc := c.InRegion(a.ReplicaRegion)
		if _, err := rc.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &a.ReplicaBucket}); err == nil {
			return fmt.Errorf("replica bucket %s still exists", a.ReplicaBucket)
		}
		role := naming.ReplicationRole(a.Name)
		if _, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &role}); err == nil {
			return fmt.Errorf("replication role %s still exists", role)
		}
		if _, err := rc.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(naming.ReplicaKeyAlias(a.Name))}); err == nil {
			return fmt.Errorf("replica key alias still exists")
		}
		k, err := rc.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &a.ReplicaKeyARN})
		if err != nil || k.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion {
			return fmt.Errorf("replica key is not pending deletion: %v %w", k, err)
		}
		return nil
	}
}

// object_lock with replication: the replica bucket gets the same default
// retention (and the role reads each version's retention, which S3
// replicates with it); removing object_lock removes the default retention
// from both buckets, Object Lock itself staying on.
func TestAccBackend_replicationWithObjectLock(t *testing.T) {
	name := acctest.RandomName("replol")
	repl := `  replication {
    region = "` + replicaRegion + `"
  }`
	lock := "\n  object_lock {\n    days = 1\n  }"
	replicaRetention := func(mode s3types.ObjectLockRetentionMode, days int32) resource.TestCheckFunc {
		return checkRetention(t, true, mode, days)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(checkDestroyed(t), checkReplicaDestroyed(t)),
		Steps: []resource.TestStep{
			{
				Config: config(name, repl+lock),
				Check: resource.ComposeAggregateTestCheckFunc(checkReplica(t), checkObjectLock(t, s3types.ObjectLockRetentionModeGovernance, 1),
					replicaRetention(s3types.ObjectLockRetentionModeGovernance, 1)),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant(),
					statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("controls").AtMapKey("replica_bucket_object_lock"), knownvalue.StringExact("compliant"))},
			},
			{
				Config:            config(name, repl),
				Check:             resource.ComposeAggregateTestCheckFunc(checkReplica(t), checkObjectLock(t, "", 0), replicaRetention("", 0)),
				ConfigStateChecks: []statecheck.StateCheck{allCompliant(), noControl("replica_bucket_object_lock")},
			},
		},
	})
}

// Removing replication while the replica holds versions says so: apply
// warns, naming the kept bucket and what it holds (run through a real CLI,
// whose output the framework's test steps do not show).
func TestAccBackend_replicationRemovedWarns(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	name := acctest.RandomName("repwarn")
	cfg := func(extra string) string {
		return `
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}
` + acctest.ProviderConfig + fmt.Sprintf(`
resource "securestate_backend" "b" {
  name          = %q
  force_destroy = true
%s
}
`, name, extra)
	}
	ws := acctest.NewWorkspace(t, cfg("  replication {\n    region = \""+replicaRegion+"\"\n  }"))
	if out, err := ws.Apply(); err != nil {
		t.Fatalf("apply with replication: %s\n%s", err, out)
	}
	res, err := ws.Resources()
	if err != nil {
		t.Fatal(err)
	}
	a, err := acctest.BackendFromValues(res["securestate_backend.b"])
	if err != nil {
		t.Fatal(err)
	}
	rc := acctest.Client(t).InRegion(replicaRegion)
	t.Cleanup(func() {
		// The kept replica is no longer the backend's to destroy.
		out, _ := rc.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &a.ReplicaBucket})
		if out != nil {
			for _, v := range out.Versions {
				_, _ = rc.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &a.ReplicaBucket, Key: v.Key, VersionId: v.VersionId})
			}
		}
		_, _ = rc.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &a.ReplicaBucket})
		if _, id, ok := strings.Cut(a.ReplicaKeyARN, ":key/"); ok {
			_, _ = rc.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(7)})
		}
		if out, err := ws.Destroy(); err != nil {
			t.Errorf("destroy: %s\n%s", err, out)
		}
	})
	if _, err := rc.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &a.ReplicaBucket, Key: aws.String("default/terraform.tfstate"),
		Body: strings.NewReader(`{"version":4}`)}); err != nil {
		t.Fatalf("writing into the replica: %s", err)
	}
	if err := os.WriteFile(filepath.Join(ws.Dir, "main.tf"), []byte(cfg("")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := ws.Run("apply", "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		t.Fatalf("apply without replication: %s\n%s", err, out)
	}
	if !wrapped(`Warning: Replica bucket kept[\s\S]*The replica bucket ` + a.ReplicaBucket + ` \(region ` + replicaRegion + `\) holds 1 object versions and was kept, with its key`).MatchString(out) {
		t.Errorf("apply did not warn that the replica was kept:\n%s", out)
	}
}
