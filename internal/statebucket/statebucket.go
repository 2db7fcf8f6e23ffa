// Package statebucket manages the S3 bucket that holds Terraform state:
// ensure (create or adopt, then harden every control), find, drift, and delete
// (refusing while it holds object versions unless told to empty it).
package statebucket

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// API is the part of the S3 client this package uses.
type API interface {
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	DeleteBucket(context.Context, *s3.DeleteBucketInput, ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	PutBucketOwnershipControls(context.Context, *s3.PutBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	GetBucketLifecycleConfiguration(context.Context, *s3.GetBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	GetBucketLogging(context.Context, *s3.GetBucketLoggingInput, ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error)
	PutBucketLogging(context.Context, *s3.PutBucketLoggingInput, ...func(*s3.Options)) (*s3.PutBucketLoggingOutput, error)
	GetObjectLockConfiguration(context.Context, *s3.GetObjectLockConfigurationInput, ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	PutObjectLockConfiguration(context.Context, *s3.PutObjectLockConfigurationInput, ...func(*s3.Options)) (*s3.PutObjectLockConfigurationOutput, error)
	GetObjectRetention(context.Context, *s3.GetObjectRetentionInput, ...func(*s3.Options)) (*s3.GetObjectRetentionOutput, error)
	GetObjectLegalHold(context.Context, *s3.GetObjectLegalHoldInput, ...func(*s3.Options)) (*s3.GetObjectLegalHoldOutput, error)
	GetBucketNotificationConfiguration(context.Context, *s3.GetBucketNotificationConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error)
	PutBucketNotificationConfiguration(context.Context, *s3.PutBucketNotificationConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error)
}

// Logging is where a bucket's server access logs go.
type Logging struct {
	TargetBucket string
	TargetPrefix string
}

// ControlAccessLogging names the access-logging control of the state bucket.
const ControlAccessLogging = "bucket_access_logging"

// Role says which of a backend's buckets a Spec describes.
type Role int

const (
	// RoleState is the bucket holding the Terraform state; its controls are
	// named "bucket_…".
	RoleState Role = iota
	// RoleAccessLogs is the bucket receiving the state bucket's server access
	// logs (and the trail's files); its controls are named "log_bucket_…".
	RoleAccessLogs
	// RoleReplica is the bucket in another region that the state bucket
	// replicates to; its controls are named "replica_bucket_…".
	RoleReplica
)

// controlPrefix starts the names of the controls of a bucket in this role.
func (r Role) controlPrefix() string {
	switch r {
	case RoleAccessLogs:
		return "log_bucket_"
	case RoleReplica:
		return "replica_bucket_"
	}
	return "bucket_"
}

// Spec is the bucket a backend wants: the state bucket, or its access-log
// bucket (no KMS key: log delivery supports only SSE-S3; current objects expire).
type Spec struct {
	Backend        string
	Bucket         string
	Role           Role // RoleState unless set
	Region         string
	KeyARN         string // "" for SSE-S3 (AES256)
	Policy         policydoc.Document
	NoncurrentDays int32
	ExpireDays     int32 // > 0: current objects expire too (log buckets)
	Logging        *Logging
	// ObjectLock is the default retention the bucket gives every new object
	// version; nil: none wanted (a rule already there is left alone: see
	// ClearDefaultRetention).
	ObjectLock *ObjectLock
	// EventBridge: the bucket sends its events to Amazon EventBridge.
	EventBridge bool
	Tags        map[string]string
}

// Controls named in drift reports.
const (
	ControlEncryption   = "bucket_encryption"
	ControlVersioning   = "bucket_versioning"
	ControlPublicAccess = "bucket_public_access_block"
	ControlOwnership    = "bucket_ownership_controls"
	ControlPolicy       = "bucket_policy"
	ControlLifecycle    = "bucket_lifecycle"
)

// LifecycleRuleID names the one lifecycle rule a backend's bucket carries.
const LifecycleRuleID = "securestate-retention"

// AbortIncompleteUploadDays bounds how long a failed multipart upload is kept.
const AbortIncompleteUploadDays = 7

// Observed is what exists.
type Observed struct {
	Bucket          string
	SSEAlgorithm    string
	SSEKey          string
	BucketKey       bool
	Versioning      string
	PublicAccess    types.PublicAccessBlockConfiguration
	Ownership       string
	Policy          string
	Lifecycle       []types.LifecycleRule
	Tags            map[string]string
	HasTagging      bool
	NoncurrentDays  int32 // from the backend's lifecycle rule; 0 without it
	ExpireDays      int32 // current-object expiry of that rule (log buckets); 0 without
	LifecycleIsOurs bool
	Logging         Logging // empty when access logging is off
	// ObjectLockEnabled: Object Lock is on (it cannot be switched off).
	ObjectLockEnabled bool
	// ObjectLockMode is the default retention rule's mode, "" without a rule.
	ObjectLockMode string
	// ObjectLockDays is the default retention in days, 0 without a rule. A
	// rule given in years counts 365 days a year here (the least it retains)
	// and ObjectLockYears says so.
	ObjectLockDays int32
	// ObjectLockYears is the default retention of a rule given in years, 0
	// for a rule in days or no rule.
	ObjectLockYears int32
	// EventBridge: the notification configuration sends events to EventBridge.
	EventBridge bool
}

// ControlNames lists the controls of a bucket with this spec.
func ControlNames(spec Spec) []string {
	return slices.Sorted(maps.Keys(Drift(spec, &Observed{})))
}

// Drift compares what exists with the spec: control name → problem ("" when compliant).
func Drift(spec Spec, o *Observed) map[string]string {
	base := drift(spec, o)
	if spec.Role == RoleState {
		return base
	}
	out := make(map[string]string, len(base))
	for k, v := range base {
		out[spec.Role.controlPrefix()+strings.TrimPrefix(k, "bucket_")] = v
	}
	return out
}

func drift(spec Spec, o *Observed) map[string]string {
	out := map[string]string{ControlEncryption: "", ControlVersioning: "", ControlPublicAccess: "", ControlOwnership: "", ControlPolicy: "", ControlLifecycle: ""}
	switch {
	case spec.KeyARN == "" && o.SSEAlgorithm != string(types.ServerSideEncryptionAes256):
		out[ControlEncryption] = fmt.Sprintf("default encryption is %q, not SSE-S3 (AES256)", o.SSEAlgorithm)
	case spec.KeyARN == "":
	case o.SSEAlgorithm != string(types.ServerSideEncryptionAwsKms):
		out[ControlEncryption] = fmt.Sprintf("default encryption is %q, not SSE-KMS", o.SSEAlgorithm)
	case !sameKey(o.SSEKey, spec.KeyARN):
		out[ControlEncryption] = "default encryption uses another KMS key"
	case !o.BucketKey:
		out[ControlEncryption] = "S3 bucket key is off"
	}
	out[ControlVersioning] = versioningProblem(o)
	out[ControlPublicAccess] = publicAccessProblem(o)
	out[ControlOwnership] = ownershipProblem(o)
	if o.Policy == "" {
		out[ControlPolicy] = "bucket policy is missing"
	} else if ok, err := policydoc.Equivalent(o.Policy, spec.Policy.String()); err != nil || !ok {
		out[ControlPolicy] = "bucket policy differs from the hardened policy"
	}
	if !lifecycleMatches(spec, o.Lifecycle) {
		out[ControlLifecycle] = "lifecycle rules differ from the retention rule"
	}
	if l := spec.ObjectLock; l != nil {
		out[ControlObjectLock] = objectLockProblem(*l, o)
	}
	if spec.EventBridge {
		out[ControlEventNotifications] = ""
		if !o.EventBridge {
			out[ControlEventNotifications] = "events are not sent to EventBridge"
		}
	}
	if l := spec.Logging; l != nil {
		switch {
		case o.Logging.TargetBucket == "":
			out[ControlAccessLogging] = "server access logging is off"
		case o.Logging != *l:
			out[ControlAccessLogging] = fmt.Sprintf("access logs go to s3://%s/%s", o.Logging.TargetBucket, o.Logging.TargetPrefix)
		default:
			out[ControlAccessLogging] = ""
		}
	}
	return out
}

// sameKey compares a key reference from S3 (ARN or ID) with the key ARN.
func sameKey(have, wantARN string) bool {
	if have == wantARN {
		return true
	}
	return have != "" && strings.HasSuffix(wantARN, ":key/"+have)
}

func lifecycleRule(spec Spec) types.LifecycleRule {
	if spec.ExpireDays > 0 {
		return types.LifecycleRule{
			ID:                             aws.String(LifecycleRuleID),
			Status:                         types.ExpirationStatusEnabled,
			Filter:                         &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration:                     &types.LifecycleExpiration{Days: aws.Int32(spec.ExpireDays)},
			NoncurrentVersionExpiration:    &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(spec.NoncurrentDays)},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(AbortIncompleteUploadDays)},
		}
	}
	return types.LifecycleRule{
		ID:     aws.String(LifecycleRuleID),
		Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
		NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{
			NoncurrentDays: aws.Int32(spec.NoncurrentDays),
		},
		Expiration:                     &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)},
		AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(AbortIncompleteUploadDays)},
	}
}

