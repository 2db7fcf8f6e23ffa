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

const (
	lowerDigitHyphen    = "abcdefghijklmnopqrstuvwxyz0123456789-"
	environmentAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789_-"
)

// intoAlphabet keeps a byte of alphabet and maps any other byte into it.
func intoAlphabet(c byte, alphabet string) byte {
	if strings.IndexByte(alphabet, c) >= 0 {
		return c
	}
	return alphabet[int(c)%len(alphabet)]
}

func mapInto(raw, alphabet string, maxLen int) []byte {
	b := []byte(raw[:min(len(raw), maxLen)])
	for i, c := range b {
		b[i] = intoAlphabet(c, alphabet)
	}
	return b
}

// fuzzBackendName: 3-32 of a-z, 0-9 and single hyphens, starting and ending
// with a letter or digit, without a prefix S3 reserves for its default bucket.
func fuzzBackendName(raw string) string {
	b := mapInto(raw, lowerDigitHyphen, 32)
	for len(b) < 3 {
		b = append(b, 'a')
	}
	for i := range b {
		if b[i] == '-' && (i == 0 || i == len(b)-1 || b[i-1] == '-') {
			b[i] = '0'
		}
	}
	for _, p := range []string{"sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(string(b)+"-", p) {
			b[0] = 'x'
		}
	}
	return string(b)
}

// fuzzEnvironment: 1-32 of a-z, 0-9, _ and -, starting with a letter or
// digit, without "tfstate".
func fuzzEnvironment(raw string) string {
	b := mapInto(raw, environmentAlphabet, 32)
	if len(b) == 0 {
		b = append(b, 'e')
	}
	if b[0] == '_' || b[0] == '-' {
		b[0] = '0'
	}
	return strings.ReplaceAll(string(b), "tfstate", "tfstat_")
}

// fuzzBucket: "" stays "" (the default bucket); anything else becomes 3-63 of
// a-z, 0-9 and -, starting and ending with a letter or digit, without a prefix
// or suffix S3 reserves.
func fuzzBucket(raw string) string {
	if raw == "" {
		return ""
	}
	b := mapInto(raw, lowerDigitHyphen, 63)
	for len(b) < 3 {
		b = append(b, 'b')
	}
	if b[0] == '-' {
		b[0] = '0'
	}
	if b[len(b)-1] == '-' {
		b[len(b)-1] = '0'
	}
	s := string(b)
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(s, p) {
			s = "b" + s[1:]
		}
	}
	for _, x := range []string{"-s3alias", "--ol-s3", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(s, x) {
			s = s[:len(s)-1] + "0"
		}
	}
	return s
}

// fuzzRegion: an area of 2-4 letters, one or more labels of letters and a
// number of 1-2 digits, joined by hyphens, taken from the input's labels.
func fuzzRegion(raw string) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	labels := strings.Split(raw, "-")
	area := mapInto(labels[0], letters, 4)
	for len(area) < 2 {
		area = append(area, 'x')
	}
	var middle []string
	number := "1"
	if n := len(labels); n > 1 {
		for _, l := range labels[1 : n-1] {
			if m := mapInto(l, letters, 16); len(m) > 0 {
				middle = append(middle, string(m))
			}
		}
		if d := mapInto(labels[n-1], "0123456789", 2); len(d) > 0 {
			number = string(d)
		}
	}
	if len(middle) == 0 {
		middle = []string{"east"}
	}
	return string(area) + "-" + strings.Join(middle, "-") + "-" + number
}

// fuzzKeyID: 1-64 of a-z, 0-9 and -.
func fuzzKeyID(raw string) string {
	if b := mapInto(raw, lowerDigitHyphen, 64); len(b) > 0 {
		return string(b)
	}
	return "k"
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
		name, env, bucket := fuzzBackendName(rawName), fuzzEnvironment(rawEnv), fuzzBucket(rawBucket)
		region, keyID := fuzzRegion(rawRegion), fuzzKeyID(rawKeyID)
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
