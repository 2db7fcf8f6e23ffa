package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// CLI is a Terraform-compatible command line: Terraform or OpenTofu.
type CLI struct {
	Name    string // "terraform" or "tofu"
	Path    string
	Version string // "1.11.4"
	Major   int
	Minor   int
}

func (c CLI) String() string { return fmt.Sprintf("%s %s", c.Name, c.Version) }

// HasLockFiles reports whether the CLI's S3 backend has use_lockfile (S3 lock
// files): Terraform 1.10 and OpenTofu 1.10 onwards.
func (c CLI) HasLockFiles() bool { return c.Major > 1 || c.Major == 1 && c.Minor >= 10 }

// Terraform is the Terraform CLI the tests run (TF_ACC_TERRAFORM_PATH); the
// provider's own acceptance tests (terraform-plugin-testing) use it.
func Terraform(t testing.TB) CLI {
	t.Helper()
	return cliFrom(t, "terraform", "TF_ACC_TERRAFORM_PATH", "scripts/terraform.sh")
}

// OpenTofu is the OpenTofu CLI the tests run (SECURESTATE_TOFU_PATH).
func OpenTofu(t testing.TB) CLI {
	t.Helper()
	return cliFrom(t, "tofu", "SECURESTATE_TOFU_PATH", "scripts/tofu.sh")
}

// CLIs are both CLIs. A missing one fails the test: a proof that ran under
// one CLI only is not a proof for both.
func CLIs(t testing.TB) []CLI {
	t.Helper()
	return []CLI{Terraform(t), OpenTofu(t)}
}

// ForEachCLI runs proof once per CLI, as subtests named after the CLI.
func ForEachCLI(t *testing.T, proof func(t *testing.T, cli CLI)) {
	t.Helper()
	for _, cli := range CLIs(t) {
		t.Run(cli.Name, func(t *testing.T) { proof(t, cli) })
	}
}

func cliFrom(t testing.TB, name, variable, script string) CLI {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		// As terraform-plugin-testing does: CLI runs are acceptance tests
		// (make unit runs none; make test sets TF_ACC and fails on any skip).
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	path := os.Getenv(variable)
	if path == "" {
		t.Fatalf("%s is not set; make test sets it (%s installs the CLI)", variable, script)
	}
	out, err := exec.CommandContext(context.Background(), path, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version -json: %s", path, err)
	}
	// OpenTofu reports its own version under the same key.
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Version == "" {
		t.Fatalf("cannot read the version of %s from %q", path, out)
	}
	parts := strings.SplitN(v.Version, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("unexpected version %q from %s", v.Version, path)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("unexpected version %q from %s", v.Version, path)
	}
	cli := CLI{Name: name, Path: path, Version: v.Version, Major: major, Minor: minor}
	recordUse(t, cli)
	return cli
}

// recordUse appends, to the file SECURESTATE_CLI_LOG names (make test sets
// it), one JSON line per CLI a test uses, so scripts/testsummary can count
// the acceptance tests that ran each CLI from records, not from output text.
func recordUse(t testing.TB, cli CLI) {
	path := os.Getenv("SECURESTATE_CLI_LOG")
	if path == "" {
		return
	}
	line, err := json.Marshal(map[string]string{"test": t.Name(), "cli": cli.Name, "version": cli.Version})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatalf("recording the CLI used: %s", err)
	}
	// One write per line, in append mode: lines from parallel test
	// processes do not interleave.
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("recording the CLI used: %s", err)
	}
}
