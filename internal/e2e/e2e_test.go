package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

func backendConfig(name, extra string) string {
	return acctest.ProviderConfig + fmt.Sprintf(`
resource "securestate_backend" "test" {
  name          = %q
  environments  = ["dev", "prod"]
  force_destroy = true # the consumers leave state behind
%s
}
`, name, extra)
}

// Proofs 1, 3 and 5 (locking "both", the default), under Terraform and then
// OpenTofu on the same state: a consumer's init and apply store state at
// dev/..., written by that CLI, encrypted with the
// backend's own key; a second apply keeps the previous version; the state
// object is refused over plain HTTP; uploads encrypted otherwise are refused.
func TestAccE2E_consumerStateEncryptedVersionedTLSOnly(t *testing.T) {
	name := acctest.RandomName("e2e")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: backendConfig(name, defaultLocking(t)),
			Check: func(s *terraform.State) error {
				a, err := attrs(s, "securestate_backend.test")
				if err != nil {
					return err
				}
				bucket, keyARN, stateKey := a["bucket"], a["kms_key_arn"], "dev/terraform.tfstate"
				cl := acctest.Client(t).S3
				ctx := context.Background()
				// Terraform creates the state, OpenTofu continues it; each
				// apply stores a new version, encrypted with the backend key.
				applies := 0
				for _, cli := range acctest.CLIs(t) {
					c := newConsumer(t, cli, a["backend_hcl.dev"]+consumerConfig, os.Getenv("AWS_ENDPOINT_URL"))
					c.mustInitApply("1-" + cli.Name)
					if out, err := c.apply(ctx, "2-"+cli.Name, 0); err != nil {
						return fmt.Errorf("%s second apply: %w\n%s", cli, err, out)
					}
					applies += 2
					got, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &stateKey})
					if err != nil {
						return fmt.Errorf("state object s3://%s/%s: %w", bucket, stateKey, err)
					}
					body, _ := io.ReadAll(got.Body)
					_ = got.Body.Close()
					if got.ServerSideEncryption != "aws:kms" || aws.ToString(got.SSEKMSKeyId) != keyARN {
						return fmt.Errorf("%s: state object encryption = %s with %s, want aws:kms with %s", cli, got.ServerSideEncryption, aws.ToString(got.SSEKMSKeyId), keyARN)
					}
					if err := c.writtenBy(body); err != nil {
						return err
					}
					t.Logf("%s: state at s3://%s/%s, SSE-KMS with %s", cli, bucket, stateKey, keyARN)
				}
				versions, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &stateKey})
				if err != nil {
					return err
				}
				n := 0
				for _, v := range versions.Versions {
					if aws.ToString(v.Key) == stateKey {
						n++
					}
				}
				if n < applies {
					return fmt.Errorf("state object has %d versions after %d applies, want at least %d", n, applies, applies)
				}

				// Proof 3: the bucket policy refuses the state object over plain HTTP.
				plain := s3.New(cl.Options(), func(o *s3.Options) { o.BaseEndpoint = aws.String(acctest.PlainHTTPEndpoint(t)) })
				_, err = plain.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &stateKey})
				var re *smithyhttp.ResponseError
				if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
					return fmt.Errorf("plain HTTP GetObject of the state: %v, want HTTP 403", err)
				}
				got, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &stateKey})
				if err != nil {
					return fmt.Errorf("HTTPS GetObject of the state: %w", err)
				}
				body, _ := io.ReadAll(got.Body)
				_ = got.Body.Close()
				if !strings.Contains(string(body), `"terraform_data"`) {
					return fmt.Errorf("state object does not hold the consumer's state")
				}
				return uploadsNeedTheBackendKey(ctx, cl, bucket, keyARN)
			},
		}},
	})
}

// uploadsNeedTheBackendKey proves the bucket policy's encryption rules: an
// object is accepted with no encryption headers (the bucket default, the
// backend key) or with SSE-KMS naming the backend key, and refused with any
// other encryption, another key, or SSE-KMS naming no key (which AWS would
// encrypt with the aws/s3 managed key).
func uploadsNeedTheBackendKey(ctx context.Context, cl *s3.Client, bucket, keyARN string) error {
	otherKey := keyARN[:strings.LastIndex(keyARN, "/")+1] + "00000000-0000-0000-0000-000000000000"
	cases := []struct {
		name    string
		sse     s3types.ServerSideEncryption
		key     string
		refused bool
	}{
		{"no encryption headers", "", "", false},
		{"SSE-KMS with the backend key", s3types.ServerSideEncryptionAwsKms, keyARN, false},
		{"SSE-S3", s3types.ServerSideEncryptionAes256, "", true},
		{"SSE-KMS naming no key", s3types.ServerSideEncryptionAwsKms, "", true},
		{"SSE-KMS with another key", s3types.ServerSideEncryptionAwsKms, otherKey, true},
	}
	for i, c := range cases {
		in := &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(fmt.Sprintf("dev/upload-check-%d", i)), Body: strings.NewReader("x"), ServerSideEncryption: c.sse}
		if c.key != "" {
			in.SSEKMSKeyId = aws.String(c.key)
		}
		_, err := cl.PutObject(ctx, in)
		var re *smithyhttp.ResponseError
		refused := errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
		switch {
		case c.refused && !refused:
			return fmt.Errorf("upload with %s: %v, want HTTP 403 from the bucket policy", c.name, err)
		case !c.refused && err != nil:
			return fmt.Errorf("upload with %s: %w", c.name, err)
		}
	}
	return nil
}

