package acctest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// Backend is what the hardening checks need of a securestate_backend in
// state: the identifiers of its components and what their hardened policies
// are written from. The checks read everything else from AWS.
type Backend struct {
	Name, Bucket, KeyARN, KeyID, Table, Alias string
	PolicyARNs                                map[string]string
	Region, AccountID, TableARN, Locking      string
	TrailARN, TrailName, LogBucket, AlarmsSNS string
	Principals                                []string
	RetentionDays, LogRetentionDays           int32
	// The access model: access blocks, boundary, key administrators and
	// the provider's principal, as in state.
	Grants    []policies.Grant
	Boundary  *policies.Boundary
	KeyAdmins *policies.KeyAdministrators
	Provider  string
	// TofuEncryption and TofuKeyARNs: each environment's OpenTofu
	// encryption key (tofu_encryption_key_arns); nil without it.
	TofuEncryption bool
	TofuKeyARNs    map[string]string
	// With replication: the replica bucket, its region and key, and the
	// replication role; "" without.
	ReplicaBucket, ReplicaRegion, ReplicaKeyARN, ReplicationRoleARN string
	ReplicationMetrics, ReplicationTimeControl                      bool
	// With object_lock: its mode and days; "" and 0 without.
	ObjectLockMode string
	ObjectLockDays int32
}

// BackendFromAttributes reads a backend from flat state attributes
// (terraform-plugin-testing's terraform.State).
func BackendFromAttributes(a map[string]string) (Backend, error) {
	b := Backend{Name: a["name"], Bucket: a["bucket"], KeyARN: a["kms_key_arn"], KeyID: a["kms_key_id"],
		Table: a["lock_table_name"], Alias: a["kms_alias_name"], PolicyARNs: map[string]string{},
		Region: a["region"], AccountID: a["account_id"], TableARN: a["lock_table_arn"], Locking: a["locking"],
		TrailARN: a["trail_arn"], TrailName: a["cloudtrail.name"], LogBucket: a["log_bucket"], AlarmsSNS: a["cloudtrail.alarms.sns_topic_arn"],
		TofuEncryption: a["tofu_encryption"] == "true"}
	days, err := strconv.ParseInt(a["noncurrent_version_expiration_days"], 10, 32)
	if err != nil {
		return b, fmt.Errorf("noncurrent_version_expiration_days: %w", err)
	}
	b.RetentionDays = int32(days)
	if v := a["access_logging.retention_days"]; v != "" {
		days, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return b, fmt.Errorf("access_logging.retention_days: %w", err)
		}
		b.LogRetentionDays = int32(days)
	}
	b.accessFromAttributes(a)
	b.ReplicaBucket, b.ReplicaRegion, b.ReplicaKeyARN, b.ReplicationRoleARN = a["replica_bucket"], a["replication.region"], a["replica_kms_key_arn"], a["replication_role_arn"]
	b.ReplicationMetrics, b.ReplicationTimeControl = a["replication.metrics"] == "true", a["replication.time_control"] == "true"
	if v := a["object_lock.days"]; v != "" {
		days, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return b, fmt.Errorf("object_lock.days: %w", err)
		}
		b.ObjectLockMode, b.ObjectLockDays = a["object_lock.mode"], int32(days)
	}
	for k, v := range a {
		if env, ok := strings.CutPrefix(k, "tofu_encryption_key_arns."); ok && env != "%" {
			if b.TofuKeyARNs == nil {
				b.TofuKeyARNs = map[string]string{}
			}
			b.TofuKeyARNs[env] = v
		}
		if env, ok := strings.CutPrefix(k, "policy_arns."); ok && env != "%" {
			b.PolicyARNs[env] = v
		}
		if i, ok := strings.CutPrefix(k, "principals."); ok && i != "#" {
			b.Principals = append(b.Principals, v)
		}
	}
	return b, nil
}