// lifecycleMatches requires exactly the backend's rule: any other rule could
// expire current state versions, so the backend owns the whole configuration.
func lifecycleMatches(spec Spec, rules []types.LifecycleRule) bool {
	if len(rules) != 1 {
		return false
	}
	r := rules[0]
	prefixOK := r.Filter == nil || (aws.ToString(r.Filter.Prefix) == "" && r.Filter.Tag == nil && r.Filter.And == nil && r.Filter.ObjectSizeGreaterThan == nil && r.Filter.ObjectSizeLessThan == nil)
	expiryOK := r.Expiration != nil && aws.ToBool(r.Expiration.ExpiredObjectDeleteMarker) && r.Expiration.Days == nil && r.Expiration.Date == nil
	if spec.ExpireDays > 0 {
		expiryOK = r.Expiration != nil && aws.ToInt32(r.Expiration.Days) == spec.ExpireDays && r.Expiration.Date == nil
	}
	return aws.ToString(r.ID) == LifecycleRuleID && r.Status == types.ExpirationStatusEnabled && prefixOK &&
		r.NoncurrentVersionExpiration != nil && aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) == spec.NoncurrentDays &&
		expiryOK &&
		r.AbortIncompleteMultipartUpload != nil && aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation) == AbortIncompleteUploadDays &&
		len(r.Transitions) == 0 && len(r.NoncurrentVersionTransitions) == 0
}

