package policies

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// lintEntry describes one file written for scripts/policylint.sh.
type lintEntry struct {
	File        string `json:"file"`
	Combination string `json:"combination"`
	Document    string `json:"document"` // key, bucket, table, replica-key, replica-bucket, replication-trust, replication-role, access/<env>, read-only/<env>, tofu-…
	Type        string `json:"type"`     // "resource" or "identity" policy
}

// TestWritePolicyDocumentsForLint writes every document of the combination
// table (access_test.go) as a JSON file for scripts/policylint.sh, which sets
// POLICYLINT_DIR; without it the files go to a temporary folder, so the
// writer is exercised by every test run. manifest.json lists the files with
// their combination and kind. A lock table policy without statements is left
// out: the provider removes the table's resource policy instead of writing it.
func TestWritePolicyDocumentsForLint(t *testing.T) {
	dir := os.Getenv("POLICYLINT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var manifest []lintEntry
	seen := map[string]bool{}
	// write stores one document of combination c (number i) under label,
	// as a resource or identity policy.
	write := func(i int, c combination, label, kind string, doc policydoc.Document) {
		name := strings.ReplaceAll(c.name(), " ", "_") + "_" + strings.ReplaceAll(label, "/", "-")
		file := filepath.Join(dir, name+".json")
		if seen[file] {
			t.Fatalf("combination %d: file %s written twice", i, file)
		}
		seen[file] = true
		if err := os.WriteFile(file, []byte(Render(doc)), 0o644); err != nil {
			t.Fatal(err)
		}
		manifest = append(manifest, lintEntry{File: filepath.Base(file), Combination: c.name(), Document: label, Type: kind})
	}
	for i, c := range accessCombinations() {
		for _, d := range renderDocuments(c.b) {
			if len(d.doc.Statement) == 0 {
				continue
			}
			kind := "identity"
			if d.resourcePolicy() {
				kind = "resource"
			}
			write(i, c, d.label(), kind, d.doc)
		}
		// With replication: the replication role's trust and permissions
		// (the replica key and bucket policies are among the documents).
		if c.b.Replica != nil {
			write(i, c, "replication-trust", "resource", ReplicationTrustPolicy(c.b))
			write(i, c, "replication-role", "identity", ReplicationRolePolicy(c.b))
		}
		// With OpenTofu encryption keys: each environment's key policy and
		// the identity policies that grant it.
		tb := withTofuKeys(c.b)
		for _, env := range environments(tb) {
			write(i, c, "tofu-key/"+env, "resource", TofuKeyPolicy(tb, env))
			write(i, c, "tofu-access/"+env, "identity", AccessPolicy(tb, env))
			write(i, c, "tofu-read-only/"+env, "identity", ReadOnlyAccessPolicy(tb, env))
		}
	}
	text, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != len(manifest)+1 {
		t.Fatalf("%d JSON files in %s for %d documents (%v): a stale folder?", len(files), dir, len(manifest), err)
	}
	t.Logf("%d documents of %d combinations in %s", len(manifest), len(accessCombinations()), dir)
}
