package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// consumerAccount is the account whose roles use the backend of the
// provider's account (123456789012 on the emulator).
const consumerAccount = "222222222222"

// session holds the credentials of an assumed role.
type session struct{ arn, id, secret, token string }

func newSession(out *sts.AssumeRoleOutput) session {
	return session{aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)}
}

func (s session) env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.id, "AWS_SECRET_ACCESS_KEY=" + s.secret, "AWS_SESSION_TOKEN=" + s.token}
}

func (s session) credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.id, s.secret, s.token)
}

// as returns S3, DynamoDB, IAM and STS clients like c's, acting as s.
func (s session) as(c *awsclient.Client) (*s3.Client, *dynamodb.Client, *iam.Client, *sts.Client) {
	creds := s.credentials()
	return s3.New(c.S3.Options(), func(o *s3.Options) { o.Credentials = creds }),
		dynamodb.New(c.DynamoDB.Options(), func(o *dynamodb.Options) { o.Credentials = creds }),
		iam.New(c.IAM.Options(), func(o *iam.Options) { o.Credentials = creds }),
		sts.New(c.STS.Options(), func(o *sts.Options) { o.Credentials = creds })
}

// crossAccountSetupRequests is how many requests the test makes before IAM
// enforcement starts: an administrator user in the provider's account
// (CreateUser, CreateAccessKey, PutUserPolicy), then an administrator role
// in the consumer account: AssumeRole into it (moto needs no existing role
// and its credentials act in that account), CreateRole and PutRolePolicy with
// those credentials. The session stays valid once enforcement starts, and is
// authorised by the role's policy in its own account.
const crossAccountSetupRequests = 6