// BackendFromValues reads a backend from the values of `terraform show -json`
// (Workspace.Resources).
func BackendFromValues(v map[string]any) (Backend, error) {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	b := Backend{Name: str(v, "name"), Bucket: str(v, "bucket"), KeyARN: str(v, "kms_key_arn"), KeyID: str(v, "kms_key_id"),
		Table: str(v, "lock_table_name"), Alias: str(v, "kms_alias_name"), PolicyARNs: map[string]string{},
		Region: str(v, "region"), AccountID: str(v, "account_id"), TableARN: str(v, "lock_table_arn"), Locking: str(v, "locking"),
		TrailARN: str(v, "trail_arn"), LogBucket: str(v, "log_bucket")}
	if ct, ok := v["cloudtrail"].(map[string]any); ok {
		b.TrailName = str(ct, "name")
		if al, ok := ct["alarms"].(map[string]any); ok {
			b.AlarmsSNS = str(al, "sns_topic_arn")
		}
	}
	days, ok := v["noncurrent_version_expiration_days"].(float64)
	if !ok {
		return b, fmt.Errorf("noncurrent_version_expiration_days is %T", v["noncurrent_version_expiration_days"])
	}
	b.RetentionDays = int32(days)
	if lg, ok := v["access_logging"].(map[string]any); ok {
		days, _ := lg["retention_days"].(float64)
		b.LogRetentionDays = int32(days)
	}
	arns, _ := v["policy_arns"].(map[string]any)
	for env, arn := range arns {
		b.PolicyARNs[env], _ = arn.(string)
	}
	b.TofuEncryption, _ = v["tofu_encryption"].(bool)
	b.ReplicaBucket, b.ReplicaKeyARN, b.ReplicationRoleARN = str(v, "replica_bucket"), str(v, "replica_kms_key_arn"), str(v, "replication_role_arn")
	if rep, ok := v["replication"].(map[string]any); ok {
		b.ReplicaRegion = str(rep, "region")
		b.ReplicationMetrics, _ = rep["metrics"].(bool)
		b.ReplicationTimeControl, _ = rep["time_control"].(bool)
	}
	if ol, ok := v["object_lock"].(map[string]any); ok {
		days, _ := ol["days"].(float64)
		b.ObjectLockMode, b.ObjectLockDays = str(ol, "mode"), int32(days)
	}
	if keys, ok := v["tofu_encryption_key_arns"].(map[string]any); ok {
		b.TofuKeyARNs = map[string]string{}
		for env, arn := range keys {
			b.TofuKeyARNs[env], _ = arn.(string)
		}
	}
	principals, _ := v["principals"].([]any)
	for _, p := range principals {
		s, _ := p.(string)
		b.Principals = append(b.Principals, s)
	}
	b.accessFromValues(v)
	return b, nil
}

