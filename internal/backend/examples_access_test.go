package backend_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	tfconfig "github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// The multi-account example (examples/multi-account, shown in the
// multi-account guide) is what users copy, so it must keep planning.
//
// It is planned exactly as written, its own provider block included, with
// credential validation on, against the emulator: the provider runs as a role
// session of the example's central account (moto's AssumeRole into a role ARN
// of another account gives credentials acting there), so ModifyPlan runs to
// its end (derived names, provider_principal, the account checks of key
// administrators and break-glass principals, the policy size limits). Every
// request goes through a recording proxy: a plan of a new backend must make no
// AWS call but sts:GetCallerIdentity.
func TestAccBackend_examplesMultiAccountCentralPlans(t *testing.T) {
	const (
		account  = "111111111111"
		provider = "arn:aws:iam::" + account + ":role/state-bootstrap"
	)
	proxy := runAsRoleOf(t, account, "state-bootstrap")
	// The example names its provider securestate/securestate, as users do.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "securestate")

	central := filepath.Join("..", "..", "examples", "multi-account", "central")
	const addr = "securestate_backend.shared"
	defer onlyCallerIdentity(t, proxy)
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{{
			// A configuration directory that declares its providers takes
			// the factories at step level only.
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          tfconfig.StaticDirectory(central),
			PlanOnly:                 true,
			ExpectNonEmptyPlan:       true,
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				// ModifyPlan ran to its end: the caller is recorded as the
				// principal exempt from the boundary and the key
				// administration denies, and the derived names are planned.
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("provider_principal"), knownvalue.StringExact(provider)),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("bucket"), knownvalue.StringExact("acme-shared-tfstate-"+account)),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("lock_table_arn"),
					knownvalue.StringExact("arn:aws:dynamodb:eu-central-1:"+account+":table/acme-shared-tflock")),
				// The documents and backend blocks need the key's ARN: known
				// after apply.
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("access_policy_documents")),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("backend_hcl")),
				workloadBackendMatches{addr: addr},
			}},
		}},
	})
}

// The resource page's example (examples/resources/securestate_backend,
// which has no provider block) plans as well, its access blocks included,
// run the same way.
func TestAccBackend_examplesResourcePlans(t *testing.T) {
	const account = "123456789012" // the account the example's own ARNs name
	proxy := runAsRoleOf(t, account, "state-bootstrap")
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "resources", "securestate_backend", "resource.tf"))
	if err != nil {
		t.Fatal(err)
	}
	defer onlyCallerIdentity(t, proxy)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:             "provider \"securestate\" {\n  region = \"eu-central-1\"\n}\n" + string(example),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("securestate_backend.central", plancheck.ResourceActionCreate),
				plancheck.ExpectKnownValue("securestate_backend.central", tfjsonpath.New("lock_table_arn"),
					knownvalue.StringExact("arn:aws:dynamodb:eu-central-1:"+account+":table/acme-shared-tflock")),
			}},
		}},
	})
}

// workloadBackendMatches checks examples/multi-account/workload/app/backend.tf,
// the backend block the guide tells workload accounts to use, against the
// planned backend: same bucket and region, dev's state key, and the lock
// table named by the ARN the central example plans (a bare name would be
// looked up in the caller's own account).
type workloadBackendMatches struct{ addr string }

func (c workloadBackendMatches) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	var after map[string]any
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address == c.addr {
			after, _ = rc.Change.After.(map[string]any)
		}
	}
	if after == nil {
		resp.Error = fmt.Errorf("%s is not in the plan", c.addr)
		return
	}
	text, err := os.ReadFile(filepath.Join("..", "..", "examples", "multi-account", "workload", "app", "backend.tf"))
	if err != nil {
		resp.Error = err
		return
	}
	want := map[string]string{
		"bucket":               fmt.Sprint(after["bucket"]),
		"key":                  "dev/terraform.tfstate",
		"region":               "eu-central-1",
		"dynamodb_table":       fmt.Sprint(after["lock_table_arn"]),
		"workspace_key_prefix": "dev/workspaces",
	}
	var problems []string
	for arg, v := range want {
		re := regexp.MustCompile(`(?m)^\s*` + arg + `\s*=\s*"([^"]*)"`)
		switch m := re.FindSubmatch(text); {
		case m == nil:
			problems = append(problems, fmt.Sprintf("no %s, want %q", arg, v))
		case string(m[1]) != v:
			problems = append(problems, fmt.Sprintf("%s = %q, want %q", arg, m[1], v))
		}
	}
	// The key's ARN is known only after apply: a key of the central account.
	keyARN := regexp.MustCompile(`(?m)^\s*kms_key_id\s*=\s*"arn:aws:kms:eu-central-1:` + fmt.Sprint(after["account_id"]) + `:key/[0-9a-f-]+"`)
	if !keyARN.Match(text) {
		problems = append(problems, fmt.Sprintf("kms_key_id is not a key ARN of account %v", after["account_id"]))
	}
	if len(problems) > 0 {
		resp.Error = fmt.Errorf("workload/app/backend.tf does not match the central example's plan: %s", strings.Join(problems, "; "))
	}
}

// The workload side uses the hashicorp/aws provider, which the tests cannot
// download, so it is not planned; `terraform fmt -check` at least proves
// that every .tf file of the example parses and is formatted canonically.
func TestBackend_examplesMultiAccountFormatted(t *testing.T) {
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		var err error
		if tf, err = exec.LookPath("terraform"); err != nil {
			t.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH (make unit and make test do)")
		}
	}
	cmd := exec.CommandContext(t.Context(), tf, "fmt", "-check", "-recursive", "-diff", "-no-color",
		filepath.Join("..", "..", "examples", "multi-account"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terraform fmt -check examples/multi-account: %v\n%s", err, out)
	}
}

// runAsRoleOf makes the provider (through the environment) call the emulator
// through a recording proxy as a session of role name in account, which moto
// acts as in that account.
func runAsRoleOf(t *testing.T, account, name string) *acctest.FaultProxy {
	t.Helper()
	acctest.PreCheck(t)
	roleARN := "arn:aws:iam::" + account + ":role/" + name
	out, err := acctest.Client(t).STS.AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("ci-run")})
	if err != nil {
		t.Fatalf("assuming %s on the emulator: %s", roleARN, err)
	}
	proxy := acctest.StartFaultProxy(t)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":     aws.ToString(out.Credentials.AccessKeyId),
		"AWS_SECRET_ACCESS_KEY": aws.ToString(out.Credentials.SecretAccessKey),
		"AWS_SESSION_TOKEN":     aws.ToString(out.Credentials.SessionToken),
		"AWS_ENDPOINT_URL":      proxy.URL,
		"AWS_CA_BUNDLE":         proxy.CABundle,
	} {
		t.Setenv(k, v)
	}
	return proxy
}

// onlyCallerIdentity fails the test if planning made any AWS call but
// sts:GetCallerIdentity, or none at all.
func onlyCallerIdentity(t *testing.T, proxy *acctest.FaultProxy) {
	t.Helper()
	calls := proxy.Calls()
	for _, c := range calls {
		if c.Service+":"+c.Operation != "sts:GetCallerIdentity" {
			t.Errorf("planning the example called %s:%s; a plan of a new backend calls only sts:GetCallerIdentity", c.Service, c.Operation)
		}
	}
	if len(calls) == 0 {
		t.Error("planning the example made no AWS call: the provider did not run against the emulator")
	}
}
