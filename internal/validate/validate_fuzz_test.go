package validate

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Independent, hand-written versions of the rules, so the fuzz targets do not
// only compare a regular expression with itself.

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isWord(c byte) bool {
	return isLower(c) || isDigit(c) || (c >= 'A' && c <= 'Z') || c == '_'
}

// allBytes reports whether every byte of s satisfies ok.
func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// requireMessage fails when a rejection carries no explanation.
func requireMessage(t *testing.T, rule, v string, err error) {
	t.Helper()
	if strings.TrimSpace(err.Error()) == "" {
		t.Fatalf("%s(%q) rejected the value with an empty message", rule, v)
	}
}

func FuzzRegion(f *testing.F) {
	for _, s := range []string{
		"us-east-1", "eu-central-1", "us-gov-west-1", "us-isob-east-1", "ap-southeast-4", "cn-northwest-1",
		"", "useast1", "us-east-1a", "US-EAST-1", "us--east-1", "-us-east-1", "us-east-", "us-east-123", "u-east-1",
		"us-east-1\n", "eusc-de-east-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		err := Region(v)
		if err != nil {
			requireMessage(t, "Region", v, err)
			return
		}
		if !allBytes(v, func(c byte) bool { return isLower(c) || isDigit(c) || c == '-' }) {
			t.Fatalf("Region accepted %q, which has characters other than a-z, 0-9 and -", v)
		}
		parts := strings.Split(v, "-")
		if len(parts) < 3 {
			t.Fatalf("Region accepted %q, which has fewer than three hyphen-separated parts", v)
		}
		if len(parts[0]) < 2 || len(parts[0]) > 4 || !allBytes(parts[0], isLower) {
			t.Fatalf("Region accepted %q, whose first part is not 2-4 letters (us, eusc)", v)
		}
		for _, p := range parts[1 : len(parts)-1] {
			if p == "" || !allBytes(p, isLower) {
				t.Fatalf("Region accepted %q, which has a middle part %q that is not letters", v, p)
			}
		}
		last := parts[len(parts)-1]
		if len(last) < 1 || len(last) > 2 || !allBytes(last, isDigit) {
			t.Fatalf("Region accepted %q, whose last part is not one or two digits", v)
		}
		// The region ends up in service host names (kms:ViaService, endpoints).
		host := "s3." + v + ".amazonaws.com"
		if err := EndpointURL("https://" + host); err != nil {
			t.Fatalf("Region accepted %q but https://%s is not a valid endpoint: %v", v, host, err)
		}
	})
}

func FuzzEndpointURL(f *testing.F) {
	for _, s := range []string{
		"https://127.0.0.1:4566", "http://localhost:4566/", "https://s3.eu-central-1.amazonaws.com", "https://[::1]:443/path",
		"HTTPS://S3.EXAMPLE", "s3.amazonaws.com", "https://", "https://:443", "https://h/#frag", "%zz", "https://u:p@h",
		"https://h/?a=b", "ftp://h", "https:h", "//h", "", "https://h:port",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		err := EndpointURL(v)
		if err != nil {
			requireMessage(t, "EndpointURL", v, err)
			return
		}
		u, perr := url.Parse(v)
		if perr != nil {
			t.Fatalf("EndpointURL accepted %q, which url.Parse rejects: %v", v, perr)
		}
		if u.Scheme != "https" && u.Scheme != "http" {
			t.Fatalf("EndpointURL accepted %q with scheme %q", v, u.Scheme)
		}
		if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
			t.Fatalf("EndpointURL accepted %q without a host (host %q, opaque %q)", v, u.Host, u.Opaque)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("EndpointURL accepted %q carrying credentials, a query or a fragment", v)
		}
		// Normalising the URL must keep it acceptable and keep its scheme and host.
		again := u.String()
		if err := EndpointURL(again); err != nil {
			t.Fatalf("EndpointURL accepted %q but not its normal form %q: %v", v, again, err)
		}
		if u2, err := url.Parse(again); err != nil || u2.Scheme != u.Scheme || u2.Host != u.Host {
			t.Fatalf("normal form %q of %q changes scheme or host (err %v)", again, v, err)
		}
	})
}

func FuzzAssumeRoleDuration(f *testing.F) {
	for _, s := range []string{"15m", "1h", "12h", "45m30s", "720m", "43200s", "14m59s", "12h1s", "-1h", "1 hour", "", "0", "1e3h", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, err := AssumeRoleDuration(v)
		parsed, perr := time.ParseDuration(v)
		if err != nil {
			requireMessage(t, "AssumeRoleDuration", v, err)
			if d != 0 {
				t.Fatalf("AssumeRoleDuration(%q) returned %v with an error", v, d)
			}
			if perr == nil && parsed >= AssumeRoleDurationMin && parsed <= AssumeRoleDurationMax {
				t.Fatalf("AssumeRoleDuration rejected %q although it parses to %v, within the limits", v, parsed)
			}
			return
		}
		if perr != nil || parsed != d {
			t.Fatalf("AssumeRoleDuration(%q) = %v, but time.ParseDuration gives %v, %v", v, d, parsed, perr)
		}
		if d < 15*time.Minute || d > 12*time.Hour {
			t.Fatalf("AssumeRoleDuration(%q) = %v, outside 15m..12h", v, d)
		}
	})
}

