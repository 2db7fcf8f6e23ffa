package backend_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// Ten backends in one configuration apply and destroy cleanly at Terraform's
// default parallelism (10): every one is fully hardened, and CheckDestroy
// finds every component of every one gone.
func TestAccBackend_tenConcurrently(t *testing.T) {
	prefix := acctest.RandomName("par")
	const n = 10
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroyed(t),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig + fmt.Sprintf(`
resource "securestate_backend" "many" {
  count        = %d
  name         = format("%s-%%02d", count.index)
  environments = ["dev", "prod"]
}
`, n, prefix),
			Check: func(s *terraform.State) error {
				seen := 0
				for addr, rs := range s.RootModule().Resources {
					if !strings.HasPrefix(addr, "securestate_backend.many") {
						continue
					}
					seen++
					a := rs.Primary.Attributes
					if a["controls.%"] != "16" {
						return fmt.Errorf("%s has %s controls, want 16", addr, a["controls.%"])
					}
					for k, v := range a {
						if strings.HasPrefix(k, "controls.") && k != "controls.%" && v != "compliant" {
							return fmt.Errorf("%s: %s = %s", addr, k, v)
						}
					}
				}
				if seen != n {
					return fmt.Errorf("%d backends in state, want %d", seen, n)
				}
				return nil
			},
		}},
	})
}
