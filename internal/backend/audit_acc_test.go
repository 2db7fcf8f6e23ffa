package backend_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/compliance"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

const auditName = "data.securestate_backend_audit.test"

// auditConfig is a backend with access logs (so that every control the audit
// reports applies) and an audit of it by literal names. With dependsOn the
// audit waits for the backend (its first step, when nothing exists yet);
// without, it reads at plan time, before apply repairs what a step broke.
func auditConfig(name, accountID string, dependsOn bool) string {
	dep := ""
	if dependsOn {
		dep = "depends_on = [securestate_backend.test]"
	}
	return config(name, "  force_destroy = true\n  access_logging {}") + fmt.Sprintf(`
data "securestate_backend_audit" "test" {
  bucket             = %q
  lock_table         = %q
  kms_key            = %q
  access_policy_arns = { default = "arn:aws:iam::%s:policy%s%s" }
  %s
}
`, naming.StateBucket(name, accountID), naming.LockTable(name), naming.KeyAlias(name), accountID, naming.PolicyPath, naming.AccessPolicy(name, "default"), dep)
}

// auditStatuses reads the audit's control → status from state or plan values.
func auditStatuses(values map[string]any) map[string]string {
	out := map[string]string{}
	controls, _ := values["controls"].(map[string]any)
	for k, v := range controls {
		obj, _ := v.(map[string]any)
		out[k], _ = obj["status"].(string)
	}
	return out
}

// agreement checks the backend's controls against its audit: every control
// both report is compliant in the backend exactly when it passes in the
// audit, and every control the audit reports but broken fails, the rest pass.
type agreement struct {
	broken  string
	drifted bool // the backend was changed out of band (its controls in state show it until repaired)
}

func (a agreement) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	var backend map[string]any
	var audit map[string]string
	for _, r := range req.State.Values.RootModule.Resources {
		switch r.Address {
		case resourceName:
			backend, _ = r.AttributeValues["controls"].(map[string]any)
		case auditName:
			audit = auditStatuses(r.AttributeValues)
		}
	}
	if len(backend) == 0 || len(audit) == 0 {
		resp.Error = fmt.Errorf("backend controls (%d) or audit controls (%d) missing from state", len(backend), len(audit))
		return
	}
	shared := 0
	for _, c := range slices.Sorted(maps.Keys(audit)) {
		want := "pass"
		if c == a.broken {
			want = "fail"
		}
		if audit[c] != want {
			resp.Error = fmt.Errorf("audit reports %s as %s, want %s (all: %v)", c, audit[c], want, audit)
			return
		}
		if _, ok := backend[c]; ok {
			shared++
		}
	}
	if a.broken == "" && !a.drifted {
		for c, v := range backend {
			if st, ok := audit[c]; ok && (v == "compliant") != (st == "pass") {
				resp.Error = fmt.Errorf("control %s: backend says %v, audit says %s", c, v, st)
				return
			}
		}
	}
	// Every control of the backend's state bucket, key, table and policy is
	// audited: 7 + 4 + 5 + 1.
	if shared != 17 {
		resp.Error = fmt.Errorf("backend and audit share %d controls, want 17 (audit: %v)", shared, slices.Sorted(maps.Keys(audit)))
	}
}

// brokenFor is the control the audit must fail after a drift case: its
// control, or none when the change keeps the audited requirement.
func brokenFor(tc driftCase) string {
	if tc.auditPasses {
		return ""
	}
	return tc.control
}

// The audit of a securestate_backend passes every control, and agrees with
// the backend's own controls; each control broken out of band (the drift
// test's changes) fails in the audit read before the apply that repairs it,
// while the backend's plan shows the same control drifted. The one drift the
// audit passes by design is an extra named principal in the key policy: the
// backend repairs any difference from its exact policy, the audit measures
// the requirement (no one anonymously).
func TestAccBackendAudit_agreesWithBackend(t *testing.T) {
	ctx := context.Background()
	name := acctest.RandomName("audit")
	acctest.PreCheck(t)
	account := acctest.Client(t).AccountID
	var got captured
	steps := []resource.TestStep{{
		Config: auditConfig(name, account, true),
		Check: resource.ComposeAggregateTestCheckFunc(got.capture(),
			resource.TestCheckResourceAttr(auditName, "failed", "0"),
			resource.TestCheckResourceAttr(auditName, "unknown", "0"),
			resource.TestCheckResourceAttr(auditName, "score", "100"),
			resource.TestCheckResourceAttr(auditName, "controls.bucket_policy.compliance.#", fmt.Sprint(len(compliance.IDs("bucket_policy")))),
			resource.TestCheckResourceAttr(auditName, "controls.bucket_policy.compliance.0", compliance.IDs("bucket_policy")[0]),
			resource.TestCheckResourceAttr(resourceName, "compliance.kms_key_rotation.#", fmt.Sprint(len(compliance.IDs("kms_key_rotation")))),
		),
		ConfigStateChecks: []statecheck.StateCheck{agreement{}},
	}}
	for _, tc := range driftCases(ctx) {
		steps = append(steps, resource.TestStep{
			PreConfig: func() {
				if err := tc.change(acctest.Client(t), got.backendAttrs); err != nil {
					t.Fatalf("changing %s out of band: %s", tc.control, err)
				}
			},
			Config: auditConfig(name, account, false),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				expectControlDrift(tc.control),
			}},
			ConfigStateChecks: []statecheck.StateCheck{agreement{broken: brokenFor(tc), drifted: true}},
		})
	}
	steps = append(steps, resource.TestStep{
		Config:            auditConfig(name, account, false),
		ConfigStateChecks: []statecheck.StateCheck{agreement{}},
	})
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps:                    steps,
	})
}