// Proof 2 (and 5 for every mode): while one apply holds the lock, a second
// apply on the same state is refused because of that lock — Terraform's lock
// error shows the holder's lock ID — and leaves the state unchanged. With
// "both" the holder takes the lock file and the DynamoDB item, and either
// refuses the contender.
func TestAccE2E_locking(t *testing.T) {
	for _, mode := range lockingModes(t) {
		t.Run(mode, func(t *testing.T) {
			name := acctest.RandomName("lock")
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: backendConfig(name, fmt.Sprintf("  locking = %q", mode)),
					Check: func(s *terraform.State) error {
						// Each CLI holds the lock once and is refused once:
						// a Terraform run and an OpenTofu run on one state
						// exclude each other in every mode.
						clis := acctest.CLIs(t)
						for i, holder := range clis {
							if err := proveLocking(t, s, mode, holder, clis[(i+1)%len(clis)]); err != nil {
								return err
							}
						}
						return nil
					},
				}},
			})
		})
	}
}

// lockInfo is the part of Terraform's lock record the proof reads (the same
// JSON in a DynamoDB item's Info attribute and in a .tflock object).
type lockInfo struct {
	ID        string
	Operation string
}

func proveLocking(t *testing.T, s *terraform.State, mode string, holderCLI, contenderCLI acctest.CLI) error {
	a, err := attrs(s, "securestate_backend.test")
	if err != nil {
		return err
	}
	bucket, stateKey := a["bucket"], "dev/terraform.tfstate"
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	holder := newConsumer(t, holderCLI, a["backend_hcl.dev"]+consumerConfig, endpoint)
	holder.mustInitApply("1")
	contender := newConsumer(t, contenderCLI, a["backend_hcl.dev"]+consumerConfig, endpoint)
	if out, err := contender.init(); err != nil {
		return fmt.Errorf("contender init: %w\n%s", err, out)
	}

	c := acctest.Client(t)
	ctx := context.Background()
	latest := func() string {
		v, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &stateKey})
		if err != nil {
			return "error: " + err.Error()
		}
		return aws.ToString(v.VersionId)
	}
	// locks returns the lock records held now: the lock file's and the
	// DynamoDB item's, as the mode uses them.
	locks := func() (map[string]lockInfo, error) {
		held := map[string]lockInfo{}
		if mode != "dynamodb" {
			obj, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(stateKey + ".tflock")})
			if err == nil {
				body, err := io.ReadAll(obj.Body)
				_ = obj.Body.Close()
				var info lockInfo
				if err != nil || json.Unmarshal(body, &info) != nil {
					return nil, fmt.Errorf("lock file holds no lock record: %q (%v)", body, err)
				}
				held["lock file"] = info
			}
		}
		if mode != "lockfile" {
			out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a["lock_table_name"]),
				Key: map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: bucket + "/" + stateKey}}})
			if err != nil {
				return nil, err
			}
			if item, ok := out.Item["Info"].(*ddbtypes.AttributeValueMemberS); ok {
				var info lockInfo
				if err := json.Unmarshal([]byte(item.Value), &info); err != nil {
					return nil, fmt.Errorf("lock item holds no lock record: %q", item.Value)
				}
				held["lock item"] = info
			}
		}
		return held, nil
	}
	want := map[string][]string{"both": {"lock file", "lock item"}, "dynamodb": {"lock item"}, "lockfile": {"lock file"}}[mode]
	lockHeld := func() bool {
		held, err := locks()
		return err == nil && len(held) == len(want)
	}

	var (
		wg        sync.WaitGroup
		holderOut string
		holderErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		holderOut, holderErr = holder.apply(ctx, "2", 8)
	}()
	if !waitFor(60*time.Second, lockHeld) {
		wg.Wait()
		return fmt.Errorf("the %s lock (%v) never appeared while apply ran:\n%s", mode, want, holderOut)
	}
	held, err := locks()
	if err != nil {
		wg.Wait()
		return err
	}
	holderLock := held[want[0]]
	for kind, info := range held {
		if info.ID != holderLock.ID || info.ID == "" {
			wg.Wait()
			return fmt.Errorf("%s lock: the %s holds lock %q, the %s %q", mode, kind, info.ID, want[0], holderLock.ID)
		}
	}
	before := latest()
	out, err := contender.apply(ctx, "3", 0)
	after := latest()
	wg.Wait()

	// Refused because of the holder's lock, not for any other reason
	// (access denied, a missing table) that Terraform also reports as
	// "Error acquiring the state lock": its Lock Info names the holder.
	if err == nil || !strings.Contains(out, "Error acquiring the state lock") || !strings.Contains(out, "Lock Info:") ||
		!regexp.MustCompile(`ID:\s+`+regexp.QuoteMeta(holderLock.ID)).MatchString(out) {
		return fmt.Errorf("%s apply while %s holds the %s lock %s: err %v, want the lock error naming that lock; output:\n%s", contenderCLI, holderCLI, mode, holderLock.ID, err, out)
	}
	if before != after || strings.HasPrefix(before, "error") {
		return fmt.Errorf("state changed while the %s lock was held: version %s -> %s", mode, before, after)
	}
	if holderErr != nil {
		return fmt.Errorf("the lock holder's apply failed: %w\n%s", holderErr, holderOut)
	}
	if held, err := locks(); err != nil || len(held) != 0 {
		return fmt.Errorf("the %s lock is still held after the holder finished: %v %v", mode, held, err)
	}
	if after := latest(); after == before {
		return fmt.Errorf("the holder's apply stored no new state version after releasing the %s lock", mode)
	}
	t.Logf("%s locking: %s's apply refused by %s's lock %s (%s), state version %s unchanged meanwhile", mode, contenderCLI, holderCLI, holderLock.ID, holderLock.Operation, before)
	return nil
}
