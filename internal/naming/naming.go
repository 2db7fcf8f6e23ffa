// Package naming holds every naming rule of a backend: what a user may call a
// backend, a bucket or an environment, and the names derived from them. Each
// rule is a plain function so plan-time validation, import and tests share it.
package naming

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

var (
	namePattern        = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	environmentPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	bucketPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
)

// Backend checks a backend name: 3-32 lowercase letters, digits and hyphens,
// starting and ending with a letter or digit.
func Backend(v string) error {
	if len(v) < 3 || len(v) > 32 {
		return fmt.Errorf("%q is %d characters long; a backend name has 3 to 32 characters", v, len(v))
	}
	if !namePattern.MatchString(v) {
		return fmt.Errorf("%q may contain only lowercase letters, digits and hyphens, and must start and end with a letter or digit", v)
	}
	if strings.Contains(v, "--") {
		return fmt.Errorf("%q contains \"--\"; use single hyphens", v)
	}
	// The default bucket name starts with "<name>-".
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(v+"-", p) {
			return fmt.Errorf("%q starts with %q, which S3 reserves for bucket names; choose another name", v, p)
		}
	}
	return nil
}

// reservedBucketPrefixes are bucket name prefixes S3 refuses.
var reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}

// Environment checks an environment name, which becomes a state key prefix and
// part of an IAM policy name.
func Environment(v string) error {
	if !environmentPattern.MatchString(v) {
		return fmt.Errorf("%q is not a valid environment name; use 1-32 lowercase letters, digits, _ or -, starting with a letter or digit", v)
	}
	// Policy names are "<backend>-tfstate-<environment>": an environment without
	// "tfstate" keeps them unambiguous between backends.
	if strings.Contains(v, "tfstate") {
		return fmt.Errorf("%q contains \"tfstate\", which separates backend and environment in policy names; choose another name", v)
	}
	return nil
}