// Exists reports whether the bucket exists (and is reachable with these credentials).
func Exists(ctx context.Context, api API, bucket string) (bool, error) {
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	switch {
	case err == nil:
		return true, nil
	case isMissing(err):
		return false, nil
	default:
		return false, fmt.Errorf("s3:HeadBucket %s: %w", bucket, err)
	}
}

// isMissing reports an error saying the bucket does not exist: HeadBucket's
// NotFound (often a bare 404, as HEAD has no body) or NoSuchBucket.
func isMissing(err error) bool {
	var (
		notFound *types.NotFound
		noBucket *types.NoSuchBucket
	)
	return errors.As(err, &notFound) || errors.As(err, &noBucket) || awserr.IsHTTPNotFound(err)
}

// Find reads every control of the bucket: HeadBucket and the ten reads of
// its configuration, concurrently (one round trip). A missing bucket is
// awserr.ErrNotFound, whatever the other reads said; every other failure is
// reported. The "not configured" answers of S3's sub-resources (which have
// no typed errors) read as the setting being absent.
func Find(ctx context.Context, api API, bucket string) (*Observed, error) {
	o, unreadable, err := Observe(ctx, api, bucket)
	if err != nil {
		return nil, err
	}
	if err := awserr.JoinByName(unreadable); err != nil {
		return nil, err
	}
	return o, nil
}

