package datasource_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
)

// requiredProviders names the provider the workspace's dev_overrides serve.
const requiredProviders = `
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}
`

// versionValue is one element of versions, as `show -json` gives it.
type versionValue struct {
	CLI              string  `json:"cli"`
	DeleteMarker     bool    `json:"delete_marker"`
	Error            string  `json:"error"`
	IsLatest         bool    `json:"is_latest"`
	LastModified     string  `json:"last_modified"`
	Lineage          *string `json:"lineage"`
	MD5              *string `json:"md5"`
	ResourceCount    *int64  `json:"resource_count"`
	Serial           *int64  `json:"serial"`
	Size             int64   `json:"size"`
	TerraformVersion *string `json:"terraform_version"`
	VersionID        string  `json:"version_id"`
}

type versionsValues struct {
	ID        string         `json:"id"`
	Key       string         `json:"key"`
	Truncated bool           `json:"truncated"`
	Versions  []versionValue `json:"versions"`
}

// read applies the workspace and returns each securestate_state_versions
// data source's values, by name.
func read(t *testing.T, ws *acctest.Workspace) map[string]versionsValues {
	t.Helper()
	if out, err := ws.Apply(); err != nil {
		t.Fatalf("apply of the reading configuration: %s\n%s", err, out)
	}
	res, err := ws.Resources()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]versionsValues{}
	for addr, values := range res {
		name, ok := strings.CutPrefix(addr, "data.securestate_state_versions.")
		if !ok {
			continue
		}
		raw, err := json.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		var v versionsValues
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	return out
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// put writes a version of key and returns its version ID.
func put(t *testing.T, c *s3.Client, bucket, key string, body []byte) string {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(string(body))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

// The data source on a versioned bucket holding, for one state, every kind
// of version a history can have, written out of band as a crashed tool or a
// mistake would leave them: states as Terraform and OpenTofu write them, an
// OpenTofu-encrypted one, one cut in half, an empty object, one that is not
// JSON, and a delete marker on top. Each is listed newest first with what it
// says about itself, the unreadable ones with why (never dropped); the lock
// file and backup sharing the prefix, and another environment, are left
// out; environment and key name the same state; max_versions keeps the
// newest and says more exist; a caller refused s3:GetObject (an SCP, through
// the fault proxy) gets every version listed with AWS's code.
//
// The emulator does not check KMS permissions behind SSE-KMS objects (moto
// 5.2.5), so a KMS refusal is proven by the unit tests of its wording
// (TestListUnreadableVersions), not here.
func TestAccStateVersions_everyKindOfVersion(t *testing.T) {
	acctest.PreCheck(t)
	c := acctest.Client(t).S3
	ctx := context.Background()
	bucket, key := acctest.RandomName("versions"), "dev/terraform.tfstate"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyAndDelete(c, bucket) })
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	testdata := func(name string) []byte {
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tf, tofu, encrypted := testdata("terraform-1.11.4.tfstate"), testdata("opentofu-1.10.10.tfstate"), testdata("opentofu-1.10.10-encrypted.tfstate")
	bodies := [][]byte{tf, tofu, encrypted, tf[:len(tf)/2], {}, []byte("this is not a state\n")}
	var ids []string
	for _, b := range bodies {
		ids = append(ids, put(t, c, bucket, key, b))
	}
	put(t, c, bucket, key+".tflock", []byte(`{"ID":"x"}`))
	put(t, c, bucket, key+".backup", tf)
	put(t, c, bucket, "prod/terraform.tfstate", tf)
	marker, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
	if err != nil || !aws.ToBool(marker.DeleteMarker) {
		t.Fatalf("delete marker: %+v %v", marker, err)
	}

	proxy := acctest.StartFaultProxy(t)
	proxy.DenyAction("s3:GetObject")
	ws := acctest.NewWorkspace(t, requiredProviders+acctest.ProviderConfig+fmt.Sprintf(`
provider "securestate" {
  alias             = "denied"
  s3_use_path_style = true
  custom_ca_bundle  = %[3]q
  endpoints {
    s3  = %[4]q
    sts = %[4]q
  }
}

data "securestate_state_versions" "env" {
  bucket      = %[1]q
  environment = "dev"
}

data "securestate_state_versions" "key" {
  bucket = %[1]q
  key    = %[2]q
}

data "securestate_state_versions" "newest" {
  bucket       = %[1]q
  environment  = "dev"
  max_versions = 3
}

data "securestate_state_versions" "denied" {
  provider    = securestate.denied
  bucket      = %[1]q
  environment = "dev"
}
`, bucket, key, proxy.CABundle, proxy.URL))
	got := read(t, ws)

	str := func(s string) *string { return &s }
	num := func(n int64) *int64 { return &n }
	type want struct {
		id, cli, err       string
		marker             bool
		serial, count      *int64
		lineage, tfVersion *string
		md5                *string
		size               int64
		latest             bool
	}
	tfLineage, tofuLineage := str("6e43ca37-7efa-07ed-bc2b-bca7bc0f908d"), str("e888043d-48eb-f7ad-bc6e-a65f8fe6b91c")
	wants := []want{
		{id: aws.ToString(marker.VersionId), marker: true, latest: true},
		{id: ids[5], err: "not JSON: invalid character at byte 1", md5: str(md5hex(bodies[5])), size: int64(len(bodies[5]))},
		{id: ids[4], err: "empty: the CLI reads an empty object as no state at all", md5: str(md5hex(nil))},
		{id: ids[3], err: fmt.Sprintf("not JSON: the data ends early, at byte %d (truncated)", len(bodies[3])), serial: num(4), lineage: tfLineage,
			tfVersion: str("1.11.4"), md5: str(md5hex(bodies[3])), size: int64(len(bodies[3]))},
		{id: ids[2], cli: "opentofu", err: "encrypted (OpenTofu state encryption): serial and lineage are readable; the CLI version and the resources are inside the encrypted data",
			serial: num(1), lineage: str("01d5cc7d-519e-d909-b6d4-fc3ee0df4691"), md5: str(md5hex(encrypted)), size: int64(len(encrypted))},
		{id: ids[1], cli: "opentofu", serial: num(1), count: num(3), lineage: tofuLineage, tfVersion: str("1.10.10"), md5: str(md5hex(tofu)), size: int64(len(tofu))},
		{id: ids[0], cli: "terraform", serial: num(4), count: num(3), lineage: tfLineage, tfVersion: str("1.11.4"), md5: str(md5hex(tf)), size: int64(len(tf))},
	}
	eq := func(a, b *string) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	eqn := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	for _, name := range []string{"env", "key"} {
		v := got[name]
		if v.Key != key || v.ID != bucket+"/"+key || v.Truncated {
			t.Errorf("%s: key %q id %q truncated %v", name, v.Key, v.ID, v.Truncated)
		}
		if len(v.Versions) != len(wants) {
			t.Fatalf("%s: %d versions, want %d: %+v", name, len(v.Versions), len(wants), v.Versions)
		}
		for i, w := range wants {
			g := v.Versions[i]
			if g.VersionID != w.id || g.DeleteMarker != w.marker || g.IsLatest != w.latest || g.CLI != w.cli || g.Error != w.err || g.Size != w.size ||
				!eqn(g.Serial, w.serial) || !eqn(g.ResourceCount, w.count) || !eq(g.Lineage, w.lineage) || !eq(g.TerraformVersion, w.tfVersion) || !eq(g.MD5, w.md5) {
				t.Errorf("%s: version %d:\n got %s\nwant %+v", name, i, show(g), w)
			}
			if g.LastModified == "" {
				t.Errorf("%s: version %d has no last_modified", name, i)
			}
		}
	}
	if n := got["newest"]; !n.Truncated || len(n.Versions) != 3 || n.Versions[0].VersionID != wants[0].id || n.Versions[2].VersionID != wants[2].id {
		t.Errorf("newest (max_versions 3): truncated %v, %d versions, want the 3 newest and truncated", n.Truncated, len(n.Versions))
	}
	denied := got["denied"]
	if len(denied.Versions) != len(wants) {
		t.Fatalf("denied: %d versions, want every one listed: %+v", len(denied.Versions), denied.Versions)
	}
	for i, g := range denied.Versions {
		wantErr := "s3:GetObject failed (AccessDenied)"
		if i == 0 {
			wantErr = "" // the delete marker is not read
		}
		if g.Error != wantErr || g.Serial != nil || g.MD5 != nil || g.VersionID != wants[i].id {
			t.Errorf("denied: version %d: %s, want error %q and nothing read", i, show(g), wantErr)
		}
	}
	denials := slices.DeleteFunc(proxy.Calls(), func(c acctest.Call) bool { return !c.Denied })
	if len(denials) != len(wants)-1 {
		t.Errorf("%d requests denied by the proxy, want one GetObject per version (%d)", len(denials), len(wants)-1)
	}
}

func show(v versionValue) string {
	b, _ := json.Marshal(v)
	return string(b)
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
