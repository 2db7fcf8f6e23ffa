package backend_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// expectControlDrift checks that the plan names each control as drifted
// before and plans it back to compliant.
func expectControlDrift(controls ...string) plancheck.PlanCheck { return driftCheck{controls} }

type driftCheck struct{ controls []string }

func (d driftCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != resourceName {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		b, _ := before["controls"].(map[string]any)
		a, _ := after["controls"].(map[string]any)
		for _, name := range d.controls {
			if s, _ := b[name].(string); !strings.HasPrefix(s, "drifted: ") {
				resp.Error = fmt.Errorf("plan does not show %s as drifted (before: %v)", name, b[name])
				return
			}
			if a[name] != "compliant" {
				resp.Error = fmt.Errorf("plan does not repair %s (after: %v)", name, a[name])
				return
			}
		}
		return
	}
	resp.Error = fmt.Errorf("%s not in plan", resourceName)
}

// driftCase changes one control of a backend out of band.
type driftCase struct {
	control string
	change  func(c *awsclient.Client, a backendAttrs) error
	// auditPasses: the change leaves the requirement the audit measures
	// met (an extra named principal in the key policy is drift from the
	// backend's exact policy, but grants no one anonymously).
	auditPasses bool
}

// driftCases are the out-of-band changes that break each control: the drift
// test plans their repair, the audit test sees each control fail.
func driftCases(ctx context.Context) []driftCase {
	return []driftCase{
		{"bucket_versioning", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &a.Bucket, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
			return err
		}, false},
		{"bucket_public_access_block", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &a.Bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(false), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
			return err
		}, false},
		{"bucket_encryption", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &a.Bucket, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
			return err
		}, false},
		{"bucket_ownership_controls", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: &a.Bucket, OwnershipControls: &s3types.OwnershipControls{
				Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}})
			return err
		}, false},
		{"bucket_policy", func(c *awsclient.Client, a backendAttrs) error {
			// Edited: the TLS-only statement replaced by a harmless-looking one.
			p := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"ReadForAuditors","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`, a.Bucket)
			_, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &a.Bucket, Policy: &p})
			return err
		}, false},
		{"bucket_policy", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &a.Bucket})
			return err
		}, false},
		{"bucket_lifecycle", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.S3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: &a.Bucket})
			return err
		}, false},
		{"kms_key_rotation", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.KMS.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: &a.KeyID})
			return err
		}, false},
		{"kms_key_policy", func(c *awsclient.Client, a backendAttrs) error {
			p := `{"Version":"2012-10-17","Statement":[{"Sid":"Everyone","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Extra","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/intruder"},"Action":"kms:Decrypt","Resource":"*"}]}`
			_, err := c.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &a.KeyID, PolicyName: aws.String("default"), Policy: &p})
			return err
		}, true},
		{"kms_key_policy", func(c *awsclient.Client, a backendAttrs) error {
			p := `{"Version":"2012-10-17","Statement":[{"Sid":"Everyone","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}`
			_, err := c.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &a.KeyID, PolicyName: aws.String("default"), Policy: &p})
			return err
		}, false},
		{"kms_key_state", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.KMS.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &a.KeyID})
			return err
		}, false},
		{"kms_alias", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.KMS.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: &a.Alias})
			return err
		}, false},
		{"lock_table_point_in_time_recovery", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.DynamoDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: &a.Table,
				PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(false)}})
			return err
		}, false},
		{"lock_table_deletion_protection", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.DynamoDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &a.Table, DeletionProtectionEnabled: aws.Bool(false)})
			return err
		}, false},
		{"lock_table_billing", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.DynamoDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &a.Table, BillingMode: ddbtypes.BillingModeProvisioned,
				ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)}})
			return err
		}, false},
		// Back to an AWS owned key (moto ignores SSESpecification on
		// UpdateTable; the harness's server.py applies it, as AWS does).
		{"lock_table_encryption", func(c *awsclient.Client, a backendAttrs) error {
			_, err := c.DynamoDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &a.Table, SSESpecification: &ddbtypes.SSESpecification{Enabled: aws.Bool(false)}})
			return err
		}, false},
		{"access_policy_default", func(c *awsclient.Client, a backendAttrs) error {
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
			_, err := c.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(a.PolicyARNs["default"]), PolicyDocument: &doc, SetAsDefault: true})
			return err
		}, false},
	}
}

// Each control changed out of band makes the plan non-empty and names the
// control; apply repairs it (checked in AWS), and the next plan is empty.
func TestAccBackend_drift(t *testing.T) {
	ctx := context.Background()
	cases := driftCases(ctx)
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%02d_%s", i, tc.control), func(t *testing.T) {
			name := acctest.RandomName("drift")
			var got captured
			resource.ParallelTest(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				CheckDestroy:             checkDestroyed(t),
				Steps: []resource.TestStep{
					{Config: config(name, ""), Check: got.capture()},
					{
						PreConfig: func() {
							if err := tc.change(acctest.Client(t), got.backendAttrs); err != nil {
								t.Fatalf("changing %s out of band: %s", tc.control, err)
							}
						},
						Config: config(name, ""),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(resourceName, plancheck.ResourceActionUpdate),
							expectControlDrift(tc.control),
						}},
						Check:             checkHardened(t, true),
						ConfigStateChecks: []statecheck.StateCheck{allCompliant()},
					},
				},
			})
		})
	}
}