// flatList collects the elements of a list or set attribute from flat state
// attributes ("<prefix>.0", "<prefix>.1", …), sorted.
func flatList(a map[string]string, prefix string) []string {
	var out []string
	for k, v := range a {
		if i, ok := strings.CutPrefix(k, prefix+"."); ok && i != "#" && !strings.Contains(i, ".") {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// accessFromAttributes reads the access model from flat state attributes.
func (b *Backend) accessFromAttributes(a map[string]string) {
	n, _ := strconv.Atoi(a["access.#"])
	for i := range n {
		at := fmt.Sprintf("access.%d", i)
		b.Grants = append(b.Grants, policies.Grant{Environment: a[at+".environment"],
			ReadWrite: flatList(a, at+".principals"), ReadOnly: flatList(a, at+".read_only")})
	}
	slices.SortFunc(b.Grants, func(x, y policies.Grant) int { return strings.Compare(x.Environment, y.Environment) })
	if slices.ContainsFunc(slices.Collect(maps.Keys(a)), func(k string) bool { return strings.HasPrefix(k, "boundary.") && a[k] != "" }) {
		bd := &policies.Boundary{OrganizationID: a["boundary.organization_id"], OrgPaths: flatList(a, "boundary.org_paths"),
			VPCEndpointIDs: flatList(a, "boundary.vpc_endpoint_ids"), BreakGlass: flatList(a, "boundary.break_glass"), PrincipalTags: map[string]string{}}
		for k, v := range a {
			if tag, ok := strings.CutPrefix(k, "boundary.principal_tags."); ok && tag != "%" {
				bd.PrincipalTags[tag] = v
			}
		}
		b.Boundary = bd
	}
	if _, ok := a["key_administrators.require_mfa"]; ok {
		b.KeyAdmins = &policies.KeyAdministrators{Principals: flatList(a, "key_administrators.principals"),
			RequireMFA: a["key_administrators.require_mfa"] == "true"}
	}
	b.Provider = a["provider_principal"]
}

// accessFromValues reads the access model from `terraform show -json` values.
func (b *Backend) accessFromValues(v map[string]any) {
	strs := func(x any) []string {
		l, _ := x.([]any)
		var out []string
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out
	}
	blocks, _ := v["access"].([]any)
	for _, x := range blocks {
		blk, _ := x.(map[string]any)
		env, _ := blk["environment"].(string)
		b.Grants = append(b.Grants, policies.Grant{Environment: env, ReadWrite: strs(blk["principals"]), ReadOnly: strs(blk["read_only"])})
	}
	slices.SortFunc(b.Grants, func(x, y policies.Grant) int { return strings.Compare(x.Environment, y.Environment) })
	if bd, ok := v["boundary"].(map[string]any); ok {
		org, _ := bd["organization_id"].(string)
		out := &policies.Boundary{OrganizationID: org, OrgPaths: strs(bd["org_paths"]), VPCEndpointIDs: strs(bd["vpc_endpoint_ids"]),
			BreakGlass: strs(bd["break_glass"]), PrincipalTags: map[string]string{}}
		tags, _ := bd["principal_tags"].(map[string]any)
		for k, t := range tags {
			out.PrincipalTags[k], _ = t.(string)
		}
		b.Boundary = out
	}
	if ka, ok := v["key_administrators"].(map[string]any); ok {
		mfa, _ := ka["require_mfa"].(bool)
		b.KeyAdmins = &policies.KeyAdministrators{Principals: strs(ka["principals"]), RequireMFA: mfa}
	}
	b.Provider, _ = v["provider_principal"].(string)
}

// Policies is what internal/policies writes this backend's documents from.
func (b Backend) Policies() policies.Backend {
	return policies.Backend{Partition: "aws", Region: b.Region, AccountID: b.AccountID, Bucket: b.Bucket, KeyARN: b.KeyARN,
		TableARN: b.TableARN, Lockfile: b.Locking != "dynamodb", Principals: b.Principals, TrailARN: b.TrailARN,
		Grants: b.Grants, Boundary: b.Boundary, KeyAdmins: b.KeyAdmins, Provider: b.Provider, TofuKeyARNs: b.TofuKeyARNs,
		Replica: b.replica()}
}

// replica is what the policies know of the replica; nil without one.
func (b Backend) replica() *policies.Replica {
	if b.ReplicaBucket == "" {
		return nil
	}
	return &policies.Replica{Bucket: b.ReplicaBucket, Region: b.ReplicaRegion, KeyARN: b.ReplicaKeyARN, RoleARN: b.ReplicationRoleARN}
}

// CheckHardened reads every control of the backend's key, state bucket, lock
// table (unless locking is "lockfile") and access policies from AWS, never
// from state, and reports the first one that is not hardened.
func CheckHardened(ctx context.Context, c *awsclient.Client, a Backend) error {
	// KMS key: enabled, customer managed, rotation on, alias, no wildcard principal.
	k, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &a.KeyID})
	if err != nil {
		return err
	}
	if k.KeyMetadata.KeyState != kmstypes.KeyStateEnabled || k.KeyMetadata.KeyManager != kmstypes.KeyManagerTypeCustomer {
		return fmt.Errorf("key %s: state %s, manager %s", a.KeyID, k.KeyMetadata.KeyState, k.KeyMetadata.KeyManager)
	}
	rot, err := c.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: &a.KeyID})
	if err != nil || !rot.KeyRotationEnabled {
		return fmt.Errorf("key rotation: %v, %w", rot, err)
	}
	al, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(a.Alias)})
	if err != nil || aws.ToString(al.KeyMetadata.KeyId) != a.KeyID {
		return fmt.Errorf("alias %s does not point to %s: %w", a.Alias, a.KeyID, err)
	}
	kp, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &a.KeyID, PolicyName: aws.String("default")})
	if err != nil {
		return err
	}
	if err := noWildcardPrincipal(aws.ToString(kp.Policy)); err != nil {
		return fmt.Errorf("key policy: %w", err)
	}
	if err := SameDocument(aws.ToString(kp.Policy), policies.KeyPolicy(a.keyPolicyBackend())); err != nil {
		return fmt.Errorf("key policy in KMS: %w", err)
	}
	if tags, err := KeyTags(ctx, c, a.KeyID); err != nil || tags[naming.OwnerTagKey] != a.Name {
		return fmt.Errorf("key ownership tag missing: %w", err)
	}

	// Bucket controls.
	if err := checkBucket(ctx, c.S3, a.Bucket, a.KeyARN, policies.BucketPolicy(a.Policies()), a.RetentionDays, a.Name); err != nil {
		return err
	}

	// Lock table.
	if a.Locking != "lockfile" {
		d, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &a.Table})
		if err != nil {
			return err
		}
		tb := d.Table
		if tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest ||
			!aws.ToBool(tb.DeletionProtectionEnabled) || tb.SSEDescription == nil || aws.ToString(tb.SSEDescription.KMSMasterKeyArn) != a.KeyARN ||
			aws.ToString(tb.KeySchema[0].AttributeName) != "LockID" {
			return fmt.Errorf("lock table %s not hardened: %+v", a.Table, tb)
		}
		cb, err := c.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: &a.Table})
		if err != nil || cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
			return fmt.Errorf("point-in-time recovery off: %w", err)
		}
		if tags, err := TableTags(ctx, c, aws.ToString(tb.TableArn)); err != nil || tags[naming.OwnerTagKey] != a.Name {
			return fmt.Errorf("lock table ownership tag missing: %w", err)
		}
		if err := tableResourcePolicy(ctx, c, aws.ToString(tb.TableArn), policies.LockTablePolicy(a.Policies())); err != nil {
			return err
		}
	} else if a.Table != "" {
		return fmt.Errorf("lock table %q in state, want none", a.Table)
	}

	// Access policies: path, no wildcards, the hardened document, ownership tag.
	if len(a.PolicyARNs) == 0 {
		return fmt.Errorf("no policy ARNs in state")
	}
	for env, arn := range a.PolicyARNs {
		doc, err := PolicyDocument(ctx, c, arn)
		if err != nil {
			return fmt.Errorf("policy of %s: %w", env, err)
		}
		if w := policydoc.Wildcards(doc); len(w) > 0 {
			return fmt.Errorf("policy of %s has wildcards: %v", env, w)
		}
		if want := policies.AccessPolicy(a.Policies(), env); !doc.Equivalent(want) {
			return fmt.Errorf("policy of %s in IAM differs from the least-privilege policy; want:\n%s", env, policies.Render(want))
		}
		if !strings.Contains(arn, ":policy/securestate/") {
			return fmt.Errorf("policy of %s is not under /securestate/: %s", env, arn)
		}
		if tags, err := PolicyTags(ctx, c, arn); err != nil || tags[naming.OwnerTagKey] != a.Name {
			return fmt.Errorf("policy of %s: ownership tag missing: %w", env, err)
		}
	}
	return CheckTofuKeys(ctx, c, a)
}

