package audittrail

import (
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

func TestDrift(t *testing.T) {
	spec := Spec{Backend: "acme", Name: "acme-tfstate-audit", LogBucket: "acme-tfstate-123456789012-logs",
		KeyARN: "arn:aws:kms:us-east-1:123456789012:key/k", StateBucketARN: "arn:aws:s3:::acme-tfstate-123456789012",
		TableARN: "arn:aws:dynamodb:us-east-1:123456789012:table/acme-tflock"}
	compliant := func() *Observed {
		return &Observed{Bucket: spec.LogBucket, Prefix: naming.TrailPrefix, KeyARN: spec.KeyARN, Validation: true, Logging: true,
			Selectors: spec.selectors()}
	}
	drifttest.Compliant(t, "compliant trail", Drift(spec, compliant()))
	cases := map[string]struct {
		mutate  func(*Observed)
		control string
		want    string
	}{
		"stopped":             {func(o *Observed) { o.Logging = false }, ControlLogging, "not logging"},
		"validation off":      {func(o *Observed) { o.Validation = false }, ControlValidation, "validation is off"},
		"other bucket":        {func(o *Observed) { o.Bucket = "elsewhere" }, ControlDestination, "s3://elsewhere/"},
		"other prefix":        {func(o *Observed) { o.Prefix = "x" }, ControlDestination, "delivers to"},
		"not encrypted":       {func(o *Observed) { o.KeyARN = "" }, ControlDestination, `encrypted with ""`},
		"log group added":     {func(o *Observed) { o.LogGroup = "arn:aws:logs:us-east-1:123456789012:log-group:x:*" }, ControlDestination, "CloudWatch Logs"},
		"table selector gone": {func(o *Observed) { o.Selectors = o.Selectors[:1] }, ControlSelectors, "selectors differ"},
		"write-only selector": {func(o *Observed) { o.Selectors = []string{"WriteOnly AWS::S3::Object " + spec.StateBucketARN + "/"} }, ControlSelectors, "WriteOnly"},
		"no selectors":        {func(o *Observed) { o.Selectors = nil }, ControlSelectors, "selectors differ"},
	}
	for name, tc := range cases {
		o := compliant()
		tc.mutate(o)
		drifttest.Expect(t, name, Drift(spec, o), tc.control, tc.want)
	}
}

// Without a lock table the trail records state objects only.
func TestSelectorsWithoutTable(t *testing.T) {
	s := Spec{StateBucketARN: "arn:aws:s3:::b"}
	if got := s.selectors(); len(got) != 1 || got[0] != "All AWS::S3::Object arn:aws:s3:::b/" {
		t.Errorf("selectors = %v", got)
	}
}
