package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
)

// S3API is the part of the S3 client (of the state bucket's region) this
// package uses.
type S3API interface {
	PutBucketReplication(context.Context, *s3.PutBucketReplicationInput, ...func(*s3.Options)) (*s3.PutBucketReplicationOutput, error)
	GetBucketReplication(context.Context, *s3.GetBucketReplicationInput, ...func(*s3.Options)) (*s3.GetBucketReplicationOutput, error)
	DeleteBucketReplication(context.Context, *s3.DeleteBucketReplicationInput, ...func(*s3.Options)) (*s3.DeleteBucketReplicationOutput, error)
}

// thresholdMinutes is the replication time S3 Replication Time Control
// guarantees, and the metrics' event threshold: S3 accepts 15 and nothing
// else.
const thresholdMinutes = 15

// Rule is the state bucket's replication configuration as S3 reports it.
type Rule struct {
	Role  string
	Rules []types.ReplicationRule
}

// noConfiguration is S3's code for a bucket without replication
// configuration (the SDK has no typed error for it).
const noConfiguration = "ReplicationConfigurationNotFoundError"

// FindRule reads the bucket's replication configuration; a bucket without one
// is awserr.ErrNotFound.
func FindRule(ctx context.Context, api S3API, bucket string) (*Rule, error) {
	out, err := api.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(bucket)})
	switch {
	case awserr.HasCode(err, noConfiguration, "NoSuchBucket"):
		// No bucket yet (a create): no rule either.
		return nil, awserr.NotFound("replication configuration of bucket %s", bucket)
	case err != nil:
		return nil, fmt.Errorf("s3:GetBucketReplication %s: %w", bucket, err)
	case out.ReplicationConfiguration == nil:
		return nil, awserr.NotFound("replication configuration of bucket %s", bucket)
	}
	return &Rule{Role: aws.ToString(out.ReplicationConfiguration.Role), Rules: out.ReplicationConfiguration.Rules}, nil
}

// WantRule is the one rule the state bucket has: every object (an empty
// prefix filter), SSE-KMS encrypted objects selected (every state is one;
// without it S3 replicates none of them), delete markers replicated, each
// replica encrypted with the replica key; with Metrics or TimeControl the
// replication metrics (15-minute threshold), with TimeControl S3 Replication
// Time Control (15 minutes).
func WantRule(spec Spec) types.ReplicationRule {
	r := types.ReplicationRule{
		ID:                      aws.String(naming.ReplicationRuleID),
		Priority:                aws.Int32(1),
		Status:                  types.ReplicationRuleStatusEnabled,
		Filter:                  &types.ReplicationRuleFilter{Prefix: aws.String("")},
		DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusEnabled},
		SourceSelectionCriteria: &types.SourceSelectionCriteria{
			SseKmsEncryptedObjects: &types.SseKmsEncryptedObjects{Status: types.SseKmsEncryptedObjectsStatusEnabled},
		},
		Destination: &types.Destination{
			Bucket:                  aws.String(spec.ReplicaBucketARN()),
			EncryptionConfiguration: &types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String(spec.ReplicaKeyARN)},
		},
	}
	if spec.Metrics || spec.TimeControl {
		r.Destination.Metrics = &types.Metrics{Status: types.MetricsStatusEnabled,
			EventThreshold: &types.ReplicationTimeValue{Minutes: aws.Int32(thresholdMinutes)}}
	}
	if spec.TimeControl {
		r.Destination.ReplicationTime = &types.ReplicationTime{Status: types.ReplicationTimeStatusEnabled,
			Time: &types.ReplicationTimeValue{Minutes: aws.Int32(thresholdMinutes)}}
	}
	return r
}

// RetriedCodes are the codes EnsureRule retries within
// retry.PropagationTimeout: AccessDenied (the new role not yet visible to the
// iam:PassRole check), NoSuchBucket (a bucket made moments ago) and
// InvalidRequest when its message names the role, versioning (written moments
// ago on either bucket) or the destination bucket (made moments ago in the
// other region). Any other InvalidRequest is a mistake, not a delay.
var RetriedCodes = retry.Codes{"AccessDenied", "InvalidRequest", "NoSuchBucket"}

// propagating reports whether a PutBucketReplication failure is one of the
// delays RetriedCodes describes.
func propagating(err error) bool {
	switch awserr.Code(err) {
	case "AccessDenied", "NoSuchBucket":
		return true
	case "InvalidRequest":
		m := strings.ToLower(message(err))
		return strings.Contains(m, "role") || strings.Contains(m, "versioning") || strings.Contains(m, "destination bucket")
	}
	return false
}

