package permissions

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"unicode"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// GuideFile is where the guide's template is committed, relative to the
// repository root: `make docs` renders it into docs/guides/ with the policy
// files (Group.File) included.
const GuideFile = "templates/guides/permissions.md.tmpl"

// Files are the files the generator writes, by path relative to the
// repository root: each group's policy and the guide.
func Files() map[string][]byte {
	files := map[string][]byte{GuideFile: Guide()}
	for _, g := range Groups {
		files[g.File()] = PolicyJSON(g)
	}
	return files
}

// PolicyJSON is a group's policy as the committed file holds it: indented,
// with a final newline.
func PolicyJSON(g Group) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(Policy(g).String()), "", "  "); err != nil {
		panic("permissions: bug: the policy document is not valid JSON: " + err.Error())
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// MaxPolicySize is the most characters (whitespace excluded) IAM accepts in a
// managed policy.
const MaxPolicySize = 6144

// PolicySize is a group's policy size as IAM counts it against
// MaxPolicySize.
func PolicySize(g Group) int {
	n := 0
	for _, r := range Policy(g).String() {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

//go:embed guide.md.tmpl
var guideText string

var guideTemplate = template.Must(template.New("guide").Parse(guideText))

// guideRow is one operation in the guide's tables.
type guideRow struct {
	Operation, Actions, Group, Resources, Note string
}

type guideComponent struct {
	Name string
	Rows []guideRow
}

// guidePolicy is one group's policy in the guide.
type guidePolicy struct {
	Title, File, Include string // Include: the tfplugindocs directive that includes the file
	Statements, Size     int    // Size: characters IAM counts (whitespace excluded)
}

type guideData struct {
	Policies      []guidePolicy
	MaxSize       int
	OwnerTag      string
	Components    []guideComponent
	Unscoped      []string // "actions: why"
	DestroyWrites []string // create/update actions destroy needs too
	TagOnCreate   []string // operations that tag in the create request, with the extra actions
}

// Guide is the text of the tfplugindocs template of the permissions guide.
func Guide() []byte {
	d := guideData{OwnerTag: naming.OwnerTagKey, MaxSize: MaxPolicySize}
	for _, g := range Groups {
		d.Policies = append(d.Policies, guidePolicy{
			Title: g.Title(), File: g.File(), Include: fmt.Sprintf(`{{ codefile "json" %q }}`, g.File()),
			Statements: len(Policy(g).Statement), Size: PolicySize(g),
		})
	}
	why := map[*Scope][]string{}
	var whyOrder []*Scope
	for _, c := range Components {
		gc := guideComponent{Name: c.Name}
		for _, op := range Operations {
			if op.Component != c {
				continue
			}
			gc.Rows = append(gc.Rows, guideRow{
				Operation: op.Service + " " + op.Name,
				Actions:   actionsCell(op),
				Group:     groupCell(op),
				Resources: resourcesCell(op),
				Note:      op.Note,
			})
			for _, a := range op.Actions {
				if a.Scope.Why == "" || op.Separate {
					continue
				}
				if _, ok := why[a.Scope]; !ok {
					whyOrder = append(whyOrder, a.Scope)
				}
				if !slices.Contains(why[a.Scope], a.Name) {
					why[a.Scope] = append(why[a.Scope], a.Name)
				}
			}
			// An operation listed under two components is named once.
			if op.AlsoDestroy && !slices.Contains(d.DestroyWrites, op.Actions[0].Name) {
				d.DestroyWrites = append(d.DestroyWrites, op.Actions[0].Name)
			}
			if tagging := tagActions(op); len(tagging) > 0 {
				if t := fmt.Sprintf("`%s` (%s)", op.Actions[0].Name, strings.Join(codeList(tagging), ", ")); !slices.Contains(d.TagOnCreate, t) {
					d.TagOnCreate = append(d.TagOnCreate, t)
				}
			}
		}
		d.Components = append(d.Components, gc)
	}
	for _, s := range whyOrder {
		d.Unscoped = append(d.Unscoped, fmt.Sprintf("%s on %s: %s", strings.Join(codeList(why[s]), ", "), strings.Join(codeList(s.Resources), ", "), s.Why))
	}
	var b bytes.Buffer
	if err := guideTemplate.Execute(&b, d); err != nil {
		panic("permissions: bug: the guide template failed: " + err.Error())
	}
	return b.Bytes()
}

func codeList(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = "`" + s + "`"
	}
	return out
}

func actionsCell(op Operation) string {
	if len(op.Actions) == 0 {
		return "none"
	}
	return strings.Join(codeList(op.ActionNames()), ", ")
}

func groupCell(op Operation) string {
	g := op.Group.Title()
	if op.AlsoDestroy {
		g += "; destroy too"
	}
	if op.Separate {
		g += " (granted elsewhere)"
	}
	return g
}

// resourcesCell lists each distinct scope of the operation's actions, with
// its condition.
func resourcesCell(op Operation) string {
	var parts []string
	var seen []*Scope
	for _, a := range op.Actions {
		if slices.Contains(seen, a.Scope) {
			continue
		}
		seen = append(seen, a.Scope)
		p := strings.Join(codeList(a.Scope.Resources), ", ")
		if op.Separate {
			p = strings.Join(a.Scope.Resources, ", ")
		}
		for _, test := range slices.Sorted(maps.Keys(a.Scope.Condition)) {
			kv := a.Scope.Condition[test]
			for _, k := range slices.Sorted(maps.Keys(kv)) {
				p += fmt.Sprintf(" if %s %s %s", code(k), test, strings.Join(codeList(kv[k]), ", "))
			}
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

func code(s string) string { return "`" + s + "`" }

// tagActions are the tagging actions AWS checks for an operation besides its
// own: what a create that carries tags needs.
func tagActions(op Operation) []string {
	var out []string
	for _, a := range op.Actions[min(1, len(op.Actions)):] {
		_, name, _ := strings.Cut(a.Name, ":")
		if strings.HasPrefix(name, "Tag") || name == "AddTags" {
			out = append(out, a.Name)
		}
	}
	return out
}
