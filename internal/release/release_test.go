package release

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestHostOnlyConfigNarrowsOnlyTheTargets(t *testing.T) {
	cfg, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := hostOnlyConfig(cfg, "darwin", "arm64")
	if err != nil {
		t.Fatalf("the cfg .goreleaser.yml cannot be narrowed: %s", err)
	}
	have, want := strings.Split(string(cfg), "\n"), strings.Split(string(got), "\n")
	if len(have) != len(want) {
		t.Fatalf("narrowing changed the number of lines: %d → %d", len(have), len(want))
	}
	var changed []string
	for i := range have {
		if have[i] != want[i] {
			changed = append(changed, strings.TrimSpace(want[i]))
		}
	}
	if !reflect.DeepEqual(changed, []string{"goos: [darwin]", "goarch: [arm64]"}) {
		t.Errorf("changed lines %q, want only goos and goarch narrowed", changed)
	}
}

func TestHostOnlyConfigRefuses(t *testing.T) {
	for name, config := range map[string]string{
		"host not listed":    "builds:\n  - goos: [darwin, windows]\n    goarch: [amd64]\n",
		"arch not listed":    "builds:\n  - goos: [linux]\n    goarch: [arm64]\n",
		"no goos":            "builds:\n  - goarch: [amd64]\n",
		"two builds":         "builds:\n  - goos: [linux]\n    goarch: [amd64]\n  - goos: [linux]\n    goarch: [amd64]\n",
		"block-style goos":   "builds:\n  - goos:\n      - linux\n    goarch: [amd64]\n",
		"host only a prefix": "builds:\n  - goos: [linuxish]\n    goarch: [amd64]\n",
	} {
		if got, err := hostOnlyConfig([]byte(config), "linux", "amd64"); err == nil {
			t.Errorf("%s: narrowed to %q, want an error", name, got)
		}
	}
	got, err := hostOnlyConfig([]byte("builds:\n  - goos: [\"linux\", 'darwin']\n    goarch: [ amd64 , arm64 ]  \n"), "linux", "amd64")
	if err != nil || string(got) != "builds:\n  - goos: [linux]\n    goarch: [amd64]\n" {
		t.Errorf("quoted and spaced lists: %q, %v", got, err)
	}
}

func TestParseSums(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("0", 64)
	got, err := parseSums([]byte(a + "  x_1.0.0_linux_amd64.zip\n" + b + "  x_1.0.0_manifest.json\n"))
	if err != nil || !reflect.DeepEqual(got, map[string]string{"x_1.0.0_linux_amd64.zip": a, "x_1.0.0_manifest.json": b}) {
		t.Errorf("parseSums = %v, %v", got, err)
	}
	for name, text := range map[string]string{
		"empty":        "",
		"short sum":    "abc  x.zip\n",
		"one space":    a + " x.zip\n",
		"upper hex":    strings.ToUpper(a) + "  x.zip\n",
		"listed twice": a + "  x.zip\n" + b + "  x.zip\n",
	} {
		if got, err := parseSums([]byte(text)); err == nil {
			t.Errorf("%s: parsed %v, want an error", name, got)
		}
	}
}

func TestReadLockFile(t *testing.T) {
	src := []byte(`# This file is maintained automatically by "terraform init".
provider "registry.terraform.io/securestate/securestate" {
  version     = "0.0.0-snapshot-1a2b3c4"
  constraints = "0.0.0-snapshot-1a2b3c4"
  hashes = [
    "h1:DAMU+IPlKQ/y6WiF18CdlYuxc+6jA/Z93GWSy+YKF7M=",
    "zh:66c06c2a680be0d09b131434fd6b794062c53eff3770023f6028cc929c491061",
  ]
}

provider "registry.opentofu.org/hashicorp/null" {
  version = "3.2.0"
}
`)
	got, err := readLockFile(src, "lock.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]lockedProvider{
		"registry.terraform.io/securestate/securestate": {Version: "0.0.0-snapshot-1a2b3c4", Constraints: "0.0.0-snapshot-1a2b3c4",
			Hashes: []string{"h1:DAMU+IPlKQ/y6WiF18CdlYuxc+6jA/Z93GWSy+YKF7M=", "zh:66c06c2a680be0d09b131434fd6b794062c53eff3770023f6028cc929c491061"}},
		"registry.opentofu.org/hashicorp/null": {Version: "3.2.0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("readLockFile = %#v\nwant %#v", got, want)
	}
	if kinds := hashKinds(got["registry.terraform.io/securestate/securestate"].Hashes); kinds != "h1, zh" {
		t.Errorf("hashKinds = %q", kinds)
	}
	for name, bad := range map[string]string{
		"syntax":         `provider "a" {`,
		"twice":          "provider \"a\" {\n}\nprovider \"a\" {\n}\n",
		"other block":    "module \"a\" {\n}\n",
		"version number": "provider \"a\" {\n  version = 1\n}\n",
		"hashes string":  "provider \"a\" {\n  hashes = \"h1:x\"\n}\n",
	} {
		if got, err := readLockFile([]byte(bad), name); err == nil {
			t.Errorf("%s: read %v, want an error", name, got)
		}
	}
}

func TestDeclaredSourceOfTheQuickStart(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "bootstrap", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := declaredSource(src, "main.tf"); err != nil || got != "securestate/securestate" {
		t.Errorf("declaredSource = %q, %v", got, err)
	}
	if got, err := declaredSource([]byte("terraform {\n  required_providers {\n    securestate = { version = \"1.0\" }\n  }\n}\n"), "x.tf"); err == nil {
		t.Errorf("no source: got %q, want an error", got)
	}
	if got, err := declaredSource([]byte("terraform {}\n"), "x.tf"); err == nil {
		t.Errorf("no required_providers: got %q, want an error", got)
	}
}

func TestMirrorOnlyCLIConfig(t *testing.T) {
	got := mirrorOnlyCLIConfig("/m", "registry.opentofu.org")
	for _, banned := range []string{"direct", "dev_overrides", "network_mirror"} {
		if strings.Contains(got, banned) {
			t.Errorf("the CLI configuration allows %s:\n%s", banned, got)
		}
	}
	if !strings.Contains(got, `include = ["registry.opentofu.org/securestate/securestate"]`) || !strings.Contains(got, `path    = "/m"`) {
		t.Errorf("unexpected CLI configuration:\n%s", got)
	}
}
