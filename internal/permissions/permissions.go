// Package permissions is the one table of what the provider itself may need
// from AWS: every API operation it can call, the IAM actions AWS checks for
// it, on which resources, and in which part of a backend's life (read,
// create/update, destroy). The policy for whoever runs the bootstrap
// (examples/permissions/*.json) and the permissions guide
// (docs/guides/permissions.md) are generated from it; tests hold it equal to
// the operations the code can call.
package permissions

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// Group is the part of a backend's life an operation belongs to; the policy
// has one statement per component, group and scope, so a role may be given
// only some groups (a plan-only role: Read).
type Group int

// Groups, in the order the policy lists them.
const (
	// Read: every plan, refresh and import; apply and destroy begin with it.
	Read Group = iota
	// CreateUpdate: apply, creating and repairing components.
	CreateUpdate
	// Destroy: destroy, and an apply that removes a component (a dropped
	// environment, monitoring or the lock table turned off) or discards what a
	// failed create left behind.
	Destroy
)

// Groups lists every group in order.
var Groups = []Group{Read, CreateUpdate, Destroy}

// Title is the group's name in the guide.
func (g Group) Title() string {
	return [...]string{"Read, refresh, import", "Create, update", "Destroy"}[g]
}

// File is where the group's policy is committed, relative to the
// repository root.
func (g Group) File() string {
	return "examples/permissions/" + [...]string{"read", "create-update", "destroy"}[g] + ".json"
}

// sid is the group's part of a statement ID.
func (g Group) sid() string { return [...]string{"Read", "CreateUpdate", "Destroy"}[g] }

// Component is one AWS object kind of a backend, as the backend's component
// IDs name it (error messages say "component kms_key").
type Component struct {
	Name string // "kms_key"
	Sid  string // its part of statement IDs: "KmsKey"
	// Scope is the component's own resources; statements on them carry no
	// scope suffix in their ID.
	Scope *Scope
}

// Scope is where a set of actions applies: the Resource (and Condition) of a
// statement.
type Scope struct {
	Suffix    string   // added to statement IDs when not the component's own scope
	Resources []string // IAM resource patterns
	// Condition narrows the statement further (iam:PassedToService, …).
	Condition policydoc.Conditions
	// Why says why the scope is no narrower, when it could look too wide.
	Why string
}

// Action is one IAM action an operation needs, on its scope.
type Action struct {
	Name  string // "s3:GetEncryptionConfiguration"
	Scope *Scope
}

// Operation is one AWS API operation the provider can call.
type Operation struct {
	Service   string // the SDK's service ID: s3.ServiceID ("S3"), cloudwatchlogs.ServiceID ("CloudWatch Logs"), …
	Name      string // the operation, as the SDK client's method is named: "GetBucketEncryption"
	Component *Component
	Group     Group
	// Actions AWS checks for the call: the operation's own action, and any
	// AWS also requires for what the request carries (tags on create, a role
	// passed to a service). Empty when AWS checks none.
	Actions []Action
	// AlsoDestroy: a create/update action destroy needs too.
	AlsoDestroy bool
	// Separate: granted elsewhere, not in the bootstrap policy (sts:AssumeRole
	// belongs to the credentials the provider starts from).
	Separate bool
	Note     string // what the provider calls it for, when the name does not say
}

// Key identifies an operation: the SDK's service ID and operation name, as a
// smithy.OperationError reports them.
type Key struct{ Service, Name string }

// Key is the operation's key.
func (o Operation) Key() Key { return Key{o.Service, o.Name} }

// Lookup finds the operation the provider calls as service (the SDK's
// service ID, as smithy.OperationError.Service returns it) and name. An
// operation two components call on their own resources is listed once per
// component (IAM's role operations: the alarms' delivery role and the
// replication role); Lookup returns the first entry, and the tests hold the
// entries of one operation to the same action names, so the answer names
// the right actions whichever component made the call.
func Lookup(service, name string) (Operation, bool) {
	i := slices.IndexFunc(Operations, func(o Operation) bool { return o.Service == service && o.Name == name })
	if i < 0 {
		return Operation{}, false
	}
	return Operations[i], true
}

// ActionNames are the operation's IAM action names, in table order.
func (o Operation) ActionNames() []string {
	names := make([]string, 0, len(o.Actions))
	for _, a := range o.Actions {
		names = append(names, a.Name)
	}
	return names
}

// servicePackages maps the import path of each SDK service package the
// provider uses to the service's ID, for the tests that find operations in
// the code.
var servicePackages = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail":     cloudtrail.ServiceID,
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch":     cloudwatch.ServiceID,
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs": cloudwatchlogs.ServiceID,
	"github.com/aws/aws-sdk-go-v2/service/dynamodb":       dynamodb.ServiceID,
	"github.com/aws/aws-sdk-go-v2/service/eventbridge":    eventbridge.ServiceID,
	"github.com/aws/aws-sdk-go-v2/service/iam":            iam.ServiceID,
	"github.com/aws/aws-sdk-go-v2/service/kms":            kms.ServiceID,
	"github.com/aws/aws-sdk-go-v2/service/s3":             s3.ServiceID,
	"github.com/aws/aws-sdk-go-v2/service/sts":            sts.ServiceID,
}

// statementKey groups actions into statements.
type statementKey struct {
	component *Component
	scope     *Scope
}

// Policy is the policy of one group: an Allow statement per component and
// scope, in table order, each with its actions sorted. The destroy policy
// also holds the create/update actions destroy needs (AlsoDestroy), so that
// read and destroy together are enough for terraform destroy.
func Policy(g Group) policydoc.Document {
	var (
		order   []statementKey
		actions = map[statementKey][]string{}
	)
	add := func(c *Component, a Action) {
		k := statementKey{c, a.Scope}
		if _, seen := actions[k]; !seen {
			order = append(order, k)
		}
		if !slices.Contains(actions[k], a.Name) {
			actions[k] = append(actions[k], a.Name)
		}
	}
	for _, op := range Operations {
		switch {
		case op.Separate:
		case op.Group == g:
			for _, a := range op.Actions {
				add(op.Component, a)
			}
		case g == Destroy && op.AlsoDestroy:
			add(op.Component, op.Actions[0])
		}
	}
	doc := policydoc.Document{Version: "2012-10-17"}
	for _, k := range order {
		sid := k.component.Sid + g.sid()
		if k.scope != k.component.Scope {
			sid += k.scope.Suffix
		}
		acts := slices.Clone(actions[k])
		slices.Sort(acts)
		doc.Statement = append(doc.Statement, policydoc.Statement{
			Sid: sid, Effect: "Allow", Action: acts, Resource: slices.Clone(k.scope.Resources), Condition: k.scope.Condition,
		})
	}
	return doc
}
