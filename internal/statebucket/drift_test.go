package statebucket

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

const keyARN = "arn:aws:kms:us-east-1:123456789012:key/abcd"

func compliant(spec Spec) *Observed {
	on := aws.Bool(true)
	return &Observed{
		SSEAlgorithm: "aws:kms", SSEKey: keyARN, BucketKey: true, Versioning: "Enabled",
		PublicAccess: types.PublicAccessBlockConfiguration{BlockPublicAcls: on, BlockPublicPolicy: on, IgnorePublicAcls: on, RestrictPublicBuckets: on},
		Ownership:    "BucketOwnerEnforced", Policy: spec.Policy.String(), Lifecycle: []types.LifecycleRule{lifecycleRule(spec)},
	}
}

func TestDrift(t *testing.T) {
	spec := Spec{Bucket: "b", KeyARN: keyARN, NoncurrentDays: 90, Policy: policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{
		{Sid: "S", Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}}, Action: policydoc.StringSet{"s3:*"}, Resource: policydoc.StringSet{"arn:aws:s3:::b"}},
	}}}
	drifttest.Compliant(t, "compliant bucket", Drift(spec, compliant(spec)))
	cases := map[string]struct {
		mutate  func(o *Observed)
		control string
		want    string
	}{
		"key id instead of ARN is the same key": {func(o *Observed) { o.SSEKey = "abcd" }, ControlEncryption, ""},
		"other key":                             {func(o *Observed) { o.SSEKey = "arn:aws:kms:us-east-1:123456789012:key/other" }, ControlEncryption, "another KMS key"},
		"AES256":                                {func(o *Observed) { o.SSEAlgorithm = "AES256" }, ControlEncryption, "not SSE-KMS"},
		"bucket key off":                        {func(o *Observed) { o.BucketKey = false }, ControlEncryption, "bucket key is off"},
		"versioning suspended":                  {func(o *Observed) { o.Versioning = "Suspended" }, ControlVersioning, "Suspended"},
		"one public block off":                  {func(o *Observed) { o.PublicAccess.RestrictPublicBuckets = aws.Bool(false) }, ControlPublicAccess, "RestrictPublicBuckets off"},
		"ACLs enabled":                          {func(o *Observed) { o.Ownership = "ObjectWriter" }, ControlOwnership, "ObjectWriter"},
		"policy missing":                        {func(o *Observed) { o.Policy = "" }, ControlPolicy, "missing"},
		"policy reformatted is the same": {func(o *Observed) {
			o.Policy = `{ "Statement": { "Resource": "arn:aws:s3:::b", "Action": ["s3:*"], "Principal": "*", "Effect": "Deny", "Sid": "S" }, "Version": "2012-10-17" }`
		}, ControlPolicy, ""},
		"policy edited":           {func(o *Observed) { o.Policy = strings.Replace(o.Policy, "Deny", "Allow", 1) }, ControlPolicy, "differs"},
		"lifecycle removed":       {func(o *Observed) { o.Lifecycle = nil }, ControlLifecycle, "differ"},
		"extra expiry rule":       {func(o *Observed) { o.Lifecycle = append(o.Lifecycle, types.LifecycleRule{ID: aws.String("x")}) }, ControlLifecycle, "differ"},
		"retention shortened":     {func(o *Observed) { o.Lifecycle[0].NoncurrentVersionExpiration.NoncurrentDays = aws.Int32(1) }, ControlLifecycle, "differ"},
		"current versions expire": {func(o *Observed) { o.Lifecycle[0].Expiration.Days = aws.Int32(30) }, ControlLifecycle, "differ"},
		"delete markers kept":     {func(o *Observed) { o.Lifecycle[0].Expiration.ExpiredObjectDeleteMarker = aws.Bool(false) }, ControlLifecycle, "differ"},
		"rule without filter":     {func(o *Observed) { o.Lifecycle[0].Filter = nil }, ControlLifecycle, ""},
		"rule for one prefix":     {func(o *Observed) { o.Lifecycle[0].Filter = &types.LifecycleRuleFilter{Prefix: aws.String("env/")} }, ControlLifecycle, "differ"},
		"rule for tagged objects": {func(o *Observed) {
			o.Lifecycle[0].Filter = &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}
		}, ControlLifecycle, "differ"},
	}
	for name, tc := range cases {
		o := compliant(spec)
		tc.mutate(o)
		drifttest.Expect(t, name, Drift(spec, o), tc.control, tc.want)
	}
}
