package statebucket

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// fakeS3 is an in-memory S3 holding buckets and their configuration as S3
// reports it, recording the calls and the inputs of every write.
type fakeS3 struct {
	mu sync.Mutex // Find and Ensure call concurrently

	buckets map[string]*fakeBucket

	// fail holds, per operation, the errors its next calls return (nil: the
	// call succeeds). lost holds errors CreateBucket returns after making the
	// bucket anyway: a reply lost on the way back.
	fail map[string][]error
	lost []error
	// always holds, per operation, the error every call returns once its
	// queued errors are used up: a bucket S3 never sees.
	always map[string]error
	// newTags is the tag set CreateBucket gives a bucket: nil for none
	// (GetBucketTagging answers NoSuchTagSet), empty, or tags someone else
	// put there the moment it was made.
	newTags []types.Tag
	// createTags: CreateBucket keeps the tags of CreateBucketConfiguration,
	// as AWS does (moto 5.2.5 accepts and ignores them, as the fake does
	// without it).
	createTags bool

	calls []string
	// inputs of the writes, by operation
	created    []*s3.CreateBucketInput
	tagged     []*s3.PutBucketTaggingInput
	encryption []*s3.PutBucketEncryptionInput
	versioning []*s3.PutBucketVersioningInput
	pab        []*s3.PutPublicAccessBlockInput
	ownership  []*s3.PutBucketOwnershipControlsInput
	policies   []*s3.PutBucketPolicyInput
	lifecycles []*s3.PutBucketLifecycleConfigurationInput
	logging    []*s3.PutBucketLoggingInput
	deletes    []*s3.DeleteObjectsInput
	locks      []*s3.PutObjectLockConfigurationInput
	notified   []*s3.PutBucketNotificationConfigurationInput

	// delay holds, per operation, how long a call waits before it acts (and
	// before it is recorded): an S3 slow to answer one write.
	delay map[string]time.Duration
}

type fakeBucket struct {
	encryption *types.ServerSideEncryptionRule
	versioning types.BucketVersioningStatus
	pab        *types.PublicAccessBlockConfiguration
	ownership  types.ObjectOwnership
	policy     string
	lifecycle  []types.LifecycleRule
	logging    *types.LoggingEnabled
	tags       []types.Tag // nil: no tag set
	versions   []types.ObjectVersion
	markers    []types.DeleteMarkerEntry
	// deleteErrors are per-object errors the next DeleteObjects reports.
	deleteErrors []types.Error
	// objectLock is the Object Lock configuration (nil: never enabled);
	// notification the notification configuration (nil: none).
	objectLock   *types.ObjectLockConfiguration
	notification *types.NotificationConfiguration
	// retention and legalHold of object versions, by "key@version"; a
	// version absent from legalHold never had one (S3 answers
	// NoSuchObjectLockConfiguration).
	retention map[string]types.ObjectLockRetention
	legalHold map[string]types.ObjectLockLegalHoldStatus
}

var _ API = (*fakeS3)(nil)

func newFake() *fakeS3 {
	return &fakeS3{buckets: map[string]*fakeBucket{}, fail: map[string][]error{}, always: map[string]error{}, delay: map[string]time.Duration{}}
}

// apiError is the error S3 answers with code: the SDK's typed error where S3
// has one, as the SDK's deserializer returns it; sub-resources' "not
// configured" answers have none.
func apiError(code string) error {
	msg := aws.String(code + " (fake)")
	switch code {
	case "NoSuchBucket":
		return &types.NoSuchBucket{Message: msg}
	case "NotFound":
		return &types.NotFound{Message: msg}
	case "BucketAlreadyExists":
		return &types.BucketAlreadyExists{Message: msg}
	case "BucketAlreadyOwnedByYou":
		return &types.BucketAlreadyOwnedByYou{Message: msg}
	}
	return &smithy.GenericAPIError{Code: code, Message: *msg}
}

// httpError is a failure with an HTTP status and no AWS code, as HeadBucket
// answers (it has no body).
func httpError(status int) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: fmt.Errorf("http %d", status)}
}

func (f *fakeS3) call(op string) error {
	f.calls = append(f.calls, op)
	if q := f.fail[op]; len(q) > 0 {
		f.fail[op] = q[1:]
		return q[0]
	}
	return f.always[op]
}

// count is how many times op was called.
func (f *fakeS3) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

