package policydoc

import (
	"testing"

	awspolicy "github.com/hashicorp/awspolicyequivalence"
)

// libraryDisagrees lists the equivalence cases on which
// github.com/hashicorp/awspolicyequivalence (v1.7.0, what hashicorp/aws uses)
// gives another answer than Equivalent, and why ours is the one we keep. On
// every other case of equivalenceCases the two agree.
var libraryDisagrees = map[string]string{
	// The library parses plain JSON only; IAM returns policies percent-encoded.
	"URL-encoded": "error: percent-encoded text is not parsed",
	// Value lists are compared with their length, so a repeated value counts.
	"reordered and duplicated actions and values": "duplicates counted",
	"duplicate action":                            "duplicates counted",
	"duplicate resource":                          "duplicates counted",
	"duplicate principal":                         "duplicates counted",
	"duplicate condition value":                   "duplicates counted",
	// Principal "*" is a string and {"AWS": "*"} a map; they are never matched.
	"principal star vs AWS star":          `"*" differs from {"AWS": "*"}`,
	"not-principal star vs AWS star list": `"*" differs from {"AWS": ["*"]}`,
	// Action names and condition keys are case-insensitive in IAM.
	"condition key case": "condition keys compared case-sensitively",
	"action case":        "actions compared case-sensitively",
	// Wrong: a string principal "*" against an absent principal compares two
	// empty maps, so Principal "*" equals no Principal at all and equals
	// NotPrincipal "*".
	"principal vs not-principal":     `Principal "*" equals an absent Principal`,
	"principal star vs no principal": `Principal "*" equals an absent Principal`,
	// IAM documents Effect as case-sensitive; the library folds its case.
	"different effect case": "Effect compared case-insensitively",
	// Each statement only needs some equal statement on the other side.
	"statement multiset": "statements matched as a set, not counted",
	// The account-ID rule ignores the principal kind.
	"account ID as a service principal is not a root ARN": "account ID equals root ARN under any principal kind",
	// Numbers go through float64: 1.0 is "1", and large integers round.
	"numeric condition written differently": `1.0 equals "1"`,
	"integers beyond float64 precision":     "9007199254740993 equals 9007199254740992",
	// An operator without keys, or an empty Condition, still counts.
	"operator without keys vs no condition": `{"Bool": {}} differs from no Condition`,
	"empty condition vs no condition":       "an empty Condition differs from none",
}

// TestLibraryComparison feeds Equivalent and the library the same pairs, in
// both orders, and checks that they disagree exactly where libraryDisagrees
// says. If a new library version fixes a case, this test fails and the entry
// (and the verdict in equivalent.go) should be revisited.
func TestLibraryComparison(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range equivalenceCases {
		t.Run(tc.name, func(t *testing.T) {
			reason, disagrees := libraryDisagrees[tc.name]
			seen[tc.name] = true
			for _, pair := range [][2]string{{tc.a, tc.b}, {tc.b, tc.a}} {
				ours, err := Equivalent(pair[0], pair[1])
				if err != nil || ours != tc.want {
					t.Fatalf("Equivalent = %v, %v; want %v", ours, err, tc.want)
				}
				lib, err := awspolicy.PoliciesAreEquivalent(pair[0], pair[1])
				agrees := err == nil && lib == ours
				switch {
				case disagrees && agrees:
					t.Errorf("the library now agrees (%v) although libraryDisagrees says %q", lib, reason)
				case !disagrees && !agrees:
					t.Errorf("library = %v, %v; Equivalent = %v", lib, err, ours)
				}
			}
		})
	}
	for name := range libraryDisagrees {
		if !seen[name] {
			t.Errorf("libraryDisagrees names %q, which is not an equivalence case", name)
		}
	}
}

// The library accepts documents Parse refuses, and then calls them
// equivalent: a misspelt element is dropped silently, so a statement that
// lost its actions equals one that has none.
func TestLibraryAcceptsMalformedDocuments(t *testing.T) {
	for name, pair := range map[string][2]string{
		"misspelt element":       {`{"Statement":[{"Effect":"Allow","Actoin":"a:b"}]}`, `{"Statement":[{"Effect":"Allow"}]}`},
		"unknown top-level key":  {`{"Statement":[{"Effect":"Allow","Action":"a:b"}],"Extra":1}`, `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`},
		"non-string actions":     {`{"Statement":[{"Effect":"Allow","Action":[1,{"x":1}]}]}`, `{"Statement":[{"Effect":"Allow","Action":[{"y":2}]}]}`},
		"document in a list":     {`[{"Statement":[{"Effect":"Allow","Action":"a:b"}]}]`, `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`},
		"empty text vs no rules": {``, `{}`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Equivalent(pair[0], pair[1]); err == nil {
				t.Errorf("Equivalent accepted %s", pair[0])
			}
			if lib, err := awspolicy.PoliciesAreEquivalent(pair[0], pair[1]); err != nil || !lib {
				t.Errorf("library = %v, %v; the comparison records that it calls these equivalent", lib, err)
			}
		})
	}
}
