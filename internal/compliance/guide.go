package compliance

import (
	_ "embed"
	"fmt"
)

// GuidePath is where Guide is written, relative to the repository root.
const GuidePath = "templates/guides/compliance.md.tmpl"

//go:embed guide.md.tmpl
var guideText string

// Guide is the compliance guide's template (for tfplugindocs): its text with
// the table.
func Guide() string {
	return fmt.Sprintf(guideText, CISVersion, CISVersion, CISVersion, Markdown())
}
