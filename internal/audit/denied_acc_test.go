package audit_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// proxiedProvider configures the provider to reach AWS through the fault
// proxy, whose guardrails refuse what an SCP would.
func proxiedProvider(p *acctest.FaultProxy) string {
	return fmt.Sprintf(`
provider "securestate" {
  s3_use_path_style = true
  custom_ca_bundle  = %[1]q
  endpoints {
    s3       = %[2]q
    kms      = %[2]q
    dynamodb = %[2]q
    iam      = %[2]q
    sts      = %[2]q
  }
}
`, p.CABundle, p.URL)
}

// Reads the caller may not make (denied as an SCP denies them, with AWS's
// AccessDenied) make their controls unknown, naming the error code; every
// other control keeps the status it has when nothing is denied.
func TestAccAudit_accessDeniedIsUnknownPerControl(t *testing.T) {
	acctest.PreCheck(t)
	want := loadPeers(t).Peers["cloudposse"]
	c := acctest.Client(t)
	bucket := acctest.RandomName("peer-denied")
	table := bucket + "-lock"
	buildCloudposse(t, c, bucket, table)
	proxy := acctest.StartFaultProxy(t)
	proxy.DenyAction("s3:GetBucketPolicy")
	proxy.DenyAction("dynamodb:DescribeContinuousBackups")
	// The table's key (aws/dynamodb) is described to tell it from a
	// customer's: denied, the table's encryption is unknown, not failed.
	proxy.DenyAction("kms:DescribeKey")
	denied := map[string]bool{"bucket_policy": true, "lock_table_point_in_time_recovery": true, "lock_table_encryption": true}

	const name = "data.securestate_backend_audit.denied"
	checks := []resource.TestCheckFunc{
		resource.TestCheckResourceAttr(name, "unknown", "3"),
		resource.TestCheckResourceAttr(name, "controls.lock_table_encryption.observed", "the table's KMS key (kms:DescribeKey) could not be read (AccessDeniedException)"),
		resource.TestCheckResourceAttr(name, "controls.bucket_policy.observed", "the bucket policy (s3:GetBucketPolicy) could not be read (AccessDenied)"),
		resource.TestCheckResourceAttr(name, "controls.lock_table_point_in_time_recovery.observed",
			"the point-in-time recovery status (dynamodb:DescribeContinuousBackups) could not be read (AccessDeniedException)"),
	}
	for control, status := range want {
		if denied[control] {
			status = "unknown"
		}
		checks = append(checks, resource.TestCheckResourceAttr(name, "controls."+control+".status", status))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: proxiedProvider(proxy) + fmt.Sprintf(`
data "securestate_backend_audit" "denied" {
  bucket     = %q
  lock_table = %q
}
`, bucket, table),
			Check: resource.ComposeAggregateTestCheckFunc(checks...),
		}},
	})
}
