package accesspolicy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/posture"
)

// Posture measures a state access policy made by anyone against least
// privilege, from what Find read: no Action "*" or "<service>:*", no S3 or
// DynamoDB action allowed on Resource "*" (policydoc.Wildcards, the check
// the backend's own policies pass).
func Posture(o *Observed) posture.Result {
	doc, err := policydoc.Parse(o.Document)
	if err != nil {
		return posture.Failed(fmt.Sprintf("default version %s cannot be parsed", o.DefaultVersion))
	}
	findings := policydoc.Wildcards(doc)
	for i, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range st.Action {
			if service, rest, ok := strings.Cut(a, ":"); ok && rest == "*" {
				findings = append(findings, fmt.Sprintf("statement %d allows every %s action (%s)", i, service, a))
			}
		}
		if len(st.NotAction) > 0 || len(st.NotResource) > 0 {
			findings = append(findings, fmt.Sprintf("statement %d allows through NotAction or NotResource", i))
		}
	}
	if len(findings) > 0 {
		slices.Sort(findings)
		return posture.Failed(fmt.Sprintf("default version %s is not least privilege: %s", o.DefaultVersion, strings.Join(findings, "; ")))
	}
	return posture.Passed(fmt.Sprintf("default version %s names its actions and resources", o.DefaultVersion))
}
