package naming

import (
	"net"
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/fuzzgen"
)

const fuzzAccount = "123456789012"

func isLowerOrDigit(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }

// onlyBytes reports whether every byte of s is a lowercase letter, a digit or
// one of extra.
func onlyBytes(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		if !isLowerOrDigit(s[i]) && strings.IndexByte(extra, s[i]) < 0 {
			return false
		}
	}
	return true
}

// validIAMName is IAM's rule for policy names: 1-128 of [A-Za-z0-9_+=,.@-].
func validIAMName(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerOrDigit(c) && (c < 'A' || c > 'Z') && strings.IndexByte("_+=,.@-", c) < 0 {
			return false
		}
	}
	return true
}

func FuzzBackendName(f *testing.F) {
	for _, s := range []string{
		"acme", "a1-b2", "abc", "0-0", strings.Repeat("a", 32), "platform-prod",
		"ab", strings.Repeat("a", 33), "Acme", "-acme", "acme-", "ac_me", "ac--me", "ac.me", "", "acme\n",
		// Once accepted although their default buckets start with a prefix S3
		// reserves (so Bucket refused them); Backend now refuses them.
		"sthree-state", "amzn-s3-demo-state", "sthree", "amzn-s3-demo", "xn-a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := Backend(name)
		bucket := StateBucket(name, fuzzAccount)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("Backend(%q) rejected the name with an empty message", name)
			}
			if got, ok := NameFromBucket(bucket, fuzzAccount); ok {
				t.Fatalf("NameFromBucket(%q) recovered %q although Backend rejects %q", bucket, got, name)
			}
			return
		}
		if len(name) < 3 || len(name) > 32 {
			t.Fatalf("Backend accepted %q of length %d", name, len(name))
		}
		if !onlyBytes(name, "-") {
			t.Fatalf("Backend accepted %q with characters other than a-z, 0-9 and -", name)
		}
		if name[0] == '-' || name[len(name)-1] == '-' || strings.Contains(name, "--") {
			t.Fatalf("Backend accepted %q with a leading, trailing or doubled hyphen", name)
		}
		// Every name derived from an accepted backend name must be usable.
		if err := Bucket(bucket); err != nil {
			t.Fatalf("Backend accepted %q but its default bucket %q is refused: %v", name, bucket, err)
		}
		if got, ok := NameFromBucket(bucket, fuzzAccount); !ok || got != name {
			t.Fatalf("NameFromBucket(%q) = %q, %t; want %q", bucket, got, ok, name)
		}
		if _, ok := NameFromBucket(bucket, "210987654321"); ok {
			t.Fatalf("NameFromBucket(%q) recovered a name for another account", bucket)
		}
		if table := LockTable(name); len(table) < 3 || len(table) > 255 || !onlyBytes(table, "-") {
			t.Fatalf("lock table name %q of %q is not a valid DynamoDB table name", table, name)
		}
		alias := KeyAlias(name)
		if rest, ok := strings.CutPrefix(alias, "alias/"); !ok || len(alias) > 256 || !onlyBytes(rest, "-") || strings.HasPrefix(alias, "alias/aws/") {
			t.Fatalf("key alias %q of %q is not a valid customer KMS alias", alias, name)
		}
		if p := AccessPolicy(name, strings.Repeat("e", 32)); !validIAMName(p) {
			t.Fatalf("longest access policy name %q of %q is not a valid IAM policy name", p, name)
		}
	})
}

func FuzzBucketName(f *testing.F) {
	for _, s := range []string{
		"acme-tfstate-123456789012", "legacy-state", "abc", strings.Repeat("b", 63), "0ab",
		"ab", strings.Repeat("b", 64), "Acme-State", "acme.state", "acme..state", "10.1.2.3", "xn--acme",
		"sthree-acme", "amzn-s3-demo-acme", "acme-s3alias", "acme--ol-s3", "acme--x-s3", "acme.mrap", "acme--table-s3",
		"-acme", "acme-", "acme_state", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		err := Bucket(v)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("Bucket(%q) rejected the name with an empty message", v)
			}
			return
		}
		if len(v) < 3 || len(v) > 63 {
			t.Fatalf("Bucket accepted %q of length %d", v, len(v))
		}
		// Dots are refused on top of the S3 rules, so only a-z, 0-9 and - remain.
		if !onlyBytes(v, "-") {
			t.Fatalf("Bucket accepted %q with characters other than a-z, 0-9 and -", v)
		}
		if !isLowerOrDigit(v[0]) || !isLowerOrDigit(v[len(v)-1]) {
			t.Fatalf("Bucket accepted %q, which does not start and end with a letter or digit", v)
		}
		if net.ParseIP(v) != nil {
			t.Fatalf("Bucket accepted %q, formatted as an IP address", v)
		}
		for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
			if strings.HasPrefix(v, p) {
				t.Fatalf("Bucket accepted %q with the reserved prefix %q", v, p)
			}
		}
		for _, s := range []string{"-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3"} {
			if strings.HasSuffix(v, s) {
				t.Fatalf("Bucket accepted %q with the reserved suffix %q", v, s)
			}
		}
		if name, ok := NameFromBucket(v, fuzzAccount); ok && StateBucket(name, fuzzAccount) != v {
			t.Fatalf("NameFromBucket(%q) = %q, whose default bucket is %q", v, name, StateBucket(name, fuzzAccount))
		}
	})
}

