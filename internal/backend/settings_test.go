package backend

import (
	"strings"
	"testing"
)

func testSettings(locking string) settings {
	s := settings{Name: "acme", Bucket: "acme-tfstate-123456789012", AccountID: "123456789012", Region: "eu-west-1", Partition: "aws",
		Environments: []string{"dev", "prod"}, Locking: locking, KeyARN: "arn:aws:kms:eu-west-1:123456789012:key/k"}
	if locking != LockingLockfile {
		s.Table = "acme-tflock"
	}
	return s
}

func TestRenderHCL(t *testing.T) {
	for _, mode := range LockingModes() {
		s := testSettings(mode)
		got := renderHCL(s, "dev")
		for _, want := range []string{
			`backend "s3" {`, `"acme-tfstate-123456789012"`, `"dev/terraform.tfstate"`, `"eu-west-1"`,
			`encrypt              = true`, `kms_key_id           = "arn:aws:kms:eu-west-1:123456789012:key/k"`,
			`workspace_key_prefix = "dev/workspaces"`,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: rendered block lacks %s:\n%s", mode, want, got)
			}
		}
		if table := strings.Contains(got, `dynamodb_table       = "acme-tflock"`); table != (mode != LockingLockfile) {
			t.Errorf("%s: dynamodb_table present = %v:\n%s", mode, table, got)
		}
		if lock := strings.Contains(got, "use_lockfile         = true"); lock != (mode != LockingDynamoDB) {
			t.Errorf("%s: use_lockfile true = %v:\n%s", mode, lock, got)
		}
		if mode == LockingDynamoDB && strings.Contains(got, "use_lockfile") {
			t.Errorf("%s: use_lockfile rendered, which Terraform before 1.10 refuses:\n%s", mode, got)
		}
		if strings.Count(got, "{") != strings.Count(got, "}") {
			t.Errorf("%s: unbalanced braces:\n%s", mode, got)
		}
	}
}

func TestControlNames(t *testing.T) {
	both := testSettings(LockingBoth).controlNames()
	lockfile := testSettings(LockingLockfile).controlNames()
	// Key 4, state bucket 7 (its EventBridge notifications included),
	// table 5, one policy per environment.
	if len(both) != 4+7+5+2 || len(lockfile) != 4+7+2 {
		t.Fatalf("controls: both %d %v, lockfile %d %v", len(both), both, len(lockfile), lockfile)
	}
	joined := strings.Join(both, ",")
	for _, want := range []string{"access_policy_dev", "access_policy_prod", "lock_table_point_in_time_recovery", "lock_table_resource_policy", "kms_key_policy", "bucket_policy", "bucket_event_notifications"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing control %s in %v", want, both)
		}
	}
}

func TestAWSTagsCarryOwnership(t *testing.T) {
	s := testSettings(LockingBoth)
	s.TagsAll = map[string]string{"team": "platform"}
	got := s.awsTags()
	if got["securestate:backend"] != "acme" || got["team"] != "platform" {
		t.Errorf("awsTags = %v", got)
	}
	if _, leaked := s.TagsAll["securestate:backend"]; leaked {
		t.Error("awsTags must not modify tags_all")
	}
}

func TestParseImportID(t *testing.T) {
	ok := "bucket=legacy-state,table=legacy-locks,key=arn:aws:kms:us-east-1:123456789012:key/k"
	got, err := parseImportID(ok)
	if err != nil || got["bucket"] != "legacy-state" || got["table"] != "legacy-locks" {
		t.Fatalf("parseImportID(%q) = %v, %v", ok, got, err)
	}
	for id, want := range map[string]string{
		"bucket=legacy-state": "ARN of the KMS key",
		"bucket=legacy-state,bucket=x,key=arn:aws:kms:us-east-1:123456789012:key/k": "given twice",
		"bucket=legacy-state,key=arn:aws:s3:::b":                                    "ARN of the KMS key",
		"bucket=legacy-state,colour=blue,key=x":                                     "unknown import field",
		"bucket=Legacy,key=arn:aws:kms:us-east-1:123456789012:key/k":                "bucket:",
		"bucket=legacy-state,key=arn:aws:kms:us-east-1:123456789012:key/k,name=X":   "name:",
		"just-junk,": "not key=value",
	} {
		if _, err := parseImportID(id); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseImportID(%q) = %v, want error with %q", id, err, want)
		}
	}
}
