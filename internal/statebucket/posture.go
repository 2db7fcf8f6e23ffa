package statebucket

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/posture"
)

// Audit is what an audit knows beyond the bucket's own reads.
type Audit struct {
	Partition string
	// AWSManagedKey: the default encryption's KMS key is AWS managed
	// (aws/s3), whose policy nobody can scope.
	AWSManagedKey bool
	// OtherKey, when not "", says the default encryption uses another key
	// than the one the audit was told is the backend's.
	OtherKey string
}

// PostureControls lists the controls Posture reports for a state bucket.
func PostureControls() []string {
	return []string{ControlAccessLogging, ControlEncryption, ControlLifecycle, ControlOwnership, ControlPolicy, ControlPublicAccess, ControlVersioning}
}

// Posture measures a bucket made by anyone against what the backend
// enforces, control by control, from what Observe read: not against one
// exact configuration, as Drift does, but against the requirement behind
// each control (the bucket policy must refuse requests without TLS and
// allow no one anonymously; the lifecycle must expire old versions and never
// current states). The checks shared with Drift are the same functions.
func Posture(o *Observed, unreadable map[string]error, a Audit) map[string]posture.Result {
	out := map[string]posture.Result{
		ControlEncryption:    encryptionPosture(o, a),
		ControlVersioning:    posture.Of(versioningProblem(o), "versioning is Enabled"),
		ControlPublicAccess:  posture.Of(publicAccessProblem(o), "all four public access block settings are on"),
		ControlOwnership:     posture.Of(ownershipProblem(o), "object ownership is BucketOwnerEnforced: ACLs are disabled"),
		ControlPolicy:        policyPosture(o, a),
		ControlLifecycle:     lifecyclePosture(o),
		ControlAccessLogging: loggingPosture(o),
	}
	for control, err := range unreadable {
		if _, ok := out[control]; ok {
			out[control] = posture.Unreadable(readWhat[control], err)
		}
	}
	return out
}

// readWhat names what each control's read returns, for unreadable reports.
var readWhat = map[string]string{
	ControlEncryption:    "the default encryption (s3:GetEncryptionConfiguration)",
	ControlVersioning:    "the versioning status (s3:GetBucketVersioning)",
	ControlPublicAccess:  "the public access block (s3:GetBucketPublicAccessBlock)",
	ControlOwnership:     "the ownership controls (s3:GetBucketOwnershipControls)",
	ControlPolicy:        "the bucket policy (s3:GetBucketPolicy)",
	ControlLifecycle:     "the lifecycle configuration (s3:GetLifecycleConfiguration)",
	ControlAccessLogging: "the server access logging (s3:GetBucketLogging)",
}

func encryptionPosture(o *Observed, a Audit) posture.Result {
	switch {
	case o.SSEAlgorithm == "":
		return posture.Failed("no default encryption is configured")
	case o.SSEAlgorithm != string(types.ServerSideEncryptionAwsKms) && o.SSEAlgorithm != string(types.ServerSideEncryptionAwsKmsDsse):
		return posture.Failed(fmt.Sprintf("default encryption is %s, not SSE-KMS with a customer-managed key", o.SSEAlgorithm))
	case o.SSEKey == "" || a.AWSManagedKey:
		return posture.Failed("default encryption is SSE-KMS with the AWS managed key aws/s3, whose key policy cannot be scoped")
	case a.OtherKey != "":
		return posture.Failed(a.OtherKey)
	case !o.BucketKey:
		return posture.Failed("default encryption is SSE-KMS with a customer-managed key, but the S3 bucket key is off")
	}
	return posture.Passed("default encryption is SSE-KMS with a customer-managed key and the S3 bucket key on")
}