func FuzzEnvironment(f *testing.F) {
	for _, s := range []string{
		"dev", "prod_eu-1", "0", "a", strings.Repeat("e", 32), "default",
		"", "Dev", "-dev", "_dev", "a/b", "a*", strings.Repeat("e", 33), "dev\n", "dév",
		"tfstate", "x-tfstate-dev", "tfstat", "tfstat_e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, env string) {
		err := Environment(env)
		// ^[a-z0-9][a-z0-9_-]{0,31}$, checked by hand, and no "tfstate", which
		// separates backend and environment in policy names.
		want := len(env) >= 1 && len(env) <= 32 && isLowerOrDigit(env[0]) && onlyBytes(env, "_-") &&
			!strings.Contains(env, "tfstate")
		if (err == nil) != want {
			t.Fatalf("Environment(%q) = %v; want valid = %t", env, err, want)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("Environment(%q) rejected the name with an empty message", env)
			}
			return
		}
		// An accepted environment is a state key prefix: it must not be able to
		// reach into another prefix or act as an IAM glob.
		if strings.ContainsAny(env, "/*?$") {
			t.Fatalf("Environment accepted %q, which contains a path separator or a glob character", env)
		}
		if p := AccessPolicy(strings.Repeat("n", 32), env); !validIAMName(p) {
			t.Fatalf("access policy name %q for environment %q is not a valid IAM policy name", p, env)
		}
	})
}

// policyNameSplits lists every way to read an access policy name as
// "<backend>-tfstate-<environment>" with a valid backend and environment.
func policyNameSplits(policy string) [][2]string {
	const sep = "-tfstate-"
	var splits [][2]string
	for i := 0; i+len(sep) <= len(policy); i++ {
		if !strings.HasPrefix(policy[i:], sep) {
			continue
		}
		if n, e := policy[:i], policy[i+len(sep):]; Backend(n) == nil && Environment(e) == nil {
			splits = append(splits, [2]string{n, e})
		}
	}
	return splits
}

// FuzzAccessPolicyName checks the IAM policy name of a (backend, environment)
// pair: it is a valid IAM name, and it reads back as "<backend>-tfstate-
// <environment>" with that pair and no other valid pair. Policies of different
// backends live side by side under the same IAM path and import reads the
// environment back out of the name; reading back as exactly one pair also means
// that no two pairs share a name, in IAM's case-insensitive sense too, as
// valid names are lowercase. The fuzz input is turned into a valid pair, so
// every input reaches AccessPolicy.
func FuzzAccessPolicyName(f *testing.F) {
	f.Add("acme", "dev")
	f.Add("acme", "prod_eu-1")
	f.Add("a-b", "c-d")
	f.Add("tfstate", "tfstat")
	f.Add("acme-state", "default")
	f.Add(strings.Repeat("n", 32), strings.Repeat("e", 32))
	f.Add("ACME", "Dev/")
	f.Add("", "")
	// Once the policy name of backend "acme-tfstate-x", environment "dev",
	// also read as backend "acme", environment "x-tfstate-dev"; Environment
	// now refuses "tfstate".
	f.Add("acme-tfstate-x", "dev")
	f.Fuzz(func(t *testing.T, rawName, rawEnv string) {
		name, env := fuzzgen.BackendName(rawName), fuzzgen.Environment(rawEnv)
		if err := Backend(name); err != nil {
			t.Fatalf("Backend refuses %q, which follows the naming rule: %v", name, err)
		}
		if err := Environment(env); err != nil {
			t.Fatalf("Environment refuses %q, which follows the naming rule: %v", env, err)
		}
		policy := AccessPolicy(name, env)
		if !validIAMName(policy) {
			t.Fatalf("access policy name %q of backend %q, environment %q is not a valid IAM policy name", policy, name, env)
		}
		if splits := policyNameSplits(policy); len(splits) != 1 || splits[0] != [2]string{name, env} {
			t.Fatalf("access policy name %q of backend %q, environment %q reads back as (backend, environment) %v",
				policy, name, env, splits)
		}
	})
}
