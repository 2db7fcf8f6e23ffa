package locktable

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
)

func TestDrift(t *testing.T) {
	spec := Spec{Table: "acme-tflock", KeyARN: "arn:aws:kms:us-east-1:123456789012:key/k"}
	compliant := func() *Observed {
		return &Observed{Billing: types.BillingModePayPerRequest, SSEEnabled: true, SSEKey: spec.KeyARN, PITR: true, DeletionProtection: true}
	}
	drifttest.Compliant(t, "compliant table", Drift(spec, compliant()))
	cases := map[string]struct {
		mutate  func(*Observed)
		control string
		want    string
	}{
		"provisioned":             {func(o *Observed) { o.Billing = types.BillingModeProvisioned }, ControlBilling, "PROVISIONED"},
		"AWS owned key":           {func(o *Observed) { o.SSEEnabled, o.SSEKey = false, "" }, ControlEncryption, "backend's KMS key"},
		"another key":             {func(o *Observed) { o.SSEKey = "arn:aws:kms:us-east-1:123456789012:key/other" }, ControlEncryption, "backend's KMS key"},
		"PITR off":                {func(o *Observed) { o.PITR = false }, ControlPITR, "off"},
		"deletion protection off": {func(o *Observed) { o.DeletionProtection = false }, ControlDeletionProtection, "off"},
	}
	for name, tc := range cases {
		o := compliant()
		tc.mutate(o)
		drifttest.Expect(t, name, Drift(spec, o), tc.control, tc.want)
	}
}
