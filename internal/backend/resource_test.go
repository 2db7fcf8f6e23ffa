package backend_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

const resourceName = "securestate_backend.test"

func config(name, extra string) string {
	return acctest.ProviderConfig + fmt.Sprintf(`
resource "securestate_backend" "test" {
  name = %q
%s
}
`, name, extra)
}

// backendAttrs reads the attributes the checks need from state.
type backendAttrs struct {
	name, bucket, keyARN, keyID, table, alias string
	policyARNs                                map[string]string
	// What the hardened policies are written from.
	region, accountID, tableARN, locking, trailARN string
	principals                                     []string
	retentionDays                                  int32
}

// policyBackend is what internal/policies writes this backend's documents from.
func (a backendAttrs) policyBackend() policies.Backend {
	return policies.Backend{Partition: "aws", Region: a.region, AccountID: a.accountID, Bucket: a.bucket, KeyARN: a.keyARN,
		TableARN: a.tableARN, Lockfile: a.locking != "dynamodb", Principals: a.principals, TrailARN: a.trailARN}
}

func attrsOf(s *terraform.State) (backendAttrs, error) {
	rs, ok := s.RootModule().Resources[resourceName]
	if !ok {
		return backendAttrs{}, fmt.Errorf("%s not in state", resourceName)
	}
	a := rs.Primary.Attributes
	out := backendAttrs{name: a["name"], bucket: a["bucket"], keyARN: a["kms_key_arn"], keyID: a["kms_key_id"],
		table: a["lock_table_name"], alias: a["kms_alias_name"], policyARNs: map[string]string{},
		region: a["region"], accountID: a["account_id"], tableARN: a["lock_table_arn"], locking: a["locking"], trailARN: a["trail_arn"]}
	days, err := strconv.ParseInt(a["noncurrent_version_expiration_days"], 10, 32)
	if err != nil {
		return out, fmt.Errorf("noncurrent_version_expiration_days: %w", err)
	}
	out.retentionDays = int32(days)
	for k, v := range a {
		if env, ok := strings.CutPrefix(k, "policy_arns."); ok && env != "%" {
			out.policyARNs[env] = v
		}
		if i, ok := strings.CutPrefix(k, "principals."); ok && i != "#" {
			out.principals = append(out.principals, v)
		}
	}
	return out, nil
}

