package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// tofuMarker is a value only the consumer's state holds: found in the raw
// state object, it would mean OpenTofu stored the state in the clear.
const tofuMarker = "release-only-in-the-encrypted-state"

// OpenTofu's client-side state encryption, on the IAM-enforcing emulator
// (KMS requests authorised against the key's ARN, see
// TestAccEmulator_kmsAuthorisedPerKey): with tofu_encryption, dev's OpenTofu,
// as a user holding only dev's policy, moves an unencrypted state to
// encryption (the guide's fallback apply) and applies with backend_hcl.dev
// and tofu_encryption_hcl.dev; the state object is ciphertext (no attribute
// readable), OpenTofu reads it back (a plan without changes), the hardened
// bucket policy accepts the state and the lock file (SSE-KMS with the backend
// key: OpenTofu #2970), dev's key decrypts the state's data key for dev and
// refuses prod's user. Switching tofu_encryption off schedules the keys'
// deletion and removes their grants.
func TestAccE2E_tofuClientSideEncryption(t *testing.T) {
	endpoint := asEnforcedAdmin(t)
	tofu := acctest.OpenTofu(t)
	name := acctest.RandomName("enc")
	var keys map[string]string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: backendConfig(name, "  locking = \"both\"\n  tofu_encryption = true"),
				Check: func(s *terraform.State) error {
					a, err := attrs(s, "securestate_backend.test")
					if err != nil {
						return err
					}
					keys = map[string]string{"dev": a["tofu_encryption_key_arns.dev"], "prod": a["tofu_encryption_key_arns.prod"]}
					return proveTofuEncryption(t, tofu, a, endpoint)
				},
			},
			{
				Config: backendConfig(name, "  locking = \"both\""),
				Check: func(s *terraform.State) error {
					a, err := attrs(s, "securestate_backend.test")
					if err != nil {
						return err
					}
					return proveTofuKeysRemoved(t, a, keys)
				},
			},
		},
	})
}

