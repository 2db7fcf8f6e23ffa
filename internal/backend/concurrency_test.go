package backend_test

import (
	"context"
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
			// Every control of every backend is read from AWS, not from the
			// controls in state (which a successful apply always sets).
			Check: func(s *terraform.State) error {
				c, ctx := acctest.Client(t), context.Background()
				seen := 0
				for addr, rs := range s.RootModule().Resources {
					if !strings.HasPrefix(addr, "securestate_backend.many") {
						continue
					}
					seen++
					a, err := acctest.BackendFromAttributes(rs.Primary.Attributes)
					if err != nil {
						return fmt.Errorf("%s: %w", addr, err)
					}
					if err := acctest.CheckHardened(ctx, c, a); err != nil {
						return fmt.Errorf("%s: %w", addr, err)
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