// ReadTags is the key of Observe's unreadable map for the bucket's tags,
// which are no control.
const ReadTags = "tags"

// Observe is Find for an audit: the same reads, but a read that failed
// (access denied, most often, on a bucket of another team) leaves its setting
// zero in the Observed and its error under the control's name (ReadTags for
// the tags) in unreadable, instead of failing the whole read. Only a missing
// bucket (awserr.ErrNotFound) or a failed HeadBucket (joined with whatever
// else failed) is an error.
func Observe(ctx context.Context, api API, bucket string) (*Observed, map[string]error, error) {
	o := &Observed{Bucket: bucket, Tags: map[string]string{}}
	b := &bucket
	var (
		wg   sync.WaitGroup
		head error
		errs [10]error
	)
	controls := [10]string{ControlEncryption, ControlVersioning, ControlPublicAccess, ControlOwnership, ControlPolicy, ControlLifecycle, ControlAccessLogging, ReadTags,
		ControlObjectLock, ControlEventNotifications}
	// read runs one Get concurrently: its error is kept unless S3 answered
	// with one of the codes saying the setting is absent.
	read := func(i int, op string, absent []string, get func() error) {
		wg.Go(func() {
			if err := get(); err != nil && (len(absent) == 0 || !awserr.HasCode(err, absent...)) {
				errs[i] = fmt.Errorf("s3:%s %s: %w", op, bucket, err)
			}
		})
	}
	wg.Go(func() { _, head = api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b}) })
	read(0, "GetBucketEncryption", []string{"ServerSideEncryptionConfigurationNotFoundError"}, func() error {
		enc, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
		if err == nil && enc.ServerSideEncryptionConfiguration != nil && len(enc.ServerSideEncryptionConfiguration.Rules) > 0 {
			r := enc.ServerSideEncryptionConfiguration.Rules[0]
			if d := r.ApplyServerSideEncryptionByDefault; d != nil {
				o.SSEAlgorithm = string(d.SSEAlgorithm)
				o.SSEKey = aws.ToString(d.KMSMasterKeyID)
			}
			o.BucketKey = aws.ToBool(r.BucketKeyEnabled)
		}
		return err
	})
	read(1, "GetBucketVersioning", nil, func() error {
		ver, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
		if err == nil {
			o.Versioning = string(ver.Status)
		}
		return err
	})
	read(2, "GetPublicAccessBlock", []string{"NoSuchPublicAccessBlockConfiguration"}, func() error {
		pab, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		if err == nil && pab.PublicAccessBlockConfiguration != nil {
			o.PublicAccess = *pab.PublicAccessBlockConfiguration
		}
		return err
	})
	read(3, "GetBucketOwnershipControls", []string{"OwnershipControlsNotFoundError"}, func() error {
		own, err := api.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		if err == nil && own.OwnershipControls != nil && len(own.OwnershipControls.Rules) > 0 {
			o.Ownership = string(own.OwnershipControls.Rules[0].ObjectOwnership)
		}
		return err
	})
	read(4, "GetBucketPolicy", []string{"NoSuchBucketPolicy"}, func() error {
		pol, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
		if err == nil {
			o.Policy = aws.ToString(pol.Policy)
		}
		return err
	})
	read(5, "GetBucketLifecycleConfiguration", []string{"NoSuchLifecycleConfiguration"}, func() error {
		lc, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
		if err != nil {
			return err
		}
		o.Lifecycle = lc.Rules
		for _, r := range lc.Rules {
			if aws.ToString(r.ID) == LifecycleRuleID && r.NoncurrentVersionExpiration != nil {
				o.NoncurrentDays = aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays)
			}
			if aws.ToString(r.ID) == LifecycleRuleID && r.Expiration != nil {
				o.ExpireDays = aws.ToInt32(r.Expiration.Days)
			}
		}
		return nil
	})
	read(6, "GetBucketLogging", nil, func() error {
		lg, err := api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b})
		if err == nil && lg.LoggingEnabled != nil {
			o.Logging = Logging{TargetBucket: aws.ToString(lg.LoggingEnabled.TargetBucket), TargetPrefix: aws.ToString(lg.LoggingEnabled.TargetPrefix)}
		}
		return err
	})
	read(7, "GetBucketTagging", []string{"NoSuchTagSet"}, func() error {
		tg, err := api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
		if err == nil {
			o.HasTagging = true
			for _, t := range tg.TagSet {
				o.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		return err
	})
	read(8, "GetObjectLockConfiguration", []string{"ObjectLockConfigurationNotFoundError"}, func() error {
		ol, err := api.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
		if err == nil {
			observeObjectLock(o, ol.ObjectLockConfiguration)
		}
		return err
	})
	read(9, "GetBucketNotificationConfiguration", nil, func() error {
		n, err := api.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: b})
		if err == nil {
			o.EventBridge = n.EventBridgeConfiguration != nil
		}
		return err
	})
	wg.Wait()
	if isMissing(head) {
		return nil, nil, awserr.NotFound("S3 bucket %s", bucket)
	}
	if head != nil {
		return nil, nil, errors.Join(append([]error{fmt.Errorf("s3:HeadBucket %s: %w", bucket, head)}, errs[:]...)...)
	}
	unreadable := map[string]error{}
	for i, err := range errs {
		if err != nil {
			unreadable[controls[i]] = err
		}
	}
	return o, unreadable, nil
}

