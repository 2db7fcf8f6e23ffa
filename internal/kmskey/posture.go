package kmskey

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
	"github.com/securestate/terraform-provider-securestate/internal/posture"
)

// PostureControls lists the controls Posture reports for a key.
func PostureControls() []string {
	return []string{ControlAlias, ControlPolicy, ControlRotation, ControlState}
}

// Posture measures a key made by anyone against what the backend enforces,
// from what Observe read. alias is the alias the audit was given ("" when
// the key was named by ID or found through the bucket's encryption: the
// alias control is then not applicable). The checks shared with Drift are
// the same functions. The key policy must allow no one
// unconditionally through a wildcard principal; rotation must be on.
func Posture(o *Observed, unreadable map[string]error, alias string) map[string]posture.Result {
	out := map[string]posture.Result{ControlState: posture.Of(stateProblem(o), "key is Enabled")}
	switch {
	case o.Manager == types.KeyManagerTypeAws:
		out[ControlRotation] = posture.Failed("the key is AWS managed: its rotation and policy are AWS's, not the backend's")
	case rotationProblem(o) != "":
		out[ControlRotation] = posture.Failed(rotationProblem(o))
	case o.RotationPeriodDays > 0:
		out[ControlRotation] = posture.Passed(fmt.Sprintf("automatic rotation is on, every %d days", o.RotationPeriodDays))
	default:
		out[ControlRotation] = posture.Passed("automatic rotation is on")
	}
	out[ControlPolicy] = keyPolicyPosture(o)
	if alias == "" {
		out[ControlAlias] = posture.Skipped("the key was not named by an alias")
	} else {
		out[ControlAlias] = posture.Of(aliasProblem(o, alias), alias+" points to the key")
	}
	if o.State == types.KeyStatePendingDeletion || o.State == types.KeyStatePendingReplicaDeletion {
		// Nothing was denied: a key pending deletion is not read further,
		// and kms_key_state fails already.
		for _, c := range []string{ControlRotation, ControlPolicy} {
			out[c] = posture.Skipped("the key is pending deletion: its settings are not read")
		}
	}
	for control, err := range unreadable {
		if _, ok := out[control]; ok {
			out[control] = posture.Unreadable(readWhat[control], err)
		}
	}
	return out
}

var readWhat = map[string]string{
	ControlRotation: "the rotation status (kms:GetKeyRotationStatus)",
	ControlPolicy:   "the key policy (kms:GetKeyPolicy)",
	ControlAlias:    "the alias (kms:DescribeKey)",
}

func keyPolicyPosture(o *Observed) posture.Result {
	if o.Manager == types.KeyManagerTypeAws {
		return posture.Failed("the key is AWS managed: its policy lets every principal of the account use it through S3")
	}
	doc, err := policydoc.Parse(o.Policy)
	if err != nil {
		return posture.Failed("the key policy cannot be parsed")
	}
	if l := policydoc.PublicAllow(doc); l != "" {
		return posture.Failed(l + " of the key policy allows anyone, unconditionally")
	}
	return posture.Passed("the key policy grants no wildcard principal unconditionally")
}

// Identify reads which key a reference (ID, ARN, alias name or alias ARN)
// names and who manages it (CUSTOMER or AWS): one kms:DescribeKey.
func Identify(ctx context.Context, api API, ref string) (keyARN string, manager types.KeyManagerType, err error) {
	out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
	if err != nil {
		return "", "", fmt.Errorf("kms:DescribeKey %s: %w", ref, err)
	}
	return aws.ToString(out.KeyMetadata.Arn), out.KeyMetadata.KeyManager, nil
}
