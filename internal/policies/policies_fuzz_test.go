package policies

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/securestate/terraform-provider-securestate/internal/fuzzgen"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/validate"
)

var fuzzPartitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// The fuzz input is turned into a valid backend rather than refused, so that
// nearly every input reaches the policy builders. Each fuzzX below leaves a
// valid value as it is, so seeds mean what they say.

const (
	principalAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=.@/-"
)

// fuzzPrincipals reads a comma-separated list: an entry that is a valid IAM
// role or user ARN stays; any other becomes a role or user of the backend's
// account whose path and name are the entry's bytes mapped into the allowed
// characters.
func fuzzPrincipals(list, partition, account string) []string {
	if list == "" {
		return nil
	}
	var principals []string
	for _, p := range strings.Split(list, ",") {
		if utf8.ValidString(p) && validate.IAMPrincipalARN(p, "role", "user") == nil {
			principals = append(principals, p)
			continue
		}
		kind := "role"
		if len(p)%2 == 1 {
			kind = "user"
		}
		name := fuzzgen.MapInto(p, principalAlphabet, 64)
		if len(name) == 0 {
			name = []byte("p")
		}
		principals = append(principals, fmt.Sprintf("arn:%s:iam::%s:%s/%s", partition, account, kind, name))
	}
	return principals
}

