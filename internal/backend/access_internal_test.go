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

// provider_principal is as configured, else as in state (whoever runs the
// provider later), else the caller; null without boundary and key
// administrators.
func TestPlanProvider(t *testing.T) {
	const caller = "arn:aws:sts::111111111111:assumed-role/other/bob"
	state := adminsModel()
	state.ProviderPrincipal = types.StringValue("arn:aws:iam::111111111111:role/terraform")
	cases := map[string]struct {
		state      *model
		configured types.String
		caller     string
		want       string
		err        string
	}{
		"first apply: the caller":       {nil, types.StringNull(), caller, "arn:aws:iam::111111111111:role/other", ""},
		"kept from state":               {state, types.StringNull(), caller, "arn:aws:iam::111111111111:role/terraform", ""},
		"configured wins":               {state, types.StringValue("arn:aws:iam::111111111111:role/ci"), caller, "arn:aws:iam::111111111111:role/ci", ""},
		"configured, caller unknown":    {nil, types.StringValue("arn:aws:iam::111111111111:role/ci"), "", "arn:aws:iam::111111111111:role/ci", ""},
		"caller unknown, nothing known": {nil, types.StringNull(), "", "", "Provider identity unknown"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			plan := adminsModel()
			var diags diag.Diagnostics
			planProvider(plan, tc.state, tc.configured, tc.caller, &diags)
			if tc.err != "" {
				if !diags.HasError() || !strings.Contains(diags.Errors()[0].Summary(), tc.err) {
					t.Fatalf("diags %v, want %q", diags, tc.err)
				}
				return
			}
			if diags.HasError() || plan.ProviderPrincipal.ValueString() != tc.want {
				t.Fatalf("provider_principal %v (%v), want %q", plan.ProviderPrincipal, diags, tc.want)
			}
		})
	}
	var diags diag.Diagnostics
	plain := &model{ProviderPrincipal: types.StringValue("x")}
	planProvider(plain, state, types.StringNull(), caller, &diags)
	if diags.HasError() || !plain.ProviderPrincipal.IsNull() {
		t.Errorf("without the blocks: diags %v, provider_principal %v", diags, plain.ProviderPrincipal)
	}
	planProvider(plain, state, types.StringValue("arn:aws:iam::111111111111:role/ci"), caller, &diags)
	if !diags.HasError() {
		t.Error("provider_principal without boundary or key_administrators accepted")
	}
}

// A plan that writes the key policy (or destroys the key) is refused to a
// principal the key policy in AWS would refuse: with key administrators,
// only they and provider_principal may. A plan that does not write it is not.
func TestCheckKeyAdministration(t *testing.T) {
	state := adminsModel() // administrator: role/platform/security-admin
	state.ProviderPrincipal = types.StringValue("arn:aws:iam::111111111111:role/terraform")
	cases := map[string]struct {
		caller string
		writes bool
		locked bool
	}{
		"provider_principal, new session":    {"arn:aws:sts::111111111111:assumed-role/terraform/ci-1", true, false},
		"a key administrator (with path)":    {"arn:aws:sts::111111111111:assumed-role/security-admin/alice", true, false},
		"someone else":                       {"arn:aws:sts::111111111111:assumed-role/other/bob", true, true},
		"someone else, key policy unchanged": {"arn:aws:sts::111111111111:assumed-role/other/bob", false, false},
		"same name in another account":       {"arn:aws:sts::222222222222:assumed-role/terraform/ci", true, true},
		"an IAM user":                        {"arn:aws:iam::111111111111:user/alice", true, true},
		"caller unknown":                     {"", true, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var diags diag.Diagnostics
			checkKeyAdministration(state, tc.caller, tc.writes, "Applying would fail.", &diags)
			if diags.HasError() != tc.locked {
				t.Fatalf("locked out: %v, want %v (%v)", diags.HasError(), tc.locked, diags)
			}
			if tc.locked && !strings.Contains(diags.Errors()[0].Summary(), "lock itself out") {
				t.Errorf("summary %q", diags.Errors()[0].Summary())
			}
		})
	}
	var diags diag.Diagnostics
	checkKeyAdministration(&model{}, "arn:aws:sts::111111111111:assumed-role/other/bob", true, "", &diags)
	checkKeyAdministration(nil, "arn:aws:sts::111111111111:assumed-role/other/bob", true, "", &diags)
	if diags.HasError() {
		t.Errorf("without key administrators in state: %v", diags)
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
