package datasource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// The secrets the states hold. None may appear in what the scan returns,
// stores or logs.
const (
	dbPassword = "Tr0ub4dor&3-horse-battery-staple"
	accessKey  = "AKIAIOSFODNN7EXAMPLE"
	secretKey  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	jwtToken   = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaS1kZXBsb3llciIsImlhdCI6MTcwMDAwMDAwMH0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk8"
	keyBody    = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw"
)

var privateKey = "-----BEGIN RSA PRIVATE KEY-----\n" + keyBody + "\n-----END RSA PRIVATE KEY-----\n"

// producer is the configuration whose states are scanned: built-in
// resources only (terraform_data), applied by the real Terraform CLI with an
// S3 backend on the emulator, in the default workspace and in "dev".
const producer = `
terraform {
  backend "s3" {}
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "private_key" {
  type = string
}

resource "terraform_data" "db" {
  input = { engine = "postgres", password = var.db_password }
}

resource "terraform_data" "ci_user" {
  input = { access_key_id = %q, secret_access_key = %q }
}

resource "terraform_data" "tls" {
  input = var.private_key
}

resource "terraform_data" "token" {
  input = %q
}

resource "terraform_data" "clean" {
  input = { bucket_arn = "arn:aws:s3:::acme-assets", etag = "d41d8cd98f00b204e9800998ecf8427e", id = "6f1c0e2a-3d4b-4c5e-9f8a-0b1c2d3e4f50" }
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}
`

// crafted is a state as a provider with secret-bearing resources writes it
// (hashicorp/aws and hashicorp/random are not reachable here): the
// known-attribute rule.
const crafted = `{"version":4,"terraform_version":"1.11.4","serial":3,"lineage":"8c1f0d2e-0000-4000-8000-000000000001","outputs":{},
"resources":[
 {"mode":"managed","type":"aws_iam_access_key","name":"ci","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]",
  "instances":[{"schema_version":0,"attributes":{"id":"AKIAI44QH8DHBEXAMPLE","user":"ci","secret":"%s","status":"Active"},"sensitive_attributes":[]}]},
 {"mode":"managed","type":"random_password","name":"db","provider":"provider[\"registry.terraform.io/hashicorp/random\"]",
  "instances":[{"schema_version":3,"attributes":{"id":"none","length":24,"result":"%s","special":true},"sensitive_attributes":[]}]}
]}`

func put(t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("putting %s: %s", key, err)
	}
}

// terraformIn runs the Terraform CLI in dir.
func terraformIn(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), os.Getenv("TF_ACC_TERRAFORM_PATH"), args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("terraform %s: %s\n%s", strings.Join(args, " "), err, out)
	}
}