// Check refuses to adopt a bucket that does not carry the backend's
// ownership tag. It reads nothing.
func Check(spec Spec, o *Observed) error {
	if o == nil || o.Tags[naming.OwnerTagKey] == spec.Backend {
		return nil
	}
	return fmt.Errorf("S3 bucket %s already exists and was not created by this backend (no %s=%s tag); import it with `terraform import` to harden it, or choose another bucket name",
		spec.Bucket, naming.OwnerTagKey, spec.Backend)
}

// Ensure makes the bucket match the spec, starting from have, what Find
// observed (nil: the bucket does not exist; it is created with its tags
// (ownership tag included) and ACLs disabled, and every other control is then
// written, each write retried while S3 answers NoSuchBucket for the bucket
// made moments ago). Without
// tracked (the bucket is not in state yet) a bucket without the ownership tag
// is refused. Only what differs is written; the result is one Find.
func Ensure(ctx context.Context, api API, spec Spec, have *Observed, tracked bool) (*Observed, error) {
	created := have == nil
	if created {
		if err := create(ctx, api, spec); err != nil {
			return nil, err
		}
		have = &Observed{Bucket: spec.Bucket, Ownership: string(types.ObjectOwnershipBucketOwnerEnforced), Tags: maps.Clone(spec.Tags), HasTagging: true}
	} else if !tracked {
		if err := Check(spec, have); err != nil {
			return nil, err
		}
	}
	if err := harden(ctx, api, spec, have, created); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.Bucket) })
}