// The central-account pattern on an emulator that enforces IAM: an
// administrator of 123456789012 applies a backend whose access block grants
// dev to two roles of 222222222222, a deployer (read-write) and an auditor
// (read-only). Those roles hold nothing but access_policy_documents["dev"],
// and each can do exactly what its document says with the backend's own
// configuration (lock table by ARN): the deployer inits, applies and locks dev
// with Terraform and is refused prod; the auditor reads dev's states and
// versions (and plans with -lock=false) and is refused every write, every lock
// and prod. Not parallel: enforceIAM resets a counter global to the instance.
func TestAccE2E_crossAccountAccess(t *testing.T) {
	acctest.PreCheck(t)
	endpoint := os.Getenv("SECURESTATE_EMULATOR_IAM_ENDPOINT")
	if endpoint == "" {
		t.Fatal("SECURESTATE_EMULATOR_IAM_ENDPOINT is not set: make test starts the IAM-enforcing emulator instance")
	}
	ctx := context.Background()
	locking := defaultLocking(t)

	enforceIAM(t, endpoint, crossAccountSetupRequests)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	bootstrap, err := awsclient.New(ctx, awsclient.Settings{SkipCredentialsValidation: true}, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	allowAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	adminName := acctest.RandomName("admin")
	admin, err := newUser(ctx, bootstrap.IAM, adminName)
	if err != nil {
		t.Fatalf("creating the administrator: %s", err)
	}
	if _, err := bootstrap.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &adminName, PolicyName: aws.String("admin"), PolicyDocument: &allowAll}); err != nil {
		t.Fatalf("granting the administrator: %s", err)
	}
	otherAdmin := bootstrapAccountAdmin(ctx, t, bootstrap, allowAll)
	t.Setenv("AWS_ACCESS_KEY_ID", admin.id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", admin.secret)

	// The roles exist before the backend names them (AWS refuses a policy
	// naming a principal that does not exist); their policies come later,
	// from the backend's access_policy_documents.
	c := acctest.Client(t)
	_, _, otherIAM, _ := otherAdmin.as(c)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}]}`, otherAdmin.arn)
	roles := map[string]string{}
	for _, kind := range []string{"dev-deployer", "auditor"} {
		name := acctest.RandomName(kind)
		out, err := otherIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: &trust})
		if err != nil {
			t.Fatalf("creating role %s in %s: %s", name, consumerAccount, err)
		}
		roles[kind] = aws.ToString(out.Role.Arn)
	}

	name := acctest.RandomName("xacct")
	access := fmt.Sprintf(`%s
  access {
    environment = "dev"
    principals  = [%q]
    read_only   = [%q]
  }`, locking, roles["dev-deployer"], roles["auditor"])
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: backendConfig(name, access),
			Check: func(s *terraform.State) error {
				return proveCrossAccount(t, s, endpoint, otherAdmin, roles)
			},
		}},
	})
}

// bootstrapAccountAdmin makes an administrator role in consumerAccount with
// three unauthenticated requests and returns its session.
func bootstrapAccountAdmin(ctx context.Context, t *testing.T, bootstrap *awsclient.Client, allowAll string) session {
	t.Helper()
	roleName := acctest.RandomName("xacct-admin")
	out, err := bootstrap.STS.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s", consumerAccount, roleName)),
		RoleSessionName: aws.String("bootstrap"),
	})
	if err != nil {
		t.Fatalf("assuming the administrator role of %s: %s", consumerAccount, err)
	}
	s := newSession(out)
	_, _, cIAM, _ := s.as(bootstrap)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, consumerAccount)
	if _, err := cIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &roleName, AssumeRolePolicyDocument: &trust}); err != nil {
		t.Fatalf("creating the administrator role in %s: %s", consumerAccount, err)
	}
	if _, err := cIAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &roleName, PolicyName: aws.String("admin"), PolicyDocument: &allowAll}); err != nil {
		t.Fatalf("granting the administrator role in %s: %s", consumerAccount, err)
	}
	return s
}

func proveCrossAccount(t *testing.T, s *terraform.State, endpoint string, otherAdmin session, roles map[string]string) error {
	ctx := context.Background()
	a, err := attrs(s, "securestate_backend.test")
	if err != nil {
		return err
	}
	bucket, table, account := a["bucket"], a["lock_table_name"], a["account_id"]
	admin := acctest.Client(t)
	if account == consumerAccount || admin.AccountID != account {
		return fmt.Errorf("backend account %s, administrator account %s: want both outside %s", account, admin.AccountID, consumerAccount)
	}

	// The consumer configuration must work from another account: the lock
	// table named by its ARN (a name would be looked up in the caller's own
	// account), the key by its ARN.
	tableARN := a["backend_config.dev.dynamodb_table"]
	if table != "" && (!strings.HasPrefix(tableARN, "arn:") || !strings.Contains(tableARN, ":"+account+":table/"+table) ||
		!strings.Contains(a["backend_hcl.dev"], fmt.Sprintf("%q", tableARN))) {
		return fmt.Errorf("with access blocks the dev backend configuration names lock table %q (backend_hcl:\n%s), want the ARN of %s in %s", tableARN, a["backend_hcl.dev"], table, account)
	}
	if !strings.Contains(a["backend_hcl.dev"], fmt.Sprintf("%q", a["kms_key_arn"])) {
		return fmt.Errorf("backend_hcl.dev does not name the key by its ARN %s:\n%s", a["kms_key_arn"], a["backend_hcl.dev"])
	}

	// Someone else's prod state, which the grantees must not reach.
	prodKey := "prod/terraform.tfstate"
	if _, err := admin.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &prodKey, Body: strings.NewReader(`{"version":4}`)}); err != nil {
		return fmt.Errorf("admin writing prod state: %w", err)
	}

	// The roles get only the documents, as managed policies of their account.
	_, _, otherIAM, otherSTS := otherAdmin.as(admin)
	sessions := map[string]session{}
	for kind, doc := range map[string]string{"dev-deployer": "read_write", "auditor": "read_only"} {
		roleName := roles[kind][strings.LastIndex(roles[kind], "/")+1:]
		document := a["access_policy_documents.dev."+doc]
		if document == "" {
			return fmt.Errorf("access_policy_documents.dev.%s is empty", doc)
		}
		p, err := otherIAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(roleName + "-" + doc), PolicyDocument: &document})
		if err != nil {
			return fmt.Errorf("creating the %s policy in %s: %w", doc, consumerAccount, err)
		}
		if _, err := otherIAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &roleName, PolicyArn: p.Policy.Arn}); err != nil {
			return fmt.Errorf("attaching the %s policy to %s: %w", doc, roleName, err)
		}
		out, err := otherSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roles[kind]), RoleSessionName: aws.String(kind)})
		if err != nil {
			return fmt.Errorf("assuming %s: %w", roles[kind], err)
		}
		sessions[kind] = newSession(out)
		who, err := sts.New(otherSTS.Options(), func(o *sts.Options) { o.Credentials = sessions[kind].credentials() }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(who.Account) != consumerAccount {
			return fmt.Errorf("%s session identity %v, %v: want account %s", kind, who, err, consumerAccount)
		}
	}

	var proofs []string
	for _, cli := range acctest.CLIs(t) {
		if err := proveDeployer(t, cli, a, endpoint, admin, sessions["dev-deployer"], &proofs); err != nil {
			return err
		}
		if err := proveAuditor(t, cli, a, endpoint, admin, sessions["auditor"], &proofs); err != nil {
			return err
		}
	}
	for _, p := range proofs {
		t.Logf("cross-account (%s): %s", consumerAccount, p)
	}
	t.Log("emulator gap: moto evaluates only the caller's identity policies for a caller of another account, not the bucket, key or table " +
		"resource policies, and no KMS permission; those grants are proven by the rendered documents (internal/policies, acctest.CheckHardened)")
	return nil
}

// lockState reads, as the backend's administrator, the lock records held now
// on a state: the DynamoDB item's and the lock file's (lockInfo, from
// e2e_test.go), as the locking mode uses them.
func lockState(ctx context.Context, admin *awsclient.Client, a map[string]string, stateKey string) (map[string]lockInfo, error) {
	bucket, table := a["bucket"], a["lock_table_name"]
	held := map[string]lockInfo{}
	if a["backend_config.dev.use_lockfile"] == "true" {
		obj, err := admin.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(stateKey + ".tflock")})
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
	if table != "" {
		out, err := admin.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: lockID(bucket + "/" + stateKey)})
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

func lockID(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: id}}
}

func proveDeployer(t *testing.T, cli acctest.CLI, a map[string]string, endpoint string, admin *awsclient.Client, dev session, proofs *[]string) error {
	ctx := context.Background()
	bucket, table, stateKey := a["bucket"], a["lock_table_name"], "dev/terraform.tfstate"
	var want []string
	if table != "" {
		want = append(want, "lock item")
	}
	if a["backend_config.dev.use_lockfile"] == "true" {
		want = append(want, "lock file")
	}
	if len(want) == 0 {
		return fmt.Errorf("the backend configuration uses neither a lock table nor a lock file: %v", a["backend_hcl.dev"])
	}

	// Init and apply; then a second apply that holds its locks a while, so the
	// locks it takes in the central table and bucket can be seen.
	c := newConsumer(t, cli, a["backend_hcl.dev"]+consumerConfig, endpoint, dev.env()...)
	if out, err := c.init(); err != nil {
		return fmt.Errorf("dev-deployer's %s init on dev: %w\n%s", cli, err, out)
	}
	if out, err := c.apply(ctx, "1", 0); err != nil {
		return fmt.Errorf("dev-deployer's first %s apply on dev: %w\n%s", cli, err, out)
	}
	var (
		wg     sync.WaitGroup
		out    string
		errApp error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, errApp = c.apply(ctx, "2", 6)
	}()
	var held map[string]lockInfo
	seen := waitFor(60*time.Second, func() bool {
		h, err := lockState(ctx, admin, a, stateKey)
		if err == nil && len(h) == len(want) {
			held = h
			return true
		}
		return false
	})
	wg.Wait()
	if !seen {
		return fmt.Errorf("the deployer's apply never held its locks (%v) in the central account:\n%s", want, out)
	}
	if errApp != nil {
		return fmt.Errorf("the deployer's second %s apply: %w\n%s", cli, errApp, out)
	}
	ids := map[string]bool{}
	for _, info := range held {
		ids[info.ID] = true
	}
	if len(ids) != 1 || ids[""] {
		return fmt.Errorf("the deployer's locks %v do not share one lock ID", held)
	}
	if after, err := lockState(ctx, admin, a, stateKey); err != nil || len(after) != 0 {
		return fmt.Errorf("the deployer's locks are still held after its apply: %v %v", after, err)
	}
	*proofs = append(*proofs, fmt.Sprintf("dev-deployer's %s applied dev twice, taking and releasing the %s in the central account", cli, strings.Join(want, " and ")))
	if table != "" {
		digest, err := admin.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: lockID(bucket + "/" + stateKey + "-md5")})
		if err != nil || len(digest.Item) == 0 {
			return fmt.Errorf("the deployer's state digest is not in the central lock table %s: %v", table, err)
		}
		*proofs = append(*proofs, "dev-deployer's state digest "+bucket+"/"+stateKey+"-md5 is in the central table, reached by its ARN")
	}

	// Terraform on prod fails.
	p := newConsumer(t, cli, a["backend_hcl.prod"]+consumerConfig, endpoint, dev.env()...)
	pout, err := p.init()
	if err == nil {
		pout, err = p.apply(ctx, "1", 0)
	}
	if err == nil || !refusedOnProd(cli, pout) {
		return fmt.Errorf("dev-deployer's %s on prod state: err %v, want access denied on prod/; output:\n%s", cli, err, pout)
	}
	*proofs = append(*proofs, fmt.Sprintf("dev-deployer's %s on prod's backend configuration is refused (access denied on prod/)", cli))

	// And directly.
	cs3, cddb, _, _ := dev.as(admin)
	checks := map[string]error{}
	_, checks["GetObject prod/terraform.tfstate"] = cs3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("prod/terraform.tfstate")})
	_, checks["PutObject prod/terraform.tfstate"] = cs3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("prod/terraform.tfstate"), Body: strings.NewReader("{}")})
	if table != "" {
		_, checks["PutItem of prod's lock item by table ARN"] = cddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a["backend_config.prod.dynamodb_table"]),
			Item: lockID(bucket + "/prod/terraform.tfstate")})
	}
	if err := allForbidden("dev-deployer", checks); err != nil {
		return err
	}
	*proofs = append(*proofs, "dev-deployer refused: "+names(checks))
	return nil
}

func proveAuditor(t *testing.T, cli acctest.CLI, a map[string]string, endpoint string, admin *awsclient.Client, auditor session, proofs *[]string) error {
	ctx := context.Background()
	bucket, table, stateKey := a["bucket"], a["lock_table_name"], "dev/terraform.tfstate"
	cs3, cddb, _, _ := auditor.as(admin)

	// Reads: the state, its versions, an older version.
	obj, err := cs3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &stateKey})
	if err != nil {
		return fmt.Errorf("auditor GetObject %s: %w", stateKey, err)
	}
	body, err := io.ReadAll(obj.Body)
	_ = obj.Body.Close()
	if err != nil || !strings.Contains(string(body), `"terraform_data"`) {
		return fmt.Errorf("auditor's read of %s does not hold the deployer's state (%v)", stateKey, err)
	}
	versions, err := cs3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String("dev/")})
	if err != nil {
		return fmt.Errorf("auditor ListObjectVersions prefix dev/: %w", err)
	}
	var older string
	n := 0
	for _, v := range versions.Versions {
		if aws.ToString(v.Key) == stateKey {
			n++
			if !aws.ToBool(v.IsLatest) {
				older = aws.ToString(v.VersionId)
			}
		}
	}
	if n < 2 || older == "" {
		return fmt.Errorf("auditor sees %d versions of %s (older %q) after the deployer's applies, want at least 2", n, stateKey, older)
	}
	if _, err := cs3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &stateKey, VersionId: &older}); err != nil {
		return fmt.Errorf("auditor GetObject %s version %s: %w", stateKey, older, err)
	}
	*proofs = append(*proofs, fmt.Sprintf("auditor read %s, listed its %d versions under dev/ and read version %s", stateKey, n, older))

	// Terraform: a plan without locking reads the state (and its digest);
	// an apply cannot take the lock.
	c := newConsumer(t, cli, a["backend_hcl.dev"]+consumerConfig, endpoint, auditor.env()...)
	if out, err := c.init(); err != nil {
		return fmt.Errorf("auditor's %s init on dev: %w\n%s", cli, err, out)
	}
	if out, err := c.run(ctx, "plan", "-no-color", "-input=false", "-lock=false", "-var", "release=2", "-detailed-exitcode"); err != nil {
		return fmt.Errorf("auditor's %s plan -lock=false on dev (want no changes): %w\n%s", cli, err, out)
	}
	out, err := c.apply(ctx, "3", 0)
	if err == nil || !strings.Contains(out, "Error acquiring the state lock") || !strings.Contains(out, "AccessDenied") && !strings.Contains(out, "403") {
		return fmt.Errorf("auditor's %s apply on dev: err %v, want the lock refused with access denied; output:\n%s", cli, err, out)
	}
	*proofs = append(*proofs, fmt.Sprintf("auditor's %s planned dev with -lock=false (no changes) and could not take the lock to apply", cli))

	checks := map[string]error{}
	_, checks["PutObject dev/terraform.tfstate"] = cs3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &stateKey, Body: strings.NewReader("{}")})
	_, checks["PutObject dev/terraform.tfstate.tflock"] = cs3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(stateKey + ".tflock"), Body: strings.NewReader("{}")})
	_, checks["GetObject prod/terraform.tfstate"] = cs3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("prod/terraform.tfstate")})
	_, checks["PutObject prod/terraform.tfstate"] = cs3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("prod/terraform.tfstate"), Body: strings.NewReader("{}")})
	_, checks["ListObjectVersions prefix prod/"] = cs3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String("prod/")})
	if table != "" {
		_, checks["PutItem of dev's lock item by table ARN"] = cddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a["backend_config.dev.dynamodb_table"]),
			Item: lockID(bucket + "/" + stateKey)})
		_, checks["GetItem of prod's digest by table ARN"] = cddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a["backend_config.prod.dynamodb_table"]),
			Key: lockID(bucket + "/prod/terraform.tfstate-md5")})
	}
	if err := allForbidden("auditor", checks); err != nil {
		return err
	}
	*proofs = append(*proofs, "auditor refused: "+names(checks))
	return nil
}

func allForbidden(who string, checks map[string]error) error {
	for what, err := range checks {
		if !forbidden(err) {
			return fmt.Errorf("%s %s: %v, want HTTP 403", who, what, err)
		}
	}
	return nil
}

func names(checks map[string]error) string {
	return strings.Join(slices.Sorted(maps.Keys(checks)), "; ")
}