func (f *fakeS3) get(bucket *string) (*fakeBucket, error) {
	b, ok := f.buckets[aws.ToString(bucket)]
	if !ok {
		return nil, apiError("NoSuchBucket")
	}
	return b, nil
}

// writes lists the calls that change something, in order.
func (f *fakeS3) writes() []string {
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "Head") && !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeS3) CreateBucket(_ context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateBucket"); err != nil {
		return nil, err
	}
	f.created = append(f.created, in)
	name := aws.ToString(in.Bucket)
	if _, ok := f.buckets[name]; ok {
		return nil, apiError("BucketAlreadyOwnedByYou")
	}
	// A new bucket as S3 makes it today: SSE-S3, public access blocked,
	// ACLs disabled, versioning never enabled.
	on := aws.Bool(true)
	f.buckets[name] = &fakeBucket{
		encryption: &types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}},
		pab:        &types.PublicAccessBlockConfiguration{BlockPublicAcls: on, BlockPublicPolicy: on, IgnorePublicAcls: on, RestrictPublicBuckets: on},
		ownership:  in.ObjectOwnership,
	}
	f.buckets[name].tags = f.newTags
	if f.createTags && in.CreateBucketConfiguration != nil {
		f.buckets[name].tags = slices.Clone(in.CreateBucketConfiguration.Tags)
	}
	if len(f.lost) > 0 {
		err := f.lost[0]
		f.lost = f.lost[1:]
		return nil, err
	}
	return &s3.CreateBucketOutput{}, nil
}

func (f *fakeS3) HeadBucket(_ context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("HeadBucket"); err != nil {
		return nil, err
	}
	if _, ok := f.buckets[aws.ToString(in.Bucket)]; !ok {
		return nil, httpError(http.StatusNotFound)
	}
	return &s3.HeadBucketOutput{}, nil
}

func (f *fakeS3) DeleteBucket(_ context.Context, in *s3.DeleteBucketInput, _ ...func(*s3.Options)) (*s3.DeleteBucketOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteBucket"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if len(b.versions)+len(b.markers) > 0 {
		return nil, apiError("BucketNotEmpty")
	}
	delete(f.buckets, aws.ToString(in.Bucket))
	return &s3.DeleteBucketOutput{}, nil
}

func (f *fakeS3) GetBucketTagging(_ context.Context, in *s3.GetBucketTaggingInput, _ ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketTagging"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.tags == nil {
		return nil, apiError("NoSuchTagSet")
	}
	return &s3.GetBucketTaggingOutput{TagSet: b.tags}, nil
}

func (f *fakeS3) PutBucketTagging(_ context.Context, in *s3.PutBucketTaggingInput, _ ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketTagging"); err != nil {
		return nil, err
	}
	f.tagged = append(f.tagged, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	b.tags = append([]types.Tag{}, in.Tagging.TagSet...)
	return &s3.PutBucketTaggingOutput{}, nil
}

func (f *fakeS3) GetBucketEncryption(_ context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketEncryption"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.encryption == nil {
		return nil, apiError("ServerSideEncryptionConfigurationNotFoundError")
	}
	return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{*b.encryption}}}, nil
}

func (f *fakeS3) PutBucketEncryption(_ context.Context, in *s3.PutBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketEncryption"); err != nil {
		return nil, err
	}
	f.encryption = append(f.encryption, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	r := in.ServerSideEncryptionConfiguration.Rules[0]
	b.encryption = &r
	return &s3.PutBucketEncryptionOutput{}, nil
}

func (f *fakeS3) GetBucketVersioning(_ context.Context, in *s3.GetBucketVersioningInput, _ ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketVersioning"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	return &s3.GetBucketVersioningOutput{Status: b.versioning}, nil
}

func (f *fakeS3) PutBucketVersioning(_ context.Context, in *s3.PutBucketVersioningInput, _ ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error) {
	f.wait("PutBucketVersioning")
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketVersioning"); err != nil {
		return nil, err
	}
	f.versioning = append(f.versioning, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	b.versioning = in.VersioningConfiguration.Status
	return &s3.PutBucketVersioningOutput{}, nil
}

func (f *fakeS3) GetPublicAccessBlock(_ context.Context, in *s3.GetPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetPublicAccessBlock"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.pab == nil {
		return nil, apiError("NoSuchPublicAccessBlockConfiguration")
	}
	c := *b.pab
	return &s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &c}, nil
}

