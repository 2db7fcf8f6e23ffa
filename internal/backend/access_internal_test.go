package backend

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func adminsModel() *model {
	return &model{
		KeyAdministrators: &keyAdministratorsModel{
			Principals: types.SetValueMust(types.StringType, []attr.Value{types.StringValue("arn:aws:iam::111111111111:role/platform/security-admin")}),
			RequireMFA: types.BoolValue(true),
		},
	}
}

// The provider refuses a plan whose apply the key policy in AWS would refuse
// to it: with key administrators, only they and the principal that last ran
// the provider may change the key policy.
func TestPlanProvider_lockout(t *testing.T) {
	// The administrator is arn:aws:iam::111111111111:role/platform/security-admin.
	const previous = "arn:aws:sts::111111111111:assumed-role/terraform/ci-1"
	state := adminsModel()
	state.ProviderPrincipal = types.StringValue("arn:aws:iam::111111111111:role/terraform")
	cases := map[string]struct {
		caller  string
		locked  bool
		planned string
	}{
		"same role, new session":          {previous, false, "arn:aws:iam::111111111111:role/terraform"},
		"a key administrator (with path)": {"arn:aws:sts::111111111111:assumed-role/security-admin/alice", false, "arn:aws:iam::111111111111:role/security-admin"},
		"someone else":                    {"arn:aws:sts::111111111111:assumed-role/other/bob", true, ""},
		"same name in another account":    {"arn:aws:sts::222222222222:assumed-role/terraform/ci", true, ""},
		"an IAM user":                     {"arn:aws:iam::111111111111:user/alice", true, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			plan := adminsModel()
			var diags diag.Diagnostics
			planProvider(plan, state, tc.caller, &diags)
			if diags.HasError() != tc.locked {
				t.Fatalf("locked out: %v, want %v (%v)", diags.HasError(), tc.locked, diags)
			}
			if tc.locked && !strings.Contains(diags.Errors()[0].Summary(), "lock itself out") {
				t.Errorf("summary %q", diags.Errors()[0].Summary())
			}
			if !tc.locked && plan.ProviderPrincipal.ValueString() != tc.planned {
				t.Errorf("provider_principal %q, want %q", plan.ProviderPrincipal.ValueString(), tc.planned)
			}
		})
	}
	// A first apply (no state) and a backend without key administrators
	// never lock out; without boundary and administrators there is no
	// provider principal at all.
	var diags diag.Diagnostics
	planProvider(adminsModel(), nil, "arn:aws:sts::111111111111:assumed-role/other/bob", &diags)
	plain := &model{ProviderPrincipal: types.StringValue("x")}
	planProvider(plain, state, "arn:aws:sts::111111111111:assumed-role/other/bob", &diags)
	if diags.HasError() || !plain.ProviderPrincipal.IsNull() {
		t.Errorf("diags %v, provider_principal %v", diags, plain.ProviderPrincipal)
	}
	// Without credential validation the caller is unknown: refused.
	planProvider(adminsModel(), nil, "", &diags)
	if !diags.HasError() || !strings.Contains(diags.Errors()[0].Summary(), "Provider identity unknown") {
		t.Errorf("unknown caller: %v", diags)
	}
}

func TestExplainPrincipals(t *testing.T) {
	s := settings{}
	if got := s.explainPrincipals(errors.New("s3:PutBucketPolicy b: api error MalformedPolicy: Invalid principal in policy")); !strings.Contains(got, "does not exist") {
		t.Errorf("S3's invalid principal not explained: %q", got)
	}
	if got := s.explainPrincipals(errors.New("kms:PutKeyPolicy k: MalformedPolicyDocumentException: Policy contains a statement with one or more invalid principals")); got == "" {
		t.Error("KMS's invalid principal not explained")
	}
	if got := s.explainPrincipals(errors.New("s3:PutBucketVersioning b: AccessDenied")); got != "" {
		t.Errorf("unrelated error explained: %q", got)
	}
}
