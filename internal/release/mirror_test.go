package release

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Registry hosts the CLIs resolve `source = "securestate/securestate"` to.
const (
	terraformRegistry = "registry.terraform.io"
	opentofuRegistry  = "registry.opentofu.org"
	providerPath      = "securestate/securestate"
)

// registryHost is the host a CLI's default registry has.
func registryHost(cli string) string {
	if cli == "tofu" {
		return opentofuRegistry
	}
	return terraformRegistry
}

// layOutMirror copies every zip of the release into a filesystem mirror in
// the packed layout, <mirror>/<host>/securestate/securestate/<zip>, for both
// registry hosts, as an organisation mirrors a registry release. The zips are
// copied as released (their checksums were verified against SHA256SUMS).
func layOutMirror(t *testing.T, rel release) string {
	t.Helper()
	mirror := t.TempDir()
	for _, host := range []string{terraformRegistry, opentofuRegistry} {
		dir := filepath.Join(mirror, host, filepath.FromSlash(providerPath))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, a := range rel.Archives {
			if err := copyFile(a.Path, filepath.Join(dir, a.Name), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return mirror
}

// mirrorOnlyCLIConfig installs securestate/securestate of host from the
// mirror and nothing from anywhere else: no direct block, so no registry is
// ever asked, and no dev_overrides.
func mirrorOnlyCLIConfig(mirror, host string) string {
	return fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = [%q]
  }
}
`, mirror, host+"/"+providerPath)
}

// lockedProvider is a provider block of .terraform.lock.hcl.
type lockedProvider struct {
	Version     string
	Constraints string
	Hashes      []string
}

// readLockFile returns the provider blocks of a dependency lock file by
// provider address.
func readLockFile(src []byte, filename string) (map[string]lockedProvider, error) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil, fmt.Errorf("%s: not native HCL syntax", filename)
	}
	providers := map[string]lockedProvider{}
	for _, b := range body.Blocks {
		if b.Type != "provider" || len(b.Labels) != 1 {
			return nil, fmt.Errorf("%s: unexpected block %s %v", filename, b.Type, b.Labels)
		}
		var p lockedProvider
		for name, attr := range b.Body.Attributes {
			v, diags := attr.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, diags
			}
			switch name {
			case "version", "constraints":
				if v.Type() != cty.String {
					return nil, fmt.Errorf("%s: %s of %s is not a string", filename, name, b.Labels[0])
				}
				if name == "version" {
					p.Version = v.AsString()
				} else {
					p.Constraints = v.AsString()
				}
			case "hashes":
				if !v.Type().IsTupleType() && !v.Type().IsListType() {
					return nil, fmt.Errorf("%s: hashes of %s is not a list", filename, b.Labels[0])
				}
				for it := v.ElementIterator(); it.Next(); {
					_, h := it.Element()
					if h.Type() != cty.String {
						return nil, fmt.Errorf("%s: a hash of %s is not a string", filename, b.Labels[0])
					}
					p.Hashes = append(p.Hashes, h.AsString())
				}
			}
		}
		if _, dup := providers[b.Labels[0]]; dup {
			return nil, fmt.Errorf("%s: %s locked twice", filename, b.Labels[0])
		}
		providers[b.Labels[0]] = p
	}
	return providers, nil
}

// declaredSource returns the source address a configuration file declares
// for securestate in terraform { required_providers { ... } }.
func declaredSource(src []byte, filename string) (string, error) {
	const local = "securestate"
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return "", diags
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return "", fmt.Errorf("%s: not native HCL syntax", filename)
	}
	for _, tf := range body.Blocks {
		if tf.Type != "terraform" {
			continue
		}
		for _, rp := range tf.Body.Blocks {
			attr, ok := rp.Body.Attributes[local]
			if rp.Type != "required_providers" || !ok {
				continue
			}
			v, diags := attr.Expr.Value(nil)
			if diags.HasErrors() {
				return "", diags
			}
			if !v.Type().IsObjectType() || !v.Type().HasAttribute("source") || v.GetAttr("source").Type() != cty.String {
				return "", fmt.Errorf("%s: required_providers.%s has no source", filename, local)
			}
			return v.GetAttr("source").AsString(), nil
		}
	}
	return "", fmt.Errorf("%s: no required_providers entry for %s", filename, local)
}

// hashKinds names the hash schemes in a lock file's hashes, e.g. "h1, zh".
func hashKinds(hashes []string) string {
	var kinds []string
	for _, h := range hashes {
		kind, _, _ := strings.Cut(h, ":")
		if !slices.Contains(kinds, kind) {
			kinds = append(kinds, kind)
		}
	}
	return strings.Join(kinds, ", ")
}
