package statebucket

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

const bucket = "acme-tfstate-123456789012"

func testSpec() Spec {
	return Spec{
		Backend: "acme", Bucket: bucket, Region: "eu-west-1", KeyARN: keyARN, NoncurrentDays: 90,
		Policy: policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{{
			Sid: "DenyInsecureTransport", Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}}, Action: policydoc.StringSet{"s3:*"},
			Resource:  policydoc.StringSet{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
			Condition: policydoc.Conditions{"Bool": {"aws:SecureTransport": {"false"}}},
		}}},
		Logging: &Logging{TargetBucket: naming.LogBucket(bucket), TargetPrefix: bucket + "/"},
		Tags:    map[string]string{naming.OwnerTagKey: "acme", "team": "platform"},
	}
}

// logSpec is the access-log bucket's: SSE-S3, current objects expire.
func logSpec() Spec {
	return Spec{Backend: "acme", Bucket: naming.LogBucket(bucket), Region: "us-east-1", NoncurrentDays: 30, ExpireDays: 365,
		Role: RoleAccessLogs, Policy: testSpec().Policy, Tags: map[string]string{naming.OwnerTagKey: "acme"}}
}

// lockedSpec is the state bucket's with a default retention and its events
// sent to EventBridge.
func lockedSpec() Spec {
	s := testSpec()
	s.ObjectLock, s.EventBridge = &ObjectLock{Mode: "GOVERNANCE", Days: 30}, true
	return s
}

// observeAndEnsure does what the orchestrator does: one Find, then Ensure
// with what it observed.
func observeAndEnsure(ctx context.Context, f *fakeS3, spec Spec, tracked bool) (*Observed, error) {
	have, err := Find(ctx, f, spec.Bucket)
	if awserr.IsNotFound(err) {
		have, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Ensure(ctx, f, spec, have, tracked)
}

// hardenedBucket stores a bucket that matches spec.
func (f *fakeS3) hardenedBucket(spec Spec) *fakeBucket {
	on := aws.Bool(true)
	b := &fakeBucket{
		versioning: types.BucketVersioningStatusEnabled,
		pab:        &types.PublicAccessBlockConfiguration{BlockPublicAcls: on, BlockPublicPolicy: on, IgnorePublicAcls: on, RestrictPublicBuckets: on},
		ownership:  types.ObjectOwnershipBucketOwnerEnforced,
		policy:     spec.Policy.String(),
		lifecycle:  []types.LifecycleRule{lifecycleRule(spec)},
	}
	if spec.KeyARN == "" {
		b.encryption = &types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}
	} else {
		b.encryption = &types.ServerSideEncryptionRule{BucketKeyEnabled: on,
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(spec.KeyARN)}}
	}
	if spec.Logging != nil {
		b.logging = &types.LoggingEnabled{TargetBucket: aws.String(spec.Logging.TargetBucket), TargetPrefix: aws.String(spec.Logging.TargetPrefix)}
	}
	if l := spec.ObjectLock; l != nil {
		b.objectLock = &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled, Rule: &types.ObjectLockRule{
			DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionMode(l.Mode), Days: aws.Int32(l.Days)}}}
	}
	if spec.EventBridge {
		b.notification = &types.NotificationConfiguration{EventBridgeConfiguration: &types.EventBridgeConfiguration{}}
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Tags)) {
		b.tags = append(b.tags, types.Tag{Key: aws.String(k), Value: aws.String(spec.Tags[k])})
	}
	f.buckets[spec.Bucket] = b
	return b
}