// create makes the bucket with ACLs disabled and its tags in the
// CreateBucket request itself (an organisation may deny creating an untagged
// bucket; S3 asks for s3:TagResource besides s3:CreateBucket then).
func create(ctx context.Context, api API, spec Spec) error {
	in := &s3.CreateBucketInput{Bucket: &spec.Bucket, ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced,
		CreateBucketConfiguration: &types.CreateBucketConfiguration{Tags: s3Tags(spec.Tags)}}
	if spec.Region != "us-east-1" {
		in.CreateBucketConfiguration.LocationConstraint = types.BucketLocationConstraint(spec.Region)
	}
	if _, err := api.CreateBucket(ctx, in); err != nil {
		var (
			taken *types.BucketAlreadyExists
			ours  *types.BucketAlreadyOwnedByYou
		)
		switch {
		case errors.As(err, &taken):
			return fmt.Errorf("S3 bucket name %s is taken by another AWS account; set `bucket` to another name: %w", spec.Bucket, err)
		case errors.As(err, &ours):
			// The bucket did not exist a moment ago: this is the SDK's retry
			// of our own create, whose first reply was lost.
		case !madeAnyway(ctx, api, spec):
			return fmt.Errorf("s3:CreateBucket %s: %w", spec.Bucket, err)
		}
	}
	// The bucket's tags are read until the bucket is visible (read after
	// create; only "not found yet" is retried, within the propagation bound).
	// They are written only when the read shows them missing or different (a
	// service that ignores tags on create): the ownership tag comes before
	// any other write, so a later failure is adopted by the next apply;
	// without it the empty bucket is removed again. A PutBucketTagging that
	// is denied (an organisation's policy protecting tags) is the exception:
	// the tags went with CreateBucket, which was allowed, so the bucket is
	// kept, and tags that never show are reported once the backend's writes
	// have had time to settle.
	have, err := retry.Visible(ctx, func() (map[string]string, error) { return readTags(ctx, api, spec.Bucket) })
	if err != nil {
		return fmt.Errorf("waiting for S3 bucket %s to exist: %w", spec.Bucket, err)
	}
	if !tags.Differ(have, spec.Tags) {
		return nil
	}
	err = putTags(ctx, api, spec.Bucket, have, spec.Tags, true)
	switch {
	case err == nil:
		return nil
	case awserr.HasCode(err, "AccessDenied"):
		tflog.Warn(ctx, "tags sent with CreateBucket do not show yet, and writing them again was denied; keeping the bucket", map[string]any{
			"component": "state_bucket", "bucket": spec.Bucket, "error": err.Error()})
		return nil
	}
	_ = retry.AfterCreate(ctx, true, func() error {
		_, derr := api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &spec.Bucket})
		return derr
	})
	return err
}

