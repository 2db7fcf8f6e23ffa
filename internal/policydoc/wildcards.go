package policydoc

import (
	"fmt"
	"slices"
	"strings"
)

// Wildcards reports problems a generated policy must never have: an Action
// or NotAction of exactly "*", and an "Allow" statement whose Resource
// includes exactly "*" while its Action names an "s3:" or "dynamodb:" action.
// It returns one human-readable finding per problem, or nil if there are none.
func Wildcards(d Document) []string {
	var findings []string
	for i, st := range d.Statement {
		label := fmt.Sprintf("statement %d", i)
		if st.Sid != "" {
			label += fmt.Sprintf(" (Sid %q)", st.Sid)
		}
		if slices.Contains(st.Action, "*") {
			findings = append(findings, label+`: Action "*" covers every action`)
		}
		if slices.Contains(st.NotAction, "*") {
			findings = append(findings, label+`: NotAction "*" is a wildcard over every action`)
		}
		if st.Effect == "Allow" && slices.Contains(st.Resource, "*") {
			var scoped []string
			for _, a := range st.Action {
				if hasPrefixFold(a, "s3:") || hasPrefixFold(a, "dynamodb:") {
					scoped = append(scoped, a)
				}
			}
			if len(scoped) > 0 {
				findings = append(findings, fmt.Sprintf(`%s: allows %s on Resource "*"`, label, strings.Join(scoped, ", ")))
			}
		}
	}
	return findings
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
