// Package release proves the provider as users get it: the zips goreleaser
// builds from the real .goreleaser.yml, installed by `terraform init` and
// `tofu init` from a filesystem mirror laid out like a registry, with no
// dev_overrides.
package release

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// TestAccRelease_installedFromMirror builds the release with goreleaser
// (snapshot, no signing), lays its zips out as a filesystem mirror for both
// registry hosts, and runs init, apply and destroy of
// examples/quickstart/bootstrap (source = "securestate/securestate") under
// Terraform and OpenTofu with a CLI configuration that allows the mirror
// only. It checks that each CLI installs exactly the released zip under its
// own registry's address and locks it with that zip's h1: hash; that a lock
// file made against the registry (zh: hashes, the sha256 in SHA256SUMS)
// accepts the mirrored zip and one with another checksum refuses it; and that
// the released provider builds a hardened backend.
func TestAccRelease_installedFromMirror(t *testing.T) {
	acctest.PreCheck(t)
	goreleaser := os.Getenv("SECURESTATE_GORELEASER")
	if goreleaser == "" {
		t.Fatal("SECURESTATE_GORELEASER is not set: it is the path of the pinned goreleaser, which `make test` sets (scripts/goreleaser.sh prints it, installing it on first use)")
	}
	acctest.CLIs(t) // fail before the build when a CLI is missing

	rel := buildRelease(t, goreleaser, os.Getenv("SECURESTATE_RELEASE_ALL_TARGETS") != "")
	zip := rel.Archive(t, runtime.GOOS, runtime.GOARCH)
	h1, err := dirhash.HashZip(zip.Path, dirhash.Hash1)
	if err != nil {
		t.Fatalf("hashing %s: %s", zip.Name, err)
	}
	mirror := layOutMirror(t, rel)
	t.Logf("release %s: %s sha256 %s (as in SHA256SUMS), %s; mirror %s", rel.Version, zip.Name, rel.Sums[zip.Name], h1, mirror)

	example := filepath.Join("..", "..", "examples", "quickstart", "bootstrap")
	mainTF, err := os.ReadFile(filepath.Join(example, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	// The override file below must restate the source; it is the example's own.
	if source, err := declaredSource(mainTF, "main.tf"); err != nil || source != providerPath {
		t.Fatalf("examples/quickstart/bootstrap declares source %q (%v), want %q as users write it", source, err, providerPath)
	}

	acctest.ForEachCLI(t, func(t *testing.T, cli acctest.CLI) {
		w := newWorkspace(t, cli, example, mirror)
		host := registryHost(cli.Name)
		address := host + "/" + providerPath
		// The CLIs read a packed zip's file name case-insensitively and
		// normalise it to lower case, version included (getproviders'
		// SearchLocalDirectory in both), so goreleaser's snapshot version
		// 0.0.0-SNAPSHOT-<commit> is offered as 0.0.0-snapshot-<commit>,
		// and prerelease labels compare case-sensitively. A release version
		// such as 1.2.3 is not affected.
		version := strings.ToLower(rel.Version)
		name := acctest.RandomName("release-" + cli.Name)
		w.write("release_override.tf", fmt.Sprintf(`# Written by TestAccRelease_installedFromMirror: the snapshot is a
# prerelease, which only an exact constraint selects, and each CLI gets its
# own backend name so that neither run meets the other's objects.
terraform {
  required_providers {
    securestate = {
      source  = %q
      version = %q
    }
  }
}

resource "securestate_backend" "org" {
  name = %q
}
`, providerPath, version, name))

		// 1. A first init: the lock file records what the CLI installed.
		w.mustRun("init", "-input=false", "-no-color")
		p := w.checkLock(address, version, h1, rel)
		t.Logf("%s locked %s %s from the mirror with hashes of kind %s: %v", cli, address, p.Version, hashKinds(p.Hashes), p.Hashes)
		// What init unpacked is the released zip, file for file.
		installed := filepath.Join(w.dir, ".terraform", "providers", host, filepath.FromSlash(providerPath), version, runtime.GOOS+"_"+runtime.GOARCH)
		if got, err := dirhash.HashDir(installed, "", dirhash.Hash1); err != nil || got != h1 {
			t.Errorf("%s installed %s hashing to %s (%v), want the released zip's %s", cli, installed, got, err, h1)
		}
		if _, err := os.Stat(filepath.Join(installed, projectName+"_v"+rel.Version)); err != nil {
			t.Errorf("%s: the released executable is not where init unpacked the zip: %s", cli, err)
		}
		var selections struct {
			Providers map[string]string `json:"provider_selections"`
		}
		if err := json.Unmarshal([]byte(w.mustRun("version", "-json")), &selections); err != nil {
			t.Fatalf("%s version -json: %s", cli, err)
		}
		if selections.Providers[address] != version {
			t.Errorf("%s selected %v, want %s %s", cli, selections.Providers, address, version)
		}
		if t.Failed() {
			t.FailNow()
		}

		// 2. A lock file made against the registry holds zh: hashes, the
		// sha256 of each zip as the release's SHA256SUMS states it. The
		// mirrored zip must satisfy it (the mirror serves the released
		// bytes), and a checksum of anything else must stop init.
		other := rel.Sums[fmt.Sprintf("%s_%s_manifest.json", projectName, rel.Version)]
		w.lockOnly(address, version, "zh:"+other)
		if out, err := w.run("init", "-input=false", "-no-color"); err == nil || !strings.Contains(strings.Join(strings.Fields(out), " "), "doesn't match any of the checksums previously recorded") {
			t.Fatalf("%s init with a lock file whose checksum is not the zip's: want a checksum refusal, got %v\n%s", cli, err, out)
		}
		w.lockOnly(address, version, "zh:"+rel.Sums[zip.Name])
		w.mustRun("init", "-input=false", "-no-color")
		p = w.checkLock(address, version, h1, rel)
		if !slices.Contains(p.Hashes, "zh:"+rel.Sums[zip.Name]) || !slices.Contains(p.Hashes, h1) {
			t.Fatalf("%s: after init with the registry's zh: hash the lock file holds %v, want it and %s", cli, p.Hashes, h1)
		}
		t.Logf("%s: a lock file with the zip's zh: hash from SHA256SUMS accepts the mirrored zip (and gains %s); one with another file's checksum refuses it", cli, h1)

		destroyed := false
		t.Cleanup(func() {
			if !destroyed {
				if out, err := w.run("destroy", "-auto-approve", "-input=false", "-no-color"); err != nil {
					t.Logf("cleanup: %s destroy: %s\n%s", cli, err, out)
				}
			}
		})
		w.mustRun("apply", "-auto-approve", "-input=false", "-no-color", "-compact-warnings")

		// The released provider made the backend, and made it hardened.
		values := w.backendValues(address)
		if values["name"] != name {
			t.Fatalf("%s: the backend in state is %v, want %s", cli, values["name"], name)
		}
		b, err := acctest.BackendFromValues(values)
		if err != nil {
			t.Fatal(err)
		}
		c := acctest.Client(t)
		if err := acctest.CheckHardened(t.Context(), c, b); err != nil {
			t.Errorf("%s: the backend the released provider made is not hardened: %s", cli, err)
		}
		objects, err := acctest.BackendObjects(t.Context(), c, name)
		if err != nil {
			t.Fatal(err)
		}
		bucket := naming.StateBucket(name, c.AccountID)
		if !slices.ContainsFunc(objects, func(o acctest.Object) bool { return o.Kind == "bucket" && o.ID == bucket }) {
			t.Errorf("%s: state bucket %s not found after apply; found %v", cli, bucket, objects)
		}

		w.mustRun("destroy", "-auto-approve", "-input=false", "-no-color", "-compact-warnings")
		destroyed = true
		if left, err := acctest.BackendObjects(t.Context(), c, name); err != nil || len(left) > 0 {
			t.Errorf("%s destroy left %v (%v)", cli, left, err)
		}
		t.Logf("%s: init from the mirror, apply and destroy of the quick start with the released %s: ok", cli, zip.Name)
	})
}

// workspace is a copy of a configuration run by one CLI that installs
// providers from the mirror only.
type workspace struct {
	t   *testing.T
	cli acctest.CLI
	dir string
	env []string
}

func newWorkspace(t *testing.T, cli acctest.CLI, example, mirror string) *workspace {
	t.Helper()
	w := &workspace{t: t, cli: cli, dir: t.TempDir()}
	files, err := filepath.Glob(filepath.Join(example, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s (%v)", example, err)
	}
	for _, f := range files {
		if err := copyFile(f, filepath.Join(w.dir, filepath.Base(f)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rc := filepath.Join(t.TempDir(), "cli.tfrc")
	if err := os.WriteFile(rc, []byte(mirrorOnlyCLIConfig(mirror, registryHost(cli.Name))), 0o600); err != nil {
		t.Fatal(err)
	}
	// The emulator's endpoint, CA bundle and keys come from the test's
	// environment, as examples/quickstart expects. A plugin cache or extra
	// CLI arguments of the caller's would change what init does.
	w.env = append(withoutEnv(os.Environ(), "TF_CLI_CONFIG_FILE", "TOFU_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR",
		"TF_CLI_ARGS", "TF_CLI_ARGS_init", "TF_CLI_ARGS_apply", "TF_CLI_ARGS_destroy", "TF_DATA_DIR"),
		"TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0")
	return w
}

func (w *workspace) write(name, text string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(text), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// run runs the CLI in the workspace. Not with t.Context(): cleanup runs it
// after that context is cancelled.
func (w *workspace) run(args ...string) (string, error) {
	cmd := exec.CommandContext(context.Background(), w.cli.Path, args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (w *workspace) mustRun(args ...string) string {
	w.t.Helper()
	out, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("%s %s: %s\n%s", w.cli, strings.Join(args, " "), err, out)
	}
	return out
}

// checkLock reads the workspace's lock file and checks that it locks the
// provider at address only, at version, with an h1: hash equal to h1 and only
// zh: hashes that SHA256SUMS gives for a released zip.
func (w *workspace) checkLock(address, version, h1 string, rel release) lockedProvider {
	w.t.Helper()
	path := filepath.Join(w.dir, ".terraform.lock.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		w.t.Fatal(err)
	}
	locked, err := readLockFile(src, path)
	if err != nil {
		w.t.Fatal(err)
	}
	p, ok := locked[address]
	if !ok || len(locked) != 1 {
		w.t.Fatalf("%s locked %v, want %s only\n%s", w.cli, slices.Sorted(maps.Keys(locked)), address, src)
	}
	if p.Version != version {
		w.t.Errorf("%s locked version %q, want %q", w.cli, p.Version, version)
	}
	hasH1 := false
	for _, h := range p.Hashes {
		kind, sum, _ := strings.Cut(h, ":")
		switch kind {
		case "h1":
			hasH1 = true
			if h != h1 {
				w.t.Errorf("%s locked %s, but the released zip hashes to %s", w.cli, h, h1)
			}
		case "zh":
			if !slices.ContainsFunc(rel.Archives, func(a archive) bool { return rel.Sums[a.Name] == sum }) {
				w.t.Errorf("%s locked %s, which is the sha256 of no zip in SHA256SUMS", w.cli, h)
			}
		default:
			w.t.Errorf("%s locked a hash of unknown kind: %s", w.cli, h)
		}
	}
	if !hasH1 {
		w.t.Errorf("%s locked no h1: hash: %v", w.cli, p.Hashes)
	}
	if w.t.Failed() {
		w.t.FailNow()
	}
	return p
}

// lockOnly replaces the lock file with one locking address at version with
// the given hashes, as a lock file committed with a configuration does, and
// removes what init installed, so the next init installs from the mirror.
func (w *workspace) lockOnly(address, version string, hashes ...string) {
	w.t.Helper()
	var list strings.Builder
	for _, h := range hashes {
		fmt.Fprintf(&list, "    %q,\n", h)
	}
	w.write(".terraform.lock.hcl", fmt.Sprintf("provider %q {\n  version     = %q\n  constraints = %q\n  hashes = [\n%s  ]\n}\n", address, version, version, list.String()))
	if err := os.RemoveAll(filepath.Join(w.dir, ".terraform")); err != nil {
		w.t.Fatal(err)
	}
}

// backendValues returns the values of securestate_backend.org in state,
// checking that the provider of that address manages it.
func (w *workspace) backendValues(address string) map[string]any {
	w.t.Helper()
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address  string         `json:"address"`
					Provider string         `json:"provider_name"`
					Values   map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(w.mustRun("show", "-json", "-no-color")), &doc); err != nil {
		w.t.Fatalf("%s show -json: %s", w.cli, err)
	}
	for _, r := range doc.Values.RootModule.Resources {
		if r.Address == "securestate_backend.org" {
			if r.Provider != address {
				w.t.Fatalf("%s: securestate_backend.org is managed by %s, want %s", w.cli, r.Provider, address)
			}
			return r.Values
		}
	}
	w.t.Fatalf("%s: securestate_backend.org is not in state", w.cli)
	return nil
}
