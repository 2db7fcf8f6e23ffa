package backend

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/securestate/terraform-provider-securestate/internal/graph"
)

func refused(service, operation, code, message string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: operation, Err: &smithy.GenericAPIError{Code: code, Message: message}}
}

func TestDenialsNameComponentActionAndResource(t *testing.T) {
	s := monitoredSettings()
	scp := `User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized to perform: s3:CreateBucket on resource: "arn:aws:s3:::acme-tfstate-123456789012-logs" with an explicit deny in a service control policy`
	err := errors.Join(
		&graph.StepError{Step: idLogBucket, Err: fmt.Errorf("s3:CreateBucket %s: %w", s.LogBucket, refused("S3", "CreateBucket", "AccessDenied", scp))},
		&graph.StepError{Step: idPolicy + "prod", Err: errors.Join(
			fmt.Errorf("iam:TagPolicy: %w", refused("IAM", "TagPolicy", "AccessDenied", "denied")),
			refused("IAM", "CreatePolicyVersion", "Throttling", "slow down"))},
		&graph.StepError{Step: idTable, Err: refused("DynamoDB", "UpdateContinuousBackups", "ValidationException", "no")},
	)
	got := s.denials(err)
	want := []denial{
		{component: idLogBucket, action: "s3:CreateBucket", resource: "arn:aws:s3:::acme-tfstate-123456789012-logs", code: "AccessDenied"},
		{component: idPolicy + "prod", action: "iam:TagPolicy", resource: s.policyARN("prod"), code: "AccessDenied"},
	}
	if len(got) != len(want) {
		t.Fatalf("denials = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("denial %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	text := s.explainDenials(err)
	for _, w := range []string{"AWS refused 2 calls", "component log_bucket: action s3:CreateBucket on resource arn:aws:s3:::acme-tfstate-123456789012-logs (AccessDenied)",
		"service control policy", "permissions boundary", "docs/guides/permissions.md"} {
		if !strings.Contains(text, w) {
			t.Errorf("explanation lacks %q:\n%s", w, text)
		}
	}
	if s.explainDenials(refused("KMS", "CreateKey", "KMSInternalException", "x")) != "" {
		t.Error("an error with no refusal must add no explanation")
	}
}

func TestDenialOutsideAStepNamesTheResourceAWSNamed(t *testing.T) {
	s := testSettings(LockingBoth)
	got := s.denials(refused("KMS", "CreateKey", "AccessDeniedException", `User: x is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action`))
	if len(got) != 1 || got[0].action != "kms:CreateKey" || got[0].component != "" || got[0].resource != "" {
		t.Fatalf("denials = %+v, want one kms:CreateKey with no component or ARN", got)
	}
	for _, id := range []string{idKey, idStateBucket, idTable, idPolicy + "dev"} {
		if s.componentARN(id) == "" {
			t.Errorf("componentARN(%s) is empty", id)
		}
	}
}

func TestDenialNamesTheIAMAction(t *testing.T) {
	s := testSettings(LockingBoth)
	got := s.denials(&graph.StepError{Step: idStateBucket, Err: refused("S3", "GetBucketEncryption", "AccessDenied", "denied")})
	if len(got) != 1 || got[0].action != "s3:GetEncryptionConfiguration" {
		t.Fatalf("denials = %+v, want the IAM action s3:GetEncryptionConfiguration", got)
	}
}

func TestDenialOfAHeadRequest(t *testing.T) {
	s := testSettings(LockingBoth)
	got := s.denials(&graph.StepError{Step: idStateBucket, Err: refused("S3", "HeadBucket", "Forbidden", "Forbidden")})
	if len(got) != 1 || got[0].action != "s3:ListBucket" || got[0].resource != s.bucketARN() {
		t.Fatalf("denials = %+v, want s3:ListBucket on the state bucket", got)
	}
}