func TestEnsureCreatesAHardenedBucket(t *testing.T) {
	for name, tc := range map[string]struct {
		spec     Spec
		location types.BucketLocationConstraint // "" for none (us-east-1)
	}{
		"state bucket":          {testSpec(), "eu-west-1"},
		"log bucket, us-east-1": {logSpec(), ""},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			spec := tc.spec
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.created) != 1 {
				t.Fatalf("CreateBucket called %d times, want once", len(f.created))
			}
			in := f.created[0]
			if aws.ToString(in.Bucket) != spec.Bucket || in.ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
				t.Errorf("CreateBucket(%s, ownership %s), want %s with ACLs disabled", aws.ToString(in.Bucket), in.ObjectOwnership, spec.Bucket)
			}
			if got := in.CreateBucketConfiguration; got == nil || got.LocationConstraint != tc.location {
				t.Errorf("CreateBucket configuration %+v, want location %q", got, tc.location)
			}
			// The ownership tag is written first, so a failure later is adopted.
			writes := f.writes()
			if len(writes) < 2 || writes[0] != "CreateBucket" || writes[1] != "PutBucketTagging" {
				t.Errorf("writes %v, want CreateBucket then PutBucketTagging first", writes)
			}
			var sent []string
			for _, tg := range f.tagged[0].Tagging.TagSet {
				sent = append(sent, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
			}
			if want := slices.Sorted(maps.Keys(spec.Tags)); len(sent) != len(want) || !strings.HasPrefix(sent[0], want[0]+"=") {
				t.Errorf("tags sent %v, want %v in order", sent, spec.Tags)
			}
			if n := strings.Count(strings.Join(writes, " "), "PutBucketTagging"); n != 1 {
				t.Errorf("PutBucketTagging called %d times, want once", n)
			}
			drifttest.Compliant(t, name, Drift(spec, o))
			if !maps.Equal(o.Tags, spec.Tags) || !o.HasTagging {
				t.Errorf("tags %v, want %v", o.Tags, spec.Tags)
			}
			if o.NoncurrentDays != spec.NoncurrentDays || o.ExpireDays != spec.ExpireDays {
				t.Errorf("observed lifecycle: noncurrent %d, expire %d; want %d, %d", o.NoncurrentDays, o.ExpireDays, spec.NoncurrentDays, spec.ExpireDays)
			}
		})
	}
}