// checkHardened reads every control from AWS directly, not from state.
func checkHardened(t *testing.T, wantTable bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := attrsOf(s)
		if err != nil {
			return err
		}
		c := acctest.Client(t)
		ctx := context.Background()

		// KMS key: enabled, customer managed, rotation on, alias, no wildcard principal.
		k, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &a.keyID})
		if err != nil {
			return err
		}
		if k.KeyMetadata.KeyState != kmstypes.KeyStateEnabled || k.KeyMetadata.KeyManager != kmstypes.KeyManagerTypeCustomer {
			return fmt.Errorf("key %s: state %s, manager %s", a.keyID, k.KeyMetadata.KeyState, k.KeyMetadata.KeyManager)
		}
		rot, err := c.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: &a.keyID})
		if err != nil || !rot.KeyRotationEnabled {
			return fmt.Errorf("key rotation: %v, %v", rot, err)
		}
		al, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(a.alias)})
		if err != nil || aws.ToString(al.KeyMetadata.KeyId) != a.keyID {
			return fmt.Errorf("alias %s does not point to %s: %v", a.alias, a.keyID, err)
		}
		kp, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &a.keyID, PolicyName: aws.String("default")})
		if err != nil {
			return err
		}
		if err := noWildcardPrincipal(aws.ToString(kp.Policy)); err != nil {
			return fmt.Errorf("key policy: %w", err)
		}
		if a.trailARN == "" { // with monitoring the key policy also names the alarms' log group
			if err := sameDocument(aws.ToString(kp.Policy), policies.KeyPolicy(a.policyBackend())); err != nil {
				return fmt.Errorf("key policy in KMS: %w", err)
			}
		}
		if tags, err := keyTags(ctx, c, a.keyID); err != nil || tags[naming.OwnerTagKey] != a.name {
			return fmt.Errorf("key ownership tag missing: %v", err)
		}

		// Bucket controls.
		enc, err := c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &a.bucket})
		if err != nil {
			return err
		}
		rule := enc.ServerSideEncryptionConfiguration.Rules[0]
		if rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms ||
			aws.ToString(rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != a.keyARN || !aws.ToBool(rule.BucketKeyEnabled) {
			return fmt.Errorf("bucket encryption: %+v", rule)
		}
		ver, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &a.bucket})
		if err != nil || ver.Status != s3types.BucketVersioningStatusEnabled {
			return fmt.Errorf("versioning: %v, %v", ver.Status, err)
		}
		pab, err := c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &a.bucket})
		if err != nil {
			return err
		}
		p := pab.PublicAccessBlockConfiguration
		if !aws.ToBool(p.BlockPublicAcls) || !aws.ToBool(p.BlockPublicPolicy) || !aws.ToBool(p.IgnorePublicAcls) || !aws.ToBool(p.RestrictPublicBuckets) {
			return fmt.Errorf("public access block: %+v", p)
		}
		own, err := c.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &a.bucket})
		if err != nil || own.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
			return fmt.Errorf("ownership controls: %v", err)
		}
		bp, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &a.bucket})
		if err != nil {
			return err
		}
		doc, err := policydoc.Parse(aws.ToString(bp.Policy))
		if err != nil {
			return err
		}
		if !denies(doc, "aws:SecureTransport") || !denies(doc, "s3:x-amz-server-side-encryption-aws-kms-key-id") {
			return fmt.Errorf("bucket policy lacks the TLS-only or key-only deny")
		}
		if want := policies.BucketPolicy(policies.Backend{Partition: "aws", Bucket: a.bucket, KeyARN: a.keyARN}); !doc.Equivalent(want) {
			return fmt.Errorf("bucket policy in S3 differs from the hardened policy:\n%s\nwant:\n%s", aws.ToString(bp.Policy), policies.Render(want))
		}
		lc, err := c.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &a.bucket})
		if err != nil || len(lc.Rules) != 1 || lc.Rules[0].NoncurrentVersionExpiration == nil || lc.Rules[0].AbortIncompleteMultipartUpload == nil ||
			lc.Rules[0].Expiration == nil || !aws.ToBool(lc.Rules[0].Expiration.ExpiredObjectDeleteMarker) {
			return fmt.Errorf("lifecycle: %v", err)
		}
		if got := aws.ToInt32(lc.Rules[0].NoncurrentVersionExpiration.NoncurrentDays); got != a.retentionDays {
			return fmt.Errorf("lifecycle expires noncurrent versions after %d days, want %d", got, a.retentionDays)
		}
		tags, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &a.bucket})
		if err != nil || !hasTag(tags.TagSet, naming.OwnerTagKey, a.name) {
			return fmt.Errorf("bucket ownership tag missing: %v", err)
		}

		// Lock table.
		if wantTable {
			d, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &a.table})
			if err != nil {
				return err
			}
			tb := d.Table
			if tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest ||
				!aws.ToBool(tb.DeletionProtectionEnabled) || tb.SSEDescription == nil || aws.ToString(tb.SSEDescription.KMSMasterKeyArn) != a.keyARN ||
				aws.ToString(tb.KeySchema[0].AttributeName) != "LockID" {
				return fmt.Errorf("lock table %s not hardened: %+v", a.table, tb)
			}
			cb, err := c.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: &a.table})
			if err != nil || cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
				return fmt.Errorf("point-in-time recovery off: %v", err)
			}
			if tags, err := tableTags(ctx, c, aws.ToString(tb.TableArn)); err != nil || tags[naming.OwnerTagKey] != a.name {
				return fmt.Errorf("lock table ownership tag missing: %v", err)
			}
		} else if a.table != "" {
			return fmt.Errorf("lock table %q in state, want none", a.table)
		}

		// Access policies: path, no wildcards, the hardened document, ownership tag.
		if len(a.policyARNs) == 0 {
			return fmt.Errorf("no policy ARNs in state")
		}
		for env, arn := range a.policyARNs {
			doc, err := policyDocument(ctx, c, arn)
			if err != nil {
				return fmt.Errorf("policy of %s: %w", env, err)
			}
			if w := policydoc.Wildcards(doc); len(w) > 0 {
				return fmt.Errorf("policy of %s has wildcards: %v", env, w)
			}
			if want := policies.AccessPolicy(a.policyBackend(), env); !doc.Equivalent(want) {
				return fmt.Errorf("policy of %s in IAM differs from the least-privilege policy; want:\n%s", env, policies.Render(want))
			}
			if !strings.Contains(arn, ":policy/securestate/") {
				return fmt.Errorf("policy of %s is not under /securestate/: %s", env, arn)
			}
			if tags, err := policyTags(ctx, c, arn); err != nil || tags[naming.OwnerTagKey] != a.name {
				return fmt.Errorf("policy of %s: ownership tag missing: %v", env, err)
			}
		}
		return nil
	}
}

// keyTags, tableTags and policyTags read a component's tags from AWS.
func keyTags(ctx context.Context, c *awsclient.Client, keyID string) (map[string]string, error) {
	out, err := c.KMS.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: &keyID})
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
	}
	return tags, nil
}

func tableTags(ctx context.Context, c *awsclient.Client, arn string) (map[string]string, error) {
	out, err := c.DynamoDB.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: &arn})
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

func policyTags(ctx context.Context, c *awsclient.Client, arn string) (map[string]string, error) {
	out, err := c.IAM.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: &arn})
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

func policyDocument(ctx context.Context, c *awsclient.Client, arn string) (policydoc.Document, error) {
	p, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn})
	if err != nil {
		return policydoc.Document{}, err
	}
	v, err := c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return policydoc.Document{}, err
	}
	return policydoc.Parse(aws.ToString(v.PolicyVersion.Document))
}

