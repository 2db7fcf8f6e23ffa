// Package policies writes every policy document a backend owns: the KMS key
// policy, the state and log bucket policies, the per-environment IAM access
// policies, the alarms' CloudTrail delivery role, and with replication the
// replication role's trust and permissions, the replica key's and the replica
// bucket's policies. Every policy text the provider sends to AWS comes from
// here.
package policies

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// Backend is what the policies need to know about a backend.
type Backend struct {
	Partition  string
	Region     string
	AccountID  string
	Bucket     string
	KeyARN     string
	TableARN   string // empty when the backend has no lock table
	Lockfile   bool   // S3 lock files (use_lockfile) are in use
	Principals []string
	TrailARN   string // "" without a CloudTrail trail
	// LogGroupARN is the alarms' CloudWatch Logs group (without the ":*"
	// stream suffix), encrypted with the key; "" without alarms.
	LogGroupARN string

	// Grants are the access blocks: principals of any account, per environment.
	Grants []Grant
	// Boundary is nil without one.
	Boundary *Boundary
	// KeyAdmins is nil without key administrators.
	KeyAdmins *KeyAdministrators
	// TofuKeyARNs are the environments' OpenTofu state encryption keys
	// (environment → key ARN); nil without OpenTofu encryption.
	TofuKeyARNs map[string]string

	// Provider is the IAM principal running the provider (CallerPrincipal),
	// exempt from the boundary and the key administration denies so that it
	// can always refresh, repair and destroy; "" when neither is configured.
	Provider string

	// Replica is the cross-region replication set-up; nil without.
	Replica *Replica
}

// Statement IDs that other code (import, drift messages) refers to.
const (
	SidAccountAdmin    = "AccountAdministration"
	SidStateUsers      = "StatePrincipalsThroughS3AndDynamoDB"
	SidDenyInsecure    = "DenyInsecureTransport"
	SidDenyOtherKey    = "DenyObjectsEncryptedWithOtherKeys"
	SidDenyOtherSSE    = "DenyObjectsWithOtherEncryption"
	SidDenyUnnamedKey  = "DenyKMSObjectsWithoutTheKeyNamed"
	SidListPrefix      = "ListOwnStatePrefix"
	SidStateObjects    = "ReadWriteStateObjects"
	SidLockFiles       = "ManageLockFiles"
	SidLockTableItems  = "ManageLockItems"
	SidLockTableLookup = "DescribeLockTable"
	SidUseKey          = "UseStateKey"
	SidTrailEncrypt    = "CloudTrailEncryptLogs"
	SidTrailDescribe   = "CloudTrailDescribeKey"
	SidServerLogs      = "S3ServerAccessLogDelivery"
	SidTrailACLCheck   = "CloudTrailAclCheck"
	SidTrailWrite      = "CloudTrailLogDelivery"
	SidLogsEncrypt     = "CloudWatchLogsEncryptAlarmLogGroup"
	SidTrailDeliver    = "DeliverTrailEvents"
)

// BucketARN is the ARN of the state bucket.
func (b Backend) BucketARN() string { return b.s3ARN(b.Bucket) }

// s3ARN is the ARN of a bucket in the backend's partition.
func (b Backend) s3ARN(bucket string) string {
	return arn.ARN{Partition: b.Partition, Service: "s3", Resource: bucket}.String()
}

// rootARN is the ARN of the backend account's root principal.
func (b Backend) rootARN() string {
	return arn.ARN{Partition: b.Partition, Service: "iam", AccountID: b.AccountID, Resource: "root"}.String()
}

