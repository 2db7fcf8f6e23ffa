// Package statescan finds secret material held in plaintext in a Terraform
// state file and reports where it is, never what it is.
//
// [Scan] reads one state in format version 4, as Terraform 0.12 and later and
// OpenTofu write it, and returns [Finding]s made of a resource address, an
// attribute path and a rule name. No attribute value, nor a prefix, excerpt,
// length or hash of one, is ever returned, logged, kept after the scan or put
// into an error message; errors name byte offsets and the structure only.
//
// # What is scanned
//
// The attributes of every resource instance (current and deposed objects,
// managed and data resources, and the legacy attributes_flat form) and the
// values of root module outputs. Provider private data, dependencies, check
// results and all other metadata are skipped. Map keys, attribute names and
// instance keys are checked too, since they appear in findings: see
// "Addresses and paths" below.
//
// # Rules
//
// [RuleSensitive]: a path the instance lists in its sensitive_attributes,
// when the value there is neither null nor empty, and a root output with
// "sensitive": true whose value is neither null nor empty (path "value").
// "Empty" means "", [], {}, or a collection holding only such values. See
// "Sensitive paths" below for how listed paths are resolved.
//
// [RuleKnownAttribute]: an attribute that a provider stores in plaintext and
// that holds a secret by design, from a built-in table of resource type and
// attribute name (knownSecretAttributes in rules.go), when it is non-empty.
//
// The value formats below apply to every string value, however deeply nested,
// of attributes and outputs. A string that holds JSON (a policy, a
// jsonencode'd secret) is matched as one string; it is not parsed.
//
//   - [RuleAWSAccessKey]: \b(AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b anywhere in
//     the string. An access key ID alone is not a secret, but it is never far
//     from one.
//   - [RuleAWSSecretKey]: the whole string is exactly 40 characters of
//     [A-Za-z0-9/+] with at least one lowercase letter, one uppercase letter
//     and one digit.
//   - [RulePrivateKey]: a PEM private key header anywhere in the string:
//     -----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED ]PRIVATE KEY----- or
//     -----BEGIN PGP PRIVATE KEY BLOCK-----.
//   - [RuleJWT]: eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}
//     anywhere in the string.
//   - [RuleHighEntropy]: a random-looking token, described next.
//
// A value found by a format rule, or lying at or under a path found by
// [RuleKnownAttribute], is not reported again by [RuleHighEntropy]. At most
// one finding is made per address, path and rule.
//
// # High-entropy tokens
//
// Precision matters more than recall here: a gate that cries wolf gets
// switched off. The string is split into tokens at whitespace and at any of
// " ' , ; = : & (the whole string is one token when it has none). A token
// fires when all of these hold:
//
//   - it is 20 to 256 bytes long and made only of base64, base64url and hex
//     characters [A-Za-z0-9+/_-];
//   - if it is hexadecimal (all digits and a-f, or all digits and A-F): it
//     has a digit and a letter, it is not 32, 40, 56, 64, 96 or 128
//     characters long (MD5, SHA-1, SHA-2 digests and ETags), and its Shannon
//     entropy is at least EntropyThreshold-1 bits per character (default 3.0);
//   - otherwise: it has a lowercase letter, an uppercase letter and a digit
//     (UUIDs, resource IDs like sg-0123abcd and most names have not), its
//     Shannon entropy is at least EntropyThreshold bits per character
//     (default 4.0), at least 45% of its adjacent characters differ in class
//     (lowercase, uppercase, digit, other: a random token switches at about
//     two in three, names made of words such as MyCompanyProductionDatabase01
//     at one in three or less), and it is not base64 that decodes to
//     printable text (an encoded document or policy, not a key).
//
// With these thresholds a random token of 32 bytes, base64-encoded, fires
// more than 99% of the time, one of 16 bytes about 80% of the time and one
// of 15 bytes (20 characters) about 60% of the time.
//
// Never checked for high entropy:
//
//   - values whose attribute (the nearest map key or attribute name on the
//     path) is "id" or ends in id, ids, arn, arns, hash, etag, checksum, md5,
//     sha, sha1, sha224, sha256, sha384, sha512, fingerprint, version or
//     versions (this covers kms_key_id, version_id, source_code_hash,
//     output_base64sha256 and the like);
//   - ARNs (values starting with "arn:"), values containing a URL ("://"),
//     JSON documents (values starting with { or [ after leading space), PEM
//     blocks (certificates are public; private keys have their own rule) and
//     SSH public keys ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-");
//   - tokens longer than 256 bytes (encoded content such as user_data).
//
// # Addresses and paths
//
// Addresses are written as Terraform prints them: module path, "data." for
// data resources, type, name, and the instance key ([0] or ["key"]); root
// outputs are "output.<name>". Paths are relative to the instance's
// attributes (or, for outputs, start with "value"): attribute names and map
// keys that are identifiers are joined with dots, other keys are written
// ["like.this"], list and tuple elements as [2]. A dynamically typed
// attribute, which the state stores as {"value": ..., "type": ...} (the input
// and output of terraform_data, for example), is reported at the path
// Terraform uses for it: input.password, not input.value.password. A key or
// name longer than 256 bytes is cut there and marked with "…", and a path is
// cut, marked the same way, once it passes 1024 bytes.
//
// Keys come from data as often as values do (for_each = toset(var.tokens),
// a map of tags), so every key that would be written into a finding is
// first checked by the format rules above, whole and before any cut: the
// string index_key of an instance, the keys in brackets of the state's
// module address (module.app["eu"]), map keys and attribute names in
// attributes and output values, legacy attributes_flat keys, and the
// names and string keys of sensitive_attributes paths. The high-entropy
// rule applies to a key without the name exclusions (id, arn, …), which
// are about values. Names that come from the configuration (resource
// types and names, module call names, output names) are written as they
// are.
//
// A key that a rule matches is written as [<redacted:RULE>], RULE being the
// name of the rule that matched (the first of aws_access_key_id,
// aws_secret_access_key, private_key_block, jwt and high_entropy_token when
// several do), in place of .key or ["key"]: tags[<redacted:aws_access_key_id>],
// terraform_data.k[<redacted:high_entropy_token>],
// module.svc[<redacted:jwt>].x.y. Nothing of the key is shown, not even the
// part before a cut. The form is neither an identifier nor quoted, so no map
// key or attribute name renders the same; the same key at the same place
// always renders the same, and two secret keys that match the same rule at
// the same place render alike and make one finding.
//
// The key itself is reported, once for each rule it matches, with Address
// and Path as written up to and including the redacted key: a map key or
// attribute name at its path (tags[<redacted:aws_access_key_id>]), whatever
// is found in its value; an instance key at Address
// x.k[<redacted:high_entropy_token>] and Path "<index_key>"; a module
// instance key at the address of the module instance, such as
// module.svc[<redacted:jwt>], and Path "<module_key>" (an attribute so
// named is written ["<index_key>"] or ["<module_key>"]). A secret key under
// an attribute found by [RuleKnownAttribute] is reported all the same. A
// legacy flat key (tags.AKIA…) is checked part by part between dots and
// whole; if one matches, all of it but the first part is redacted as one
// step (tags[<redacted:aws_access_key_id>]), all of it when the secret
// starts in the first part.
//
// # Sensitive paths
//
// Terraform writes sensitive_attributes as a list of paths, each a list of
// steps: {"type":"get_attr","value":"password"} or {"type":"index","value":
// {"value":0,"type":"number"}} (or a string key). That is the only shape in
// the state Terraform 1.11.4 writes and in the state file code of Terraform
// and OpenTofu; a path of any other shape, or with a step of another kind,
// is ignored without failing the scan.
//
// Terraform writes sensitive_attributes after attributes, so while streaming
// the attributes the scanner records where the null and empty values are,
// collapsing an empty collection to one entry. When the paths arrive, a
// listed path is reported unless its value, or a value containing it, was
// recorded as null or empty. Both sides are matched with their keys as they
// are, not redacted, so two secret keys that findings show alike are told
// apart; the record lives only while the instance is read. A listed path
// that does not exist in the attributes is reported (conservatively). A
// secret key in a listed path is reported, whether or not the path is.
//
// The record is capped at 4096 entries and 256 KiB of path text per
// instance, and cannot hold a path with a cut key or longer than 1024
// bytes; past the cap, or after such a path, every listed path of that
// instance is reported, however empty. If sensitive_attributes comes before
// attributes (never from Terraform), up to 65536 listed paths (1 MiB of
// keys) are kept until the attributes have been read, and further ones are
// ignored.
//
// # Memory
//
// The state is read token by token with encoding/json's Decoder; no
// document, resource or attributes object is held whole. Memory is bounded by
// the largest single JSON value (a string, a number, or one path in
// sensitive_attributes), which MaxValueBytes limits; the decoder buffer can
// hold up to about twice that while it grows, and the token itself is copied
// once more, so plan for roughly four times MaxValueBytes at worst. Add the
// per-instance bookkeeping above, the path being walked (at most 10000
// levels of keys of at most 256 bytes, in practice a few dozen bytes), the
// findings of the resource being read, and the findings (at most 1 KiB of
// path each). A larger value fails the scan with [ErrValueTooLarge] before
// it is read whole; so does a run of more than MaxValueBytes of whitespace.
//
// This is tested with encoding/json as Go builds it by default. Built with
// GOEXPERIMENT=jsonv2, the same memory tests pass, but some error offsets
// are one byte off and an oversized value in sensitive_attributes is
// reported as ErrMalformed.
package statescan