// readTags reads a bucket's tags; a bucket without tags has none (S3 answers
// NoSuchTagSet).
func readTags(ctx context.Context, api API, bucket string) (map[string]string, error) {
	tg, err := api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
	switch {
	case awserr.HasCode(err, "NoSuchTagSet"):
		return map[string]string{}, nil
	case err != nil:
		return nil, fmt.Errorf("s3:GetBucketTagging %s: %w", bucket, err)
	}
	out := make(map[string]string, len(tg.TagSet))
	for _, t := range tg.TagSet {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out, nil
}

// madeAnyway reports whether a CreateBucket that returned an error made the
// bucket all the same (its reply was lost): the bucket, absent just before,
// now exists in this account and carries no tags yet, or the tags the
// request sent (the ownership tag of this backend).
func madeAnyway(ctx context.Context, api API, spec Spec) bool {
	if ok, err := Exists(ctx, api, spec.Bucket); err != nil || !ok {
		return false
	}
	have, err := readTags(ctx, api, spec.Bucket)
	return err == nil && (len(have) == 0 || have[naming.OwnerTagKey] == spec.Backend)
}

func s3Tags(m map[string]string) []types.Tag {
	set := make([]types.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		set = append(set, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return set
}

// putTags replaces the bucket's tag set with want. S3 has no call that adds
// or removes single tags, and refuses a set that drops the keys AWS reserves
// ("aws:…"), so those of have are sent back unchanged. created says the
// bucket was made moments ago by this Ensure (see write).
func putTags(ctx context.Context, api API, bucket string, have, want map[string]string, created bool) error {
	all := tags.OnlyReserved(have)
	maps.Copy(all, tags.WithoutReserved(want))
	if err := retry.AfterCreate(ctx, created, func() error {
		_, err := api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &bucket, Tagging: &types.Tagging{TagSet: s3Tags(all)}})
		return err
	}); err != nil {
		return fmt.Errorf("s3:PutBucketTagging %s: %w", bucket, err)
	}
	return nil
}

// harden writes the controls that differ in three rounds. First the public
// access block and the ownership controls, concurrently: no other write
// widens access, but none is made until the bucket refuses public policies
// and ACLs, so a bucket found public stops being so before anything else
// changes (and a failure here writes nothing more). Then every other control,
// concurrently (Object Lock after versioning, which S3 requires to be Enabled
// first, in the same step when both differ). Then the tags, so that a bucket
// is re-tagged only once the rest succeeded. created says the bucket was made
// moments ago by this Ensure: each write is then retried while S3 does not
// see it yet.
func harden(ctx context.Context, api API, spec Spec, o *Observed, created bool) error {
	b := &spec.Bucket
	drift := drift(spec, o)
	put := func(w func() error) error { return retry.AfterCreate(ctx, created, w) }
	var first, rest []func() error
	if drift[ControlPublicAccess] != "" {
		first = append(first, func() error {
			if err := put(func() error {
				_, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
					BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
				}})
				return err
			}); err != nil {
				return fmt.Errorf("s3:PutPublicAccessBlock %s: %w", spec.Bucket, err)
			}
			return nil
		})
	}
	if drift[ControlOwnership] != "" {
		first = append(first, func() error {
			if err := put(func() error {
				_, err := api.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &types.OwnershipControls{
					Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}},
				}})
				return err
			}); err != nil {
				return fmt.Errorf("s3:PutBucketOwnershipControls %s: %w", spec.Bucket, err)
			}
			return nil
		})
	}
	if drift[ControlEncryption] != "" {
		rest = append(rest, func() error {
			rule := types.ServerSideEncryptionRule{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(spec.KeyARN)},
				BucketKeyEnabled:                   aws.Bool(true),
			}
			if spec.KeyARN == "" {
				rule = types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}
			}
			if err := put(func() error {
				_, err := api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
					Rules: []types.ServerSideEncryptionRule{rule},
				}})
				return err
			}); err != nil {
				return fmt.Errorf("s3:PutBucketEncryption %s: %w", spec.Bucket, err)
			}
			return nil
		})
	}
	versioning := func() error {
		if err := put(func() error {
			_, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			return err
		}); err != nil {
			return fmt.Errorf("s3:PutBucketVersioning %s: %w", spec.Bucket, err)
		}
		return nil
	}
	lock := func() error {
		return put(func() error { return putObjectLock(ctx, api, spec.Bucket, spec.ObjectLock) })
	}
	// S3 takes an Object Lock configuration only on a bucket whose
	// versioning is Enabled: when both differ, the lock follows the
	// versioning write in the same step.
	switch writeVersioning, writeLock := drift[ControlVersioning] != "", spec.ObjectLock != nil && drift[ControlObjectLock] != ""; {
	case writeVersioning && writeLock:
		rest = append(rest, func() error {
			if err := versioning(); err != nil {
				return err
			}
			return lock()
		})
	case writeVersioning:
		rest = append(rest, versioning)
	case writeLock:
		rest = append(rest, lock)
	}
	if spec.EventBridge && drift[ControlEventNotifications] != "" {
		// A bucket made moments ago has no notification configuration of
		// anyone else's to keep.
		rest = append(rest, func() error { return put(func() error { return enableEventBridge(ctx, api, spec.Bucket, !created) }) })
	}
	if drift[ControlPolicy] != "" {
		rest = append(rest, func() error {
			if err := put(func() error {
				_, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(spec.Policy.String())})
				return err
			}); err != nil {
				return fmt.Errorf("s3:PutBucketPolicy %s: %w", spec.Bucket, err)
			}
			return nil
		})
	}
	if drift[ControlLifecycle] != "" {
		rest = append(rest, func() error {
			if err := put(func() error {
				_, err := api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b, LifecycleConfiguration: &types.BucketLifecycleConfiguration{
					Rules: []types.LifecycleRule{lifecycleRule(spec)},
				}})
				return err
			}); err != nil {
				return fmt.Errorf("s3:PutBucketLifecycleConfiguration %s: %w", spec.Bucket, err)
			}
			return nil
		})
	}
	if drift[ControlAccessLogging] != "" {
		rest = append(rest, func() error {
			if err := put(func() error {
				// The managed log bucket and its policy may have been made
				// moments before, in the same apply.
				return retry.OnCodes(ctx, retry.PropagationTimeout, retry.LoggingTargetPropagation, func() error {
					_, err := api.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: b, BucketLoggingStatus: &types.BucketLoggingStatus{
						LoggingEnabled: &types.LoggingEnabled{TargetBucket: &spec.Logging.TargetBucket, TargetPrefix: &spec.Logging.TargetPrefix},
					}})
					return err
				})
			}); err != nil {
				return fmt.Errorf("s3:PutBucketLogging %s: %w", spec.Bucket, err)
			}
			return nil
		})
	}
	if spec.Role == RoleState && spec.Logging == nil && o.Logging.TargetBucket == naming.LogBucket(spec.Bucket) {
		// access_logging was removed from the configuration; logging set up by
		// others to other buckets is left alone.
		rest = append(rest, func() error { return put(func() error { return DisableLogging(ctx, api, spec.Bucket) }) })
	}
	if err := all(first); err != nil {
		return err
	}
	if err := all(rest); err != nil {
		return err
	}
	if tags.Differ(o.Tags, spec.Tags) {
		return putTags(ctx, api, spec.Bucket, o.Tags, spec.Tags, created)
	}
	return nil
}