// KeyPolicy gives the account's administrators full control of the key (the
// account root principal, so IAM policies decide who administers it) and lets
// the listed principals use it only through S3 and DynamoDB in this region.
func KeyPolicy(b Backend) policydoc.Document {
	doc := policydoc.Document{
		Version: "2012-10-17",
		Statement: []policydoc.Statement{{
			Sid:       SidAccountAdmin,
			Effect:    "Allow",
			Principal: policydoc.Principal{"AWS": {b.rootARN()}},
			Action:    policydoc.StringSet{"kms:*"},
			Resource:  policydoc.StringSet{"*"},
		}},
	}
	if len(b.Principals) > 0 {
		principals := slices.Sorted(slices.Values(b.Principals))
		doc.Statement = append(doc.Statement, policydoc.Statement{
			Sid:       SidStateUsers,
			Effect:    "Allow",
			Principal: policydoc.Principal{"AWS": principals},
			Action:    policydoc.StringSet{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
			Resource:  policydoc.StringSet{"*"},
			Condition: policydoc.Conditions{
				"StringEquals": {
					"kms:CallerAccount": {b.AccountID},
					"kms:ViaService":    {fmt.Sprintf("s3.%s.amazonaws.com", b.Region), fmt.Sprintf("dynamodb.%s.amazonaws.com", b.Region)},
				},
			},
		})
	}
	doc.Statement = append(doc.Statement, keyGrantStatements(b)...)
	if b.TrailARN != "" {
		doc.Statement = append(doc.Statement,
			policydoc.Statement{
				Sid:       SidTrailEncrypt,
				Effect:    "Allow",
				Principal: policydoc.Principal{"Service": {"cloudtrail.amazonaws.com"}},
				Action:    policydoc.StringSet{"kms:GenerateDataKey*"},
				Resource:  policydoc.StringSet{"*"},
				Condition: policydoc.Conditions{
					"StringEquals": {"aws:SourceArn": {b.TrailARN}},
					"StringLike":   {"kms:EncryptionContext:aws:cloudtrail:arn": {arn.ARN{Partition: b.Partition, Service: "cloudtrail", Region: "*", AccountID: b.AccountID, Resource: "trail/*"}.String()}},
				},
			},
			policydoc.Statement{
				Sid:       SidTrailDescribe,
				Effect:    "Allow",
				Principal: policydoc.Principal{"Service": {"cloudtrail.amazonaws.com"}},
				Action:    policydoc.StringSet{"kms:DescribeKey"},
				Resource:  policydoc.StringSet{"*"},
				Condition: policydoc.Conditions{"StringEquals": {"aws:SourceArn": {b.TrailARN}}},
			},
		)
	}
	if b.LogGroupARN != "" {
		// CloudWatch Logs encrypts the alarms' log group with the key; the
		// encryption context pins the grant to that one log group.
		doc.Statement = append(doc.Statement, policydoc.Statement{
			Sid:       SidLogsEncrypt,
			Effect:    "Allow",
			Principal: policydoc.Principal{"Service": {fmt.Sprintf("logs.%s.amazonaws.com", b.Region)}},
			Action:    policydoc.StringSet{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
			Resource:  policydoc.StringSet{"*"},
			Condition: policydoc.Conditions{"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": {b.LogGroupARN}}},
		})
	}
	// With replication the boundary exempts the replication role, which
	// decrypts the states through S3 to copy them (Backend.exempt).
	doc.Statement = append(doc.Statement, boundaryDenies(b, keyUseActions, keyUseActions, []string{"*"}, false)...)
	doc.Statement = append(doc.Statement, keyAdministration(b)...)
	return doc
}

// LogBucketPolicy lets only this account's S3 log delivery (for the state
// bucket) and the backend's trail write into the log bucket, and refuses
// requests without TLS. The Deny comes last: moto fails PutBucketLogging when
// a "*" principal statement precedes the logging grant.
func LogBucketPolicy(b Backend, logBucket, logPrefix string) policydoc.Document {
	logARN := b.s3ARN(logBucket)
	doc := policydoc.Document{
		Version: "2012-10-17",
		Statement: []policydoc.Statement{{
			Sid:       SidServerLogs,
			Effect:    "Allow",
			Principal: policydoc.Principal{"Service": {"logging.s3.amazonaws.com"}},
			Action:    policydoc.StringSet{"s3:PutObject"},
			Resource:  policydoc.StringSet{logARN + "/" + logPrefix + "*"},
			Condition: policydoc.Conditions{
				"ArnLike":      {"aws:SourceArn": {b.BucketARN()}},
				"StringEquals": {"aws:SourceAccount": {b.AccountID}},
			},
		}},
	}
	if b.TrailARN != "" {
		doc.Statement = append(doc.Statement,
			policydoc.Statement{
				Sid:       SidTrailACLCheck,
				Effect:    "Allow",
				Principal: policydoc.Principal{"Service": {"cloudtrail.amazonaws.com"}},
				Action:    policydoc.StringSet{"s3:GetBucketAcl"},
				Resource:  policydoc.StringSet{logARN},
				Condition: policydoc.Conditions{"StringEquals": {"aws:SourceArn": {b.TrailARN}}},
			},
			policydoc.Statement{
				Sid:       SidTrailWrite,
				Effect:    "Allow",
				Principal: policydoc.Principal{"Service": {"cloudtrail.amazonaws.com"}},
				Action:    policydoc.StringSet{"s3:PutObject"},
				Resource:  policydoc.StringSet{fmt.Sprintf("%s/%s/AWSLogs/%s/*", logARN, naming.TrailPrefix, b.AccountID)},
				Condition: policydoc.Conditions{"StringEquals": {"aws:SourceArn": {b.TrailARN}, "s3:x-amz-acl": {"bucket-owner-full-control"}}},
			},
		)
	}
	doc.Statement = append(doc.Statement, policydoc.Statement{
		Sid:       SidDenyInsecure,
		Effect:    "Deny",
		Principal: policydoc.Principal{"*": {"*"}},
		Action:    policydoc.StringSet{"s3:*"},
		Resource:  policydoc.StringSet{logARN, logARN + "/*"},
		Condition: policydoc.Conditions{"Bool": {"aws:SecureTransport": {"false"}}},
	})
	return doc
}

// TrailLogsTrustPolicy lets CloudTrail assume the alarms' delivery role, for
// this backend's trail only.
func TrailLogsTrustPolicy(trailARN string) policydoc.Document {
	return policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{{
		Effect:    "Allow",
		Principal: policydoc.Principal{"Service": {"cloudtrail.amazonaws.com"}},
		Action:    policydoc.StringSet{"sts:AssumeRole"},
		Condition: policydoc.Conditions{"StringEquals": {"aws:SourceArn": {trailARN}}},
	}}}
}