// Bucket checks the S3 general purpose bucket naming rules.
func Bucket(v string) error {
	switch {
	case len(v) < 3 || len(v) > 63:
		return fmt.Errorf("bucket name %q is %d characters long; S3 allows 3 to 63", v, len(v))
	case !bucketPattern.MatchString(v):
		return fmt.Errorf("bucket name %q may contain only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit", v)
	case strings.Contains(v, ".."):
		return fmt.Errorf("bucket name %q must not contain two adjacent dots", v)
	case net.ParseIP(v) != nil:
		return fmt.Errorf("bucket name %q must not be formatted as an IP address", v)
	case strings.Contains(v, "."):
		// Dotted names break TLS certificate validation with virtual-hosted
		// addressing; the state bucket is accessed over TLS only.
		return fmt.Errorf("bucket name %q contains dots, which break TLS certificate checks for virtual-hosted S3 addressing; use hyphens", v)
	}
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(v, p) {
			return fmt.Errorf("bucket name %q must not start with %q, which S3 reserves", v, p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3"} {
		if strings.HasSuffix(v, s) {
			return fmt.Errorf("bucket name %q must not end with %q, which S3 reserves", v, s)
		}
	}
	return nil
}

// StateBucket is the default bucket name of a backend.
func StateBucket(name, accountID string) string { return name + "-tfstate-" + accountID }

// LogBucket is the name of the access-log bucket the backend manages.
func LogBucket(stateBucket string) string { return stateBucket + "-logs" }

// Trail is the CloudTrail trail name of a backend.
func Trail(name string) string { return name + "-tfstate-audit" }

// TrailPrefix is where CloudTrail delivers into the log bucket.
const TrailPrefix = "cloudtrail"

// LockTable is the DynamoDB lock table name of a backend.
func LockTable(name string) string { return name + "-tflock" }

// KeyAlias is the KMS alias of a backend's key.
func KeyAlias(name string) string { return "alias/" + name + "-tfstate" }

// PolicyPath is the IAM path of every access policy the provider creates.
const PolicyPath = "/securestate/"

// AccessPolicy is the IAM policy name granting one environment its state.
func AccessPolicy(name, environment string) string { return name + "-tfstate-" + environment }

// OwnerTagPrefix starts every tag key the provider reserves for itself.
const OwnerTagPrefix = "securestate:"

// OwnerTagKey marks every AWS object a backend owns; its value is the backend name.
// A component found with this tag and value is adopted on create; one without it
// is refused.
const OwnerTagKey = OwnerTagPrefix + "backend"

// KeyPurposeTagKey marks a backend's KMS keys other than its state key with
// what they are for (TofuEncryptionKeyPurpose); the state key has no such tag.
const KeyPurposeTagKey = OwnerTagPrefix + "key-purpose"

// TofuEncryptionKeyPurpose is the purpose tag value of an environment's
// OpenTofu state encryption key.
func TofuEncryptionKeyPurpose(environment string) string { return "tofu-encryption/" + environment }

// TofuEncryptionKeyAlias is the alias of an environment's OpenTofu state
// encryption key.
func TofuEncryptionKeyAlias(name, environment string) string {
	return "alias/" + name + "-tfstate-" + environment + "-tofu"
}

// ReplicaBucket is the name of the bucket in the replication region that
// holds the copy of a state bucket.
func ReplicaBucket(stateBucket string) string { return stateBucket + "-replica" }

// ReplicaKeyAlias is the alias, in the replication region, of the key that
// encrypts the replica bucket.
func ReplicaKeyAlias(name string) string { return "alias/" + name + "-tfstate-replica" }

// ReplicaKeyPurpose is the purpose tag value of the replica bucket's key.
const ReplicaKeyPurpose = "replica"

// ReplicationRole is the IAM role (under PolicyPath) S3 assumes to replicate
// the state bucket into the replica bucket.
func ReplicationRole(name string) string { return name + "-tfstate-replication" }

// ReplicationRuleID is the ID of the state bucket's one replication rule.
const ReplicationRuleID = "securestate-replica"

// ReplicationFailedAlarm names the alarm raised when S3 fails to replicate a
// state object.
func ReplicationFailedAlarm(name string) string { return name + "-tfstate-replication-failed" }

// StateEventsRule names the EventBridge rule that notifies the alarm topic
// when a state object or version is deleted.
func StateEventsRule(name string) string { return name + "-tfstate-state-deleted-events" }

// AlarmLogGroup is the CloudWatch Logs group a backend's trail delivers to.
func AlarmLogGroup(name string) string { return "/securestate/" + name + "/cloudtrail" }

// TrailLogsRole is the IAM role CloudTrail assumes to write to that log group.
func TrailLogsRole(name string) string { return name + "-tfstate-trail-logs" }

// StateDeletedAlarm names the metric filter and the alarm raised when a state
// object is deleted; StateDeletedMetric is the metric between them.
func StateDeletedAlarm(name string) string { return name + "-tfstate-state-deleted" }

// StateDeletedMetric is the metric the StateDeletedAlarm filter counts.
func StateDeletedMetric(name string) string { return name + "-StateObjectsDeleted" }

// AccessDeniedAlarm names the metric filter and the alarm raised when a request
// to the state bucket is denied.
func AccessDeniedAlarm(name string) string { return name + "-tfstate-access-denied" }

// AccessDeniedMetric is the metric the AccessDeniedAlarm filter counts.
func AccessDeniedMetric(name string) string { return name + "-StateAccessDenied" }

// EnvironmentFromPolicy recovers the environment from the name of one of a
// backend's access policies (the inverse of AccessPolicy).
func EnvironmentFromPolicy(name, policyName string) (string, bool) {
	env, ok := strings.CutPrefix(policyName, AccessPolicy(name, ""))
	return env, ok && Environment(env) == nil
}

// NameFromBucket recovers a backend name from a default bucket name, for import.
func NameFromBucket(bucket, accountID string) (string, bool) {
	name, ok := strings.CutSuffix(bucket, StateBucket("", accountID))
	if !ok || Backend(name) != nil {
		return "", false
	}
	return name, true
}

// existingBucket is the shape of any S3 bucket name, older ones with dots,
// capitals or underscores included.
var existingBucket = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$`)

// ExistingBucket checks that v can name a bucket that already exists, made
// under any of S3's naming rules (an audit or a scan reads buckets it did
// not name, so the stricter Bucket rules do not apply).
func ExistingBucket(v string) error {
	if !existingBucket.MatchString(v) {
		return fmt.Errorf("%q is not an S3 bucket name: give the bucket's name, not its ARN or URL", v)
	}
	return nil
}

// lockTable is the shape of a DynamoDB table name.
var lockTable = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// TableNameOrARN checks a DynamoDB table's name or ARN.
func TableNameOrARN(v string) error {
	if a, err := arn.Parse(v); err == nil {
		if a.Service != "dynamodb" || !strings.HasPrefix(a.Resource, "table/") || !lockTable.MatchString(strings.TrimPrefix(a.Resource, "table/")) {
			return fmt.Errorf("%q is not a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)", v)
		}
		return nil
	}
	if !lockTable.MatchString(v) {
		return fmt.Errorf("%q is not a DynamoDB table name: 3 to 255 letters, digits, underscores, hyphens and dots", v)
	}
	return nil
}

// keyID is a KMS key ID: a UUID, or mrk- and 32 hex digits for a
// multi-Region key.
var keyID = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)

// KMSKeyReference checks a KMS key ID, key ARN, alias name ("alias/…") or
// alias ARN.
func KMSKeyReference(v string) error {
	switch a, err := arn.Parse(v); {
	case err == nil && a.Service == "kms" && strings.HasPrefix(a.Resource, "key/") && keyID.MatchString(strings.TrimPrefix(a.Resource, "key/")):
		return nil
	case err == nil && a.Service == "kms" && strings.HasPrefix(a.Resource, "alias/") && len(a.Resource) > len("alias/"):
		return nil
	case err == nil:
		return fmt.Errorf("%q is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or alias ARN (…:alias/<name>)", v)
	case keyID.MatchString(v):
		return nil
	case strings.HasPrefix(v, "alias/") && len(v) > len("alias/"):
		return nil
	}
	return fmt.Errorf("%q is not a KMS key ID, key ARN or alias name (alias/<name>)", v)
}
