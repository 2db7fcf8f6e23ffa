package audit_test

import (
	"context"
	"os"
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

// examples/audit, planned as a CI job would plan it: against a
// securestate_backend (with access logs) both checks pass; once a state with
// a plaintext secret lands in the bucket, the scan's check fails, naming
// where the secret is and not what it is; against a backend made the
// cloudposse way, the audit's check fails, listing the failed controls.
func TestAccExamples_auditChecks(t *testing.T) {
	acctest.PreCheck(t)
	example, err := os.ReadFile("../../examples/audit/main.tf")
	if err != nil {
		t.Fatal(err)
	}
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

	ci := acctest.NewWorkspace(t, string(example))
	// The emulator needs path-style S3 requests; an override file adds that
	// to the example's provider block, as a CI job's own file would.
	if err := os.WriteFile(filepath.Join(ci.Dir, "emulator_override.tf"), []byte("provider \"securestate\" {\n  s3_use_path_style = true\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := func(bucket, table string) string {
		t.Helper()
		args := []string{"plan", "-no-color", "-input=false", "-var", "bucket=" + bucket}
		if table != "" {
			args = append(args, "-var", "lock_table="+table)
		}
		out, err := ci.Run(args...)
		if err != nil {
			t.Fatalf("terraform plan: %s\n%s", err, out)
		}
		// Terraform wraps long lines: compare with single spaces.
		return strings.Join(strings.Fields(out), " ")
	}

	if out := plan(bucket, table); strings.Contains(out, "assertion failed") {
		t.Fatalf("a check failed on a securestate_backend without secrets in state:\n%s", out)
	}

	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	state := `{"version":4,"terraform_version":"1.11.4","serial":1,"lineage":"0b7c7e1a-0000-4000-8000-000000000002","outputs":{},"resources":[` +
		`{"mode":"managed","type":"aws_iam_access_key","name":"ci","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]",` +
		`"instances":[{"schema_version":0,"attributes":{"id":"AKIAI44QH8DHBEXAMPLE","user":"ci","secret":"` + secret + `"},"sensitive_attributes":[]}]}]}`
	if _, err := c.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: awssdk.String("prod/app.tfstate"), Body: strings.NewReader(state)}); err != nil {
		t.Fatal(err)
	}
	out := plan(bucket, table)
	for _, want := range []string{`in check "no_plaintext_secrets_in_state"`, "prod/app.tfstate: aws_iam_access_key.ci.secret (known_secret_attribute)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan does not show %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `in check "backend_is_hardened"`) {
		t.Errorf("the audit's check failed on a securestate_backend:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Error("the plan output holds the secret")
	}

	peer := acctest.RandomName("peer-checks")
	buildCloudposse(t, c, peer, peer+"-lock")
	out = plan(peer, peer+"-lock")
	for _, want := range []string{`in check "backend_is_hardened"`, "bucket_encryption: default encryption is AES256", "lock_table_deletion_protection: deletion protection is off"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan does not show %q:\n%s", want, out)
		}
	}
}
