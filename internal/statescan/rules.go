package statescan

import (
	"encoding/base64"
	"math"
	"regexp"
	"strings"
)

// Rule names, as they appear in Finding.Rule. The package documentation
// describes each rule and its thresholds.
const (
	// RuleSensitive: a non-empty value at a path the instance lists in
	// sensitive_attributes, or the non-empty value of a sensitive root output.
	RuleSensitive = "sensitive_attribute"
	// RuleKnownAttribute: a non-empty attribute that holds a secret in
	// plaintext by design, from the built-in table knownSecretAttributes.
	RuleKnownAttribute = "known_secret_attribute"
	// RuleAWSAccessKey: an AWS access key ID (AKIA, ASIA, ABIA or ACCA and
	// 16 base32 characters) anywhere in a string.
	RuleAWSAccessKey = "aws_access_key_id"
	// RuleAWSSecretKey: a string of exactly 40 characters of [A-Za-z0-9/+]
	// mixing lowercase, uppercase and digits, the shape of an AWS secret
	// access key.
	RuleAWSSecretKey = "aws_secret_access_key"
	// RulePrivateKey: a PEM or PGP private key block header anywhere in a
	// string.
	RulePrivateKey = "private_key_block"
	// RuleJWT: a JSON Web Token anywhere in a string.
	RuleJWT = "jwt"
	// RuleHighEntropy: a random-looking base64 or hex token in a string.
	RuleHighEntropy = "high_entropy_token"
)

// knownSecretAttributes lists, per resource type, the top-level attributes
// that the provider stores in state in plaintext and that hold a secret by
// design. Attributes that hold a secret only in encrypted form (such as
// aws_iam_access_key.encrypted_secret or github_actions_secret.
// encrypted_value), public material (aws_key_pair.public_key, certificates)
// and values random by design but not secret (random_string.result,
// random_id) are left out.
var knownSecretAttributes = map[string][]string{
	"aws_db_instance":                     {"password"},
	"aws_directory_service_directory":     {"password"},
	"aws_docdb_cluster":                   {"master_password"},
	"aws_elasticache_replication_group":   {"auth_token"},
	"aws_iam_access_key":                  {"secret", "ses_smtp_password_v4"},
	"aws_iam_service_specific_credential": {"service_password"},
	"aws_iam_user_login_profile":          {"password"},
	"aws_lightsail_key_pair":              {"private_key"},
	"aws_rds_cluster":                     {"master_password"},
	"aws_redshift_cluster":                {"master_password"},
	"aws_secretsmanager_secret_version":   {"secret_string", "secret_binary"},
	// An SSM parameter's value is plaintext in state whatever its type.
	"aws_ssm_parameter":          {"value"},
	"azurerm_key_vault_secret":   {"value"},
	"azurerm_storage_account":    {"primary_access_key", "secondary_access_key"},
	"github_actions_secret":      {"plaintext_value"},
	"google_service_account_key": {"private_key"},
	"google_sql_user":            {"password"},
	"kubernetes_secret":          {"data"},
	"kubernetes_secret_v1":       {"data"},
	"random_password":            {"result", "bcrypt_hash"},
	"tls_private_key":            {"private_key_pem", "private_key_openssh", "private_key_pem_pkcs8"},
	"vault_generic_secret":       {"data_json", "data"},
}

// knownAttributeNames holds every attribute name of knownSecretAttributes,
// so the scanner remembers only those while the type may not be known yet.
var knownAttributeNames = func() map[string]struct{} {
	names := map[string]struct{}{}
	for _, attrs := range knownSecretAttributes {
		for _, a := range attrs {
			names[a] = struct{}{}
		}
	}
	return names
}()

// ruleSet is a set of the value format rules.
type ruleSet uint8

const (
	ruleAccessKey ruleSet = 1 << iota
	ruleSecretKey
	rulePrivateKey
	ruleJWT
	ruleHighEntropy
)

