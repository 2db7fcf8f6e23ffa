package permissions

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/accesspolicy"
	"github.com/securestate/terraform-provider-securestate/internal/alarms"
	"github.com/securestate/terraform-provider-securestate/internal/audittrail"
	"github.com/securestate/terraform-provider-securestate/internal/kmskey"
	"github.com/securestate/terraform-provider-securestate/internal/locktable"
	"github.com/securestate/terraform-provider-securestate/internal/replication"
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
	"github.com/securestate/terraform-provider-securestate/internal/statevents"
)

const (
	module   = "github.com/securestate/terraform-provider-securestate"
	repoRoot = "../.."
)

// componentAPIs are the client interfaces of the component packages, with
// the component whose table entries their methods must have.
var componentAPIs = []struct {
	api       reflect.Type
	component *Component
}{
	{reflect.TypeFor[kmskey.API](), KMSKey},
	{reflect.TypeFor[statebucket.API](), Buckets},
	{reflect.TypeFor[locktable.API](), LockTable},
	{reflect.TypeFor[accesspolicy.API](), AccessPolicies},
	{reflect.TypeFor[replication.IAMAPI](), Replication},
	{reflect.TypeFor[replication.S3API](), Replication},
	{reflect.TypeFor[alarms.LogsAPI](), Alarms},
	{reflect.TypeFor[alarms.MetricAlarmsAPI](), Alarms},
	{reflect.TypeFor[alarms.RoleAPI](), Alarms},
	{reflect.TypeFor[statevents.API](), StateEvents},
	{reflect.TypeFor[audittrail.API](), Trail},
}

// declared is one operation a component interface declares.
type declared struct {
	key       Key
	api       string // the interface, "alarms.RoleAPI"
	component *Component
}

// entryFor finds the table's entry of an operation for a component.
func entryFor(k Key, c *Component) (Operation, bool) {
	i := slices.IndexFunc(Operations, func(o Operation) bool { return o.Key() == k && o.Component == c })
	if i < 0 {
		return Operation{}, false
	}
	return Operations[i], true
}

// interfaceOperations are the operations the component interfaces declare,
// found by reflection: each method takes (context, *<Operation>Input, ...)
// from an SDK service package.
func interfaceOperations(t *testing.T) []declared {
	t.Helper()
	var ops []declared
	for _, c := range componentAPIs {
		for m := range c.api.Methods() {
			if m.Type.NumIn() < 2 || m.Type.In(1).Kind() != reflect.Pointer {
				t.Errorf("%s.%s is not an SDK operation (want ctx, *Input, ...optFns)", c.api, m.Name)
				continue
			}
			in := m.Type.In(1).Elem()
			service, ok := servicePackages[in.PkgPath()]
			if !ok || in.Name() != m.Name+"Input" {
				t.Errorf("%s.%s takes %s.%s, not the input of an operation of a known SDK service", c.api, m.Name, in.PkgPath(), in.Name())
				continue
			}
			ops = append(ops, declared{Key{service, m.Name}, c.api.String(), c.component})
		}
	}
	return ops
}

// TestInterfacesHaveEntries: every method of every component interface has
// an entry in the table under that interface's component (so its actions
// are granted on that component's resources). Adding a method to an
// interface without adding its IAM actions to table.go fails here.
func TestInterfacesHaveEntries(t *testing.T) {
	for _, d := range interfaceOperations(t) {
		if _, ok := entryFor(d.key, d.component); ok {
			continue
		}
		if op, ok := Lookup(d.key.Service, d.key.Name); ok {
			t.Errorf("%s declares %s %s, which is listed under component %s but not under %s: add an entry for %s with the actions on its resources",
				d.api, d.key.Service, d.key.Name, op.Component.Name, d.component.Name, d.component.Name)
			continue
		}
		t.Errorf("%s declares %s %s, which has no entry in internal/permissions/table.go: add it with the IAM actions AWS checks for it "+
			"(see the service's page in the Service Authorization Reference), then run make docs", d.api, d.key.Service, d.key.Name)
	}
}

// TestSharedOperationsAreDeclaredByEachComponent: an operation listed under
// more than one component is declared by an interface of each of them, and
// its entries name the same actions, so Lookup (which returns the first)
// names the right ones whichever component made the call.
func TestSharedOperationsAreDeclaredByEachComponent(t *testing.T) {
	decl := interfaceOperations(t)
	byKey := map[Key][]Operation{}
	for _, op := range Operations {
		byKey[op.Key()] = append(byKey[op.Key()], op)
	}
	shared := 0
	for k, entries := range byKey {
		if len(entries) < 2 {
			continue
		}
		shared++
		for _, op := range entries {
			if !slices.ContainsFunc(decl, func(d declared) bool { return d.key == k && d.component == op.Component }) {
				t.Errorf("%s %s is listed under component %s, whose interfaces do not declare it", k.Service, k.Name, op.Component.Name)
			}
			if !slices.Equal(op.ActionNames(), entries[0].ActionNames()) {
				t.Errorf("%s %s names %v under %s but %v under %s", k.Service, k.Name, op.ActionNames(), op.Component.Name, entries[0].ActionNames(), entries[0].Component.Name)
			}
		}
	}
	if shared == 0 {
		t.Error("no operation is listed under two components: IAM's role operations should be (alarms, replication)")
	}
}