// CheckTofuKeys reads each OpenTofu encryption key: enabled, customer
// managed, rotating, behind its alias, with the policy internal/policies
// renders and the ownership and purpose tags.
func CheckTofuKeys(ctx context.Context, c *awsclient.Client, a Backend) error {
	if a.TofuEncryption != (len(a.TofuKeyARNs) > 0) || a.TofuEncryption && len(a.TofuKeyARNs) != len(a.PolicyARNs) {
		return fmt.Errorf("tofu_encryption %v with encryption keys for %d of %d environments", a.TofuEncryption, len(a.TofuKeyARNs), len(a.PolicyARNs))
	}
	for env, arn := range a.TofuKeyARNs {
		k, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &arn})
		if err != nil {
			return fmt.Errorf("%s's encryption key: %w", env, err)
		}
		if k.KeyMetadata.KeyState != kmstypes.KeyStateEnabled || k.KeyMetadata.KeyManager != kmstypes.KeyManagerTypeCustomer {
			return fmt.Errorf("%s's encryption key: state %s, manager %s", env, k.KeyMetadata.KeyState, k.KeyMetadata.KeyManager)
		}
		if rot, err := c.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: &arn}); err != nil || !rot.KeyRotationEnabled {
			return fmt.Errorf("%s's encryption key rotation: %v, %w", env, rot, err)
		}
		alias := naming.TofuEncryptionKeyAlias(a.Name, env)
		if al, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias}); err != nil || aws.ToString(al.KeyMetadata.Arn) != arn {
			return fmt.Errorf("alias %s does not point to %s: %w", alias, arn, err)
		}
		kp, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &arn, PolicyName: aws.String("default")})
		if err != nil {
			return err
		}
		if err := SameDocument(aws.ToString(kp.Policy), policies.TofuKeyPolicy(a.keyPolicyBackend(), env)); err != nil {
			return fmt.Errorf("%s's encryption key policy in KMS: %w", env, err)
		}
		if tags, err := KeyTags(ctx, c, arn); err != nil || tags[naming.OwnerTagKey] != a.Name || tags[naming.KeyPurposeTagKey] != naming.TofuEncryptionKeyPurpose(env) {
			return fmt.Errorf("%s's encryption key tags %v: %w", env, tags, err)
		}
	}
	return nil
}

