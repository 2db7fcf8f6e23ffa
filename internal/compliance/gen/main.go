// Command gen writes the compliance guide template from the compliance table.
// `make docs` runs it before tfplugindocs, from the repository root:
// go run ./internal/compliance/gen
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/securestate/terraform-provider-securestate/internal/compliance"
)

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	full := filepath.Join(*root, compliance.GuidePath)
	if err := os.WriteFile(full, []byte(compliance.Guide()), 0o644); err != nil {
		log.Fatal(err)
	}
}