// ruleNames names the bits of a ruleSet, in the order that picks the rule
// shown in a redacted key.
var ruleNames = [...]struct {
	bit  ruleSet
	name string
	// redacted is how a key matching this rule (first) is shown.
	redacted string
}{
	{ruleAccessKey, RuleAWSAccessKey, redactedKey(RuleAWSAccessKey)},
	{ruleSecretKey, RuleAWSSecretKey, redactedKey(RuleAWSSecretKey)},
	{rulePrivateKey, RulePrivateKey, redactedKey(RulePrivateKey)},
	{ruleJWT, RuleJWT, redactedKey(RuleJWT)},
	{ruleHighEntropy, RuleHighEntropy, redactedKey(RuleHighEntropy)},
}

// redactedKey is the step shown in place of a key that matched rule. It is
// neither an identifier nor quoted, so no map key or attribute name renders
// the same.
func redactedKey(rule string) string {
	return "[<redacted:" + rule + ">]"
}

// withoutEntropy drops the high-entropy rule from a set that holds another
// rule, as check does for one string, when the set joins the rules of
// several strings (the parts of a key).
func (r ruleSet) withoutEntropy() ruleSet {
	if r&^ruleHighEntropy != 0 {
		return r &^ ruleHighEntropy
	}
	return r
}

// redacted returns the step shown in place of a key matching the rules in
// the set: the first of ruleNames it holds. Callers redact only keys that
// matched a rule; an empty set still hides the key.
func (r ruleSet) redacted() string {
	for _, rn := range ruleNames {
		if r&rn.bit != 0 {
			return rn.redacted
		}
	}
	return "[<redacted>]"
}

// names lists the rule names in the set.
func (r ruleSet) names() []string {
	var n []string
	for _, rn := range ruleNames {
		if r&rn.bit != 0 {
			n = append(n, rn.name)
		}
	}
	return n
}

