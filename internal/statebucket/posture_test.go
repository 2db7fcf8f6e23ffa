package statebucket

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/securestate/terraform-provider-securestate/internal/posture"
)

// hardened is a bucket as the backend leaves it, for posture checks to break.
func hardened() *Observed {
	spec := Spec{Bucket: "acme", KeyARN: "arn:aws:kms:eu-west-1:111122223333:key/k", NoncurrentDays: 90}
	return &Observed{Bucket: "acme", SSEAlgorithm: "aws:kms", SSEKey: spec.KeyARN, BucketKey: true, Versioning: "Enabled",
		PublicAccess: types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)},
		Ownership:    "BucketOwnerEnforced",
		Policy:       `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::acme","arn:aws:s3:::acme/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
		Lifecycle:    LifecycleRules(spec), Logging: Logging{TargetBucket: "logs", TargetPrefix: "s3/"}}
}

func TestPosture(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "not you"}
	cases := []struct {
		control    string
		mutate     func(o *Observed)
		unreadable map[string]error
		audit      Audit
		status     posture.Status
		observed   string
	}{
		{control: ControlEncryption, mutate: func(o *Observed) { o.SSEAlgorithm, o.SSEKey = "AES256", "" }, status: posture.Fail, observed: "default encryption is AES256, not SSE-KMS"},
		{control: ControlEncryption, mutate: func(o *Observed) { o.SSEAlgorithm = "" }, status: posture.Fail, observed: "no default encryption"},
		{control: ControlEncryption, mutate: func(o *Observed) { o.SSEKey = "" }, status: posture.Fail, observed: "AWS managed key aws/s3"},
		{control: ControlEncryption, audit: Audit{AWSManagedKey: true}, status: posture.Fail, observed: "AWS managed key"},
		{control: ControlEncryption, mutate: func(o *Observed) { o.BucketKey = false }, status: posture.Fail, observed: "bucket key is off"},
		{control: ControlVersioning, mutate: func(o *Observed) { o.Versioning = "Suspended" }, status: posture.Fail, observed: "versioning is Suspended"},
		{control: ControlVersioning, mutate: func(o *Observed) { o.Versioning = "" }, status: posture.Fail, observed: "never enabled"},
		{control: ControlPublicAccess, mutate: func(o *Observed) { o.PublicAccess.RestrictPublicBuckets = aws.Bool(false) }, status: posture.Fail, observed: "RestrictPublicBuckets off"},
		{control: ControlOwnership, mutate: func(o *Observed) { o.Ownership = "ObjectWriter" }, status: posture.Fail, observed: "ACLs are not disabled"},
		{control: ControlPolicy, mutate: func(o *Observed) { o.Policy = "" }, status: posture.Fail, observed: "no bucket policy"},
		{control: ControlPolicy, mutate: func(o *Observed) { o.Policy = "{" }, status: posture.Fail, observed: "cannot be parsed"},
		{control: ControlPolicy, mutate: func(o *Observed) {
			o.Policy = strings.Replace(o.Policy, `]}`, `,{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/*"}]}`, 1)
		}, status: posture.Fail, observed: `statement "Open"`},
		{control: ControlPolicy, mutate: func(o *Observed) { o.Policy = strings.Replace(o.Policy, `"false"`, `"true"`, 1) }, status: posture.Fail, observed: "does not deny"},
		{control: ControlLifecycle, mutate: func(o *Observed) { o.Lifecycle = nil }, status: posture.Fail, observed: "no enabled lifecycle rule"},
		{control: ControlLifecycle, mutate: func(o *Observed) { o.Lifecycle[0].Expiration = &types.LifecycleExpiration{Days: aws.Int32(30)} }, status: posture.Fail, observed: "expires current objects"},
		{control: ControlLifecycle, mutate: func(o *Observed) {
			o.Lifecycle[0].Transitions = []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassGlacier}}
		}, status: posture.Fail, observed: "another storage class"},
		{control: ControlLifecycle, mutate: func(o *Observed) { o.Lifecycle[0].Filter = &types.LifecycleRuleFilter{Prefix: aws.String("prod/")} }, status: posture.Fail, observed: "every object"},
		{control: ControlLifecycle, mutate: func(o *Observed) { o.Lifecycle[0].Status = types.ExpirationStatusDisabled }, status: posture.Fail, observed: "no enabled"},
		{control: ControlLifecycle, mutate: func(o *Observed) {
			//nolint:staticcheck // S3 still returns rules narrowed by the deprecated top-level Prefix
			o.Lifecycle[0].Filter, o.Lifecycle[0].Prefix = nil, aws.String("prod/")
		}, status: posture.Fail, observed: "every object"},
		{control: ControlEncryption, audit: Audit{OtherKey: "default encryption uses another key"}, status: posture.Fail, observed: "another key"},
		{control: ControlAccessLogging, mutate: func(o *Observed) { o.Logging = Logging{} }, status: posture.Fail, observed: "logging is off"},
		{control: ControlPolicy, unreadable: map[string]error{ControlPolicy: denied, ReadTags: denied}, status: posture.Unknown, observed: "(AccessDenied)"},
	}
	for _, tc := range cases {
		t.Run(tc.control+"/"+tc.observed, func(t *testing.T) {
			o := hardened()
			if tc.mutate != nil {
				tc.mutate(o)
			}
			got := Posture(o, tc.unreadable, tc.audit)
			if r := got[tc.control]; r.Status != tc.status || !strings.Contains(r.Observed, tc.observed) {
				t.Errorf("%s = %s %q, want %s containing %q", tc.control, r.Status, r.Observed, tc.status, tc.observed)
			}
			for c, r := range got {
				if c != tc.control && r.Status != posture.Pass {
					t.Errorf("%s = %s %q: only %s was broken", c, r.Status, r.Observed, tc.control)
				}
			}
		})
	}
	if got := len(Posture(hardened(), nil, Audit{})); got != len(PostureControls()) {
		t.Errorf("Posture reports %d controls, PostureControls lists %d", got, len(PostureControls()))
	}
}
