// Command gen writes the bootstrap policies and the permissions guide template
// from the permissions table. `make docs` runs it before tfplugindocs, from
// the repository root: go run ./internal/permissions/gen
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/securestate/terraform-provider-securestate/internal/permissions"
)

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	for path, content := range permissions.Files() {
		full := filepath.Join(*root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