var (
	accessKeyPattern  = regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`)
	privateKeyPattern = regexp.MustCompile(`-----BEGIN (?:(?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY|PGP PRIVATE KEY BLOCK)-----`)
	jwtPattern        = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
)

// detector applies the value format rules to strings.
type detector struct {
	base64 float64 // entropy threshold of base64-like tokens, bits per character
	hex    float64 // entropy threshold of hexadecimal tokens
}

// check returns the format rules that v matches. name is the attribute name
// or map key nearest to v.
func (d detector) check(v, name string) ruleSet {
	if len(v) < minMatchLen || isLowerName(v) {
		return 0
	}
	var r ruleSet
	// Cheap substring tests keep the regular expressions off most strings.
	if (strings.Contains(v, "IA") || strings.Contains(v, "ACCA")) && accessKeyPattern.MatchString(v) {
		r |= ruleAccessKey
	}
	if isSecretKeyShape(v) {
		r |= ruleSecretKey
	}
	if strings.Contains(v, "-----BEGIN ") && privateKeyPattern.MatchString(v) {
		r |= rulePrivateKey
	}
	if strings.Contains(v, "eyJ") && jwtPattern.MatchString(v) {
		r |= ruleJWT
	}
	if r == 0 && len(v) >= minTokenLen && !excludedName(name) && d.highEntropy(v) {
		r |= ruleHighEntropy
	}
	return r
}

// checkKey returns the format rules that a map key, an attribute name or an
// instance key matches: those of check, without the attribute name
// exclusions of the high-entropy rule, which are about values.
func (d detector) checkKey(k string) ruleSet {
	return d.check(k, "")
}

// isLowerName reports whether v is made only of [a-z0-9_-] and holds one of
// [g-z_-], as attribute names and most keys are: no rule matches such a
// string. The other rules need an uppercase letter, and so does a
// high-entropy token that is not hexadecimal; v is one token, and not
// hexadecimal.
func isLowerName(v string) bool {
	notHex := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'g' && c <= 'z', c == '_', c == '-':
			notHex = true
		default:
			return false
		}
	}
	return notHex
}

// isSecretKeyShape reports whether v has the shape of an AWS secret access
// key: exactly 40 characters of [A-Za-z0-9/+] with a lowercase letter, an
// uppercase letter and a digit.
func isSecretKeyShape(v string) bool {
	if len(v) != 40 {
		return false
	}
	var lower, upper, digit bool
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		case c == '/' || c == '+':
		default:
			return false
		}
	}
	return lower && upper && digit
}

const (
	minTokenLen = 20
	maxTokenLen = 256
	// minMatchLen is the length of the shortest string a format rule can
	// match: an access key ID or a high-entropy token (a private key header
	// needs 27 bytes, a JWT 32, a secret access key 40). Most keys and
	// values are shorter, and are not looked at further.
	minMatchLen = 20
)

// excludedName reports whether an attribute or key name says its value is
// an identifier, a digest or a version, never checked for high entropy.
func excludedName(name string) bool {
	n := strings.ToLower(name)
	for _, suffix := range excludedNameSuffixes {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

var excludedNameSuffixes = []string{
	"id", "ids", "arn", "arns",
	"hash", "etag", "checksum", "md5", "fingerprint",
	"sha", "sha1", "sha224", "sha256", "sha384", "sha512",
	"version", "versions",
}

// excludedValuePrefixes start values that are never checked for high
// entropy: ARNs and SSH public keys.
var excludedValuePrefixes = []string{"arn:", "ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"}

// highEntropy reports whether v, or a token in it, looks random.
func (d detector) highEntropy(v string) bool {
	t := strings.TrimLeft(v, " \t\r\n")
	if t == "" || t[0] == '{' || t[0] == '[' || strings.Contains(v, "://") || strings.Contains(v, "-----BEGIN") {
		return false
	}
	for _, p := range excludedValuePrefixes {
		if strings.HasPrefix(t, p) {
			return false
		}
	}
	for len(v) > 0 {
		i := strings.IndexFunc(v, isTokenSeparator)
		if i < 0 {
			return d.randomToken(v)
		}
		if d.randomToken(v[:i]) {
			return true
		}
		v = v[i+1:]
	}
	return false
}

// isTokenSeparator splits a string into tokens.
func isTokenSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', '"', '\'', ',', ';', '=', ':', '&':
		return true
	}
	return false
}

// hashLengths are the lengths of hexadecimal digests: MD5 (and S3 ETags),
// SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512.
var hashLengths = map[int]bool{32: true, 40: true, 56: true, 64: true, 96: true, 128: true}

// randomToken applies the token tests of the high-entropy rule.
func (d detector) randomToken(t string) bool {
	if len(t) < minTokenLen || len(t) > maxTokenLen {
		return false
	}
	var lower, upper, digit, other bool // other: g-z, G-Z, + / - _
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'F':
			upper = true
		case c >= 'g' && c <= 'z':
			lower, other = true, true
		case c >= 'G' && c <= 'Z':
			upper, other = true, true
		case c == '+' || c == '/' || c == '-' || c == '_':
			other = true
		default:
			return false
		}
	}
	if !other && lower != upper {
		// Hexadecimal.
		return digit && !hashLengths[len(t)] && entropy(t) >= d.hex
	}
	if !lower || !upper || !digit {
		return false
	}
	return entropy(t) >= d.base64 && classSwitchRate(t) >= minClassSwitchRate && !decodesToText(t)
}

// minClassSwitchRate is the share of adjacent characters of a base64-like
// token that must differ in class (lowercase, uppercase, digit, other). A
// random base64 token switches at about two in three; names made of words,
// such as MyCompanyProductionDatabase01 or /aws/lambda/MyServiceHandler2,
// at one in three or less, although their entropy passes.
const minClassSwitchRate = 0.45

// classSwitchRate is the share of adjacent characters of t that differ in
// class.
func classSwitchRate(t string) float64 {
	if len(t) < 2 {
		return 0
	}
	switches := 0
	for i := 1; i < len(t); i++ {
		if charClass(t[i]) != charClass(t[i-1]) {
			switches++
		}
	}
	return float64(switches) / float64(len(t)-1)
}

func charClass(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return 0
	case c >= 'A' && c <= 'Z':
		return 1
	case c >= '0' && c <= '9':
		return 2
	}
	return 3
}

// entropy is the Shannon entropy of t in bits per byte.
func entropy(t string) float64 {
	var counts [256]int
	for i := 0; i < len(t); i++ {
		counts[t[i]]++
	}
	n := float64(len(t))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// decodesToText reports whether t is base64 (standard or URL alphabet,
// padding already split off) of printable text: an encoded document, not a
// key.
func decodesToText(t string) bool {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(t, "-_") {
		if strings.ContainsAny(t, "+/") {
			return false
		}
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(t)
	if err != nil || len(b) == 0 {
		return false
	}
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
