package backend

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/fuzzgen"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func FuzzParseImportID(f *testing.F) {
	for _, s := range []string{
		"bucket=legacy-state,table=legacy-locks,key=arn:aws:kms:us-east-1:123456789012:key/k",
		"bucket=legacy-state,key=arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		" bucket=legacy-state , key=arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1 , name=legacy ",
		"bucket=legacy-state",
		"bucket=legacy-state,bucket=x,key=arn:aws:kms:us-east-1:123456789012:key/k",
		"bucket=legacy-state,key=arn:aws:s3:::b",
		"bucket=legacy-state,key=arn:aws:kms:us-east-1:123456789012:alias/a",
		"bucket=legacy-state,colour=blue,key=x",
		"bucket=Legacy,key=arn:aws:kms:us-east-1:123456789012:key/k",
		"bucket=legacy-state,key=arn:aws:kms:us-east-1:123456789012:key/k,name=X",
		"just-junk,", "", ",", "=", "bucket=", "acme",
	} {
		f.Add(s)
	}
	fields := []string{"bucket", "key", "name", "table"}
	f.Fuzz(func(t *testing.T, id string) {
		out, err := parseImportID(id)
		if err != nil {
			if out != nil {
				t.Fatalf("parseImportID(%q) returned %v with error %v", id, out, err)
			}
			if err.Error() == "" {
				t.Fatalf("parseImportID(%q) failed with an empty message", id)
			}
			return
		}
		for k, v := range out {
			if !slices.Contains(fields, k) || v == "" || strings.Contains(v, ",") {
				t.Fatalf("parseImportID(%q) returned field %q = %q", id, k, v)
			}
		}
		if err := naming.Bucket(out["bucket"]); err != nil {
			t.Fatalf("parseImportID(%q) accepted bucket %q: %v", id, out["bucket"], err)
		}
		// A KMS key ARN: arn:<partition>:kms:<region>:<account>:key/<key id>.
		key := out["key"]
		a, perr := arn.Parse(key)
		if perr != nil || a.Partition == "" || a.Service != "kms" || a.Region == "" || len(a.AccountID) != 12 || !allDigits(a.AccountID) {
			t.Fatalf("parseImportID(%q) accepted key %q, which is not a KMS key ARN (%+v, %v)", id, key, a, perr)
		}
		if keyID, ok := strings.CutPrefix(a.Resource, "key/"); !ok || keyID == "" {
			t.Fatalf("parseImportID(%q) accepted key %q, whose resource %q names no key", id, key, a.Resource)
		}
		if n, ok := out["name"]; ok && naming.Backend(n) != nil {
			t.Fatalf("parseImportID(%q) accepted name %q", id, n)
		}
		// Writing the fields back gives an ID that parses to the same fields.
		var parts []string
		for _, k := range fields {
			if v, ok := out[k]; ok {
				parts = append(parts, k+"="+v)
			}
		}
		again, err := parseImportID(strings.Join(parts, ","))
		if err != nil || len(again) != len(out) {
			t.Fatalf("re-parsing the fields of %q: %v, %v", id, again, err)
		}
		for k, v := range out {
			if again[k] != v {
				t.Fatalf("re-parsing the fields of %q changed %s from %q to %q", id, k, v, again[k])
			}
		}
	})
}

var hclAttribute = regexp.MustCompile(`^    ([a-z_]+) += (.*)$`)

// The fuzz input of FuzzRenderHCL is turned into valid settings rather than
// refused, so that nearly every input reaches renderHCL. Each fuzzX below
// leaves a valid value as it is, so seeds mean what they say.

// fuzzBucket: "" stays "" (the default bucket); anything else a valid name.
func fuzzBucket(raw string) string {
	if raw == "" {
		return ""
	}
	return fuzzgen.Bucket(raw)
}

