package policydoc

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// PublicAllow returns the label of the first Allow statement that grants a
// wildcard principal ("*" or {"AWS": "*"}) without any condition, "" when
// there is none: such a statement makes the resource public.
func PublicAllow(d Document) string {
	for i, st := range d.Statement {
		if st.Effect != "Allow" || len(st.Condition) > 0 {
			continue
		}
		if anyone(st.Principal) {
			return label(i, st)
		}
	}
	return ""
}

// DeniesInsecureTransport reports whether d denies every principal every S3
// action on each of resources when the request is not made over TLS: a Deny
// with the wildcard principal, Action "s3:*" or "*", a Bool (or
// BoolIfExists) aws:SecureTransport "false" condition, and Resource patterns
// covering every resource given.
func DeniesInsecureTransport(d Document, resources ...string) bool {
	covered := make([]bool, len(resources))
	for _, st := range d.Statement {
		if st.Effect != "Deny" || !anyone(st.Principal) {
			continue
		}
		if !slices.ContainsFunc(st.Action, func(a string) bool { return a == "*" || strings.EqualFold(a, "s3:*") }) {
			continue
		}
		if !insecureTransportCondition(st.Condition) {
			continue
		}
		for i, r := range resources {
			for _, pattern := range st.Resource {
				if matchesPattern(pattern, r) {
					covered[i] = true
				}
			}
		}
	}
	return !slices.Contains(covered, false)
}

// insecureTransportCondition reports a condition matching requests without
// TLS, and nothing else.
func insecureTransportCondition(c Conditions) bool {
	if len(c) != 1 {
		return false
	}
	for op, keys := range c {
		if (op != "Bool" && op != "BoolIfExists") || len(keys) != 1 {
			return false
		}
		for k, v := range keys {
			return strings.EqualFold(k, "aws:SecureTransport") && len(v) == 1 && strings.EqualFold(v[0], "false")
		}
	}
	return false
}

func label(i int, st Statement) string {
	if st.Sid != "" {
		return "statement " + strconv.Quote(st.Sid)
	}
	return "statement " + strconv.Itoa(i)
}

// matchesPattern reports whether an IAM resource pattern ("*" any run of
// characters, "?" one character) matches value.
func matchesPattern(pattern, value string) bool {
	if pattern == value {
		return true
	}
	expr := regexp.QuoteMeta(pattern)
	expr = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(expr)
	ok, err := regexp.MatchString("^"+expr+"$", value)
	return err == nil && ok
}

// anyone reports the wildcard principal, written "*" or {"AWS": "*"}.
func anyone(p Principal) bool { return p.isWildcard() || slices.Contains(p["AWS"], "*") }