// tableResourcePolicy checks the table's resource policy: exactly want, or
// none when want has no statements.
func tableResourcePolicy(ctx context.Context, c *awsclient.Client, tableARN string, want policydoc.Document) error {
	rp, err := c.DynamoDB.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: &tableARN})
	var notFound *ddbtypes.PolicyNotFoundException
	switch {
	case errors.As(err, &notFound) || err == nil && aws.ToString(rp.Policy) == "":
		if len(want.Statement) > 0 {
			return fmt.Errorf("lock table has no resource policy; want:\n%s", policies.Render(want))
		}
		return nil
	case err != nil:
		return fmt.Errorf("lock table resource policy: %w", err)
	case len(want.Statement) == 0:
		return fmt.Errorf("lock table has a resource policy, want none: %s", aws.ToString(rp.Policy))
	}
	return SameDocument(aws.ToString(rp.Policy), want)
}

// keyPolicyBackend is Policies plus, with alarms, the log group the key
// policy lets CloudWatch Logs encrypt.
func (b Backend) keyPolicyBackend() policies.Backend {
	p := b.Policies()
	if b.AlarmsSNS != "" {
		p.LogGroupARN = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/securestate/%s/cloudtrail", b.Region, b.AccountID, b.Name)
	}
	return p
}

// CheckMonitored reads the managed log bucket, the state bucket's access
// logging and the trail from AWS directly (for a backend with
// `access_logging {}` and `cloudtrail {}`).
func CheckMonitored(ctx context.Context, c *awsclient.Client, a Backend) error {
	lg, err := c.S3.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: &a.Bucket})
	if err != nil || lg.LoggingEnabled == nil || aws.ToString(lg.LoggingEnabled.TargetBucket) != a.LogBucket {
		return fmt.Errorf("state bucket logging does not go to %s: %w", a.LogBucket, err)
	}
	if a.LogBucket != a.Bucket+"-logs" {
		return fmt.Errorf("managed log bucket is %q", a.LogBucket)
	}
	logBucket := a.LogBucket
	enc, err := c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &logBucket})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		return fmt.Errorf("log bucket encryption: %w", err)
	}
	ver, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &logBucket})
	if err != nil || ver.Status != s3types.BucketVersioningStatusEnabled {
		return fmt.Errorf("log bucket versioning: %w", err)
	}
	lc, err := c.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &logBucket})
	if err != nil || len(lc.Rules) == 0 || lc.Rules[0].Expiration == nil || aws.ToInt32(lc.Rules[0].Expiration.Days) != a.LogRetentionDays {
		return fmt.Errorf("log bucket lifecycle does not expire logs after %d days: %w", a.LogRetentionDays, err)
	}
	bp, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &logBucket})
	if err != nil {
		return err
	}
	if err := SameDocument(aws.ToString(bp.Policy), policies.LogBucketPolicy(a.Policies(), logBucket, aws.ToString(lg.LoggingEnabled.TargetPrefix))); err != nil {
		return fmt.Errorf("log bucket policy: %w", err)
	}
	if err := publicAccessBlocked(ctx, c.S3, logBucket); err != nil {
		return fmt.Errorf("log bucket: %w", err)
	}
	if err := ownerEnforced(ctx, c.S3, logBucket); err != nil {
		return fmt.Errorf("log bucket: %w", err)
	}
	doc, err := policydoc.Parse(aws.ToString(bp.Policy))
	if err != nil {
		return err
	}
	var logging, tls bool
	for _, st := range doc.Statement {
		if st.Effect == "Allow" && len(st.Principal["Service"]) == 1 && st.Principal["Service"][0] == "logging.s3.amazonaws.com" {
			logging = len(st.Condition["StringEquals"]["aws:SourceAccount"]) == 1 && len(st.Condition["ArnLike"]["aws:SourceArn"]) == 1
		}
		if st.Effect == "Deny" && len(st.Condition["Bool"]["aws:SecureTransport"]) == 1 {
			tls = true
		}
	}
	if !logging || !tls {
		return fmt.Errorf("log bucket policy: logging grant with conditions %v, TLS-only %v", logging, tls)
	}

	tr, err := c.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: &a.TrailName})
	if err != nil {
		return err
	}
	if aws.ToString(tr.Trail.S3BucketName) != logBucket || aws.ToString(tr.Trail.S3KeyPrefix) != naming.TrailPrefix ||
		aws.ToString(tr.Trail.KmsKeyId) != a.KeyARN || !aws.ToBool(tr.Trail.LogFileValidationEnabled) {
		return fmt.Errorf("trail: bucket %s, key %s, validation %v", aws.ToString(tr.Trail.S3BucketName), aws.ToString(tr.Trail.KmsKeyId), aws.ToBool(tr.Trail.LogFileValidationEnabled))
	}
	st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: &a.TrailName})
	if err != nil || !aws.ToBool(st.IsLogging) {
		return fmt.Errorf("trail not logging: %w", err)
	}
	sel, err := c.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: &a.TrailName})
	if err != nil || len(sel.EventSelectors) != 1 || sel.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll {
		return fmt.Errorf("trail event selectors: %w", err)
	}
	var types []string
	for _, dr := range sel.EventSelectors[0].DataResources {
		types = append(types, aws.ToString(dr.Type)+"="+strings.Join(dr.Values, ","))
	}
	joined := strings.Join(types, " ")
	if !strings.Contains(joined, "AWS::S3::Object=arn:aws:s3:::"+a.Bucket+"/") || !strings.Contains(joined, "AWS::DynamoDB::Table="+a.TableARN) {
		return fmt.Errorf("trail records %s", joined)
	}
	return nil
}

