package audit_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// inAccount returns clients acting in account (through AssumeRole, which
// the emulator answers with credentials of that account).
func inAccount(t *testing.T, c *awsclient.Client, account string) *awsclient.Client {
	t.Helper()
	ctx := context.Background()
	role := fmt.Sprintf("arn:aws:iam::%s:role/%s", account, acctest.RandomName("owner"))
	out, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &role, RoleSessionName: aws.String("audit-cross-account")})
	if err != nil {
		t.Fatalf("assuming %s: %s", role, err)
	}
	creds := credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	other := *c
	other.S3 = s3.New(c.S3.Options(), func(o *s3.Options) { o.Credentials = creds })
	other.DynamoDB = dynamodb.New(c.DynamoDB.Options(), func(o *dynamodb.Options) { o.Credentials = creds })
	other.AccountID = account
	id, err := sts.New(c.STS.Options(), func(o *sts.Options) { o.Credentials = creds }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != account {
		t.Fatalf("caller identity after assuming %s: %v, %v", role, id, err)
	}
	return &other
}

// A backend in another account (made the cloudposse way there), audited
// with the provider's own credentials, naming the table by its ARN: every
// control reads as it does in the backend's own account, but the table's
// encryption: its key is the other account's AWS managed aws/dynamodb, which
// only that account may describe (AWS answers AccessDenied, the emulator
// NotFound), so the audit cannot tell whose key it is and says unknown.
func TestAccAudit_backendInAnotherAccount(t *testing.T) {
	acctest.PreCheck(t)
	const account = "222222222222"
	want := maps.Clone(loadPeers(t).Peers["cloudposse"])
	want["lock_table_encryption"] = "unknown"
	owner := inAccount(t, acctest.Client(t), account)
	bucket := acctest.RandomName("peer-xacct")
	table := bucket + "-lock"
	buildCloudposse(t, owner, bucket, table)
	tableARN := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", owner.Region, account, table)
	const name = "data.securestate_backend_audit.other"
	checks := []resource.TestCheckFunc{checkSummary(name, want)}
	for control, status := range want {
		checks = append(checks, resource.TestCheckResourceAttr(name, "controls."+control+".status", status))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig + fmt.Sprintf(`
data "securestate_backend_audit" "other" {
  bucket     = %q
  lock_table = %q
}
`, bucket, tableARN),
			Check: resource.ComposeAggregateTestCheckFunc(checks...),
		}},
	})
}
