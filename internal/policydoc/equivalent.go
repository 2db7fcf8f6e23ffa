package policydoc

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Equivalent reports whether two policy texts (raw or URL-encoded JSON) mean
// the same thing. It returns an error when either text cannot be parsed.
//
// Why not github.com/hashicorp/awspolicyequivalence (v1.7.0), which
// hashicorp/aws uses: fed the same pairs (equivalent_library_test.go), it
// agrees on statement order, single value vs one-element list, whitespace,
// Sid, NotAction/NotResource, Version, Bool true vs "true", numbers vs
// numeric strings and account ID vs root ARN, but it is weaker or wrong
// where our documents meet AWS:
//   - it cannot read the percent-encoded text IAM returns;
//   - Principal "*" differs from {"AWS": "*"}, which mean the same;
//   - Principal "*" equals no Principal at all, and equals NotPrincipal "*";
//   - action names and condition keys are compared case-sensitively;
//   - a repeated value in any list makes the lists differ;
//   - statements are matched as a set, so [A, A, B] equals [A, B, B];
//   - Effect is compared case-insensitively although IAM's is not;
//   - condition numbers go through float64 (9007199254740993 equals
//     9007199254740992), and an empty Condition differs from none;
//   - misspelt or unknown elements are dropped silently instead of refused.
//
// So we keep our own comparison.
func Equivalent(a, b string) (bool, error) {
	da, err := Parse(a)
	if err != nil {
		return false, fmt.Errorf("first policy: %w", err)
	}
	db, err := Parse(b)
	if err != nil {
		return false, fmt.Errorf("second policy: %w", err)
	}
	return da.Equivalent(db), nil
}

// Equivalent reports whether d and o mean the same thing. Statement order,
// and order and duplicates within value lists, are ignored; action names and
// condition key names are compared case-insensitively; a principal of "*"
// equals {"AWS": "*"}, and an AWS principal written as an account ID equals
// that account's root ARN. Version, Id, Sid, Effect, resources, other
// principal values, condition operators and condition values are compared
// exactly (a condition value as the text it was written in: 1.0 is not 1).
func (d Document) Equivalent(o Document) bool {
	if d.Version != o.Version || d.ID != o.ID || len(d.Statement) != len(o.Statement) {
		return false
	}
	return slices.Equal(statementKeys(d.Statement), statementKeys(o.Statement))
}

// statementKeys returns the sorted canonical keys of the statements, so two
// statement lists are equal as multisets exactly when their keys are equal.
func statementKeys(stmts []Statement) []string {
	keys := make([]string, len(stmts))
	for i, st := range stmts {
		keys[i] = canonicalKey(st)
	}
	slices.Sort(keys)
	return keys
}

// canonicalKey encodes everything that matters about a statement as a string
// that two statements share exactly when they are equivalent. Strings are
// written with strconv.Quote, so the encoding is unambiguous for any bytes.
func canonicalKey(st Statement) string {
	var b strings.Builder
	writeField(&b, "Sid", strconv.Quote(st.Sid))
	writeField(&b, "Effect", strconv.Quote(st.Effect))
	writeField(&b, "Principal", canonicalPrincipal(st.Principal))
	writeField(&b, "NotPrincipal", canonicalPrincipal(st.NotPrincipal))
	writeField(&b, "Action", quoteList(normalizeSet(st.Action, true)))
	writeField(&b, "NotAction", quoteList(normalizeSet(st.NotAction, true)))
	writeField(&b, "Resource", quoteList(normalizeSet(st.Resource, false)))
	writeField(&b, "NotResource", quoteList(normalizeSet(st.NotResource, false)))
	writeField(&b, "Condition", canonicalConditions(st.Condition))
	return b.String()
}

func writeField(b *strings.Builder, name, value string) {
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(value)
	b.WriteByte(';')
}

// canonicalPrincipal encodes a principal with sorted kinds and sorted,
// de-duplicated values; the wildcard is written as {"AWS": "*"}, and an AWS
// account's root ARN as the bare account ID.
func canonicalPrincipal(p Principal) string {
	if len(p) == 0 {
		return "none"
	}
	norm := make(map[string][]string, len(p))
	for kind, vals := range p {
		if kind == "AWS" {
			accounts := make(StringSet, len(vals))
			for i, v := range vals {
				accounts[i] = accountOfRoot(v)
			}
			vals = accounts
		}
		norm[kind] = normalizeSet(vals, false)
	}
	if len(norm) == 1 && slices.Equal(norm[wildcardKind], []string{wildcardKind}) {
		norm = map[string][]string{"AWS": {wildcardKind}}
	}
	var b strings.Builder
	b.WriteByte('{')
	for _, kind := range sortedKeys(norm) {
		b.WriteString(strconv.Quote(kind))
		b.WriteByte(':')
		b.WriteString(quoteList(norm[kind]))
		b.WriteByte(',')
	}
	b.WriteByte('}')
	return b.String()
}

// accountOfRoot returns the account ID of an account root ARN
// ("arn:aws:iam::111122223333:root") and any other value unchanged. AWS
// stores an account ID written as an AWS principal as that account's root
// ARN, so the two name the same principal. The partition is dropped: a
// policy can only name principals of its own partition.
func accountOfRoot(v string) string {
	a, err := arn.Parse(v)
	if err != nil || a.Service != "iam" || a.Region != "" || a.Resource != "root" || !isAccountID(a.AccountID) {
		return v
	}
	return a.AccountID
}

// isAccountID reports whether s is a 12-digit AWS account ID.
func isAccountID(s string) bool {
	return len(s) == 12 && !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// conditionEntry is one condition key with its normalised values.
type conditionEntry struct {
	key    string
	values []string
}

// canonicalConditions encodes conditions with operators compared exactly and
// keys compared case-insensitively. Keys of one operator are kept as a sorted
// list of entries rather than merged, so two keys differing only in case stay
// two separate tests. Operators without keys are dropped.
func canonicalConditions(c Conditions) string {
	var b strings.Builder
	b.WriteByte('{')
	for _, op := range sortedKeys(c) {
		if len(c[op]) == 0 {
			continue
		}
		entries := make([]conditionEntry, 0, len(c[op]))
		for key, vals := range c[op] {
			entries = append(entries, conditionEntry{key: strings.ToLower(key), values: normalizeSet(vals, false)})
		}
		slices.SortFunc(entries, func(x, y conditionEntry) int {
			if r := cmp.Compare(x.key, y.key); r != 0 {
				return r
			}
			return slices.Compare(x.values, y.values)
		})
		b.WriteString(strconv.Quote(op))
		b.WriteString(":[")
		for _, e := range entries {
			b.WriteString(strconv.Quote(e.key))
			b.WriteByte(':')
			b.WriteString(quoteList(e.values))
			b.WriteByte(',')
		}
		b.WriteString("],")
	}
	b.WriteByte('}')
	return b.String()
}

// normalizeSet returns the sorted, de-duplicated values of s, lower-cased
// when fold is set.
func normalizeSet(s StringSet, fold bool) []string {
	out := make([]string, len(s))
	for i, v := range s {
		if fold {
			v = strings.ToLower(v)
		}
		out[i] = v
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func quoteList(vals []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for _, v := range vals {
		b.WriteString(strconv.Quote(v))
		b.WriteByte(',')
	}
	b.WriteByte(']')
	return b.String()
}
