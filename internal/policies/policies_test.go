package policies

import (
	"slices"
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

func backends() map[string]Backend {
	base := Backend{Partition: "aws", Region: "eu-central-1", AccountID: "123456789012", Bucket: "acme-tfstate-123456789012",
		KeyARN: "arn:aws:kms:eu-central-1:123456789012:key/1111", TableARN: "arn:aws:dynamodb:eu-central-1:123456789012:table/acme-tflock", Lockfile: true}
	lockfile, dynamo, users := base, base, base
	lockfile.TableARN = ""
	dynamo.Lockfile = false
	users.Principals = []string{"arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:user/ops"}
	monitored := users
	monitored.TrailARN = "arn:aws:cloudtrail:eu-central-1:123456789012:trail/acme-tfstate-audit"
	monitored.LogGroupARN = "arn:aws:logs:eu-central-1:123456789012:log-group:/securestate/acme/cloudtrail"
	return map[string]Backend{"both": base, "lockfile": lockfile, "dynamodb": dynamo, "principals": users, "monitored": monitored}
}

// No generated document, as rendered for AWS, has a "*" action or an
// unscoped "*" resource for S3 or DynamoDB, and only the account root gets
// kms:*. Every kind of document the provider writes is checked.
func TestGeneratedPoliciesHaveNoWildcards(t *testing.T) {
	for name, b := range backends() {
		docs := map[string]policydoc.Document{"key": KeyPolicy(b), "bucket": BucketPolicy(b), "dev": AccessPolicy(b, "dev"),
			"log bucket":       LogBucketPolicy(b, b.Bucket+"-logs", b.Bucket+"/"),
			"trail role trust": TrailLogsTrustPolicy(b.TrailARN), "trail role": TrailLogsRolePolicy(b.LogGroupARN + ":*")}
		for kind, built := range docs {
			d, err := policydoc.Parse(Render(built))
			if err != nil {
				t.Fatalf("%s/%s: rendered policy does not parse: %s", name, kind, err)
			}
			if !d.Equivalent(built) {
				t.Errorf("%s/%s: rendered policy differs from the built one", name, kind)
			}
			if w := policydoc.Wildcards(d); len(w) > 0 {
				t.Errorf("%s/%s: %v", name, kind, w)
			}
			for _, st := range d.Statement {
				for _, a := range st.Action {
					if a == "kms:*" && (st.Sid != SidAccountAdmin || len(st.Principal["AWS"]) != 1 || !strings.HasSuffix(st.Principal["AWS"][0], ":root")) {
						t.Errorf("%s/%s: statement %s grants kms:* to %v", name, kind, st.Sid, st.Principal)
					}
				}
				if st.Effect == "Allow" && len(st.Principal["*"]) > 0 {
					t.Errorf("%s/%s: statement %s allows everyone", name, kind, st.Sid)
				}
			}
			if _, err := d.JSON(); err != nil {
				t.Errorf("%s/%s: %v", name, kind, err)
			}
		}
	}
}

func TestKeyPolicyLimitsPrincipalsToS3AndDynamoDB(t *testing.T) {
	d := KeyPolicy(backends()["principals"])
	if len(d.Statement) != 2 {
		t.Fatalf("want admin + principals statements, got %d", len(d.Statement))
	}
	st := d.Statement[1]
	via := st.Condition["StringEquals"]["kms:ViaService"]
	if strings.Join(via, ",") != "s3.eu-central-1.amazonaws.com,dynamodb.eu-central-1.amazonaws.com" {
		t.Errorf("kms:ViaService = %v", via)
	}
	if len(st.Principal["AWS"]) != 2 {
		t.Errorf("principals = %v", st.Principal)
	}
	if got := KeyPolicy(backends()["both"]); len(got.Statement) != 1 {
		t.Errorf("without principals the key policy has only the admin statement, got %d", len(got.Statement))
	}
}

// CloudWatch Logs may use the key only for the alarms' log group, and only
// when the backend has alarms.
func TestKeyPolicyGrantsLogsOnlyTheAlarmLogGroup(t *testing.T) {
	for name, b := range backends() {
		var grants []policydoc.Statement
		for _, st := range KeyPolicy(b).Statement {
			if len(st.Principal["Service"]) > 0 && strings.HasPrefix(st.Principal["Service"][0], "logs.") {
				grants = append(grants, st)
			}
		}
		if b.LogGroupARN == "" {
			if len(grants) != 0 {
				t.Errorf("%s: key policy grants CloudWatch Logs without alarms: %+v", name, grants)
			}
			continue
		}
		if len(grants) != 1 {
			t.Fatalf("%s: want one CloudWatch Logs statement, got %d", name, len(grants))
		}
		st := grants[0]
		if st.Sid != SidLogsEncrypt || st.Effect != "Allow" || len(st.Principal["Service"]) != 1 || st.Principal["Service"][0] != "logs.eu-central-1.amazonaws.com" {
			t.Errorf("%s: statement %s %s for %v", name, st.Sid, st.Effect, st.Principal)
		}
		if len(st.Condition) != 1 || strings.Join(st.Condition["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"], ",") != b.LogGroupARN {
			t.Errorf("%s: condition %v, want the log group %s only", name, st.Condition, b.LogGroupARN)
		}
		for _, a := range st.Action {
			if !slices.Contains([]string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}, a) {
				t.Errorf("%s: CloudWatch Logs gets %s", name, a)
			}
		}
	}
}