// What harden writes for each drifted control, and that it writes nothing
// for the others.
func TestEnsureHardensEachControl(t *testing.T) {
	on, off := aws.Bool(true), aws.Bool(false)
	for name, tc := range map[string]struct {
		spec    func() Spec
		breakIt func(*fakeBucket)
		writes  []string
		check   func(t *testing.T, f *fakeS3, spec Spec)
	}{
		"compliant": {testSpec, func(*fakeBucket) {}, nil, nil},
		"public access": {testSpec, func(b *fakeBucket) {
			b.pab = &types.PublicAccessBlockConfiguration{BlockPublicAcls: on, BlockPublicPolicy: off}
		},
			[]string{"PutPublicAccessBlock"}, func(t *testing.T, f *fakeS3, _ Spec) {
				c := f.pab[0].PublicAccessBlockConfiguration
				if !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.RestrictPublicBuckets) {
					t.Errorf("PutPublicAccessBlock %+v, want all four on", c)
				}
			}},
		"no public access block": {testSpec, func(b *fakeBucket) { b.pab = nil }, []string{"PutPublicAccessBlock"}, nil},
		"ACLs": {testSpec, func(b *fakeBucket) { b.ownership = types.ObjectOwnershipObjectWriter },
			[]string{"PutBucketOwnershipControls"}, func(t *testing.T, f *fakeS3, _ Spec) {
				if r := f.ownership[0].OwnershipControls.Rules; len(r) != 1 || r[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
					t.Errorf("PutBucketOwnershipControls %+v, want BucketOwnerEnforced", r)
				}
			}},
		"no ownership controls": {testSpec, func(b *fakeBucket) { b.ownership = "" }, []string{"PutBucketOwnershipControls"}, nil},
		"SSE-S3 instead of KMS": {testSpec, func(b *fakeBucket) {
			b.encryption = &types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}
		}, []string{"PutBucketEncryption"}, func(t *testing.T, f *fakeS3, spec Spec) {
			r := f.encryption[0].ServerSideEncryptionConfiguration.Rules
			if len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAwsKms ||
				aws.ToString(r[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != spec.KeyARN || !aws.ToBool(r[0].BucketKeyEnabled) {
				t.Errorf("PutBucketEncryption %+v, want SSE-KMS with %s and the bucket key", r, spec.KeyARN)
			}
		}},
		"no encryption": {testSpec, func(b *fakeBucket) { b.encryption = nil }, []string{"PutBucketEncryption"}, nil},
		"log bucket on KMS": {logSpec, func(b *fakeBucket) {
			b.encryption = &types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyARN)}}
		}, []string{"PutBucketEncryption"}, func(t *testing.T, f *fakeS3, _ Spec) {
			r := f.encryption[0].ServerSideEncryptionConfiguration.Rules
			if len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 || r[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID != nil {
				t.Errorf("PutBucketEncryption %+v, want SSE-S3", r)
			}
		}},
		"versioning suspended": {testSpec, func(b *fakeBucket) { b.versioning = types.BucketVersioningStatusSuspended },
			[]string{"PutBucketVersioning"}, func(t *testing.T, f *fakeS3, _ Spec) {
				if s := f.versioning[0].VersioningConfiguration.Status; s != types.BucketVersioningStatusEnabled {
					t.Errorf("PutBucketVersioning %s, want Enabled", s)
				}
			}},
		"policy removed": {testSpec, func(b *fakeBucket) { b.policy = "" }, []string{"PutBucketPolicy"}, func(t *testing.T, f *fakeS3, spec Spec) {
			if ok, _ := policydoc.Equivalent(aws.ToString(f.policies[0].Policy), spec.Policy.String()); !ok || aws.ToString(f.policies[0].Bucket) != spec.Bucket {
				t.Errorf("PutBucketPolicy(%s, %s), want the spec's policy", aws.ToString(f.policies[0].Bucket), aws.ToString(f.policies[0].Policy))
			}
		}},
		"policy replaced": {testSpec, func(b *fakeBucket) { b.policy = `{"Version":"2012-10-17","Statement":[]}` }, []string{"PutBucketPolicy"}, nil},
		"lifecycle removed": {testSpec, func(b *fakeBucket) { b.lifecycle = nil }, []string{"PutBucketLifecycleConfiguration"}, func(t *testing.T, f *fakeS3, spec Spec) {
			if r := f.lifecycles[0].LifecycleConfiguration.Rules; len(r) != 1 || !reflect.DeepEqual(r[0], lifecycleRule(spec)) {
				t.Errorf("PutBucketLifecycleConfiguration %+v, want the retention rule", r)
			}
		}},
		"log bucket lifecycle": {logSpec, func(b *fakeBucket) { b.lifecycle[0].Expiration.Days = aws.Int32(1) }, []string{"PutBucketLifecycleConfiguration"}, nil},
		"logging off": {testSpec, func(b *fakeBucket) { b.logging = nil }, []string{"PutBucketLogging"}, func(t *testing.T, f *fakeS3, spec Spec) {
			l := f.logging[0].BucketLoggingStatus.LoggingEnabled
			if l == nil || aws.ToString(l.TargetBucket) != spec.Logging.TargetBucket || aws.ToString(l.TargetPrefix) != spec.Logging.TargetPrefix {
				t.Errorf("PutBucketLogging %+v, want logs to s3://%s/%s", l, spec.Logging.TargetBucket, spec.Logging.TargetPrefix)
			}
		}},
		"logging elsewhere": {testSpec, func(b *fakeBucket) { b.logging.TargetPrefix = aws.String("x/") }, []string{"PutBucketLogging"}, nil},
		// access_logging removed from the configuration: logging to the
		// backend's log bucket is turned off, logging elsewhere is not ours.
		"logging no longer wanted": {func() Spec { s := testSpec(); s.Logging = nil; return s }, func(b *fakeBucket) {
			b.logging = &types.LoggingEnabled{TargetBucket: aws.String(naming.LogBucket(bucket)), TargetPrefix: aws.String("p/")}
		}, []string{"PutBucketLogging"}, func(t *testing.T, f *fakeS3, _ Spec) {
			if l := f.logging[0].BucketLoggingStatus; l == nil || l.LoggingEnabled != nil {
				t.Errorf("PutBucketLogging %+v, want logging off", l)
			}
		}},
		"others' logging kept": {func() Spec { s := testSpec(); s.Logging = nil; return s }, func(b *fakeBucket) {
			b.logging = &types.LoggingEnabled{TargetBucket: aws.String("audit"), TargetPrefix: aws.String("p/")}
		}, nil, nil},
		"log bucket's own logging kept": {logSpec, func(b *fakeBucket) {
			b.logging = &types.LoggingEnabled{TargetBucket: aws.String(naming.LogBucket(naming.LogBucket(bucket))), TargetPrefix: aws.String("p/")}
		}, nil, nil},
		"tag changed": {testSpec, func(b *fakeBucket) { b.tags[1].Value = aws.String("x") }, []string{"PutBucketTagging"}, func(t *testing.T, f *fakeS3, spec Spec) {
			if n := len(f.tagged[0].Tagging.TagSet); n != len(spec.Tags) {
				t.Errorf("PutBucketTagging sent %d tags, want the whole set (%d)", n, len(spec.Tags))
			}
		}},
		"tag added": {testSpec, func(b *fakeBucket) { b.tags = append(b.tags, types.Tag{Key: aws.String("z"), Value: aws.String("z")}) }, []string{"PutBucketTagging"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			spec := tc.spec()
			tc.breakIt(f.hardenedBucket(spec))
			o, err := observeAndEnsure(context.Background(), f, spec, true)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.writes(), tc.writes) {
				t.Errorf("writes %v, want %v", f.writes(), tc.writes)
			}
			if tc.check != nil && len(f.writes()) > 0 {
				tc.check(t, f, spec)
			}
			drifttest.Compliant(t, name, Drift(spec, o))
		})
	}
}

