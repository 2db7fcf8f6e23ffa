package backend

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/smithy-go"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/graph"
	"github.com/securestate/terraform-provider-securestate/internal/permissions"
)

// deniedCodes are the codes AWS services answer a refused call with
// ("Forbidden": S3's answer to a refused HEAD, which has no body).
var deniedCodes = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "UnauthorizedAccess", "Forbidden"}

// iamAction names the IAM action AWS checks for an API call, from the
// permissions table (S3's differ from the operation names: GetBucketEncryption
// is s3:GetEncryptionConfiguration), with the others AWS checks for the same
// call; a call missing from the table is named service:Operation.
func iamAction(service, operation string) string {
	if o, ok := permissions.Lookup(service, operation); ok && len(o.Actions) > 0 {
		names := o.ActionNames()
		if len(names) == 1 {
			return names[0]
		}
		return names[0] + " (AWS also checks " + strings.Join(names[1:], ", ") + " for this call)"
	}
	prefix := iamPrefixes[service]
	if prefix == "" {
		prefix = strings.ToLower(strings.ReplaceAll(service, " ", ""))
	}
	return prefix + ":" + operation
}

// iamPrefixes maps the SDK's service IDs to the prefixes of IAM actions.
var iamPrefixes = map[string]string{
	"S3": "s3", "KMS": "kms", "DynamoDB": "dynamodb", "IAM": "iam", "STS": "sts",
	"CloudTrail": "cloudtrail", "CloudWatch Logs": "logs", "CloudWatch": "cloudwatch", "EventBridge": "events",
}

// denial is one call AWS refused: which component made it, the call, and the
// resource it was for.
type denial struct {
	component, action, resource, code string
}

// deniedResource finds the resource in AWS's own wording ("… on resource:
// arn:aws:s3:::b …").
var deniedResource = regexp.MustCompile(`on resource:? "?(arn:[^"\s,]+)`)

// deniedAction finds the action in AWS's own wording ("… not authorized to
// perform: s3:CreateBucket …").
var deniedAction = regexp.MustCompile(`to perform:? ([a-z0-9-]+:[A-Za-z0-9*]+)`)

// denials lists the refused calls in err (each graph step's failure, joined),
// in the order they were joined.
func (s settings) denials(err error) []denial {
	var out []denial
	var walk func(err error, component string)
	walk = func(err error, component string) {
		if err == nil {
			return
		}
		var step *graph.StepError
		if errors.As(err, &step) && component == "" {
			if multi, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range multi.Unwrap() {
					walk(e, "")
				}
				return
			}
			walk(step.Err, step.Step)
			return
		}
		if multi, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range multi.Unwrap() {
				walk(e, component)
			}
			return
		}
		if !awserr.HasCode(err, deniedCodes...) {
			return
		}
		d := denial{component: component, code: awserr.Code(err), resource: s.componentARN(component)}
		var op *smithy.OperationError
		if errors.As(err, &op) {
			d.action = iamAction(op.Service(), op.Operation())
		}
		if m := deniedResource.FindStringSubmatch(err.Error()); m != nil {
			d.resource = m[1]
		}
		if m := deniedAction.FindStringSubmatch(err.Error()); m != nil {
			d.action = m[1] // the very action refused, when AWS says which
		}
		out = append(out, d)
	}
	walk(err, "")
	return out
}

// componentARN is the ARN of a component's main AWS object, for messages
// ("" when it has none yet: the key before it exists is named by its alias).
func (s settings) componentARN(component string) string {
	switch {
	case component == idKey:
		if s.KeyARN != "" {
			return s.KeyARN
		}
		return arn.ARN{Partition: s.Partition, Service: "kms", Region: s.Region, AccountID: s.AccountID, Resource: s.alias()}.String()
	case component == idStateBucket:
		return s.bucketARN()
	case component == idLogBucket:
		return arn.ARN{Partition: s.Partition, Service: "s3", Resource: s.LogBucket}.String()
	case component == idTable:
		return s.tableARN()
	case component == idTrail:
		return s.trailARN()
	case component == idAlarms:
		return s.alarmsSpec().LogGroupARN()
	case strings.HasPrefix(component, idPolicy):
		return s.policyARN(strings.TrimPrefix(component, idPolicy))
	}
	return ""
}

// explainDenials says, for an error that holds refused calls, what was
// refused and what is likely behind it; "" when nothing was refused.
func (s settings) explainDenials(err error) string {
	list := s.denials(err)
	if len(list) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("AWS refused ")
	if len(list) == 1 {
		b.WriteString("a call:")
	} else {
		fmt.Fprintf(&b, "%d calls:", len(list))
	}
	for _, d := range list {
		fmt.Fprintf(&b, "\n  component %s: action %s on resource %s (%s)", orUnknown(d.component), orUnknown(d.action), orUnknown(d.resource), d.code)
	}
	b.WriteString("\n\nThe identity running Terraform lacks a permission, or an organisation policy denies it: a service control " +
		"policy (SCP) or resource control policy (AWS's message then says \"explicit deny in a service control policy\"), " +
		"a permissions boundary or a session policy. Organisations often deny creates that lack a required tag: every " +
		"create request this provider makes carries the tags of `tags` and the ownership tag. Ask your AWS administrators " +
		"to allow the action on the resource above; the permissions the provider needs are in the permissions guide " +
		"(docs/guides/permissions.md).")
	return b.String()
}

func orUnknown(v string) string {
	if v == "" {
		return "(unknown)"
	}
	return v
}