func (f *fakeS3) PutPublicAccessBlock(_ context.Context, in *s3.PutPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutPublicAccessBlock"); err != nil {
		return nil, err
	}
	f.pab = append(f.pab, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	c := *in.PublicAccessBlockConfiguration
	b.pab = &c
	return &s3.PutPublicAccessBlockOutput{}, nil
}

func (f *fakeS3) GetBucketOwnershipControls(_ context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketOwnershipControls"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.ownership == "" {
		return nil, apiError("OwnershipControlsNotFoundError")
	}
	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: b.ownership}}}}, nil
}

func (f *fakeS3) PutBucketOwnershipControls(_ context.Context, in *s3.PutBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketOwnershipControls"); err != nil {
		return nil, err
	}
	f.ownership = append(f.ownership, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	b.ownership = in.OwnershipControls.Rules[0].ObjectOwnership
	return &s3.PutBucketOwnershipControlsOutput{}, nil
}

func (f *fakeS3) GetBucketPolicy(_ context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketPolicy"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.policy == "" {
		return nil, apiError("NoSuchBucketPolicy")
	}
	return &s3.GetBucketPolicyOutput{Policy: aws.String(b.policy)}, nil
}

func (f *fakeS3) PutBucketPolicy(_ context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketPolicy"); err != nil {
		return nil, err
	}
	f.policies = append(f.policies, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	b.policy = aws.ToString(in.Policy)
	return &s3.PutBucketPolicyOutput{}, nil
}

func (f *fakeS3) GetBucketLifecycleConfiguration(_ context.Context, in *s3.GetBucketLifecycleConfigurationInput, _ ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketLifecycleConfiguration"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.lifecycle == nil {
		return nil, apiError("NoSuchLifecycleConfiguration")
	}
	return &s3.GetBucketLifecycleConfigurationOutput{Rules: b.lifecycle}, nil
}

func (f *fakeS3) PutBucketLifecycleConfiguration(_ context.Context, in *s3.PutBucketLifecycleConfigurationInput, _ ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketLifecycleConfiguration"); err != nil {
		return nil, err
	}
	f.lifecycles = append(f.lifecycles, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	b.lifecycle = in.LifecycleConfiguration.Rules
	return &s3.PutBucketLifecycleConfigurationOutput{}, nil
}

func (f *fakeS3) GetBucketLogging(_ context.Context, in *s3.GetBucketLoggingInput, _ ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketLogging"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	return &s3.GetBucketLoggingOutput{LoggingEnabled: b.logging}, nil
}

func (f *fakeS3) PutBucketLogging(_ context.Context, in *s3.PutBucketLoggingInput, _ ...func(*s3.Options)) (*s3.PutBucketLoggingOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketLogging"); err != nil {
		return nil, err
	}
	f.logging = append(f.logging, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	b.logging = in.BucketLoggingStatus.LoggingEnabled
	return &s3.PutBucketLoggingOutput{}, nil
}

// ListObjectVersions answers with at most MaxKeys (default 2) versions and
// delete markers per page, so that paging is exercised.
func (f *fakeS3) ListObjectVersions(_ context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListObjectVersions"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	size := 2
	if in.MaxKeys != nil && *in.MaxKeys < int32(size) {
		size = int(*in.MaxKeys)
	}
	start := 0
	if in.KeyMarker != nil {
		start = len(aws.ToString(in.KeyMarker)) // the marker is start × "x"
	}
	out := &s3.ListObjectVersionsOutput{}
	for i := start; i < len(b.versions)+len(b.markers) && i < start+size; i++ {
		if i < len(b.versions) {
			out.Versions = append(out.Versions, b.versions[i])
		} else {
			out.DeleteMarkers = append(out.DeleteMarkers, b.markers[i-len(b.versions)])
		}
	}
	if next := start + size; next < len(b.versions)+len(b.markers) {
		out.IsTruncated, out.NextKeyMarker, out.NextVersionIdMarker = aws.Bool(true), aws.String(strings.Repeat("x", next)), aws.String("v")
	}
	return out, nil
}