func FuzzSessionName(f *testing.F) {
	for _, s := range []string{"terraform@ci", "a_b+c=d,e.f@g-h", "ab", "a", "", strings.Repeat("a", 64), strings.Repeat("a", 65), "a b", "naïve", "a/b", "ab\n"} {
		f.Add(s)
	}
	sessionByte := func(c byte) bool { return isWord(c) || strings.IndexByte("+=,.@-", c) >= 0 }
	f.Fuzz(func(t *testing.T, v string) {
		err := SessionName(v)
		want := len(v) >= 2 && len(v) <= 64 && allBytes(v, sessionByte)
		if (err == nil) != want {
			t.Fatalf("SessionName(%q) = %v; want valid = %t (2-64 of [A-Za-z0-9_+=,.@-])", v, err, want)
		}
		if err != nil {
			requireMessage(t, "SessionName", v, err)
		}
	})
}

func FuzzExternalID(f *testing.F) {
	for _, s := range []string{"partner:42", "a/b:c@d", "x", "", strings.Repeat("a", 1224), strings.Repeat("a", 1225), "a b", "ü-id", "ab\n"} {
		f.Add(s)
	}
	externalIDByte := func(c byte) bool { return isWord(c) || strings.IndexByte("+=,.@:/-", c) >= 0 }
	f.Fuzz(func(t *testing.T, v string) {
		err := ExternalID(v)
		want := len(v) >= 2 && len(v) <= 1224 && allBytes(v, externalIDByte)
		if (err == nil) != want {
			t.Fatalf("ExternalID(%q) = %v; want valid = %t (2-1224 of [A-Za-z0-9_+=,.@:/-])", v, err, want)
		}
		if err != nil {
			requireMessage(t, "ExternalID", v, err)
		}
	})
}

func FuzzIAMPrincipalARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::123456789012:role/path/ci", "arn:aws-cn:iam::123456789012:role/ci", "arn:aws:iam::123456789012:user/alice",
		"arn:aws:iam::123456789012:role/*", "arn:aws:iam::123456789012:role/ci?", "arn:aws:iam::123456789012:role/",
		"arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:group/admins", "arn:aws:s3:::bucket",
		"arn:aws:iam::12345:role/ci", "arn:aws:iam:us-east-1:123456789012:role/ci", "ci", "", "arn:aws:iam::123456789012:role",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		errRole := IAMPrincipalARN(v, "role")
		errUser := IAMPrincipalARN(v, "user")
		errBoth := IAMPrincipalARN(v, "role", "user")
		errBothRev := IAMPrincipalARN(v, "user", "role")
		for _, err := range []error{errRole, errUser, errBoth, errBothRev} {
			if err != nil {
				requireMessage(t, "IAMPrincipalARN", v, err)
			}
		}
		// Narrowing: role-or-user accepts exactly what role or user accepts,
		// whatever the order of the kinds.
		if (errBoth == nil) != (errRole == nil || errUser == nil) || (errBoth == nil) != (errBothRev == nil) {
			t.Fatalf("IAMPrincipalARN(%q): role %v, user %v, role+user %v, user+role %v are inconsistent", v, errRole, errUser, errBoth, errBothRev)
		}
		if errRole == nil && errUser == nil {
			t.Fatalf("IAMPrincipalARN(%q) accepted the value as both a role and a user", v)
		}
		for kind, err := range map[string]error{"role": errRole, "user": errUser} {
			if err != nil {
				continue
			}
			a, perr := arn.Parse(v)
			if perr != nil {
				t.Fatalf("IAMPrincipalARN(%q, %q) accepted a value arn.Parse rejects: %v", v, kind, perr)
			}
			if a.Service != "iam" || a.Region != "" {
				t.Fatalf("IAMPrincipalARN(%q, %q) accepted service %q region %q", v, kind, a.Service, a.Region)
			}
			if len(a.AccountID) != 12 || !allBytes(a.AccountID, isDigit) {
				t.Fatalf("IAMPrincipalARN(%q, %q) accepted account %q", v, kind, a.AccountID)
			}
			rest, ok := strings.CutPrefix(a.Resource, kind+"/")
			if !ok || rest == "" {
				t.Fatalf("IAMPrincipalARN(%q, %q) accepted resource %q", v, kind, a.Resource)
			}
			if strings.ContainsAny(a.Resource, "*?") {
				t.Fatalf("IAMPrincipalARN(%q, %q) accepted a wildcard resource %q", v, kind, a.Resource)
			}
		}
	})
}

func FuzzTagKey(f *testing.F) {
	for _, s := range []string{"owner", "team:name", "aws:cloudformation", "AWS:x", "Aws:", "aws", "awsx:y", "", " aws:x", "ａｗｓ:x", "awſ:x", "securestate:backend"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		err := TagKey(v)
		// AWS reserves "aws:" in any combination of ASCII upper and lower case.
		reserved := len(v) >= 4
		for i := 0; reserved && i < 4; i++ {
			c := v[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			reserved = c == "aws:"[i]
		}
		if (err != nil) != reserved {
			t.Fatalf("TagKey(%q) = %v; reserved prefix: %t", v, err, reserved)
		}
		if err != nil {
			requireMessage(t, "TagKey", v, err)
		}
	})
}
