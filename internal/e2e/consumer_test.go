// Package e2e proves that a backend created by the provider really serves
// Terraform: a consumer configuration stores, encrypts, versions and locks its
// state there, over TLS only, with only its environment's permissions. Every
// test runs a real Terraform CLI against the emulator.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// consumer is an ordinary Terraform configuration (built-in resources only)
// whose state lives in a securestate backend.
type consumer struct {
	t   *testing.T
	dir string
	env []string
}

// consumerConfig holds one terraform_data resource; its provisioner can hold
// the state lock for a while, to prove locking.
const consumerConfig = `
variable "release" {
  type = string
}

variable "hold_seconds" {
  type    = number
  default = 0
}

resource "terraform_data" "app" {
  input = var.release

  triggers_replace = [var.release]

  provisioner "local-exec" {
    command = "sleep ${var.hold_seconds}"
  }
}
`

// emulatorBackendSettings are the S3 backend arguments only an emulator needs;
// with real AWS a consumer uses the backend block alone.
func emulatorBackendSettings(endpoint string) string {
	return fmt.Sprintf(`endpoints = {
  s3       = %[1]q
  dynamodb = %[1]q
  sts      = %[1]q
  iam      = %[1]q
}
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_metadata_api_check     = true
`, endpoint)
}

// newConsumer writes a configuration (main.tf) and the emulator's backend
// settings into a new folder. Extra environment entries (credentials) override
// the test process's.
func newConsumer(t *testing.T, config, endpoint string, extraEnv ...string) *consumer {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.tf", config)
	write("emulator.s3.tfbackend", emulatorBackendSettings(endpoint))
	env := append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0")
	env = append(env, extraEnv...)
	return &consumer{t: t, dir: dir, env: env}
}

func terraformPath(t *testing.T) string {
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH is not set; make test sets it")
	}
	return p
}

// run runs the Terraform CLI in the consumer's folder and returns its output.
func (c *consumer) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, terraformPath(c.t), args...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *consumer) init() (string, error) {
	return c.run(context.Background(), "init", "-no-color", "-input=false", "-reconfigure", "-backend-config=emulator.s3.tfbackend")
}

func (c *consumer) apply(ctx context.Context, release string, hold int) (string, error) {
	return c.run(ctx, "apply", "-no-color", "-input=false", "-auto-approve", "-lock-timeout=0s",
		"-var", "release="+release, "-var", "hold_seconds="+strconv.Itoa(hold))
}

func (c *consumer) mustInitApply(release string) {
	c.t.Helper()
	if out, err := c.init(); err != nil {
		c.t.Fatalf("terraform init: %s\n%s", err, out)
	}
	if out, err := c.apply(context.Background(), release, 0); err != nil {
		c.t.Fatalf("terraform apply: %s\n%s", err, out)
	}
}

// terraformVersion returns the CLI's major and minor version.
func terraformVersion(t *testing.T) (int, int) {
	out, err := exec.CommandContext(context.Background(), terraformPath(t), "version").Output()
	if err != nil {
		t.Fatalf("terraform version: %s", err)
	}
	m := regexp.MustCompile(`Terraform v(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("cannot read the Terraform version from %q", out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major, minor
}

// lockingModes are the locking modes every proof covers. Each must really be
// proven: a CLI without S3 lock files (Terraform before 1.10) fails the test
// instead of leaving "both" and "lockfile" unproven with the run green.
func lockingModes(t *testing.T) []string {
	t.Helper()
	major, minor := terraformVersion(t)
	if major < 1 || major == 1 && minor < 10 {
		t.Fatalf("Terraform %d.%d has no S3 lock files (use_lockfile, 1.10+), so the \"both\" and \"lockfile\" locking modes cannot be proven: "+
			"run the tests with Terraform 1.10 or later (TF_ACC_TERRAFORM_PATH, or a terraform on PATH; scripts/terraform.sh)", major, minor)
	}
	return []string{"both", "dynamodb", "lockfile"}
}

// defaultLocking is the locking line for a consumer proof: the provider's
// default, "both".
func defaultLocking(t *testing.T) string {
	return fmt.Sprintf("  locking = %q", lockingModes(t)[0])
}

// attrs reads one resource's flat attributes from state.
func attrs(s *terraform.State, address string) (map[string]string, error) {
	rs, ok := s.RootModule().Resources[address]
	if !ok {
		return nil, fmt.Errorf("%s not in state", address)
	}
	return rs.Primary.Attributes, nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}
