package audit_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

const requiredProviders = `
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}
`

// example is one of examples/audit*, planned as a CI job plans it.
type example struct {
	t  *testing.T
	ws *acctest.Workspace
}

func newExample(t *testing.T, dir string) example {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "examples", dir, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	ws := acctest.NewWorkspace(t, string(text))
	// The emulator needs path-style S3 requests; an override file adds that
	// to the example's provider block, as a CI job's own file would.
	if err := os.WriteFile(filepath.Join(ws.Dir, "emulator_override.tf"), []byte("provider \"securestate\" {\n  s3_use_path_style = true\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return example{t, ws}
}

// plan runs terraform plan -detailed-exitcode and returns its output, with
// Terraform's line wrapping undone, and its exit code.
func (e example) plan(bucket, table string) (string, int) {
	e.t.Helper()
	out, err := e.ws.Run("plan", "-no-color", "-input=false", "-detailed-exitcode", "-var", "bucket="+bucket, "-var", "lock_table="+table)
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatalf("terraform plan: %s\n%s", err, out)
	}
	return strings.Join(strings.Fields(out), " "), code
}

func expectIn(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the plan does not show %q:\n%s", w, out)
		}
	}
}

// examples/audit (check blocks: warnings) and examples/audit-gate
// (postconditions: errors), planned as a CI job plans them. Against a
// securestate_backend (with access logs) both pass and the plan exits 0;
// once a state with a plaintext secret lands in the bucket, the scan's check
// warns and its gate fails the plan (exit 1), naming where the secret is and
// not what it is; against a backend made the cloudposse way, the audit's
// check warns and its gate fails, listing the failed controls.
func TestAccExamples_auditChecksAndGate(t *testing.T) {
	acctest.PreCheck(t)
	c := acctest.Client(t)
	name := acctest.RandomName("checks")
	backend := acctest.NewWorkspace(t, requiredProviders+acctest.ProviderConfig+`
resource "securestate_backend" "org" {
  name          = "`+name+`"
  force_destroy = true
  access_logging {}
}
`)
	if out, err := backend.Apply(); err != nil {
		t.Fatalf("creating the backend: %s\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := backend.Destroy(); err != nil {
			t.Errorf("destroying the backend: %s\n%s", err, out)
		}
	})
	bucket, table := naming.StateBucket(name, c.AccountID), naming.LockTable(name)
	checks, gate := newExample(t, "audit"), newExample(t, "audit-gate")

	if out, code := checks.plan(bucket, table); strings.Contains(out, "assertion failed") {
		t.Errorf("a check failed on a securestate_backend without secrets in state (exit %d):\n%s", code, out)
	}
	if out, code := gate.plan(bucket, table); code != 0 {
		t.Errorf("the gate failed on a securestate_backend without secrets in state (exit %d):\n%s", code, out)
	}

	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	state := `{"version":4,"terraform_version":"1.11.4","serial":1,"lineage":"0b7c7e1a-0000-4000-8000-000000000002","outputs":{},"resources":[` +
		`{"mode":"managed","type":"aws_iam_access_key","name":"ci","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]",` +
		`"instances":[{"schema_version":0,"attributes":{"id":"AKIAI44QH8DHBEXAMPLE","user":"ci","secret":"` + secret + `"},"sensitive_attributes":[]}]}]}`
	if _, err := c.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: awssdk.String("prod/app.tfstate"), Body: strings.NewReader(state)}); err != nil {
		t.Fatal(err)
	}
	finding := "prod/app.tfstate: aws_iam_access_key.ci.secret (known_secret_attribute)"
	out, _ := checks.plan(bucket, table)
	expectIn(t, out, `Warning: Check block assertion failed`, `in check "no_plaintext_secrets_in_state"`, finding)
	if strings.Contains(out, `in check "backend_is_hardened"`) {
		t.Errorf("the audit's check failed on a securestate_backend:\n%s", out)
	}
	out, code := gate.plan(bucket, table)
	if code != 1 {
		t.Errorf("the gate's plan exited %d with a secret in state, want 1", code)
	}
	expectIn(t, out, "Error: Resource postcondition failed", "2 plaintext secrets in state", finding)
	if strings.Contains(out, "The state backend fails") {
		t.Errorf("the audit's gate failed on a securestate_backend:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Error("the plan output holds the secret")
	}

	peer := acctest.RandomName("peer-checks")
	buildCloudposse(t, c, peer, peer+"-lock")
	controls := []string{"bucket_encryption: default encryption is AES256", "lock_table_deletion_protection: deletion protection is off"}
	out, _ = checks.plan(peer, peer+"-lock")
	expectIn(t, out, append([]string{`in check "backend_is_hardened"`}, controls...)...)
	out, code = gate.plan(peer, peer+"-lock")
	if code != 1 {
		t.Errorf("the gate's plan exited %d on a cloudposse-shaped backend, want 1", code)
	}
	expectIn(t, out, append([]string{"Error: Resource postcondition failed", "The state backend fails 8 controls (0 unreadable)"}, controls...)...)
}