// globMatch reports whether name matches an IAM resource pattern, where "*"
// matches any run of characters and "?" any single character.
func globMatch(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func validKeyID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// checkRoundTrip renders a document, parses it back and compares.
func checkRoundTrip(t *testing.T, kind string, d policydoc.Document) {
	t.Helper()
	text, err := d.JSON()
	if err != nil {
		t.Fatalf("%s policy: JSON: %v", kind, err)
	}
	if r := Render(d); r != text {
		t.Fatalf("%s policy: Render and JSON differ:\n%s\n%s", kind, r, text)
	}
	back, err := policydoc.Parse(text)
	if err != nil {
		t.Fatalf("%s policy: Parse(JSON()): %v\n%s", kind, err, text)
	}
	if !back.Equivalent(d) || !d.Equivalent(back) {
		t.Fatalf("%s policy: Parse(JSON()) is not equivalent to the document\n%s", kind, text)
	}
	if eq, err := policydoc.Equivalent(text, text); err != nil || !eq {
		t.Fatalf("%s policy: text not equivalent to itself: %t, %v", kind, eq, err)
	}
	if d.Version != "2012-10-17" {
		t.Fatalf("%s policy: Version %q", kind, d.Version)
	}
	if w := policydoc.Wildcards(d); len(w) > 0 {
		t.Fatalf("%s policy has wildcards: %v\n%s", kind, w, text)
	}
}

// checkBroadActions allows kms:* only in the account administration statement
// of the key policy, granted to the account root; any other action ending in
// ":*" only in Deny statements.
func checkBroadActions(t *testing.T, kind string, d policydoc.Document, root string) {
	t.Helper()
	for _, st := range d.Statement {
		for _, a := range append(slices.Clone(st.Action), st.NotAction...) {
			if strings.EqualFold(a, "kms:*") {
				if kind != "key" || st.Sid != SidAccountAdmin || st.Effect != "Allow" ||
					len(st.Principal) != 1 || !slices.Equal(st.Principal["AWS"], []string{root}) {
					t.Fatalf("%s policy: kms:* in statement %q (effect %s, principal %v)", kind, st.Sid, st.Effect, st.Principal)
				}
				continue
			}
			if (a == "*" || strings.HasSuffix(a, ":*")) && st.Effect != "Deny" {
				t.Fatalf("%s policy: statement %q allows %q", kind, st.Sid, a)
			}
		}
		if st.Effect == "Allow" {
			if _, ok := st.Principal["*"]; ok || slices.Contains(st.Principal["AWS"], "*") {
				t.Fatalf("%s policy: statement %q allows the wildcard principal", kind, st.Sid)
			}
		}
	}
}

func FuzzPolicies(f *testing.F) {
	f.Add("dev", "prod", "acme-tfstate-123456789012", "eu-central-1", "arn:aws:iam::123456789012:role/ci,arn:aws:iam::123456789012:user/ops", "1111", uint64(123456789012), uint8(3))
	f.Add("default", "default-2", "legacy-state", "us-east-1", "", "mrk-0123abcd", uint64(1), uint8(0))
	f.Add("prod_eu-1", "prod_eu", "a-b", "us-gov-west-1", "arn:aws-us-gov:iam::000000000000:role/path/to/deployer", "k", uint64(999999999999), uint8(1))
	f.Add("0", "00", "xyz", "cn-north-1", "arn:aws-cn:iam::123456789012:role/a,arn:aws-cn:iam::123456789012:role/a", "0-0", uint64(42), uint8(2|8))
	f.Add("dev", "dev", "acme-tfstate-123456789012", "eu-west-1", "arn:aws:iam::123456789012:role/*", "1", uint64(7), uint8(3))
	f.Add("Dev", "dev/", "Acme", "useast1", "arn:aws:iam::123456789012:root", "", uint64(7), uint8(255))
	f.Add("", "", "", "", ",", "", uint64(0), uint8(7<<2))
	f.Add("dev", "dev-", "xn--acme-s3alias", "eusc-de-east-1", "arn:aws-eusc:iam::123456789012:user/ops,Deployer Role", "mrk-1", uint64(123456789012), uint8(1|7<<2))
	f.Fuzz(func(t *testing.T, rawEnv, rawOtherEnv, rawBucket, rawRegion, principalList, rawKeyID string, account uint64, flags uint8) {
		env, otherEnv := fuzzgen.Environment(rawEnv), fuzzgen.Environment(rawOtherEnv)
		bucket, region, keyID := fuzzgen.Bucket(rawBucket), fuzzgen.Region(rawRegion), fuzzgen.KeyID(rawKeyID)
		partition := fuzzPartitions[int(flags>>2)%len(fuzzPartitions)]
		acct := fmt.Sprintf("%012d", account%1_000_000_000_000)
		principals := fuzzPrincipals(principalList, partition, acct)
		if err := errors.Join(naming.Environment(env), naming.Environment(otherEnv), naming.Bucket(bucket), validate.Region(region)); err != nil {
			t.Fatalf("the fuzz input made an invalid backend: %v", err)
		}
		for _, p := range principals {
			if err := validate.IAMPrincipalARN(p, "role", "user"); err != nil {
				t.Fatalf("the fuzz input made an invalid principal: %v", err)
			}
		}
		if !validKeyID(keyID) {
			t.Fatalf("the fuzz input made an invalid key ID %q", keyID)
		}
		b := Backend{
			Partition:  partition,
			Region:     region,
			AccountID:  acct,
			Bucket:     bucket,
			KeyARN:     fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", partition, region, acct, keyID),
			Lockfile:   flags&1 != 0,
			Principals: principals,
		}
		if flags&2 != 0 {
			b.TableARN = fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", partition, region, acct, naming.LockTable("acme"))
		}
		input := slices.Clone(principals)
		root := fmt.Sprintf("arn:%s:iam::%s:root", partition, acct)
		bucketARN := "arn:" + partition + ":s3:::" + bucket
		if b.BucketARN() != bucketARN {
			t.Fatalf("BucketARN() = %q, want %q", b.BucketARN(), bucketARN)
		}

		key := KeyPolicy(b)
		checkRoundTrip(t, "key", key)
		checkBroadActions(t, "key", key, root)
		if !slices.Equal(principals, input) {
			t.Fatalf("KeyPolicy modified the caller's principals: %v, was %v", principals, input)
		}
		users := 0
		for _, st := range key.Statement {
			if st.Sid != SidStateUsers {
				continue
			}
			users++
			want := slices.Compact(slices.Sorted(slices.Values(input)))
			got := slices.Compact(slices.Sorted(slices.Values(st.Principal["AWS"])))
			if len(st.Principal) != 1 || !slices.Equal(got, want) {
				t.Fatalf("key policy principals %v, want %v", st.Principal, want)
			}
			cond := st.Condition["StringEquals"]
			if !slices.Equal(cond["kms:CallerAccount"], []string{acct}) {
				t.Fatalf("key policy kms:CallerAccount %v, want %s", cond["kms:CallerAccount"], acct)
			}
			via := slices.Sorted(slices.Values(cond["kms:ViaService"]))
			if !slices.Equal(via, []string{"dynamodb." + region + ".amazonaws.com", "s3." + region + ".amazonaws.com"}) {
				t.Fatalf("key policy kms:ViaService %v for region %s", via, region)
			}
		}
		if (users == 1) != (len(input) > 0) || users > 1 {
			t.Fatalf("key policy has %d state user statements for %d principals", users, len(input))
		}

		bp := BucketPolicy(b)
		checkRoundTrip(t, "bucket", bp)
		checkBroadActions(t, "bucket", bp, root)
		insecure := false
		for _, st := range bp.Statement {
			if st.Effect != "Deny" {
				t.Fatalf("bucket policy statement %q has effect %q", st.Sid, st.Effect)
			}
			for _, r := range st.Resource {
				if r != bucketARN && r != bucketARN+"/*" {
					t.Fatalf("bucket policy statement %q names resource %q outside bucket %s", st.Sid, r, bucketARN)
				}
			}
			if st.Sid == SidDenyInsecure && slices.Equal(st.Condition["Bool"]["aws:SecureTransport"], []string{"false"}) &&
				slices.Contains(st.Resource, bucketARN) && slices.Contains(st.Resource, bucketARN+"/*") {
				insecure = true
			}
			if st.Sid == SidDenyOtherKey && !slices.Equal(st.Condition["StringNotEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"], []string{b.KeyARN}) {
				t.Fatalf("bucket policy does not pin key %s: %v", b.KeyARN, st.Condition)
			}
		}
		if !insecure {
			t.Fatal("bucket policy does not deny insecure transport on the bucket and its objects")
		}

		ap := AccessPolicy(b, env)
		checkRoundTrip(t, "access", ap)
		checkBroadActions(t, "access", ap, root)
		prefix := bucketARN + "/" + env + "/"
		sids := map[string]bool{}
		for _, st := range ap.Statement {
			sids[st.Sid] = true
			if st.Effect != "Allow" || st.Principal != nil || st.NotPrincipal != nil || st.NotAction != nil || st.NotResource != nil {
				t.Fatalf("access policy statement %q is not a plain Allow identity statement", st.Sid)
			}
			for _, r := range st.Resource {
				switch {
				case strings.HasPrefix(r, "arn:"+partition+":s3:"):
					if r != bucketARN && !strings.HasPrefix(r, prefix) {
						t.Fatalf("access policy for %q names S3 resource %q outside %s", env, r, prefix)
					}
					// The pattern covers this environment's state and nothing of
					// another environment.
					if r != bucketARN {
						if !globMatch(r, prefix+"terraform.tfstate.tflock") {
							t.Fatalf("access policy resource %q does not cover the state lock file of %q", r, env)
						}
						if otherEnv != env && globMatch(r, bucketARN+"/"+otherEnv+"/terraform.tfstate.tflock") {
							t.Fatalf("access policy resource %q for %q also covers environment %q", r, env, otherEnv)
						}
					}
				case r == b.KeyARN, r == b.TableARN && r != "":
				default:
					t.Fatalf("access policy for %q names unexpected resource %q", env, r)
				}
			}
			for _, v := range st.Condition["StringLike"]["s3:prefix"] {
				if !strings.HasPrefix(v, env+"/") {
					t.Fatalf("access policy lists prefix %q outside %s/", v, env)
				}
			}
			for _, v := range st.Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] {
				if !strings.HasPrefix(v, bucket+"/"+env+"/") {
					t.Fatalf("access policy allows lock items %q outside %s/%s/", v, bucket, env)
				}
				if otherEnv != env && globMatch(v, bucket+"/"+otherEnv+"/terraform.tfstate") {
					t.Fatalf("access policy lock items %q for %q also cover environment %q", v, env, otherEnv)
				}
			}
		}
		if sids[SidLockFiles] != b.Lockfile {
			t.Fatalf("access policy lock file statement present: %t, lockfile %t", sids[SidLockFiles], b.Lockfile)
		}
		if sids[SidLockTableItems] != (b.TableARN != "") || sids[SidLockTableLookup] != (b.TableARN != "") {
			t.Fatalf("access policy lock table statements present: %t/%t, table %q", sids[SidLockTableItems], sids[SidLockTableLookup], b.TableARN)
		}
		if !sids[SidListPrefix] || !sids[SidStateObjects] || !sids[SidUseKey] {
			t.Fatalf("access policy lacks a required statement: %v", sids)
		}
	})
}