// produce applies the producer configuration in two workspaces, so the
// bucket holds app/terraform.tfstate and env:/dev/app/terraform.tfstate.
func produce(t *testing.T, bucket string) {
	t.Helper()
	dir := t.TempDir()
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	files := map[string]string{
		"main.tf": fmt.Sprintf(producer, accessKey, secretKey, jwtToken),
		"backend.tfbackend": fmt.Sprintf(`bucket = %q
key    = "app/terraform.tfstate"
region = %q
endpoints = {
  s3  = %[3]q
  sts = %[3]q
}
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_metadata_api_check     = true
use_lockfile                = true
`, bucket, os.Getenv("AWS_REGION"), endpoint),
		"secrets.auto.tfvars": fmt.Sprintf("db_password = %q\nprivate_key = %q\n", dbPassword, privateKey),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0")
	terraformIn(t, dir, env, "init", "-no-color", "-input=false", "-backend-config=backend.tfbackend")
	terraformIn(t, dir, env, "apply", "-no-color", "-input=false", "-auto-approve")
	terraformIn(t, dir, env, "workspace", "new", "-no-color", "dev")
	terraformIn(t, dir, env, "apply", "-no-color", "-input=false", "-auto-approve")
}

// requiredProviders names the provider the workspace's dev_overrides serve.
const requiredProviders = `
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}
`

type finding struct{ key, address, path, rule string }

// scanValues is the data source's state, as terraform show -json gives it.
type scanValues struct {
	Findings []struct {
		ObjectKey string `json:"object_key"`
		Address   string `json:"address"`
		Path      string `json:"path"`
		Rule      string `json:"rule"`
	} `json:"findings"`
	FindingsCount  int `json:"findings_count"`
	ObjectsScanned int `json:"objects_scanned"`
	Errors         []struct {
		ObjectKey string `json:"object_key"`
		Error     string `json:"error"`
	} `json:"errors"`
}

// scanOf reads the scan's values from the workspace.
func scanOf(t *testing.T, ws *acctest.Workspace) (scanValues, string) {
	t.Helper()
	res, err := ws.Resources()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(res["data.securestate_state_scan.all"])
	if err != nil {
		t.Fatal(err)
	}
	var v scanValues
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v, string(raw)
}

// States written by the real Terraform CLI (two workspaces) and a crafted
// one, beside broken states (truncated, empty, state format 3) and other
// objects: the scan reports where each secret is, by rule, in every state;
// never a secret's value, neither in its result, nor in the scanning
// workspace's state, nor in Terraform's trace log; each broken state is
// reported as an error of its own.
func TestAccStateScan_findsSecretsNeverShowsThem(t *testing.T) {
	acctest.PreCheck(t)
	c := acctest.Client(t)
	bucket := acctest.RandomName("scan")
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyAndDelete(c.S3, bucket) })
	if _, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	produce(t, bucket)
	const randomResult = "x9!Qm#v2Lp@7Rt$4Zk&8Wn*3"
	put(t, c.S3, bucket, "legacy/terraform.tfstate", fmt.Sprintf(crafted, secretKey, randomResult))
	put(t, c.S3, bucket, "broken/terraform.tfstate", `{"version":4,"resources":[{"mode":"managed","type":"x","name":"y","instances":[{"attributes":{"password":"`)
	put(t, c.S3, bucket, "empty/terraform.tfstate", "")
	put(t, c.S3, bucket, "old/terraform.tfstate", `{"version":3,"serial":1,"modules":[{"path":["root"],"resources":{}}]}`)
	put(t, c.S3, bucket, "notes/readme.txt", "password = "+dbPassword)
	put(t, c.S3, bucket, "app/terraform.tfstate.backup", "{}")

	logPath := filepath.Join(t.TempDir(), "trace.log")
	ws := acctest.NewWorkspace(t, requiredProviders+acctest.ProviderConfig+fmt.Sprintf(`
data "securestate_state_scan" "all" {
  bucket = %q
}

output "findings" {
  value = data.securestate_state_scan.all.findings
}
`, bucket), "TF_LOG=trace", "TF_LOG_PATH="+logPath)
	if out, err := ws.Apply(); err != nil {
		t.Fatalf("apply: %s\n%s", err, out)
	}
	scan, raw := scanOf(t, ws)
	var got []finding
	for _, f := range scan.Findings {
		got = append(got, finding{f.ObjectKey, f.Address, f.Path, f.Rule})
	}
	t.Logf("findings: %v", got)
	var want []finding
	for _, key := range []string{"app/terraform.tfstate", "env:/dev/app/terraform.tfstate"} {
		want = append(want,
			finding{key, "terraform_data.db", "input.password", "sensitive_attribute"},
			finding{key, "terraform_data.ci_user", "input.access_key_id", "aws_access_key_id"},
			finding{key, "terraform_data.ci_user", "input.secret_access_key", "aws_secret_access_key"},
			finding{key, "terraform_data.tls", "input", "private_key_block"},
			finding{key, "terraform_data.token", "input", "jwt"},
			finding{key, "output.db_password", "value", "sensitive_attribute"},
		)
	}
	want = append(want,
		finding{"legacy/terraform.tfstate", "aws_iam_access_key.ci", "secret", "known_secret_attribute"},
		finding{"legacy/terraform.tfstate", "random_password.db", "result", "known_secret_attribute"},
	)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no finding %+v", w)
		}
	}
	for _, g := range got {
		if g.address == "terraform_data.clean" {
			t.Errorf("the clean resource was reported: %+v", g)
		}
		if g.key == "notes/readme.txt" || g.key == "app/terraform.tfstate.backup" {
			t.Errorf("an object that is no state was scanned: %+v", g)
		}
	}
	if scan.FindingsCount != len(got) {
		t.Errorf("findings_count = %d, findings %d", scan.FindingsCount, len(got))
	}
	if scan.ObjectsScanned != 6 {
		t.Errorf("objects_scanned = %d, want 6 (two workspaces, legacy, broken, empty, old)", scan.ObjectsScanned)
	}
	wantErrs := []struct{ key, kind string }{{"broken/terraform.tfstate", "malformed state"}, {"empty/terraform.tfstate", "empty state"}, {"old/terraform.tfstate", "unsupported state version"}}
	if len(scan.Errors) != len(wantErrs) {
		t.Errorf("errors = %v, want %v", scan.Errors, wantErrs)
	} else {
		for i, w := range wantErrs {
			if e := scan.Errors[i]; e.ObjectKey != w.key || !strings.HasPrefix(e.Error, w.kind) {
				t.Errorf("errors[%d] = %+v, want %s: %s…", i, e, w.key, w.kind)
			}
		}
	}

	// Nowhere a secret: the scan's values, the scanning workspace's state,
	// Terraform's trace log (which holds the provider's logs).
	state, err := os.ReadFile(filepath.Join(ws.Dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	trace, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(trace), "scanned state") {
		t.Fatalf("the trace log holds no provider log line: is TF_LOG=trace passed on? (%d bytes)", len(trace))
	}
	for what, text := range map[string]string{"scan result": raw, "workspace state": string(state), "trace log": string(trace)} {
		for _, secret := range []string{dbPassword, accessKey, secretKey, jwtToken, keyBody, randomResult} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s holds a secret (%.6s…)", what, secret)
			}
		}
	}
}