func proveTofuEncryption(t *testing.T, tofu acctest.CLI, a map[string]string, endpoint string) error {
	ctx := context.Background()
	admin := acctest.Client(t)
	bucket, stateKey := a["bucket"], "dev/terraform.tfstate"
	for _, env := range []string{"dev", "prod"} {
		if a["controls.tofu_encryption_key/"+env] != "compliant" {
			return fmt.Errorf("control tofu_encryption_key/%s = %q, want compliant", env, a["controls.tofu_encryption_key/"+env])
		}
		if !strings.Contains(a["tofu_encryption_hcl."+env], fmt.Sprintf(":alias/%s-tfstate-%s-tofu", a["name"], env)) {
			return fmt.Errorf("tofu_encryption_hcl.%s does not name the environment's key alias:\n%s", env, a["tofu_encryption_hcl."+env])
		}
	}
	users := map[string]accessKey{}
	for _, env := range []string{"dev", "prod"} {
		user := acctest.RandomName(env)
		k, err := newUser(ctx, admin.IAM, user)
		if err != nil {
			return fmt.Errorf("creating the %s user: %w", env, err)
		}
		if _, err := admin.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &user, PolicyArn: aws.String(a["policy_arns."+env])}); err != nil {
			return fmt.Errorf("attaching the %s policy: %w", env, err)
		}
		users[env] = k
	}

	// An environment that already has state (unencrypted) moves to the
	// enforced configuration as the guide says: one apply with the
	// unencrypted fallback, then tofu_encryption_hcl as given.
	plain := newConsumer(t, tofu, a["backend_hcl.dev"]+consumerConfig, endpoint, users["dev"].env()...)
	plain.mustInitApply("before-encryption")
	migrate := newConsumer(t, tofu, a["backend_hcl.dev"]+withFallback(t, a["tofu_encryption_hcl.dev"])+consumerConfig, endpoint, users["dev"].env()...)
	migrate.mustInitApply("while-migrating")

	config := a["backend_hcl.dev"] + a["tofu_encryption_hcl.dev"] + consumerConfig
	c := newConsumer(t, tofu, config, endpoint, users["dev"].env()...)
	if out, err := c.init(); err != nil {
		return fmt.Errorf("dev's tofu init: %w\n%s", err, out)
	}
	if out, err := c.run(ctx, "plan", "-no-color", "-input=false", "-detailed-exitcode", "-var", "release=while-migrating"); err != nil {
		return fmt.Errorf("the enforced configuration after the migration apply (want no changes): %w\n%s", err, out)
	}
	// The apply holds its locks a while: the lock file is seen, encrypted
	// as the bucket policy demands.
	var (
		wg     sync.WaitGroup
		out    string
		errApp error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, errApp = c.apply(ctx, tofuMarker, 5)
	}()
	var lockSSE, lockKey string
	seen := waitFor(60*time.Second, func() bool {
		h, err := admin.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(stateKey + ".tflock")})
		if err != nil {
			return false
		}
		lockSSE, lockKey = string(h.ServerSideEncryption), aws.ToString(h.SSEKMSKeyId)
		return true
	})
	wg.Wait()
	if errApp != nil {
		return fmt.Errorf("dev's tofu apply with tofu_encryption_hcl.dev: %w\n%s", errApp, out)
	}
	if !seen {
		return fmt.Errorf("dev's tofu apply never held a lock file at %s.tflock:\n%s", stateKey, out)
	}
	if lockSSE != "aws:kms" || lockKey != a["kms_key_arn"] {
		return fmt.Errorf("the lock file is encrypted with %s %s, want aws:kms with the backend key %s", lockSSE, lockKey, a["kms_key_arn"])
	}

	// The raw state object: ciphertext only.
	obj, err := admin.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &stateKey})
	if err != nil {
		return fmt.Errorf("reading the state object: %w", err)
	}
	body, err := io.ReadAll(obj.Body)
	_ = obj.Body.Close()
	if err != nil {
		return err
	}
	for _, clear := range []string{tofuMarker, "terraform_data", `"resources"`, `"outputs"`} {
		if strings.Contains(string(body), clear) {
			return fmt.Errorf("the state object holds %q in the clear:\n%s", clear, body)
		}
	}
	var envelope struct {
		Meta          map[string]string `json:"meta"`
		EncryptedData string            `json:"encrypted_data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil || envelope.EncryptedData == "" {
		return fmt.Errorf("the state object is not OpenTofu's encrypted form (%v):\n%.400s", err, body)
	}
	blob, err := dataKeyBlob(envelope.Meta)
	if err != nil {
		return err
	}

	// OpenTofu reads it back: the same release plans no change.
	if out, err := c.run(ctx, "plan", "-no-color", "-input=false", "-detailed-exitcode", "-var", "release="+tofuMarker); err != nil {
		return fmt.Errorf("dev's tofu plan after the encrypted apply (want no changes): %w\n%s", err, out)
	}

	// The state's data key: dev's user decrypts it, prod's cannot.
	decrypt := func(k accessKey) error {
		cl := kms.New(admin.KMS.Options(), func(o *kms.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider(k.id, k.secret, "")
			o.Retryer = aws.NopRetryer{}
		})
		_, err := cl.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, KeyId: aws.String(a["tofu_encryption_key_arns.dev"])})
		return err
	}
	if err := decrypt(users["dev"]); err != nil {
		return fmt.Errorf("dev's user decrypting dev's state data key: %w", err)
	}
	if err := decrypt(users["prod"]); !forbidden(err) {
		return fmt.Errorf("prod's user decrypting dev's state data key: %v, want HTTP 403", err)
	}
	t.Logf("OpenTofu %s: dev's state stored as ciphertext (%d bytes, no attribute in the clear), read back by a plan without changes; "+
		"its data key decrypted by dev's user and refused to prod's; the lock file SSE-KMS with the backend key", tofu.Version, len(body))
	t.Log("emulator gap: moto does not evaluate key policies (only identity policies, against the key ARN by the harness), " +
		"so the access-block grants on the encryption keys are proven by the rendered documents (internal/policies TestTofuKeyPolicy)")
	return nil
}

// withFallback is the guide's migration form of an encryption block: state
// written with aes_gcm, an unencrypted state still read (fallback), not yet
// enforced.
func withFallback(t *testing.T, hcl string) string {
	t.Helper()
	const enforced = `    state {
      method   = method.aes_gcm.securestate
      enforced = true
    }`
	if !strings.Contains(hcl, enforced) {
		t.Fatalf("tofu_encryption_hcl has no enforced state block:\n%s", hcl)
	}
	return strings.Replace(hcl, enforced, `    method "unencrypted" "migrate" {}
    state {
      method = method.aes_gcm.securestate
      fallback {
        method = method.unencrypted.migrate
      }
    }`, 1)
}

// dataKeyBlob is the KMS ciphertext of the data key in an OpenTofu
// encrypted state's metadata (the aws_kms key provider's, base64 JSON).
func dataKeyBlob(meta map[string]string) ([]byte, error) {
	for provider, encoded := range meta {
		if !strings.HasPrefix(provider, "key_provider.aws_kms.") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			return nil, fmt.Errorf("key provider metadata %s: %w", provider, err)
		}
		var m struct {
			CiphertextBlob []byte `json:"ciphertext_blob"`
		}
		if err := json.Unmarshal(raw, &m); err != nil || len(m.CiphertextBlob) == 0 {
			return nil, fmt.Errorf("key provider metadata %s holds no ciphertext_blob: %v", provider, err)
		}
		return m.CiphertextBlob, nil
	}
	return nil, fmt.Errorf("the encrypted state names no aws_kms key provider: %v", meta)
}

// proveTofuKeysRemoved: without tofu_encryption, the outputs are null, the
// keys are pending deletion (recoverable for the deletion window) and the
// environments' policies no longer grant them.
func proveTofuKeysRemoved(t *testing.T, a map[string]string, keys map[string]string) error {
	ctx := context.Background()
	admin := acctest.Client(t)
	if a["tofu_encryption_hcl.%"] != "" || a["tofu_encryption_key_arns.%"] != "" {
		return fmt.Errorf("tofu_encryption_hcl/key_arns still set without tofu_encryption")
	}
	for env, key := range keys {
		d, err := admin.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key)})
		if err != nil {
			return fmt.Errorf("%s's encryption key %s: %w", env, key, err)
		}
		if d.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion {
			return fmt.Errorf("%s's encryption key is %s after tofu_encryption was switched off, want PendingDeletion", env, d.KeyMetadata.KeyState)
		}
		doc, err := policyDocument(ctx, admin, a["policy_arns."+env])
		if err != nil {
			return err
		}
		if strings.Contains(doc, key) {
			return fmt.Errorf("%s's policy still grants its encryption key:\n%s", env, doc)
		}
	}
	t.Log("tofu_encryption off: both keys pending deletion, no longer granted by the environments' policies")
	return nil
}

// policyDocument is the default version of a managed policy.
func policyDocument(ctx context.Context, c *awsclient.Client, arn string) (string, error) {
	p, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn})
	if err != nil {
		return "", err
	}
	v, err := c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return "", err
	}
	return aws.ToString(v.PolicyVersion.Document), nil
}

// TestAccEmulator_kmsAuthorisedPerKey proves the harness's KMS authorisation
// (scripts/emulator/server.py kms_resource): on the IAM-enforcing emulator,
// an identity policy granting one key allows that key, by key ARN, alias
// name and alias ARN, and a Decrypt naming no key, and refuses another key.
// On plain moto (every KMS call authorised against "*") both would be
// refused.
func TestAccEmulator_kmsAuthorisedPerKey(t *testing.T) {
	asEnforcedAdmin(t)
	ctx := context.Background()
	admin := acctest.Client(t)
	mine, other := makeKey(ctx, t, admin), makeKey(ctx, t, admin)
	alias := "alias/" + acctest.RandomName("mine")
	if _, err := admin.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: &mine}); err != nil {
		t.Fatal(err)
	}
	user := acctest.RandomName("kmsuser")
	k, err := newUser(ctx, admin.IAM, user)
	if err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":%q}]}`, mine)
	if _, err := admin.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &user, PolicyName: aws.String("one-key"), PolicyDocument: &policy}); err != nil {
		t.Fatal(err)
	}
	cl := kms.New(admin.KMS.Options(), func(o *kms.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(k.id, k.secret, "")
		o.Retryer = aws.NopRetryer{}
	})
	aliasARN := strings.Replace(mine, ":key/", ":alias/", 1)
	aliasARN = aliasARN[:strings.LastIndex(aliasARN, ":alias/")] + ":" + alias
	for _, ref := range []string{mine, alias, aliasARN} {
		dk, err := cl.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(ref), KeySpec: kmstypes.DataKeySpecAes256})
		if err != nil {
			t.Fatalf("GenerateDataKey with the granted key as %s: %s", ref, err)
		}
		if _, err := cl.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob}); err != nil {
			t.Fatalf("Decrypt (no KeyId) of the granted key's data key: %s", err)
		}
	}
	if _, err := cl.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(other), KeySpec: kmstypes.DataKeySpecAes256}); !forbidden(err) {
		t.Fatalf("GenerateDataKey with a key not granted: %v, want HTTP 403", err)
	}
	theirs, err := admin.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(other), KeySpec: kmstypes.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: theirs.CiphertextBlob}); !forbidden(err) {
		t.Fatalf("Decrypt (no KeyId) of another key's data key: %v, want HTTP 403", err)
	}
	t.Log("KMS requests authorised against the key they name (key ARN, alias, alias ARN, or the ciphertext's key): granted key allowed, other key refused")
}

func makeKey(ctx context.Context, t *testing.T, c *awsclient.Client) string {
	t.Helper()
	k, err := c.KMS.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("harness test")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.KMS.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: k.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)})
	})
	return aws.ToString(k.KeyMetadata.Arn)
}