func TestEnsureAdoption(t *testing.T) {
	for name, tc := range map[string]struct {
		tags    []types.Tag // nil: no tag set
		tracked bool
		wantErr bool
	}{
		"ownership tag":     {[]types.Tag{{Key: aws.String(naming.OwnerTagKey), Value: aws.String("acme")}}, false, false},
		"another backend's": {[]types.Tag{{Key: aws.String(naming.OwnerTagKey), Value: aws.String("acme-2")}}, false, true},
		"other tags":        {[]types.Tag{{Key: aws.String("acme"), Value: aws.String(naming.OwnerTagKey)}}, false, true},
		"no tag set":        {nil, false, true},
		"tracked, no tags":  {nil, true, false},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.hardenedBucket(testSpec()).tags = tc.tags
			_, err := observeAndEnsure(context.Background(), f, testSpec(), tc.tracked)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "not created by this backend") {
					t.Errorf("error %v, want a refusal", err)
				}
				if len(f.writes()) != 0 {
					t.Errorf("writes %v, want none", f.writes())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.created) != 0 {
				t.Error("CreateBucket called for an existing bucket")
			}
		})
	}
}

// CreateBucket's reply lost: either the SDK's retry gets
// BucketAlreadyOwnedByYou, or the call fails and the bucket, untagged, is
// found to exist. Both go on with the bucket; a bucket that now exists but
// carries tags is someone else's, and a failure that made nothing is an error.
func TestEnsureCreateReplies(t *testing.T) {
	boom := errors.New("connection reset")
	for name, tc := range map[string]struct {
		setup   func(f *fakeS3)
		wantErr string
	}{
		"retry finds it owned": {func(f *fakeS3) { f.lost = []error{apiError("BucketAlreadyOwnedByYou")} }, ""},
		"failed but made it":   {func(f *fakeS3) { f.lost = []error{boom} }, ""},
		"failed, made, empty tag set": {func(f *fakeS3) {
			f.lost = []error{boom}
			f.newTags = []types.Tag{}
		}, ""},
		// Tagged moments after our failed call: someone else's bucket.
		"failed, then found tagged": {func(f *fakeS3) {
			f.lost = []error{boom}
			f.newTags = []types.Tag{{Key: aws.String("owner"), Value: aws.String("someone")}}
		}, "s3:CreateBucket"},
		"name taken elsewhere": {func(f *fakeS3) { f.fail["CreateBucket"] = []error{apiError("BucketAlreadyExists")} }, "taken by another AWS account"},
		"failed, made nothing": {func(f *fakeS3) { f.fail["CreateBucket"] = []error{boom} }, "s3:CreateBucket " + bucket},
		"failed, lookup fails": {func(f *fakeS3) { f.lost = []error{boom}; f.fail["HeadBucket"] = []error{nil, apiError("Forbidden")} }, "s3:CreateBucket"},
		// The first GetBucketTagging is the observation's, of no bucket.
		"failed, tags unreadable": {func(f *fakeS3) {
			f.lost = []error{boom}
			f.fail["GetBucketTagging"] = []error{nil, errors.New("denied")}
		}, "s3:CreateBucket"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			tc.setup(f)
			o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			drifttest.Compliant(t, name, Drift(testSpec(), o))
			if o.Tags[naming.OwnerTagKey] != "acme" {
				t.Errorf("tags %v, want the ownership tag", o.Tags)
			}
		})
	}
}