// TrailLogsRolePolicy lets that role write trail events into the alarms' log
// group (logGroupARN with its ":*" stream suffix) and nowhere else.
func TrailLogsRolePolicy(logGroupARN string) policydoc.Document {
	return policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{{
		Sid:      SidTrailDeliver,
		Effect:   "Allow",
		Action:   policydoc.StringSet{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: policydoc.StringSet{logGroupARN},
	}}}
}

// BucketPolicy refuses every request that does not use TLS, and every object
// upload that asks for encryption other than SSE-KMS with the backend's key.
// Uploads without encryption headers get the bucket default (the same key);
// an upload asking for SSE-KMS without naming a key would get the AWS managed
// aws/s3 key instead, so it is refused too.
//
// With grants, it also lets each environment's principals (of any account)
// reach that environment's prefix; with a boundary, it denies every caller
// outside it but the exempt ones.
func BucketPolicy(b Backend) policydoc.Document {
	bucket := b.BucketARN()
	doc := policydoc.Document{Version: "2012-10-17", Statement: bucketDenies(bucket, b.KeyARN)}
	doc.Statement = append(doc.Statement, bucketGrantStatements(b, bucket, false)...)
	// With replication the boundary exempts the replication role, which
	// lists the bucket and reads its object versions (Backend.exempt).
	doc.Statement = append(doc.Statement, boundaryDenies(b, []string{"s3:*"}, guardedActions, []string{bucket, bucket + "/*"}, true)...)
	return doc
}

