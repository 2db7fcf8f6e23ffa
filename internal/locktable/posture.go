package locktable

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/posture"
)

// Posture measures a lock table made by anyone against what the backend
// enforces, from what Observe read. keyARN is the backend's KMS key (the
// state bucket's): the table must be encrypted with it; "" when the audit
// does not know the key, and any KMS key then passes. A resource policy, when
// there is one, must allow no one unconditionally through a wildcard
// principal. awsManagedKey: the table's key is AWS managed (aws/dynamodb).
func Posture(o *Observed, unreadable map[string]error, keyARN string, awsManagedKey bool) map[string]posture.Result {
	out := map[string]posture.Result{ControlBilling: posture.Of(billingProblem(o), "billing mode is on-demand (PAY_PER_REQUEST)")}
	switch {
	case !o.SSEEnabled || o.SSEKey == "":
		out[ControlEncryption] = posture.Failed("the table is encrypted with a DynamoDB-owned key, not a customer-managed KMS key")
	case awsManagedKey:
		out[ControlEncryption] = posture.Failed("the table is encrypted with the AWS managed key aws/dynamodb, not a customer-managed KMS key")
	case keyARN != "" && o.SSEKey != keyARN:
		out[ControlEncryption] = posture.Failed(fmt.Sprintf("the table is encrypted with KMS key %s, not the state bucket's key", o.SSEKey))
	default:
		out[ControlEncryption] = posture.Passed(fmt.Sprintf("the table is encrypted with KMS key %s", o.SSEKey))
	}
	out[ControlPITR] = posture.Of(pitrProblem(o), "point-in-time recovery is on")
	out[ControlDeletionProtection] = posture.Of(deletionProtectionProblem(o), "deletion protection is on")
	out[ControlResourcePolicy] = tablePolicyPosture(o.Policy)
	for control, err := range unreadable {
		if _, ok := out[control]; ok {
			out[control] = posture.Unreadable(readWhat[control], err)
		}
	}
	return out
}

var readWhat = map[string]string{
	ControlEncryption:     "the table's KMS key (kms:DescribeKey)",
	ControlPITR:           "the point-in-time recovery status (dynamodb:DescribeContinuousBackups)",
	ControlResourcePolicy: "the resource policy (dynamodb:GetResourcePolicy)",
}

// billingProblem: "" when the table is on demand. Drift and Posture share
// it, as they share the two below.
func billingProblem(o *Observed) string {
	if o.Billing != types.BillingModePayPerRequest {
		return fmt.Sprintf("billing mode is %s, not on-demand", o.Billing)
	}
	return ""
}

func pitrProblem(o *Observed) string {
	if !o.PITR {
		return "point-in-time recovery is off"
	}
	return ""
}

func deletionProtectionProblem(o *Observed) string {
	if !o.DeletionProtection {
		return "deletion protection is off"
	}
	return ""
}

func tablePolicyPosture(text string) posture.Result {
	if text == "" {
		return posture.Passed("no resource policy: only IAM policies of the table's account grant access")
	}
	doc, err := policydoc.Parse(text)
	if err != nil {
		return posture.Failed("the resource policy cannot be parsed")
	}
	if l := policydoc.PublicAllow(doc); l != "" {
		return posture.Failed(l + " of the resource policy allows anyone, unconditionally")
	}
	return posture.Passed("the resource policy grants no wildcard principal unconditionally")
}
