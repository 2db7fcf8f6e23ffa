// Package e2e proves that a backend created by the provider really serves
// Terraform and OpenTofu: a consumer configuration stores, encrypts, versions
// and locks its state there, over TLS only, with only its environment's
// permissions. Every proof runs real CLIs against the emulator, both of them
// (acctest.CLIs), on the same state: a Terraform run and an OpenTofu run share
// a backend, lock each other out and continue each other's state, as they do
// in an organisation moving from one to the other. The backend itself is
// created by the provider under Terraform (terraform-plugin-testing).
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// consumer is an ordinary Terraform configuration (built-in resources only)
// whose state lives in a securestate backend.
type consumer struct {
	t   *testing.T
	cli acctest.CLI
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

// newConsumer writes a configuration (main.tf) and the emulator's backend
// settings into a new folder, for cli to run. Extra environment entries
// (credentials) override the test process's.
func newConsumer(t *testing.T, cli acctest.CLI, config, endpoint string, extraEnv ...string) *consumer {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.tf", config)
	write("emulator.s3.tfbackend", acctest.EmulatorBackendSettings(endpoint))
	env := append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0")
	env = append(env, extraEnv...)
	return &consumer{t: t, cli: cli, dir: dir, env: env}
}

// run runs the consumer's CLI in its folder and returns its output.
func (c *consumer) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.cli.Path, args...)
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
		c.t.Fatalf("%s init: %s\n%s", c.cli, err, out)
	}
	if out, err := c.apply(context.Background(), release, 0); err != nil {
		c.t.Fatalf("%s apply: %s\n%s", c.cli, err, out)
	}
}

// writtenBy proves the state object body was last written by the consumer's
// CLI: the state records the version of the CLI that wrote it (OpenTofu
// under the same "terraform_version" key).
func (c *consumer) writtenBy(body []byte) error {
	var st struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return fmt.Errorf("state object is not a state: %w", err)
	}
	if st.Version != c.cli.Version {
		return fmt.Errorf("state object written by CLI version %q, want %s", st.Version, c.cli)
	}
	return nil
}

// lockingModes are the locking modes every proof covers. Each must really be
// proven: a CLI without S3 lock files (before 1.10) fails the test instead of
// leaving "both" and "lockfile" unproven with the run green.
func lockingModes(t *testing.T) []string {
	t.Helper()
	for _, cli := range acctest.CLIs(t) {
		if !cli.HasLockFiles() {
			t.Fatalf("%s has no S3 lock files (use_lockfile, 1.10+), so the \"both\" and \"lockfile\" locking modes cannot be proven: "+
				"run the tests with Terraform and OpenTofu 1.10 or later (scripts/terraform.sh, scripts/tofu.sh)", cli)
		}
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

// refusedOnProd tells whether a CLI's output shows its run on the prod
// state refused by AWS (HTTP 403). Terraform names the refused object
// (prod/...); OpenTofu 1.10 reports only "HeadObject ... 403 Forbidden", so
// for it the refusal alone counts: the consumer's configuration names no
// other state.
func refusedOnProd(cli acctest.CLI, out string) bool {
	denied := strings.Contains(out, "AccessDenied") || strings.Contains(out, "403")
	if cli.Name == "tofu" {
		return denied
	}
	return denied && strings.Contains(out, "prod/")
}
