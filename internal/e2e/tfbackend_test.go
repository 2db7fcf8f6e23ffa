package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
)

// Proof 5 for -backend-config files, on the quick start itself: the real
// examples/quickstart/bootstrap configuration is applied with each locking
// mode the CLI accepts (its `locking` variable, updated in place), and the
// dev.s3.tfbackend it renders is accepted by `terraform init` of the real
// examples/quickstart/app (an empty backend "s3" {} block), whose apply then
// stores state. backend_hcl for each mode is proven by the consumer and
// locking tests.
func TestAccE2E_quickstartTfbackendForEachMode(t *testing.T) {
	acctest.PreCheck(t)
	app, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "app", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	// The example names its provider securestate/securestate, as users do;
	// the in-process provider is served under that address.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "securestate")
	bootstrap := config.StaticDirectory(filepath.Join("..", "..", "examples", "quickstart", "bootstrap"))
	bucket := naming.StateBucket("quickstart", acctest.Client(t).AccountID)

	var steps []resource.TestStep
	lockingModes(t) // every mode must be provable with these CLIs
	// The order a backend in use may move in: "dynamodb" and "lockfile"
	// only through "both" (checkLockingChange).
	for _, mode := range []string{"dynamodb", "both", "lockfile"} {
		steps = append(steps, resource.TestStep{
			// With a configuration directory that declares its providers,
			// the test framework takes the provider at step level only.
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          bootstrap,
			ConfigVariables:          config.Variables{"locking": config.StringVariable(mode)},
			Check: func(s *terraform.State) error {
				out, ok := s.RootModule().Outputs["tfbackend"]
				if !ok {
					return fmt.Errorf("output tfbackend missing")
				}
				files, ok := out.Value.(map[string]any)
				if !ok {
					return fmt.Errorf("output tfbackend is %T", out.Value)
				}
				text, _ := files["dev"].(string)
				for _, cli := range acctest.CLIs(t) {
					c := newConsumer(t, cli, string(app), os.Getenv("AWS_ENDPOINT_URL"))
					if err := os.WriteFile(filepath.Join(c.dir, "dev.s3.tfbackend"), []byte(text), 0o600); err != nil {
						return err
					}
					if out, err := c.run(t.Context(), "init", "-no-color", "-input=false", "-backend-config=dev.s3.tfbackend", "-backend-config=emulator.s3.tfbackend"); err != nil {
						return fmt.Errorf("%s: %s init with the rendered .tfbackend: %w\n%s\n%s", mode, cli, err, text, out)
					}
					if out, err := c.run(t.Context(), "apply", "-no-color", "-input=false", "-auto-approve"); err != nil {
						return fmt.Errorf("%s: %s apply: %w\n%s", mode, cli, err, out)
					}
				}
				return stateStoredAt(t, s, mode, text)
			},
		})
	}
	// The quick start keeps force_destroy off, as users should: the app's
	// state is removed before the backend is destroyed.
	last := steps[len(steps)-1]
	steps = append(steps, resource.TestStep{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		ConfigDirectory:          bootstrap,
		ConfigVariables:          last.ConfigVariables,
		PreConfig: func() {
			if err := statebucket.Empty(context.Background(), acctest.Client(t).S3, bucket); err != nil {
				t.Fatalf("emptying %s: %s", bucket, err)
			}
		},
	})
	resource.Test(t, resource.TestCase{
		Steps: steps,
		CheckDestroy: func(*terraform.State) error {
			if ok, err := statebucket.Exists(context.Background(), acctest.Client(t).S3, bucket); err != nil || ok {
				return fmt.Errorf("state bucket %s still exists after destroy (%v)", bucket, err)
			}
			return nil
		},
	})
}

// stateStoredAt proves where the app's apply stored its state: at the key the
// rendered .tfbackend names, in the backend's bucket, holding the app's
// resource, encrypted with the backend's key; and, where the mode locks with
// DynamoDB, with the state's digest in the backend's lock table.
func stateStoredAt(t *testing.T, s *terraform.State, mode, tfbackend string) error {
	a, err := attrs(s, "securestate_backend.org")
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`(?m)^\s*key\s*=\s*"([^"]+)"`).FindStringSubmatch(tfbackend)
	if m == nil {
		return fmt.Errorf("%s: no key in the rendered .tfbackend:\n%s", mode, tfbackend)
	}
	bucket, key := a["bucket"], m[1]
	if key != "dev/terraform.tfstate" {
		return fmt.Errorf("%s: the .tfbackend stores dev's state at %q, want dev/terraform.tfstate", mode, key)
	}
	c, ctx := acctest.Client(t), t.Context()
	obj, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return fmt.Errorf("%s: the app's state is not at s3://%s/%s: %w", mode, bucket, key, err)
	}
	body, err := io.ReadAll(obj.Body)
	_ = obj.Body.Close()
	if err != nil || !strings.Contains(string(body), `"terraform_data"`) {
		return fmt.Errorf("%s: s3://%s/%s does not hold the app's state (%v)", mode, bucket, key, err)
	}
	if obj.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(obj.SSEKMSKeyId) != a["kms_key_arn"] {
		return fmt.Errorf("%s: the app's state is encrypted with %s %s, want aws:kms with %s", mode, obj.ServerSideEncryption, aws.ToString(obj.SSEKMSKeyId), a["kms_key_arn"])
	}
	if mode != "lockfile" {
		digest, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a["lock_table_name"]),
			Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: bucket + "/" + key + "-md5"}}})
		if err != nil || len(digest.Item) == 0 {
			return fmt.Errorf("%s: the app's state digest is not in the lock table %s: %v", mode, a["lock_table_name"], err)
		}
	}
	t.Logf("%s: the quick start's dev.s3.tfbackend accepted by terraform init; the app's state stored at s3://%s/%s, SSE-KMS with the backend key", mode, bucket, key)
	return nil
}
