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
	"github.com/securestate/terraform-provider-securestate/internal/statebucket"
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
	{reflect.TypeFor[alarms.LogsAPI](), Alarms},
	{reflect.TypeFor[alarms.MetricAlarmsAPI](), Alarms},
	{reflect.TypeFor[alarms.RoleAPI](), Alarms},
	{reflect.TypeFor[audittrail.API](), Trail},
}

// interfaceOperations are the operations the component interfaces declare,
// found by reflection: each method takes (context, *<Operation>Input, ...)
// from an SDK service package.
func interfaceOperations(t *testing.T) map[Key]string {
	t.Helper()
	ops := map[Key]string{}
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
			k := Key{service, m.Name}
			ops[k] = c.api.String()
			if op, ok := Lookup(k.Service, k.Name); ok && op.Component != c.component {
				t.Errorf("%s %s (called through %s) is listed under component %s, want %s", k.Service, k.Name, c.api, op.Component.Name, c.component.Name)
			}
		}
	}
	return ops
}

// TestInterfacesHaveEntries: every method of every component interface has
// an entry in the table. Adding a method to an interface without adding its
// IAM actions to table.go fails here.
func TestInterfacesHaveEntries(t *testing.T) {
	for k, api := range interfaceOperations(t) {
		if _, ok := Lookup(k.Service, k.Name); !ok {
			t.Errorf("%s declares %s %s, which has no entry in internal/permissions/table.go: add it with the IAM actions AWS checks for it "+
				"(see the service's page in the Service Authorization Reference), then run make docs", api, k.Service, k.Name)
		}
	}
}

// TestTableListsExactlyWhatTheCodeCalls: the table's operations are exactly
// those the provider's code can call: the component interfaces' methods and
// every other operation whose input type the code uses (an ad hoc interface,
// a direct call such as sts:GetCallerIdentity), plus sts:AssumeRole, which
// the SDK's assume-role credentials provider calls.
func TestTableListsExactlyWhatTheCodeCalls(t *testing.T) {
	inCode := codeOperations(t)
	for k, api := range interfaceOperations(t) {
		if _, ok := inCode[k]; !ok {
			t.Errorf("the source scan missed %s %s, which %s declares: the scan is broken", k.Service, k.Name, api)
		}
	}
	for k, where := range inCode {
		if _, ok := Lookup(k.Service, k.Name); !ok {
			t.Errorf("%s uses %s %s, which has no entry in internal/permissions/table.go: add it with the IAM actions AWS checks for it, then run make docs", where, k.Service, k.Name)
		}
	}
	seen := map[Key]bool{}
	for _, op := range Operations {
		if seen[op.Key()] {
			t.Errorf("%s %s is listed twice", op.Service, op.Name)
		}
		seen[op.Key()] = true
		if _, ok := inCode[op.Key()]; !ok {
			t.Errorf("the table lists %s %s, which the provider's code no longer calls: remove it (and its actions), then run make docs", op.Service, op.Name)
		}
	}
}

// codeOperations finds, in the non-test Go files of every package main.go
// reaches inside the module, each use of an SDK operation's input type
// (<service>.<Operation>Input), by the file that uses it. The assume-role
// credentials provider counts as sts:AssumeRole.
func codeOperations(t *testing.T) map[Key]string {
	t.Helper()
	ops := map[Key]string{}
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
	return ops
}

// TestServicePackagesAreTheProvidersServices: the table knows every service
// the code can call and no other.
func TestServicePackagesAreTheProvidersServices(t *testing.T) {
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