// TestTableListsExactlyWhatTheCodeCalls: the table's operations are exactly
// those the provider's code can call: the component interfaces' methods and
// every other operation whose input type the code uses (an ad hoc interface,
// a direct call such as sts:GetCallerIdentity), plus sts:AssumeRole, which
// the SDK's assume-role credentials provider calls.
func TestTableListsExactlyWhatTheCodeCalls(t *testing.T) {
	inCode, _ := scanCode(t)
	for _, d := range interfaceOperations(t) {
		if _, ok := inCode[d.key]; !ok {
			t.Errorf("the source scan missed %s %s, which %s declares: the scan is broken", d.key.Service, d.key.Name, d.api)
		}
	}
	for k, where := range inCode {
		if _, ok := Lookup(k.Service, k.Name); !ok {
			t.Errorf("%s uses %s %s, which has no entry in internal/permissions/table.go: add it with the IAM actions AWS checks for it, then run make docs", where, k.Service, k.Name)
		}
	}
	type entry struct {
		key       Key
		component *Component
	}
	seen := map[entry]bool{}
	for _, op := range Operations {
		if seen[entry{op.Key(), op.Component}] {
			t.Errorf("%s %s is listed twice under component %s", op.Service, op.Name, op.Component.Name)
		}
		seen[entry{op.Key(), op.Component}] = true
		if _, ok := inCode[op.Key()]; !ok {
			t.Errorf("the table lists %s %s, which the provider's code no longer calls: remove it (and its actions), then run make docs", op.Service, op.Name)
		}
	}
}

// sdkServicePrefix starts the import path of every SDK service package.
const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// scanCode finds, in the non-test Go files of every package main.go reaches
// inside the module, each use of an SDK operation's input type
// (<service>.<Operation>Input), by the file that uses it, and every SDK
// service package imported (its import path, by a file importing it). The
// assume-role credentials provider counts as sts:AssumeRole.
func scanCode(t *testing.T) (ops map[Key]string, imported map[string]string) {
	t.Helper()
	ops, imported = map[Key]string{}, map[string]string{}
	queue := []string{"."} // directories relative to the repository root
	visited := map[string]bool{}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if visited[dir] {
			continue
		}
		visited[dir] = true
		entries, err := os.ReadDir(filepath.Join(repoRoot, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			rel := filepath.ToSlash(filepath.Join(dir, name))
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot, rel), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			if dir == "." && f.Name.Name != "main" {
				continue
			}
			services := map[string]string{} // local package name → service ID
			credsPkg := ""
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				local := path[strings.LastIndex(path, "/")+1:]
				if imp.Name != nil {
					local = imp.Name.Name
				}
				switch {
				case strings.HasPrefix(path, module+"/"):
					queue = append(queue, strings.TrimPrefix(path, module+"/"))
				case path == "github.com/aws/aws-sdk-go-v2/credentials/stscreds":
					credsPkg = local
				}
				if id, ok := servicePackages[path]; ok {
					services[local] = id
				}
				if rest, ok := strings.CutPrefix(path, sdkServicePrefix); ok && !strings.Contains(rest, "/") {
					imported[path] = rel
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				switch {
				case services[pkg.Name] != "" && strings.HasSuffix(sel.Sel.Name, "Input"):
					ops[Key{services[pkg.Name], strings.TrimSuffix(sel.Sel.Name, "Input")}] = rel
				case pkg.Name == credsPkg && sel.Sel.Name == "NewAssumeRoleProvider":
					ops[Key{"STS", "AssumeRole"}] = rel
				}
				return true
			})
		}
	}
	if len(ops) == 0 {
		t.Fatal("no AWS operations found in the code: the scan is broken")
	}
	return ops, imported
}

// TestServicePackagesAreTheProvidersServices: the table knows every service
// the code can call and no other. The scan of the code finds operations
// only of the services in servicePackages, so a service package the code
// imports and servicePackages lacks would hide every call to it: it fails
// here.
func TestServicePackagesAreTheProvidersServices(t *testing.T) {
	_, imported := scanCode(t)
	for path, file := range imported {
		if _, ok := servicePackages[path]; !ok {
			t.Errorf("%s imports %s, which servicePackages (permissions.go) does not know: add it, then add the operations the code calls to table.go", file, path)
		}
	}
	for path := range servicePackages {
		if _, ok := imported[path]; !ok {
			t.Errorf("servicePackages lists %s, which no code imports", path)
		}
	}
	var inTable []string
	for _, op := range Operations {
		if !slices.Contains(inTable, op.Service) {
			inTable = append(inTable, op.Service)
		}
	}
	var known []string
	for _, id := range servicePackages {
		known = append(known, id)
	}
	slices.Sort(inTable)
	slices.Sort(known)
	if !slices.Equal(inTable, known) {
		t.Errorf("services in the table %v, SDK packages known %v", inTable, known)
	}
}