// all runs the writes concurrently and reports every failure.
func all(writes []func() error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(writes))
	for i, w := range writes {
		wg.Go(func() { errs[i] = w() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// CountVersions counts every object version and delete marker in the bucket.
func CountVersions(ctx context.Context, api API, bucket string) (int, error) {
	n := 0
	p := s3.NewListObjectVersionsPaginator(api, &s3.ListObjectVersionsInput{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("s3:ListObjectVersions %s: %w", bucket, err)
		}
		n += len(page.Versions) + len(page.DeleteMarkers)
	}
	return n, nil
}

// Empty deletes every object version and delete marker.
func Empty(ctx context.Context, api API, bucket string) error {
	for {
		page, err := api.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, MaxKeys: aws.Int32(1000)})
		if err != nil {
			return fmt.Errorf("s3:ListObjectVersions %s: %w", bucket, err)
		}
		var ids []types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			return nil
		}
		out, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("s3:DeleteObjects %s: %w", bucket, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("s3:DeleteObjects %s: %d objects not deleted, first %s: %s", bucket, len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Code))
		}
	}
}

// Delete removes the (empty) bucket; a bucket already gone counts as deleted.
func Delete(ctx context.Context, api API, bucket string) error {
	_, err := api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
	if err != nil && !isMissing(err) {
		return fmt.Errorf("s3:DeleteBucket %s: %w", bucket, err)
	}
	return nil
}

// DisableLogging turns the bucket's server access logging off (before its
// log bucket is emptied and deleted, so no new deliveries arrive).
func DisableLogging(ctx context.Context, api API, bucket string) error {
	if _, err := api.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: &bucket, BucketLoggingStatus: &types.BucketLoggingStatus{}}); err != nil {
		return fmt.Errorf("s3:PutBucketLogging %s (turning logging off): %w", bucket, err)
	}
	return nil
}