// Reads the caller may not make are per object, not fatal: with
// s3:GetObject denied (as a KMS key policy or an SCP denies it), every state
// is listed in errors with AWS's code, and the scan itself succeeds.
func TestAccStateScan_deniedObjectsAreErrors(t *testing.T) {
	acctest.PreCheck(t)
	c := acctest.Client(t)
	bucket := acctest.RandomName("scan-denied")
	if _, err := c.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyAndDelete(c.S3, bucket) })
	put(t, c.S3, bucket, "a/terraform.tfstate", fmt.Sprintf(crafted, secretKey, "r"))
	put(t, c.S3, bucket, "b/terraform.tfstate", `{"version":4}`)
	proxy := acctest.StartFaultProxy(t)
	proxy.DenyAction("s3:GetObject")
	ws := acctest.NewWorkspace(t, requiredProviders+fmt.Sprintf(`
provider "securestate" {
  s3_use_path_style = true
  custom_ca_bundle  = %[1]q
  endpoints {
    s3  = %[2]q
    sts = %[2]q
  }
}

data "securestate_state_scan" "all" {
  bucket = %[3]q
}
`, proxy.CABundle, proxy.URL, bucket))
	if out, err := ws.Apply(); err != nil {
		t.Fatalf("apply: %s\n%s", err, out)
	}
	scan, _ := scanOf(t, ws)
	if len(scan.Errors) != 2 {
		t.Fatalf("errors = %v, want both states", scan.Errors)
	}
	for i, key := range []string{"a/terraform.tfstate", "b/terraform.tfstate"} {
		if e := scan.Errors[i]; e.ObjectKey != key || e.Error != "s3:GetObject failed (AccessDenied)" {
			t.Errorf("errors[%d] = %v", i, e)
		}
	}
	if scan.FindingsCount != 0 || scan.ObjectsScanned != 2 {
		t.Errorf("findings_count = %d, objects_scanned = %d with every read denied", scan.FindingsCount, scan.ObjectsScanned)
	}
}

func emptyAndDelete(c *s3.Client, bucket string) {
	ctx := context.Background()
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
	if err == nil {
		for _, v := range out.Versions {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: m.Key, VersionId: m.VersionId})
		}
	}
	_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
}