// A bucket made but not tagged would not be adopted by the next apply: it is
// deleted again.
func TestEnsureDeletesAnUntaggableBucket(t *testing.T) {
	f := newFake()
	f.fail["PutBucketTagging"] = []error{errors.New("denied")}
	_, err := observeAndEnsure(context.Background(), f, testSpec(), false)
	if err == nil || !strings.Contains(err.Error(), "s3:PutBucketTagging "+bucket) {
		t.Fatalf("error %v, want the tagging failure", err)
	}
	if _, ok := f.buckets[bucket]; ok {
		t.Errorf("bucket left behind without its ownership tag")
	}
}

func TestEnsureFailures(t *testing.T) {
	boom := errors.New("boom")
	for name, tc := range map[string]struct {
		breakIt func(*fakeBucket)
		op      string
		nth     int // the call of op that fails, from 0
		want    string
	}{
		"head":              {nil, "HeadBucket", 0, "s3:HeadBucket"},
		"encryption":        {nil, "GetBucketEncryption", 0, "s3:GetBucketEncryption"},
		"versioning":        {nil, "GetBucketVersioning", 0, "s3:GetBucketVersioning"},
		"public access":     {nil, "GetPublicAccessBlock", 0, "s3:GetPublicAccessBlock"},
		"ownership":         {nil, "GetBucketOwnershipControls", 0, "s3:GetBucketOwnershipControls"},
		"policy":            {nil, "GetBucketPolicy", 0, "s3:GetBucketPolicy"},
		"lifecycle":         {nil, "GetBucketLifecycleConfiguration", 0, "s3:GetBucketLifecycleConfiguration"},
		"logging":           {nil, "GetBucketLogging", 0, "s3:GetBucketLogging"},
		"object lock":       {nil, "GetObjectLockConfiguration", 0, "s3:GetObjectLockConfiguration"},
		"notifications":     {nil, "GetBucketNotificationConfiguration", 0, "s3:GetBucketNotificationConfiguration"},
		"tagging":           {nil, "GetBucketTagging", 0, "s3:GetBucketTagging"},
		"adoption check":    {nil, "GetBucketTagging", 1, "s3:GetBucketTagging"},
		"read after":        {nil, "GetBucketPolicy", 1, "s3:GetBucketPolicy"},
		"put public access": {func(b *fakeBucket) { b.pab = nil }, "PutPublicAccessBlock", 0, "s3:PutPublicAccessBlock"},
		"put ownership":     {func(b *fakeBucket) { b.ownership = "" }, "PutBucketOwnershipControls", 0, "s3:PutBucketOwnershipControls"},
		"put encryption":    {func(b *fakeBucket) { b.encryption = nil }, "PutBucketEncryption", 0, "s3:PutBucketEncryption"},
		"put versioning":    {func(b *fakeBucket) { b.versioning = "" }, "PutBucketVersioning", 0, "s3:PutBucketVersioning"},
		"put policy":        {func(b *fakeBucket) { b.policy = "" }, "PutBucketPolicy", 0, "s3:PutBucketPolicy"},
		"put lifecycle":     {func(b *fakeBucket) { b.lifecycle = nil }, "PutBucketLifecycleConfiguration", 0, "s3:PutBucketLifecycleConfiguration"},
		"put logging":       {func(b *fakeBucket) { b.logging = nil }, "PutBucketLogging", 0, "s3:PutBucketLogging"},
		"put tags":          {func(b *fakeBucket) { b.tags = b.tags[:1] }, "PutBucketTagging", 0, "s3:PutBucketTagging"},
		"put object lock":   {func(b *fakeBucket) { b.objectLock = nil }, "PutObjectLockConfiguration", 0, "s3:PutObjectLockConfiguration"},
		"put notifications": {func(b *fakeBucket) { b.notification = nil }, "PutBucketNotificationConfiguration", 0, "s3:PutBucketNotificationConfiguration"},
		"notifications read before the write": {func(b *fakeBucket) { b.notification = nil }, "GetBucketNotificationConfiguration", 1,
			"s3:GetBucketNotificationConfiguration"},
		// The object lock write follows a versioning write that failed: it is
		// not made.
		"put versioning before the lock": {func(b *fakeBucket) { b.versioning, b.objectLock = "", nil }, "PutBucketVersioning", 0, "s3:PutBucketVersioning"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			b := f.hardenedBucket(lockedSpec())
			if tc.breakIt != nil {
				tc.breakIt(b)
			}
			f.fail[tc.op] = append(make([]error, tc.nth), boom)
			_, err := observeAndEnsure(context.Background(), f, lockedSpec(), false)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, boom) {
				t.Errorf("error %v, want %q wrapping the failure", err, tc.want)
			}
		})
	}
	t.Run("turning logging off", func(t *testing.T) {
		f := newFake()
		spec := testSpec()
		f.hardenedBucket(spec)
		spec.Logging = nil
		f.fail["PutBucketLogging"] = []error{boom}
		if _, err := observeAndEnsure(context.Background(), f, spec, true); err == nil || !strings.Contains(err.Error(), "turning logging off") {
			t.Errorf("error %v, want the failure to turn logging off", err)
		}
	})
}