func policyPosture(o *Observed, a Audit) posture.Result {
	if o.Policy == "" {
		return posture.Failed("no bucket policy: requests without TLS are not refused")
	}
	doc, err := policydoc.Parse(o.Policy)
	if err != nil {
		return posture.Failed("the bucket policy cannot be parsed")
	}
	if l := policydoc.PublicAllow(doc); l != "" {
		return posture.Failed(l + " of the bucket policy allows anyone, unconditionally")
	}
	partition := a.Partition
	if partition == "" {
		partition = "aws"
	}
	bucket := arn.ARN{Partition: partition, Service: "s3", Resource: o.Bucket}.String()
	if !policydoc.DeniesInsecureTransport(doc, bucket, bucket+"/*") {
		return posture.Failed("the bucket policy does not deny every request made without TLS (aws:SecureTransport false) on the bucket and its objects")
	}
	return posture.Passed("the bucket policy denies requests without TLS and allows no one anonymously")
}

// lifecyclePosture requires a rule, enabled for the whole bucket, that
// expires noncurrent versions, and no rule that expires or moves current
// objects: a state that expires or goes to an archive tier is lost to
// Terraform.
func lifecyclePosture(o *Observed) posture.Result {
	var expires bool
	for _, r := range o.Lifecycle {
		if r.Status != types.ExpirationStatusEnabled {
			continue
		}
		id := aws.ToString(r.ID)
		if e := r.Expiration; e != nil && (e.Days != nil || e.Date != nil) {
			return posture.Failed(fmt.Sprintf("lifecycle rule %q expires current objects: states would be deleted", id))
		}
		if len(r.Transitions) > 0 {
			return posture.Failed(fmt.Sprintf("lifecycle rule %q moves current objects to another storage class", id))
		}
		if r.NoncurrentVersionExpiration != nil && aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) > 0 && wholeBucket(r) {
			expires = true
		}
	}
	if !expires {
		return posture.Failed("no enabled lifecycle rule expires noncurrent versions of every object")
	}
	return posture.Passed("noncurrent versions expire; current states never do")
}

// wholeBucket reports a rule that applies to every object.
func wholeBucket(r types.LifecycleRule) bool {
	//nolint:staticcheck // the deprecated top-level Prefix still narrows rules S3 returns
	if aws.ToString(r.Prefix) != "" {
		return false
	}
	f := r.Filter
	return f == nil || (aws.ToString(f.Prefix) == "" && f.Tag == nil && f.And == nil && f.ObjectSizeGreaterThan == nil && f.ObjectSizeLessThan == nil)
}

func loggingPosture(o *Observed) posture.Result {
	if o.Logging.TargetBucket == "" {
		return posture.Failed("server access logging is off")
	}
	return posture.Passed(fmt.Sprintf("server access logs go to s3://%s/%s", o.Logging.TargetBucket, o.Logging.TargetPrefix))
}

// versioningProblem: "" when versioning is enabled.
func versioningProblem(o *Observed) string {
	if o.Versioning == string(types.BucketVersioningStatusEnabled) {
		return ""
	}
	state := o.Versioning
	if state == "" {
		state = "never enabled"
	}
	return "versioning is " + state
}

// publicAccessProblem: "" when all four public access block settings are on.
func publicAccessProblem(o *Observed) string {
	pab := o.PublicAccess
	var off []string
	for name, on := range map[string]*bool{"BlockPublicAcls": pab.BlockPublicAcls, "BlockPublicPolicy": pab.BlockPublicPolicy, "IgnorePublicAcls": pab.IgnorePublicAcls, "RestrictPublicBuckets": pab.RestrictPublicBuckets} {
		if !aws.ToBool(on) {
			off = append(off, name)
		}
	}
	if len(off) == 0 {
		return ""
	}
	slices.Sort(off)
	return strings.Join(off, ", ") + " off"
}

// ownershipProblem: "" when ACLs are disabled.
func ownershipProblem(o *Observed) string {
	if o.Ownership == string(types.ObjectOwnershipBucketOwnerEnforced) {
		return ""
	}
	return fmt.Sprintf("object ownership is %q, ACLs are not disabled", o.Ownership)
}

// LifecycleRules is the lifecycle configuration Ensure writes for spec.
func LifecycleRules(spec Spec) []types.LifecycleRule {
	return []types.LifecycleRule{lifecycleRule(spec)}
}