// sameDocument reports how a policy text read from AWS differs from the
// document the provider writes (nil when they are equivalent).
func sameDocument(text string, want policydoc.Document) error {
	doc, err := policydoc.Parse(text)
	if err != nil {
		return err
	}
	if !doc.Equivalent(want) {
		return fmt.Errorf("differs from the hardened policy:\n%s\nwant:\n%s", text, policies.Render(want))
	}
	return nil
}

func noWildcardPrincipal(text string) error {
	doc, err := policydoc.Parse(text)
	if err != nil {
		return err
	}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for kind, vs := range st.Principal {
			for _, v := range vs {
				if v == "*" || kind == "*" {
					return fmt.Errorf("statement %q allows a wildcard principal", st.Sid)
				}
			}
		}
		for _, act := range st.Action {
			rootOnly := len(st.Principal["AWS"]) == 1 && strings.HasSuffix(st.Principal["AWS"][0], ":root")
			if act == "kms:*" && !rootOnly {
				return fmt.Errorf("statement %q grants kms:* to %v", st.Sid, st.Principal)
			}
		}
	}
	return nil
}

func denies(doc policydoc.Document, conditionKey string) bool {
	for _, st := range doc.Statement {
		if st.Effect != "Deny" {
			continue
		}
		for _, keys := range st.Condition {
			if _, ok := keys[conditionKey]; ok {
				return true
			}
		}
	}
	return false
}

func hasTag(set []s3types.Tag, k, v string) bool {
	for _, t := range set {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

// checkDestroyed inspects each component: bucket, table and policies gone,
// alias gone, key pending deletion.
func checkDestroyed(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		c := acctest.Client(t)
		ctx := context.Background()
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "securestate_backend" {
				continue
			}
			a := rs.Primary.Attributes
			if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(a["bucket"])}); err == nil {
				return fmt.Errorf("bucket %s still exists", a["bucket"])
			}
			if tbl := a["lock_table_name"]; tbl != "" {
				if _, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &tbl}); err == nil {
					return fmt.Errorf("table %s still exists", tbl)
				}
			}
			for k, arn := range a {
				if strings.HasPrefix(k, "policy_arns.") && k != "policy_arns.%" {
					if _, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}); err == nil {
						return fmt.Errorf("policy %s still exists", arn)
					}
				}
			}
			if _, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(a["kms_alias_name"])}); err == nil {
				return fmt.Errorf("alias %s still exists", a["kms_alias_name"])
			}
			k, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(a["kms_key_id"])})
			if err != nil {
				return err
			}
			if k.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion {
				return fmt.Errorf("key %s is %s, want PendingDeletion", a["kms_key_id"], k.KeyMetadata.KeyState)
			}
		}
		return nil
	}
}

// allCompliant checks that every control in state reads "compliant".
func allCompliant() statecheck.StateCheck { return compliantCheck{} }

type compliantCheck struct{}

func (compliantCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address != resourceName {
			continue
		}
		controls, _ := r.AttributeValues["controls"].(map[string]any)
		if len(controls) == 0 {
			resp.Error = fmt.Errorf("no controls in state")
			return
		}
		for k, v := range controls {
			if v != "compliant" {
				resp.Error = fmt.Errorf("control %s is %v", k, v)
				return
			}
		}
		return
	}
	resp.Error = fmt.Errorf("%s not in state", resourceName)
}

func TestAccBackend_basic(t *testing.T) {
	name := acctest.RandomName("basic")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{{
			Config: config(name, `environments = ["dev", "prod"]`),
			Check:  checkHardened(t, true),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("locking"), knownvalue.StringExact("both")),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("bucket"), knownvalue.StringRegexp(regexp.MustCompile(`^`+name+`-tfstate-[0-9]{12}$`))),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("lock_table_name"), knownvalue.StringExact(name+"-tflock")),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("kms_alias_name"), knownvalue.StringExact("alias/"+name+"-tfstate")),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("policy_arns"), knownvalue.MapExact(map[string]knownvalue.Check{
					"dev":  knownvalue.StringRegexp(regexp.MustCompile(`:policy/securestate/` + name + `-tfstate-dev$`)),
					"prod": knownvalue.StringRegexp(regexp.MustCompile(`:policy/securestate/` + name + `-tfstate-prod$`)),
				})),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_config").AtMapKey("dev"), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"key":                  knownvalue.StringExact("dev/terraform.tfstate"),
					"encrypt":              knownvalue.Bool(true),
					"use_lockfile":         knownvalue.Bool(true),
					"dynamodb_table":       knownvalue.StringExact(name + "-tflock"),
					"workspace_key_prefix": knownvalue.StringExact("dev/workspaces"),
					"kms_key_id":           knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:kms:`)),
				})),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("backend_hcl").AtMapKey("prod"), knownvalue.StringRegexp(regexp.MustCompile(`backend "s3" \{[\s\S]*key += "prod/terraform.tfstate"`))),
				statecheck.ExpectKnownValue(resourceName, tfjsonpath.New("controls"), knownvalue.MapSizeExact(16)),
				allCompliant(),
			},
		}},
	})
}
