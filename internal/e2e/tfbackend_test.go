package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// Proof 5 for -backend-config files: for each locking mode, the .tfbackend
// text the quick start renders from backend_config is accepted by `terraform
// init` of the quick start's app (an empty backend "s3" {} block), and apply
// stores state. backend_hcl for each mode is proven by the consumer and
// locking tests.
func TestAccE2E_tfbackendFilesForEachMode(t *testing.T) {
	app, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "app", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	modes := lockingModes(t)
	prefix := acctest.RandomName("tfb")
	var cfg strings.Builder
	cfg.WriteString(acctest.ProviderConfig)
	for _, mode := range modes {
		// The same expression as examples/quickstart/bootstrap's tfbackend output.
		fmt.Fprintf(&cfg, `
resource "securestate_backend" %[1]q {
  name          = "%[2]s-%[1]s"
  locking       = %[1]q
  environments  = ["dev"]
  force_destroy = true
}

output "tfbackend_%[1]s" {
  value = {
    for env, config in securestate_backend.%[1]s.backend_config : env => join("\n", concat(
      [for k, v in config : "${k} = ${jsonencode(v)}" if v != null], [""]
    ))
  }
}
`, mode, prefix)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg.String(),
			Check: func(s *terraform.State) error {
				for _, mode := range modes {
					out, ok := s.RootModule().Outputs["tfbackend_"+mode]
					if !ok {
						return fmt.Errorf("output tfbackend_%s missing", mode)
					}
					files, ok := out.Value.(map[string]any)
					if !ok {
						return fmt.Errorf("output tfbackend_%s is %T", mode, out.Value)
					}
					text, _ := files["dev"].(string)
					c := newConsumer(t, string(app), os.Getenv("AWS_ENDPOINT_URL"))
					if err := os.WriteFile(filepath.Join(c.dir, "dev.s3.tfbackend"), []byte(text), 0o600); err != nil {
						return err
					}
					if out, err := c.run(t.Context(), "init", "-no-color", "-input=false", "-backend-config=dev.s3.tfbackend", "-backend-config=emulator.s3.tfbackend"); err != nil {
						return fmt.Errorf("%s: init with the rendered .tfbackend: %w\n%s\n%s", mode, err, text, out)
					}
					if out, err := c.run(t.Context(), "apply", "-no-color", "-input=false", "-auto-approve"); err != nil {
						return fmt.Errorf("%s: apply: %w\n%s", mode, err, out)
					}
					t.Logf("%s: rendered dev.s3.tfbackend accepted by terraform init; state applied", mode)
				}
				return nil
			},
		}},
	})
}