func TestAccessPolicyScopesToEnvironment(t *testing.T) {
	for mode, b := range backends() {
		d := AccessPolicy(b, "dev")
		sids := map[string]policydoc.Statement{}
		for _, st := range d.Statement {
			sids[st.Sid] = st
			for _, r := range st.Resource {
				if strings.Contains(r, ":s3:::") && r != "arn:aws:s3:::acme-tfstate-123456789012" && !strings.HasPrefix(r, "arn:aws:s3:::acme-tfstate-123456789012/dev/") {
					t.Errorf("%s: %s reaches %s outside dev/", mode, st.Sid, r)
				}
			}
		}
		if p := sids[SidListPrefix].Condition["StringLike"]["s3:prefix"]; len(p) != 1 || p[0] != "dev/*" {
			t.Errorf("%s: list prefix = %v", mode, p)
		}
		_, lock := sids[SidLockFiles]
		_, table := sids[SidLockTableItems]
		if lock != b.Lockfile || table != (b.TableARN != "") {
			t.Errorf("%s: lock files %v (want %v), table items %v (want %v)", mode, lock, b.Lockfile, table, b.TableARN != "")
		}
		if table {
			if k := sids[SidLockTableItems].Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]; len(k) != 1 || k[0] != "acme-tfstate-123456789012/dev/*" {
				t.Errorf("%s: leading keys = %v", mode, k)
			}
		}
	}
}

func TestBucketPolicyDeniesPlainHTTPAndOtherKeys(t *testing.T) {
	d := BucketPolicy(backends()["both"])
	var tls, key, unnamed bool
	for _, st := range d.Statement {
		if v := st.Condition["Null"]; len(v) == 2 && v["s3:x-amz-server-side-encryption"][0] == "false" && v["s3:x-amz-server-side-encryption-aws-kms-key-id"][0] == "true" {
			unnamed = true
		}
		if st.Effect != "Deny" {
			t.Errorf("bucket policy statement %s is not a Deny", st.Sid)
		}
		if v := st.Condition["Bool"]["aws:SecureTransport"]; len(v) == 1 && v[0] == "false" {
			tls = true
		}
		if v := st.Condition["StringNotEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"]; len(v) == 1 && v[0] == "arn:aws:kms:eu-central-1:123456789012:key/1111" {
			key = true
		}
	}
	if !tls || !key || !unnamed {
		t.Errorf("TLS deny %v, other-key deny %v, SSE-KMS-without-a-key deny %v", tls, key, unnamed)
	}
}

// The log bucket lets CloudTrail check its ACL and write only for a backend
// with a trail, and then only that trail; the TLS-only Deny comes last.
func TestLogBucketPolicyGrantsOnlyTheBackendsTrail(t *testing.T) {
	for name, b := range backends() {
		d := LogBucketPolicy(b, b.Bucket+"-logs", b.Bucket+"/")
		var sids []string
		for _, st := range d.Statement {
			sids = append(sids, st.Sid)
			if st.Sid == SidTrailACLCheck || st.Sid == SidTrailWrite {
				if got := st.Condition["StringEquals"]["aws:SourceArn"]; len(got) != 1 || got[0] != b.TrailARN {
					t.Errorf("%s: %s is for trail %v, want %s", name, st.Sid, got, b.TrailARN)
				}
			}
		}
		want := []string{SidServerLogs, SidDenyInsecure}
		if b.TrailARN != "" {
			want = []string{SidServerLogs, SidTrailACLCheck, SidTrailWrite, SidDenyInsecure}
		}
		if !slices.Equal(sids, want) {
			t.Errorf("%s: log bucket policy statements %v, want %v", name, sids, want)
		}
	}
}