func (f *fakeS3) DeleteObjects(_ context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteObjects"); err != nil {
		return nil, err
	}
	f.deletes = append(f.deletes, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if len(b.deleteErrors) > 0 {
		out := &s3.DeleteObjectsOutput{Errors: b.deleteErrors}
		b.deleteErrors = nil
		return out, nil
	}
	gone := map[string]bool{}
	for _, o := range in.Delete.Objects {
		gone[aws.ToString(o.Key)+"@"+aws.ToString(o.VersionId)] = true
	}
	var versions []types.ObjectVersion
	for _, v := range b.versions {
		if !gone[aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId)] {
			versions = append(versions, v)
		}
	}
	var markers []types.DeleteMarkerEntry
	for _, m := range b.markers {
		if !gone[aws.ToString(m.Key)+"@"+aws.ToString(m.VersionId)] {
			markers = append(markers, m)
		}
	}
	b.versions, b.markers = versions, markers
	return &s3.DeleteObjectsOutput{}, nil
}

// wait sleeps for op's delay, before the call takes the lock.
func (f *fakeS3) wait(op string) {
	f.mu.Lock()
	d := f.delay[op]
	f.mu.Unlock()
	time.Sleep(d)
}

func (f *fakeS3) GetObjectLockConfiguration(_ context.Context, in *s3.GetObjectLockConfigurationInput, _ ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetObjectLockConfiguration"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.objectLock == nil {
		return nil, apiError("ObjectLockConfigurationNotFoundError")
	}
	c := *b.objectLock
	return &s3.GetObjectLockConfigurationOutput{ObjectLockConfiguration: &c}, nil
}

// PutObjectLockConfiguration refuses, as S3 does, a bucket whose versioning
// is not Enabled.
func (f *fakeS3) PutObjectLockConfiguration(_ context.Context, in *s3.PutObjectLockConfigurationInput, _ ...func(*s3.Options)) (*s3.PutObjectLockConfigurationOutput, error) {
	f.wait("PutObjectLockConfiguration")
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutObjectLockConfiguration"); err != nil {
		return nil, err
	}
	f.locks = append(f.locks, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.versioning != types.BucketVersioningStatusEnabled {
		return nil, apiError("InvalidBucketState")
	}
	c := *in.ObjectLockConfiguration
	b.objectLock = &c
	return &s3.PutObjectLockConfigurationOutput{}, nil
}

func (f *fakeS3) GetObjectRetention(_ context.Context, in *s3.GetObjectRetentionInput, _ ...func(*s3.Options)) (*s3.GetObjectRetentionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetObjectRetention"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.objectLock == nil {
		return nil, apiError("InvalidRequest")
	}
	r, ok := b.retention[aws.ToString(in.Key)+"@"+aws.ToString(in.VersionId)]
	if !ok {
		return nil, apiError("NoSuchObjectLockConfiguration")
	}
	return &s3.GetObjectRetentionOutput{Retention: &r}, nil
}

func (f *fakeS3) GetObjectLegalHold(_ context.Context, in *s3.GetObjectLegalHoldInput, _ ...func(*s3.Options)) (*s3.GetObjectLegalHoldOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetObjectLegalHold"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.objectLock == nil {
		return nil, apiError("InvalidRequest")
	}
	h, ok := b.legalHold[aws.ToString(in.Key)+"@"+aws.ToString(in.VersionId)]
	if !ok {
		return nil, apiError("NoSuchObjectLockConfiguration")
	}
	return &s3.GetObjectLegalHoldOutput{LegalHold: &types.ObjectLockLegalHold{Status: h}}, nil
}

func (f *fakeS3) GetBucketNotificationConfiguration(_ context.Context, in *s3.GetBucketNotificationConfigurationInput, _ ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetBucketNotificationConfiguration"); err != nil {
		return nil, err
	}
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	out := &s3.GetBucketNotificationConfigurationOutput{}
	if n := b.notification; n != nil {
		out.TopicConfigurations, out.QueueConfigurations, out.LambdaFunctionConfigurations, out.EventBridgeConfiguration =
			n.TopicConfigurations, n.QueueConfigurations, n.LambdaFunctionConfigurations, n.EventBridgeConfiguration
	}
	return out, nil
}

func (f *fakeS3) PutBucketNotificationConfiguration(_ context.Context, in *s3.PutBucketNotificationConfigurationInput, _ ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutBucketNotificationConfiguration"); err != nil {
		return nil, err
	}
	f.notified = append(f.notified, in)
	b, err := f.get(in.Bucket)
	if err != nil {
		return nil, err
	}
	c := *in.NotificationConfiguration
	b.notification = &c
	return &s3.PutBucketNotificationConfigurationOutput{}, nil
}
