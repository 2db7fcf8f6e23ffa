package backend_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	tfconfig "github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// The multi-account example (examples/multi-account, shown in the
// multi-account guide) is what users copy, so it must keep planning.
//
// The offline provider of the other plan-time tests knows neither its account
// (needed for the default bucket name) nor its identity (boundary and
// key_administrators exempt it in the policies), so ModifyPlan would stop
// early ("Bucket name needed", "Provider identity unknown") and the lock-out
// rule, the derived names and the policy size limits would go unexercised. The
// example is planned instead exactly as written, its own provider block
// included, with credential validation on: sts:GetCallerIdentity is answered
// by a local stand-in that says the caller is a role session of the central
// account. A plan of a new backend makes no other AWS call; the stand-in
// fails the test on any other request, so the plan proves that too.
func TestBackend_examplesMultiAccountCentralPlans(t *testing.T) {
	const (
		account  = "111111111111"
		provider = "arn:aws:iam::" + account + ":role/state-bootstrap"
	)
	stsURL := callerIdentityServer(t, "arn:aws:sts::"+account+":assumed-role/state-bootstrap/ci-run", account)
	offlineAWSEnv(t, stsURL)
	// The example names its provider securestate/securestate, as users do.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "securestate")

	central := filepath.Join("..", "..", "examples", "multi-account", "central")
	const addr = "securestate_backend.shared"
	resource.UnitTest(t, resource.TestCase{
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
// under the same stand-in for sts:GetCallerIdentity.
func TestBackend_examplesResourcePlans(t *testing.T) {
	const account = "123456789012" // the account the example's own ARNs name
	stsURL := callerIdentityServer(t, "arn:aws:sts::"+account+":assumed-role/state-bootstrap/ci-run", account)
	offlineAWSEnv(t, stsURL)
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "resources", "securestate_backend", "resource.tf"))
	if err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
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

// callerIdentityServer answers sts:GetCallerIdentity with callerARN and
// fails the test on any other request.
func callerIdentityServer(t *testing.T, callerARN, account string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "GetCallerIdentity" {
			t.Errorf("a plan of the example made an AWS call other than sts:GetCallerIdentity: %s %s (action %q)", r.Method, r.URL, r.Form.Get("Action"))
			http.Error(w, "not served", http.StatusNotImplemented)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult><Arn>%s</Arn><UserId>AROAEXAMPLE:ci-run</UserId><Account>%s</Account></GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`, callerARN, account)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// offlineAWSEnv points every AWS service of the provider at url, with dummy
// static credentials and no shared configuration, so nothing of the machine
// (or of the emulator harness's environment) is used.
func offlineAWSEnv(t *testing.T, url string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIAEXAMPLEEXAMPLE00",
		"AWS_SECRET_ACCESS_KEY":       "example",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_CA_BUNDLE":               "",
		"AWS_MAX_ATTEMPTS":            "1",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            url,
	} {
		t.Setenv(k, v)
	}
	for _, svc := range awsclient.Services {
		t.Setenv(svc.EnvVar(), url)
	}
}