func TestFindReportsWhatS3Says(t *testing.T) {
	f := newFake()
	if _, err := Find(context.Background(), f, bucket); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing bucket: %v, want not found", err)
	}
	// A bucket with nothing configured: every "not configured" error is read
	// as the setting being absent.
	f.buckets[bucket] = &fakeBucket{}
	o, err := Find(context.Background(), f, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Observed{Bucket: bucket, Tags: map[string]string{}}); !reflect.DeepEqual(o, want) {
		t.Errorf("Find = %+v, want %+v", o, want)
	}
	// The backend's rule is read among others; the others' days are not.
	spec := logSpec()
	other := types.LifecycleRule{ID: aws.String("other"), Status: types.ExpirationStatusEnabled,
		NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(2)}}
	f.buckets[bucket].lifecycle = []types.LifecycleRule{other, lifecycleRule(spec), other}
	f.buckets[bucket].encryption = &types.ServerSideEncryptionRule{BucketKeyEnabled: aws.Bool(true)}
	if o, err = Find(context.Background(), f, bucket); err != nil {
		t.Fatal(err)
	}
	if o.NoncurrentDays != 30 || o.ExpireDays != 365 || len(o.Lifecycle) != 3 {
		t.Errorf("lifecycle read: noncurrent %d, expire %d, %d rules; want 30, 365, 3", o.NoncurrentDays, o.ExpireDays, len(o.Lifecycle))
	}
	if !o.BucketKey || o.SSEAlgorithm != "" {
		t.Errorf("encryption rule without default: algorithm %q, bucket key %v", o.SSEAlgorithm, o.BucketKey)
	}
}

