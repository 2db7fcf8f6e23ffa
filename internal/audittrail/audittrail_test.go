package audittrail

import (
	"strings"
	"testing"

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
	for control, problem := range Drift(spec, compliant()) {
		if problem != "" {
			t.Errorf("compliant trail: %s reports %q", control, problem)
		}
	}
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
		drift := Drift(spec, o)
		if !strings.Contains(drift[tc.control], tc.want) {
			t.Errorf("%s: %s = %q, want it to mention %q", name, tc.control, drift[tc.control], tc.want)
		}
		for control, problem := range drift {
			if control != tc.control && problem != "" {
				t.Errorf("%s: unrelated control %s reports %q", name, control, problem)
			}
		}
	}
}

// Without a lock table the trail records state objects only.
func TestSelectorsWithoutTable(t *testing.T) {
	s := Spec{StateBucketARN: "arn:aws:s3:::b"}
	if got := s.selectors(); len(got) != 1 || got[0] != "All AWS::S3::Object arn:aws:s3:::b/" {
		t.Errorf("selectors = %v", got)
	}
}