func publicAccessBlocked(ctx context.Context, api *s3.Client, bucket string) error {
	pab, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &bucket})
	if err != nil {
		return err
	}
	if p := pab.PublicAccessBlockConfiguration; !aws.ToBool(p.BlockPublicAcls) || !aws.ToBool(p.BlockPublicPolicy) ||
		!aws.ToBool(p.IgnorePublicAcls) || !aws.ToBool(p.RestrictPublicBuckets) {
		return fmt.Errorf("public access block of %s: %+v", bucket, p)
	}
	return nil
}

func ownerEnforced(ctx context.Context, api *s3.Client, bucket string) error {
	own, err := api.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &bucket})
	if err != nil || own.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		return fmt.Errorf("ownership controls of %s: %w", bucket, err)
	}
	return nil
}

// KeyTags reads a KMS key's tags from AWS.
func KeyTags(ctx context.Context, c *awsclient.Client, keyID string) (map[string]string, error) {
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

// TableTags reads a DynamoDB table's tags from AWS.
func TableTags(ctx context.Context, c *awsclient.Client, arn string) (map[string]string, error) {
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

// PolicyTags reads a managed policy's tags from AWS.
func PolicyTags(ctx context.Context, c *awsclient.Client, arn string) (map[string]string, error) {
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

// PolicyDocument reads the default version of a managed policy.
func PolicyDocument(ctx context.Context, c *awsclient.Client, arn string) (policydoc.Document, error) {
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

// SameDocument reports how a policy text read from AWS differs from the
// document the provider writes (nil when they are equivalent).
func SameDocument(text string, want policydoc.Document) error {
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

// HasTag reports whether an S3 tag set holds k = v.
func HasTag(set []s3types.Tag, k, v string) bool {
	for _, t := range set {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

// checkBucket reads every control of a state (or replica) bucket: SSE-KMS
// with keyARN and the bucket key, versioning, all public access blocked,
// ACLs disabled, the TLS-only and key-only policy equal to want, the
// retention lifecycle and the ownership tag.
func checkBucket(ctx context.Context, api *s3.Client, bucket, keyARN string, want policydoc.Document, retentionDays int32, name string) error {
	enc, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket})
	if err != nil {
		return err
	}
	rule := enc.ServerSideEncryptionConfiguration.Rules[0]
	if rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != keyARN || !aws.ToBool(rule.BucketKeyEnabled) {
		return fmt.Errorf("bucket %s encryption: %+v", bucket, rule)
	}
	ver, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	if err != nil || ver.Status != s3types.BucketVersioningStatusEnabled {
		return fmt.Errorf("bucket %s versioning: %v, %w", bucket, ver.Status, err)
	}
	if err := publicAccessBlocked(ctx, api, bucket); err != nil {
		return err
	}
	if err := ownerEnforced(ctx, api, bucket); err != nil {
		return err
	}
	bp, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
	if err != nil {
		return err
	}
	doc, err := policydoc.Parse(aws.ToString(bp.Policy))
	if err != nil {
		return err
	}
	if !denies(doc, "aws:SecureTransport") || !denies(doc, "s3:x-amz-server-side-encryption-aws-kms-key-id") {
		return fmt.Errorf("bucket %s policy lacks the TLS-only or key-only deny", bucket)
	}
	if !doc.Equivalent(want) {
		return fmt.Errorf("bucket %s policy in S3 differs from the hardened policy:\n%s\nwant:\n%s", bucket, aws.ToString(bp.Policy), policies.Render(want))
	}
	lc, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &bucket})
	if err != nil || len(lc.Rules) != 1 || lc.Rules[0].NoncurrentVersionExpiration == nil || lc.Rules[0].AbortIncompleteMultipartUpload == nil ||
		lc.Rules[0].Expiration == nil || !aws.ToBool(lc.Rules[0].Expiration.ExpiredObjectDeleteMarker) {
		return fmt.Errorf("bucket %s lifecycle: %w", bucket, err)
	}
	if got := aws.ToInt32(lc.Rules[0].NoncurrentVersionExpiration.NoncurrentDays); got != retentionDays {
		return fmt.Errorf("bucket %s lifecycle expires noncurrent versions after %d days, want %d", bucket, got, retentionDays)
	}
	tags, err := api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
	if err != nil || !HasTag(tags.TagSet, naming.OwnerTagKey, name) {
		return fmt.Errorf("bucket %s ownership tag missing: %w", bucket, err)
	}
	return nil
}
