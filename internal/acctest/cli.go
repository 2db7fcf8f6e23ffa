package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// ProviderBinaryDir builds the provider once per test binary and returns the
// folder holding terraform-provider-securestate, for CLI runs that need the
// provider as its own process (logs, fault injection).
func ProviderBinaryDir(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		gomod, err := exec.CommandContext(context.Background(), "go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "securestate-provider-")
		if buildErr != nil {
			return
		}
		// Built as the release is (.goreleaser.yml: CGO_ENABLED=0,
		// -trimpath), so the compiled packages are shared with the release
		// test's goreleaser build through the Go build cache.
		cmd := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-o", filepath.Join(buildDir, "terraform-provider-securestate"), ".")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the provider: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// Workspace is a Terraform working directory that uses the built provider
// through dev_overrides (no init needed).
type Workspace struct {
	t   *testing.T
	Dir string
	env []string
	cli string // the CLI's path; "" is TF_ACC_TERRAFORM_PATH
}

// Use makes the workspace run cli instead of Terraform.
func (w *Workspace) Use(cli CLI) *Workspace {
	w.cli = cli.Path
	return w
}

// NewWorkspace writes main.tf and a CLI configuration pointing at the built provider.
func NewWorkspace(t *testing.T, config string, extraEnv ...string) *Workspace {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	cliConfig := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"securestate/securestate\" = %q\n  }\n  direct {}\n}\n", ProviderBinaryDir(t))
	if err := os.WriteFile(rc, []byte(cliConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0")
	return &Workspace{t: t, Dir: dir, env: append(env, extraEnv...)}
}

// Run runs the workspace's CLI (Terraform, TF_ACC_TERRAFORM_PATH, unless Use
// chose another) in the workspace.
func (w *Workspace) Run(args ...string) (string, error) {
	tf := w.cli
	if tf == "" {
		if tf = os.Getenv("TF_ACC_TERRAFORM_PATH"); tf == "" {
			w.t.Fatal("TF_ACC_TERRAFORM_PATH is not set; make test sets it")
		}
	}
	cmd := exec.CommandContext(context.Background(), tf, args...)
	cmd.Dir = w.Dir
	cmd.Env = w.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Apply runs terraform apply -auto-approve.
func (w *Workspace) Apply() (string, error) {
	return w.Run("apply", "-auto-approve", "-input=false", "-no-color", "-compact-warnings")
}

// Destroy runs terraform destroy -auto-approve.
func (w *Workspace) Destroy() (string, error) {
	return w.Run("destroy", "-auto-approve", "-input=false", "-no-color", "-compact-warnings")
}

// Resources returns the attribute values of every resource in state, by address.
func (w *Workspace) Resources() (map[string]map[string]any, error) {
	out, err := w.Run("show", "-json", "-no-color")
	if err != nil {
		return nil, fmt.Errorf("terraform show: %w\n%s", err, out)
	}
	// dev_overrides print a warning before the JSON on some versions.
	if i := strings.Index(out, "{"); i > 0 {
		out = out[i:]
	}
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("reading terraform show -json: %w", err)
	}
	res := map[string]map[string]any{}
	for _, r := range doc.Values.RootModule.Resources {
		res[r.Address] = r.Values
	}
	return res, nil
}

// EmulatorBackendSettings are the S3 backend arguments (a .tfbackend file)
// only the emulator needs: its endpoints, path-style addressing and no AWS
// account checks. With real AWS a consumer uses the backend block alone.
func EmulatorBackendSettings(endpoint string) string {
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
