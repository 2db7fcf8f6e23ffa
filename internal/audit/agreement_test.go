package audit

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/posture"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// The policies securestate_backend writes pass the audit's policy controls,
// in every shape of the access model: an audit of a compliant backend never
// fails a control the backend calls compliant. (The acceptance test
// TestAccBackendAudit_agreesWithBackend checks the same on the emulator for
// the default shape, and that each broken control fails.)
func TestOwnPoliciesPassTheAudit(t *testing.T) {
	base := policies.Backend{Partition: "aws", Region: "eu-west-1", AccountID: "111122223333", Bucket: "acme-tfstate-111122223333",
		KeyARN: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", TableARN: "arn:aws:dynamodb:eu-west-1:111122223333:table/acme-tflock"}
	withPrincipals := base
	withPrincipals.Principals = []string{"arn:aws:iam::111122223333:role/ci"}
	lockfile := base
	lockfile.TableARN, lockfile.Lockfile = "", true
	org := base
	org.Grants = []policies.Grant{{Environment: "prod", ReadWrite: []string{"arn:aws:iam::222222222222:role/deployer"}, ReadOnly: []string{"arn:aws:iam::333333333333:role/auditor"}}}
	org.Boundary = &policies.Boundary{OrganizationID: "o-abcdefghij", VPCEndpointIDs: []string{"vpce-0123456789abcdef0"}, PrincipalTags: map[string]string{"Department": "Infrastructure"},
		BreakGlass: []string{"arn:aws:iam::111122223333:role/break-glass"}}
	org.KeyAdmins = &policies.KeyAdministrators{Principals: []string{"arn:aws:iam::111122223333:role/key-admin"}, RequireMFA: true}
	org.Provider = "arn:aws:iam::111122223333:role/platform"
	for name, b := range map[string]policies.Backend{"plain": base, "principals": withPrincipals, "lockfile": lockfile, "organisation": org} {
		t.Run(name, func(t *testing.T) {
			bucket := &statebucket.Observed{Bucket: b.Bucket, Policy: policies.BucketPolicy(b).String(), SSEAlgorithm: "aws:kms", SSEKey: b.KeyARN, BucketKey: true,
				Versioning: "Enabled", Ownership: string(s3types.ObjectOwnershipBucketOwnerEnforced),
				PublicAccess: s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)},
				Logging:      statebucket.Logging{TargetBucket: b.Bucket + "-logs", TargetPrefix: "s3/"}}
			spec := statebucket.Spec{Bucket: b.Bucket, KeyARN: b.KeyARN, NoncurrentDays: 90, Policy: policies.BucketPolicy(b)}
			bucket.Lifecycle = lifecycleOf(t, spec)
			for control, r := range statebucket.Posture(bucket, nil, statebucket.Audit{Partition: "aws"}) {
				expectPass(t, control, r)
			}
			key := &kmskey.Observed{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", ARN: b.KeyARN, State: "Enabled", RotationEnabled: true, Manager: "CUSTOMER", Policy: policies.KeyPolicy(b).String()}
			for control, r := range kmskey.Posture(key, nil, "") {
				if control == kmskey.ControlAlias {
					continue // not named by an alias here
				}
				expectPass(t, control, r)
			}
			table := &locktable.Observed{Billing: "PAY_PER_REQUEST", SSEEnabled: true, SSEKey: b.KeyARN, PITR: true, DeletionProtection: true}
			if len(b.Grants) > 0 {
				table.Policy = policies.LockTablePolicy(b).String()
			}
			for control, r := range locktable.Posture(table, nil, b.KeyARN, false) {
				expectPass(t, control, r)
			}
			expectPass(t, "access_policy_prod", accesspolicy.Posture(&accesspolicy.Observed{DefaultVersion: "v1", Document: policies.AccessPolicy(b, "prod").String()}))
			if len(b.Grants) > 0 {
				expectPass(t, "read-only policy", accesspolicy.Posture(&accesspolicy.Observed{DefaultVersion: "v1", Document: policies.ReadOnlyAccessPolicy(b, "prod").String()}))
			}
		})
	}
}

func expectPass(t *testing.T, control string, r posture.Result) {
	t.Helper()
	if r.Status != posture.Pass {
		t.Errorf("%s: %s (%s), want pass", control, r.Status, r.Observed)
	}
}

// lifecycleOf is the lifecycle rule the backend writes for spec, as S3
// returns it.
func lifecycleOf(t *testing.T, spec statebucket.Spec) []s3types.LifecycleRule {
	t.Helper()
	rules := statebucket.LifecycleRules(spec)
	if len(rules) != 1 {
		t.Fatalf("LifecycleRules = %d rules", len(rules))
	}
	return rules
}
