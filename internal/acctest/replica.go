package acctest

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policies"
)

// CheckReplica reads, from AWS and never from state, every control of a
// backend's replication: the replica bucket in its region (every control of
// the state bucket, with the replica key and the replica bucket policy),
// the replica key (enabled, customer managed, rotation, alias, policy,
// ownership and purpose tags), the replication role (trust and permissions
// policy) and the state bucket's one replication rule. What the emulator
// does not do (copy objects) is not checked here: the rule is.
func CheckReplica(ctx context.Context, c *awsclient.Client, a Backend) error {
	if a.ReplicaBucket == "" || a.ReplicaRegion == "" || a.ReplicaKeyARN == "" || a.ReplicationRoleARN == "" {
		return fmt.Errorf("replication outputs missing: bucket %q, region %q, key %q, role %q", a.ReplicaBucket, a.ReplicaRegion, a.ReplicaKeyARN, a.ReplicationRoleARN)
	}
	rc := c.InRegion(a.ReplicaRegion)
	pb := a.Policies()

	// The replica key, in the replica region.
	k, err := rc.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &a.ReplicaKeyARN})
	if err != nil {
		return fmt.Errorf("replica key: %w", err)
	}
	if k.KeyMetadata.KeyState != kmstypes.KeyStateEnabled || k.KeyMetadata.KeyManager != kmstypes.KeyManagerTypeCustomer {
		return fmt.Errorf("replica key: state %s, manager %s", k.KeyMetadata.KeyState, k.KeyMetadata.KeyManager)
	}
	keyID := aws.ToString(k.KeyMetadata.KeyId)
	rot, err := rc.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: &keyID})
	if err != nil || !rot.KeyRotationEnabled {
		return fmt.Errorf("replica key rotation: %v, %w", rot, err)
	}
	al, err := rc.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(naming.ReplicaKeyAlias(a.Name))})
	if err != nil || aws.ToString(al.KeyMetadata.KeyId) != keyID {
		return fmt.Errorf("replica alias does not point to %s: %w", keyID, err)
	}
	kp, err := rc.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &keyID, PolicyName: aws.String("default")})
	if err != nil {
		return err
	}
	if err := SameDocument(aws.ToString(kp.Policy), policies.ReplicaKeyPolicy(pb)); err != nil {
		return fmt.Errorf("replica key policy in KMS: %w", err)
	}
	if tags, err := KeyTags(ctx, rc, keyID); err != nil || tags[naming.OwnerTagKey] != a.Name || tags[naming.KeyPurposeTagKey] != naming.ReplicaKeyPurpose {
		return fmt.Errorf("replica key tags %v: %w", tags, err)
	}

	// The replica bucket.
	if err := checkBucket(ctx, rc.S3, a.ReplicaBucket, a.ReplicaKeyARN, policies.ReplicaBucketPolicy(pb), a.RetentionDays, a.Name); err != nil {
		return fmt.Errorf("replica bucket: %w", err)
	}
	loc, err := rc.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &a.ReplicaBucket})
	if err != nil || string(loc.LocationConstraint) != a.ReplicaRegion {
		return fmt.Errorf("replica bucket is in %q, want %q: %w", loc.LocationConstraint, a.ReplicaRegion, err)
	}

	// The role: only S3 may assume it, with exactly the replication policy.
	name := naming.ReplicationRole(a.Name)
	role, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		return fmt.Errorf("replication role: %w", err)
	}
	if aws.ToString(role.Role.Arn) != a.ReplicationRoleARN || aws.ToString(role.Role.Path) != naming.PolicyPath {
		return fmt.Errorf("replication role is %s (path %s), want %s", aws.ToString(role.Role.Arn), aws.ToString(role.Role.Path), a.ReplicationRoleARN)
	}
	trust, err := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if err != nil {
		return err
	}
	if err := SameDocument(trust, policies.ReplicationTrustPolicy(pb)); err != nil {
		return fmt.Errorf("replication role trust policy: %w", err)
	}
	inline, err := c.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &name})
	if err != nil || len(inline.PolicyNames) != 1 {
		return fmt.Errorf("replication role has inline policies %v, want exactly one: %w", inline, err)
	}
	rp, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &inline.PolicyNames[0]})
	if err != nil {
		return err
	}
	doc, err := url.QueryUnescape(aws.ToString(rp.PolicyDocument))
	if err != nil {
		return err
	}
	if err := SameDocument(doc, policies.ReplicationRolePolicy(pb)); err != nil {
		return fmt.Errorf("replication role policy: %w", err)
	}
	attached, err := c.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
	if err != nil || len(attached.AttachedPolicies) != 0 {
		return fmt.Errorf("replication role has managed policies attached %v: %w", attached, err)
	}

	// The rule on the state bucket.
	rep, err := c.S3.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: &a.Bucket})
	if err != nil {
		return fmt.Errorf("replication configuration: %w", err)
	}
	cfg := rep.ReplicationConfiguration
	if aws.ToString(cfg.Role) != a.ReplicationRoleARN || len(cfg.Rules) != 1 {
		return fmt.Errorf("replication configuration: role %s, %d rules", aws.ToString(cfg.Role), len(cfg.Rules))
	}
	r := cfg.Rules[0]
	switch {
	case aws.ToString(r.ID) != naming.ReplicationRuleID || r.Status != s3types.ReplicationRuleStatusEnabled:
		return fmt.Errorf("replication rule %s is %s", aws.ToString(r.ID), r.Status)
	case r.Filter == nil || aws.ToString(r.Filter.Prefix) != "":
		return fmt.Errorf("replication rule filter %+v: want every object", r.Filter)
	case r.DeleteMarkerReplication == nil || r.DeleteMarkerReplication.Status != s3types.DeleteMarkerReplicationStatusEnabled:
		return fmt.Errorf("replication rule does not replicate delete markers: %+v", r.DeleteMarkerReplication)
	case r.SourceSelectionCriteria == nil || r.SourceSelectionCriteria.SseKmsEncryptedObjects == nil ||
		r.SourceSelectionCriteria.SseKmsEncryptedObjects.Status != s3types.SseKmsEncryptedObjectsStatusEnabled:
		return fmt.Errorf("replication rule does not select SSE-KMS objects: %+v", r.SourceSelectionCriteria)
	case r.Destination == nil || aws.ToString(r.Destination.Bucket) != "arn:aws:s3:::"+a.ReplicaBucket:
		return fmt.Errorf("replication destination %+v, want %s", r.Destination, a.ReplicaBucket)
	case r.Destination.EncryptionConfiguration == nil || aws.ToString(r.Destination.EncryptionConfiguration.ReplicaKmsKeyID) != a.ReplicaKeyARN:
		return fmt.Errorf("replicas are not encrypted with the replica key: %+v", r.Destination.EncryptionConfiguration)
	}
	metrics := r.Destination.Metrics != nil && r.Destination.Metrics.Status == s3types.MetricsStatusEnabled
	rtc := r.Destination.ReplicationTime != nil && r.Destination.ReplicationTime.Status == s3types.ReplicationTimeStatusEnabled
	if metrics != (a.ReplicationMetrics || a.ReplicationTimeControl) || rtc != a.ReplicationTimeControl {
		return fmt.Errorf("replication metrics %v (want %v), time control %v (want %v)", metrics, a.ReplicationMetrics || a.ReplicationTimeControl, rtc, a.ReplicationTimeControl)
	}
	return nil
}