func message(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

// final wraps an error retry.OnCodes must not retry: it hides the code.
type final struct{ err error }

func (f final) Error() string { return f.err.Error() }

// EnsureRule writes the bucket's replication configuration: the
// replication role and WantRule, replacing any other rule. It assumes the
// caller has enabled versioning on both buckets and made the role; S3's
// refusals while those writes propagate are retried (RetriedCodes). A
// configuration S3 still refuses for versioning is reported as such. The
// result is one FindRule after the write.
func EnsureRule(ctx context.Context, api S3API, spec Spec) (*Rule, error) {
	in := &s3.PutBucketReplicationInput{
		Bucket: aws.String(spec.Bucket),
		ReplicationConfiguration: &types.ReplicationConfiguration{
			Role:  aws.String(spec.RoleARN()),
			Rules: []types.ReplicationRule{WantRule(spec)},
		},
	}
	err := retry.OnCodes(ctx, retry.PropagationTimeout, RetriedCodes, func() error {
		_, err := api.PutBucketReplication(ctx, in)
		if err != nil && !propagating(err) {
			return final{err}
		}
		return err
	})
	var f final
	if errors.As(err, &f) {
		err = f.err
	}
	switch {
	case awserr.HasCode(err, "InvalidRequest") && strings.Contains(strings.ToLower(message(err)), "versioning"):
		return nil, fmt.Errorf("s3:PutBucketReplication %s: versioning must be Enabled on the state bucket and on the replica bucket %s before the replication rule is written: %w",
			spec.Bucket, spec.ReplicaBucket, err)
	case err != nil:
		return nil, fmt.Errorf("s3:PutBucketReplication %s: %w", spec.Bucket, err)
	}
	return retry.Visible(ctx, func() (*Rule, error) { return FindRule(ctx, api, spec.Bucket) })
}

// RuleDrift compares the bucket's replication configuration with the spec,
// by AWS's semantics: "" when compliant, else every problem. Any rule other
// than WantRule's is drift, and so is each control of that rule that reads
// differently (a missing optional element reads as disabled).
func RuleDrift(spec Spec, o *Rule) string {
	if o == nil {
		return "the state bucket has no replication rule"
	}
	var problems []string
	if o.Role != spec.RoleARN() {
		problems = append(problems, fmt.Sprintf("replication runs as %q, not the replication role %s", o.Role, spec.RoleARN()))
	}
	found := false
	for _, r := range o.Rules {
		if aws.ToString(r.ID) != naming.ReplicationRuleID {
			problems = append(problems, fmt.Sprintf("another rule %q replicates the state bucket", aws.ToString(r.ID)))
			continue
		}
		found = true
		problems = append(problems, ruleProblems(spec, r)...)
	}
	if !found {
		problems = append(problems, "the rule "+naming.ReplicationRuleID+" is missing")
	}
	return strings.Join(problems, "; ")
}

// ruleProblems are the differences between r and WantRule.
func ruleProblems(spec Spec, r types.ReplicationRule) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if r.Status != types.ReplicationRuleStatusEnabled {
		add("the rule is %s", statusOr(string(r.Status)))
	}
	if aws.ToInt32(r.Priority) != 1 {
		add("the rule's priority is %d, not 1", aws.ToInt32(r.Priority))
	}
	if f := r.Filter; f == nil || aws.ToString(f.Prefix) != "" || f.Tag != nil || f.And != nil || aws.ToString(r.Prefix) != "" { //nolint:staticcheck // the V1 Prefix, deprecated: a rule written with it out of band is drift
		add("the rule does not select every state object")
	}
	if d := r.DeleteMarkerReplication; d == nil || d.Status != types.DeleteMarkerReplicationStatusEnabled {
		add("delete markers are not replicated")
	}
	if c := r.SourceSelectionCriteria; c == nil || c.SseKmsEncryptedObjects == nil || c.SseKmsEncryptedObjects.Status != types.SseKmsEncryptedObjectsStatusEnabled {
		add("SSE-KMS encrypted objects (every state) are not selected, so none is replicated")
	} else if c.ReplicaModifications != nil && c.ReplicaModifications.Status != types.ReplicaModificationsStatusDisabled {
		add("changes made to replicas are replicated back")
	}
	d := r.Destination
	if d == nil {
		add("the rule has no destination")
		return out
	}
	if aws.ToString(d.Bucket) != spec.ReplicaBucketARN() {
		add("replicas go to %q, not the replica bucket %s", aws.ToString(d.Bucket), spec.ReplicaBucketARN())
	}
	if a := aws.ToString(d.Account); a != "" && a != spec.AccountID {
		add("replicas go to account %s", a)
	}
	if d.AccessControlTranslation != nil {
		add("the rule changes the replicas' owner")
	}
	if d.EncryptionConfiguration == nil || aws.ToString(d.EncryptionConfiguration.ReplicaKmsKeyID) != spec.ReplicaKeyARN {
		add("replicas are not encrypted with the replica key %s", spec.ReplicaKeyARN)
	}
	if d.StorageClass != "" && d.StorageClass != types.StorageClassStandard {
		add("replicas are stored as %s, not STANDARD (a failover read needs them at once)", d.StorageClass)
	}
	wantMetrics := spec.Metrics || spec.TimeControl
	switch m := d.Metrics; {
	case wantMetrics && (m == nil || m.Status != types.MetricsStatusEnabled):
		add("replication metrics are off")
	case wantMetrics && (m.EventThreshold == nil || aws.ToInt32(m.EventThreshold.Minutes) != thresholdMinutes):
		add("the replication metrics' threshold is not %d minutes", thresholdMinutes)
	case !wantMetrics && m != nil && m.Status != types.MetricsStatusDisabled:
		add("replication metrics are on")
	}
	switch t := d.ReplicationTime; {
	case spec.TimeControl && (t == nil || t.Status != types.ReplicationTimeStatusEnabled):
		add("S3 Replication Time Control is off")
	case spec.TimeControl && (t.Time == nil || aws.ToInt32(t.Time.Minutes) != thresholdMinutes):
		add("S3 Replication Time Control is not %d minutes", thresholdMinutes)
	case !spec.TimeControl && t != nil && t.Status != types.ReplicationTimeStatusDisabled:
		add("S3 Replication Time Control is on")
	}
	return out
}

func statusOr(s string) string {
	if s == "" {
		return "without status"
	}
	return s
}

// DeleteRule removes the bucket's replication configuration; a bucket without
// one, or gone, counts as done.
func DeleteRule(ctx context.Context, api S3API, bucket string) error {
	_, err := api.DeleteBucketReplication(ctx, &s3.DeleteBucketReplicationInput{Bucket: aws.String(bucket)})
	if err == nil || awserr.HasCode(err, noConfiguration, "NoSuchBucket") {
		return nil
	}
	return fmt.Errorf("s3:DeleteBucketReplication %s: %w", bucket, err)
}