// bucketDenies are the controls every bucket holding states has, the state
// bucket and the replica: no request without TLS, and no object upload that
// asks for encryption other than SSE-KMS with keyARN (or for SSE-KMS without
// naming a key, which would get the AWS managed aws/s3 key).
func bucketDenies(bucket, keyARN string) []policydoc.Statement {
	objects := bucket + "/*"
	return []policydoc.Statement{
		{
			Sid:       SidDenyInsecure,
			Effect:    "Deny",
			Principal: policydoc.Principal{"*": {"*"}},
			Action:    policydoc.StringSet{"s3:*"},
			Resource:  policydoc.StringSet{bucket, objects},
			Condition: policydoc.Conditions{"Bool": {"aws:SecureTransport": {"false"}}},
		},
		{
			Sid:       SidDenyOtherSSE,
			Effect:    "Deny",
			Principal: policydoc.Principal{"*": {"*"}},
			Action:    policydoc.StringSet{"s3:PutObject"},
			Resource:  policydoc.StringSet{objects},
			Condition: policydoc.Conditions{
				"Null":            {"s3:x-amz-server-side-encryption": {"false"}},
				"StringNotEquals": {"s3:x-amz-server-side-encryption": {"aws:kms"}},
			},
		},
		{
			Sid:       SidDenyUnnamedKey,
			Effect:    "Deny",
			Principal: policydoc.Principal{"*": {"*"}},
			Action:    policydoc.StringSet{"s3:PutObject"},
			Resource:  policydoc.StringSet{objects},
			Condition: policydoc.Conditions{
				"Null": {
					"s3:x-amz-server-side-encryption":                {"false"},
					"s3:x-amz-server-side-encryption-aws-kms-key-id": {"true"},
				},
			},
		},
		{
			Sid:       SidDenyOtherKey,
			Effect:    "Deny",
			Principal: policydoc.Principal{"*": {"*"}},
			Action:    policydoc.StringSet{"s3:PutObject"},
			Resource:  policydoc.StringSet{objects},
			Condition: policydoc.Conditions{
				"Null":            {"s3:x-amz-server-side-encryption-aws-kms-key-id": {"false"}},
				"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": {keyARN}},
			},
		},
	}
}

// AccessPolicy grants one environment exactly what Terraform's S3 backend needs
// for the states under "<environment>/" and nothing else.
func AccessPolicy(b Backend, environment string) policydoc.Document {
	bucket := b.BucketARN()
	prefix := environment + "/"
	doc := policydoc.Document{
		Version: "2012-10-17",
		Statement: []policydoc.Statement{
			{
				Sid:       SidListPrefix,
				Effect:    "Allow",
				Action:    policydoc.StringSet{"s3:ListBucket"},
				Resource:  policydoc.StringSet{bucket},
				Condition: policydoc.Conditions{"StringLike": {"s3:prefix": {prefix + "*"}}},
			},
			{
				Sid:      SidStateObjects,
				Effect:   "Allow",
				Action:   stateReadWriteActions,
				Resource: policydoc.StringSet{bucket + "/" + prefix + "*"},
			},
		},
	}
	if b.Lockfile {
		doc.Statement = append(doc.Statement, policydoc.Statement{
			Sid:      SidLockFiles,
			Effect:   "Allow",
			Action:   policydoc.StringSet{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"},
			Resource: policydoc.StringSet{bucket + "/" + prefix + "*.tflock"},
		})
	}
	if b.TableARN != "" {
		doc.Statement = append(doc.Statement,
			policydoc.Statement{
				Sid:      SidLockTableLookup,
				Effect:   "Allow",
				Action:   policydoc.StringSet{"dynamodb:DescribeTable"},
				Resource: policydoc.StringSet{b.TableARN},
			},
			policydoc.Statement{
				Sid:      SidLockTableItems,
				Effect:   "Allow",
				Action:   lockItemActions,
				Resource: policydoc.StringSet{b.TableARN},
				// Lock items are keyed "<bucket>/<state key>" (and "-md5"): only this
				// environment's items.
				Condition: policydoc.Conditions{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {b.Bucket + "/" + prefix + "*"}}},
			},
		)
	}
	doc.Statement = append(doc.Statement, policydoc.Statement{
		Sid:      SidUseKey,
		Effect:   "Allow",
		Action:   policydoc.StringSet{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"},
		Resource: policydoc.StringSet{b.KeyARN},
	})
	doc.Statement = append(doc.Statement, tofuStatement(b, environment, false)...)
	doc.Statement = append(doc.Statement, replicaReadStatements(b, environment)...)
	return doc
}

// Render turns a document into the JSON sent to AWS. It is
// policydoc.Document.String, with its error policy: rendering cannot fail,
// and a failure is a bug that panics.
func Render(d policydoc.Document) string { return d.String() }