func FuzzRenderHCL(f *testing.F) {
	f.Add("acme", "dev", "", "eu-west-1", uint64(123456789012), "k", uint8(0))
	f.Add("acme", "prod_eu-1", "legacy-state", "us-gov-west-1", uint64(1), "1234abcd-12ab-34cd-56ef-1234567890ab", uint8(1))
	f.Add("a-b", "0", "", "cn-north-1", uint64(999999999999), "mrk-0", uint8(2))
	f.Add("team-x", "default", "team-x-state", "ap-southeast-4", uint64(42), "k-1", uint8(5))
	f.Add("platform", "x", "platform-state", "eusc-de-east-1", uint64(7), "mrk-1", uint8(2))
	f.Add("Acme", "dev/", "", "eu-west-1", uint64(1), "k", uint8(0))
	f.Add("", "", "-", "", uint64(0), "", uint8(1))
	f.Fuzz(func(t *testing.T, rawName, rawEnv, rawBucket, rawRegion string, account uint64, rawKeyID string, mode uint8) {
		name, env, bucket := fuzzgen.BackendName(rawName), fuzzgen.Environment(rawEnv), fuzzBucket(rawBucket)
		region, keyID := fuzzgen.Region(rawRegion), fuzzgen.KeyID(rawKeyID)
		acct := fmt.Sprintf("%012d", account%1_000_000_000_000)
		if bucket == "" {
			bucket = naming.StateBucket(name, acct)
		}
		if err := errors.Join(naming.Backend(name), naming.Environment(env), naming.Bucket(bucket), validate.Region(region)); err != nil {
			t.Fatalf("the fuzz input made invalid settings: %v", err)
		}
		partition := awsclient.PartitionForRegion(region)
		modes := LockingModes()
		s := settings{
			Name: name, Bucket: bucket, AccountID: acct, Region: region, Partition: partition,
			Environments: []string{env}, Locking: modes[int(mode)%len(modes)],
			KeyARN: fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", partition, region, acct, keyID),
		}
		if s.Locking != LockingLockfile {
			s.Table = naming.LockTable(name)
		}
		out := renderHCL(s, env)

		depth := 0
		for i, c := range out {
			switch c {
			case '{':
				depth++
			case '}':
				depth--
				if depth < 0 {
					t.Fatalf("unbalanced '}' at offset %d:\n%s", i, out)
				}
			}
		}
		if depth != 0 {
			t.Fatalf("%d unclosed '{':\n%s", depth, out)
		}
		if !strings.Contains(out, strconv.Quote(env+"/terraform.tfstate")) {
			t.Fatalf("rendered block lacks the state key of %q:\n%s", env, out)
		}

		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) < 4 || lines[0] != "terraform {" || lines[1] != `  backend "s3" {` ||
			lines[len(lines)-2] != "  }" || lines[len(lines)-1] != "}" || !strings.HasSuffix(out, "\n") {
			t.Fatalf("rendered block has an unexpected frame:\n%s", out)
		}
		got := map[string]string{}
		for _, l := range lines[2 : len(lines)-2] {
			m := hclAttribute.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("line %q is not an attribute:\n%s", l, out)
			}
			if _, dup := got[m[1]]; dup {
				t.Fatalf("attribute %s is set twice:\n%s", m[1], out)
			}
			v := m[2]
			if strings.HasPrefix(v, `"`) {
				// The value must be a plain HCL string: no escapes (Go and HCL
				// escapes differ) and no template sequences.
				u, err := strconv.Unquote(v)
				if err != nil || v != `"`+u+`"` || strings.Contains(u, "${") || strings.Contains(u, "%{") {
					t.Fatalf("attribute %s = %s is not a plain string:\n%s", m[1], v, out)
				}
				v = u
			}
			got[m[1]] = v
		}
		want := map[string]string{
			"bucket": bucket, "key": env + "/terraform.tfstate", "region": region, "encrypt": "true",
			"kms_key_id": s.KeyARN, "workspace_key_prefix": env + "/workspaces",
		}
		if s.Locking != LockingDynamoDB {
			want["use_lockfile"] = "true"
		}
		if s.Locking != LockingLockfile {
			want["dynamodb_table"] = s.Table
		}
		if len(got) != len(want) {
			t.Fatalf("rendered attributes %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("attribute %s = %q, want %q:\n%s", k, got[k], v, out)
			}
		}
	})
}