func TestExists(t *testing.T) {
	for name, tc := range map[string]struct {
		err     error
		want    bool
		wantErr bool
	}{
		"exists":         {nil, true, false},
		"404":            {httpError(http.StatusNotFound), false, false},
		"NotFound code":  {apiError("NotFound"), false, false},
		"NoSuchBucket":   {apiError("NoSuchBucket"), false, false},
		"403":            {httpError(http.StatusForbidden), false, true},
		"something else": {errors.New("boom"), false, true},
	} {
		f := newFake()
		f.buckets[bucket] = &fakeBucket{}
		f.fail["HeadBucket"] = []error{tc.err}
		got, err := Exists(context.Background(), f, bucket)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%s: Exists = %v, %v; want %v, error %v", name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestCheck(t *testing.T) {
	spec := testSpec()
	if err := Check(spec, nil); err != nil {
		t.Errorf("missing bucket: %v, want nil (nothing to adopt)", err)
	}
	if err := Check(spec, &Observed{Bucket: bucket, Tags: spec.Tags}); err != nil {
		t.Errorf("own bucket: %v", err)
	}
	spec.Backend = "acme-2"
	if err := Check(spec, &Observed{Bucket: bucket, Tags: testSpec().Tags}); err == nil || !strings.Contains(err.Error(), naming.OwnerTagKey+"=acme-2") ||
		!strings.Contains(err.Error(), "not created by this backend") {
		t.Errorf("another backend's bucket: %v, want a refusal naming the tag", err)
	}
}

func TestCountAndEmpty(t *testing.T) {
	f := newFake()
	b := f.hardenedBucket(testSpec())
	for _, k := range []string{"a", "b", "c"} {
		b.versions = append(b.versions, types.ObjectVersion{Key: aws.String(k), VersionId: aws.String("1")}, types.ObjectVersion{Key: aws.String(k), VersionId: aws.String("2")})
	}
	b.markers = []types.DeleteMarkerEntry{{Key: aws.String("d"), VersionId: aws.String("3")}}

	if n, err := CountVersions(context.Background(), f, bucket); err != nil || n != 7 {
		t.Errorf("CountVersions = %d, %v; want 7 over four pages", n, err)
	}
	if err := Delete(context.Background(), f, bucket); err == nil {
		t.Error("Delete of a bucket holding versions: want an error")
	}
	if err := Empty(context.Background(), f, bucket); err != nil {
		t.Fatal(err)
	}
	if len(b.versions)+len(b.markers) != 0 {
		t.Errorf("left %d versions and %d markers", len(b.versions), len(b.markers))
	}
	for _, in := range f.deletes {
		if !aws.ToBool(in.Delete.Quiet) || len(in.Delete.Objects) == 0 || in.Delete.Objects[0].VersionId == nil {
			t.Errorf("DeleteObjects %+v, want quiet deletes of versions", in.Delete)
		}
	}
	if n, err := CountVersions(context.Background(), f, bucket); err != nil || n != 0 {
		t.Errorf("CountVersions after Empty = %d, %v", n, err)
	}
	if err := Delete(context.Background(), f, bucket); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, ok := f.buckets[bucket]; ok {
		t.Error("bucket still exists")
	}
	if err := Delete(context.Background(), f, bucket); err != nil {
		t.Errorf("Delete of a bucket already gone: %v", err)
	}
	f.fail["DeleteBucket"] = []error{httpError(http.StatusNotFound)}
	if err := Delete(context.Background(), f, bucket); err != nil {
		t.Errorf("Delete answered 404: %v", err)
	}
}

func TestEmptyAndCountFailures(t *testing.T) {
	boom := errors.New("boom")
	f := newFake()
	b := f.hardenedBucket(testSpec())
	b.versions = []types.ObjectVersion{{Key: aws.String("a"), VersionId: aws.String("1")}}
	f.fail["ListObjectVersions"] = []error{boom, boom}
	if _, err := CountVersions(context.Background(), f, bucket); !errors.Is(err, boom) {
		t.Errorf("CountVersions: %v", err)
	}
	if err := Empty(context.Background(), f, bucket); !errors.Is(err, boom) {
		t.Errorf("Empty when listing fails: %v", err)
	}
	f.fail["DeleteObjects"] = []error{boom}
	if err := Empty(context.Background(), f, bucket); !errors.Is(err, boom) {
		t.Errorf("Empty when deleting fails: %v", err)
	}
	b.deleteErrors = []types.Error{{Key: aws.String("a"), Code: aws.String("AccessDenied")}, {Key: aws.String("b")}}
	if err := Empty(context.Background(), f, bucket); err == nil || !strings.Contains(err.Error(), "2 objects not deleted, first a: AccessDenied") {
		t.Errorf("Empty with per-object errors: %v", err)
	}
	f.fail["DeleteBucket"] = []error{boom}
	if err := Delete(context.Background(), f, bucket); !errors.Is(err, boom) {
		t.Errorf("Delete: %v", err)
	}
}

func TestControlNames(t *testing.T) {
	if got, want := ControlNames(testSpec()), []string{ControlAccessLogging, ControlEncryption, ControlLifecycle, ControlOwnership, ControlPolicy, ControlPublicAccess, ControlVersioning}; !slices.Equal(got, want) {
		t.Errorf("state bucket controls %v, want %v", got, want)
	}
	want := []string{"log_bucket_encryption", "log_bucket_lifecycle", "log_bucket_ownership_controls", "log_bucket_policy", "log_bucket_public_access_block", "log_bucket_versioning"}
	if got := ControlNames(logSpec()); !slices.Equal(got, want) {
		t.Errorf("log bucket controls %v, want %v", got, want)
	}
}
