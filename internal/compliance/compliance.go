// Package compliance maps each control a backend reports (the keys of its
// controls attribute) to the checks auditors know it by: AWS Security Hub CSPM
// controls, CIS AWS Foundations Benchmark recommendations and Checkov policies,
// with why the control matters for Terraform state and how to fix it in AWS
// terms. The table below is the single source of these references: the
// resource's compliance attribute (IDs) and the documentation (Markdown) are
// both derived from it.
//
// An ID is listed only when the control's setting is what the check asserts,
// and only after it was checked against the source named in the ledger
// (sources) next to the table. Checks that cover the same ground but would
// not pass on a compliant backend (account-wide, multi-Region or
// all-buckets checks) are left out on purpose.
package compliance

import (
	"maps"
	"slices"
	"strings"
)

// CISVersion is the CIS AWS Foundations Benchmark version every CIS
// recommendation number in the table belongs to.
const CISVersion = "v3.0.0"

// Refs are the compliance references of one control.
type Refs struct {
	// FSBP holds Security Hub CSPM control IDs that belong to the AWS
	// Foundational Security Best Practices standard (v1.0.0).
	FSBP []string
	// SecurityHub holds Security Hub CSPM control IDs that apply but are not
	// part of FSBP, only of Security Hub's CIS, NIST SP 800-53/800-171 or
	// PCI DSS standards (KMS.4, S3.14, …).
	SecurityHub []string
	// CIS holds CIS AWS Foundations Benchmark recommendation numbers of
	// CISVersion.
	CIS []string
	// Checkov holds Checkov policy IDs for Terraform.
	Checkov []string
	// Why says, in one sentence, why the control matters for a Terraform
	// state backend.
	Why string
	// Remediation says, in one sentence, what to set in AWS to comply.
	Remediation string
}

// accessPolicyFamily is the table key of every environment's access policy
// control ("access_policy_<environment>").
const accessPolicyFamily = "access_policy_*"

// accessPolicyPrefix starts the name of every environment's access policy
// control.
const accessPolicyPrefix = "access_policy_"

// table maps each control (or control family) to its references. The state
// bucket and the access-log bucket share most checks but not their meaning
// (the log bucket is SSE-S3 and expires its current objects), so each has its
// own entries. Every ID is verified in sources.
var table = map[string]Refs{
	// State bucket.
	"bucket_encryption": {
		SecurityHub: []string{"S3.17"},
		Checkov:     []string{"CKV_AWS_19", "CKV_AWS_145"},
		Why:         "Terraform state stores every secret a configuration touches (passwords, keys, connection strings) as plain JSON, so it must be encrypted at rest under a customer managed key whose every use is controlled and logged.",
		Remediation: "Set the bucket's default encryption to SSE-KMS with the backend's customer managed key and turn on the S3 Bucket Key.",
	},
	"bucket_versioning": {
		SecurityHub: []string{"S3.14"},
		Checkov:     []string{"CKV_AWS_21"},
		Why:         "Every apply overwrites the state object, so only versioning lets you recover from a corrupted, truncated or deleted state file.",
		Remediation: "Enable versioning on the bucket (PutBucketVersioning with status Enabled) and never suspend it.",
	},
	"bucket_public_access_block": {
		FSBP:        []string{"S3.8"},
		CIS:         []string{"2.1.4"},
		Checkov:     []string{"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"},
		Why:         "A state file made public by a stray ACL or bucket policy leaks every secret in it together with a map of the whole infrastructure.",
		Remediation: "Turn on all four S3 Block Public Access settings of the bucket: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets.",
	},
	"bucket_ownership_controls": {
		FSBP:        []string{"S3.12"},
		Checkov:     []string{"CKV2_AWS_65"},
		Why:         "With ACLs disabled only IAM and the bucket policy decide who reads state, so no object ACL can quietly grant another principal access or ownership.",
		Remediation: "Set S3 Object Ownership to BucketOwnerEnforced, which disables ACLs on the bucket and its objects.",
	},
	"bucket_policy": {
		FSBP:        []string{"S3.5"},
		CIS:         []string{"2.1.1"},
		Checkov:     []string{"CKV_AWS_70"},
		Why:         "The bucket policy refuses requests without TLS and uploads encrypted otherwise than with the backend key, so state never crosses the network in clear text nor lands under a key you do not control.",
		Remediation: "Attach a bucket policy that denies s3:* when aws:SecureTransport is false and denies s3:PutObject with any server-side encryption other than SSE-KMS with the backend's key, with no Allow to a wildcard principal.",
	},
	"bucket_lifecycle": {
		FSBP:        []string{"S3.13"},
		SecurityHub: []string{"S3.10"},
		Checkov:     []string{"CKV_AWS_300", "CKV2_AWS_61"},
		Why:         "Without expiry a versioned bucket keeps every old state, and the secrets in it, forever, and failed multipart uploads of state linger unseen.",
		Remediation: "Add one lifecycle rule for the whole bucket that expires noncurrent versions after the retention period, removes expired delete markers and aborts incomplete multipart uploads after 7 days.",
	},
	"bucket_object_lock": {
		SecurityHub: []string{"S3.15"},
		Checkov:     []string{"CKV_AWS_143"},
		Why:         "Versioning keeps old states only until someone allowed to delete object versions purges them; a default Object Lock retention keeps every state version from being deleted or overwritten for its retention period, in COMPLIANCE mode even by the root user.",
		Remediation: "Enable Object Lock on the bucket (versioning Enabled first) with a default retention rule of the configured mode and number of days (PutObjectLockConfiguration).",
	},
	"bucket_event_notifications": {
		SecurityHub: []string{"S3.11"},
		Checkov:     []string{"CKV2_AWS_62"},
		Why:         "With the bucket's events sent to Amazon EventBridge, a deleted state or state version can be reported within seconds instead of the minutes the CloudTrail path takes.",
		Remediation: "Turn Amazon EventBridge on in the bucket's event notification configuration (PutBucketNotificationConfiguration with an EventBridgeConfiguration), keeping the topic, queue and Lambda destinations already there.",
	},
	"bucket_access_logging": {
		FSBP:        []string{"S3.9"},
		Checkov:     []string{"CKV_AWS_18"},
		Why:         "Server access logs record who read or wrote each state object and from where, which is what an investigation of a suspected leak needs.",
		Remediation: "Enable server access logging on the state bucket to a separate private log bucket in the same account and Region.",
	},

	// Replica bucket (replication): a copy of the state bucket in another
	// Region, under the replica key, with the state bucket's controls.
	"replica_bucket_encryption": {
		SecurityHub: []string{"S3.17"},
		Checkov:     []string{"CKV_AWS_19", "CKV_AWS_145"},
		Why:         "The replica holds a copy of every state and of the secrets in it, so it is encrypted at rest like the state bucket, under a customer managed key of the replica's Region.",
		Remediation: "Set the replica bucket's default encryption to SSE-KMS with the backend's replica key and turn on the S3 Bucket Key.",
	},
	"replica_bucket_versioning": {
		SecurityHub: []string{"S3.14"},
		Checkov:     []string{"CKV_AWS_21"},
		Why:         "S3 replicates only into a versioned bucket, and the replica's version history is what a recovery in the other Region restores from.",
		Remediation: "Enable versioning on the replica bucket (PutBucketVersioning with status Enabled) and never suspend it.",
	},
	"replica_bucket_public_access_block": {
		FSBP:        []string{"S3.8"},
		CIS:         []string{"2.1.4"},
		Checkov:     []string{"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"},
		Why:         "A replica made public leaks the same states, secrets and map of the infrastructure as a public state bucket would.",
		Remediation: "Turn on all four S3 Block Public Access settings of the replica bucket: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets.",
	},
	"replica_bucket_ownership_controls": {
		FSBP:        []string{"S3.12"},
		Checkov:     []string{"CKV2_AWS_65"},
		Why:         "With ACLs disabled only IAM and the bucket policy decide who reads the replica, and every replicated object belongs to the backend's account.",
		Remediation: "Set S3 Object Ownership to BucketOwnerEnforced on the replica bucket, which disables ACLs on it and its objects.",
	},
	"replica_bucket_policy": {
		FSBP:        []string{"S3.5"},
		CIS:         []string{"2.1.1"},
		Checkov:     []string{"CKV_AWS_70"},
		Why:         "The replica's policy refuses requests without TLS and objects encrypted otherwise than with the replica key, and lets each environment only read its own states there for a failover: nobody but S3 replication writes the replica.",
		Remediation: "Attach a bucket policy that denies s3:* when aws:SecureTransport is false and denies s3:PutObject with any server-side encryption other than SSE-KMS with the replica key, with no Allow to a wildcard principal.",
	},
	"replica_bucket_lifecycle": {
		FSBP:        []string{"S3.13"},
		SecurityHub: []string{"S3.10"},
		Checkov:     []string{"CKV_AWS_300", "CKV2_AWS_61"},
		Why:         "Replicated old versions expire after the same retention as in the state bucket, so the copy keeps superseded states and their secrets no longer than the original does.",
		Remediation: "Add one lifecycle rule for the whole replica bucket that expires noncurrent versions after the retention period, removes expired delete markers and aborts incomplete multipart uploads after 7 days.",
	},
	"replica_bucket_object_lock": {
		SecurityHub: []string{"S3.15"},
		Checkov:     []string{"CKV_AWS_143"},
		Why:         "With object_lock the replicated state versions are retained in the other Region too, so purging one bucket's history cannot erase the other's.",
		Remediation: "Enable Object Lock on the replica bucket with the state bucket's default retention mode and number of days (PutObjectLockConfiguration).",
	},

	// Access-log bucket (server access logs of the state bucket, and the
	// trail's log files).
	"log_bucket_encryption": {
		Checkov:     []string{"CKV_AWS_19"},
		Why:         "Access logs and trail files reveal who touched which state and when, so they are encrypted at rest, with SSE-S3 because S3 server access log delivery does not support SSE-KMS default encryption.",
		Remediation: "Set the log bucket's default encryption to SSE-S3 (AES256).",
	},
	"log_bucket_versioning": {
		SecurityHub: []string{"S3.14"},
		Checkov:     []string{"CKV_AWS_21"},
		Why:         "Versioning keeps a deleted or overwritten log file recoverable, so whoever read state cannot erase the record by deleting logs.",
		Remediation: "Enable versioning on the log bucket (PutBucketVersioning with status Enabled).",
	},
	"log_bucket_public_access_block": {
		FSBP:        []string{"S3.8"},
		CIS:         []string{"2.1.4"},
		Checkov:     []string{"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"},
		Why:         "The logs name every state object, caller and source address, which must never become public.",
		Remediation: "Turn on all four S3 Block Public Access settings of the log bucket: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets.",
	},
	"log_bucket_ownership_controls": {
		FSBP:        []string{"S3.12"},
		Checkov:     []string{"CKV2_AWS_65"},
		Why:         "With ACLs disabled the bucket policy alone decides who writes and reads logs, and every delivered log object belongs to the backend's account.",
		Remediation: "Set S3 Object Ownership to BucketOwnerEnforced on the log bucket and grant log delivery through the bucket policy instead of the log delivery group ACL.",
	},
	"log_bucket_policy": {
		FSBP:        []string{"S3.5"},
		CIS:         []string{"2.1.1"},
		Checkov:     []string{"CKV_AWS_70"},
		Why:         "The log bucket policy lets only this account's S3 log delivery and the backend's trail write logs, and refuses requests without TLS.",
		Remediation: "Attach a bucket policy that allows s3:PutObject only to logging.s3.amazonaws.com for the state bucket (and to cloudtrail.amazonaws.com for the backend's trail) and denies s3:* when aws:SecureTransport is false.",
	},
	"log_bucket_lifecycle": {
		FSBP:        []string{"S3.13"},
		SecurityHub: []string{"S3.10"},
		Checkov:     []string{"CKV_AWS_300", "CKV2_AWS_61"},
		Why:         "Logs are kept as long as the chosen retention and no longer, so evidence is neither lost early nor kept without bound.",
		Remediation: "Add one lifecycle rule for the whole log bucket that expires current objects after the retention period, expires noncurrent versions and aborts incomplete multipart uploads after 7 days.",
	},

	// KMS key.
	"kms_key_state": {
		FSBP:        []string{"KMS.3"},
		Checkov:     []string{"CKV_AWS_227"},
		Why:         "A disabled key makes every state encrypted with it unreadable, and a deleted one makes it unrecoverable.",
		Remediation: "Keep the key enabled: cancel any scheduled deletion (CancelKeyDeletion) and enable the key again (EnableKey).",
	},
	"kms_key_rotation": {
		SecurityHub: []string{"KMS.4"},
		CIS:         []string{"3.6"},
		Checkov:     []string{"CKV_AWS_7"},
		Why:         "Automatic rotation limits how much state any one version of the key material protects, which reduces the impact of that material being exposed.",
		Remediation: "Enable automatic rotation of the customer managed key (EnableKeyRotation) with the configured rotation period.",
	},
	"kms_key_policy": {
		Checkov:     []string{"CKV_AWS_33", "CKV2_AWS_64"},
		Why:         "The key policy decides who can decrypt state: only the account (or its named key administrators) administers the key, and every principal granted state access may use it only through S3 and DynamoDB in this Region.",
		Remediation: "Set an explicit key policy that grants kms:* only to the account root and encryption and decryption only to the named principals with a kms:ViaService condition for S3 and DynamoDB, and never allows a wildcard principal.",
	},
	"kms_alias": {
		Why:         "People and tools find the backend key by its alias, so a missing alias, or one pointed at another key, misleads whoever relies on it.",
		Remediation: "Create the alias alias/<name>-tfstate, or point it back at the backend's key with UpdateAlias.",
	},

	// Replica key (replication): the replica bucket's customer managed key
	// in the replica's Region.
	"replica_kms_key_state": {
		FSBP:        []string{"KMS.3"},
		Checkov:     []string{"CKV_AWS_227"},
		Why:         "A disabled or deleted replica key makes every replicated state unreadable, which defeats the replica exactly when the primary Region is lost.",
		Remediation: "Keep the replica key enabled: cancel any scheduled deletion (CancelKeyDeletion) and enable the key again (EnableKey), in the replica's Region.",
	},
	"replica_kms_key_rotation": {
		SecurityHub: []string{"KMS.4"},
		CIS:         []string{"3.6"},
		Checkov:     []string{"CKV_AWS_7"},
		Why:         "Automatic rotation limits how much replicated state any one version of the replica key's material protects.",
		Remediation: "Enable automatic rotation of the replica key (EnableKeyRotation) with the configured rotation period.",
	},
	"replica_kms_key_policy": {
		Checkov:     []string{"CKV_AWS_33", "CKV2_AWS_64"},
		Why:         "The replica key policy lets the backend's principals only decrypt replicas, only through S3 in the replica's Region and only for the replica bucket, so the copy is no easier to read than the original.",
		Remediation: "Set an explicit key policy that grants kms:* only to the account root and kms:Decrypt only to the backend's principals with a kms:ViaService condition for S3 in the replica's Region and the replica bucket's encryption context, and never allows a wildcard principal.",
	},
	"replica_kms_alias": {
		Why:         "People and tools find the replica key in the other Region by its alias during a recovery, so a missing alias, or one pointed at another key, misleads them when it matters most.",
		Remediation: "Create the alias alias/<name>-tfstate-replica in the replica's Region, or point it back at the replica key with UpdateAlias.",
	},

	// Replication: the role S3 assumes and the state bucket's rule.
	"replication_role": {
		Checkov:     []string{"CKV_AWS_60", "CKV_AWS_61"},
		Why:         "Only S3, replicating this account's state bucket, may assume the role, and the role may only read state versions for replication, write replicas and use the two keys through S3, so it cannot become a way to read or change states.",
		Remediation: "Give the role /securestate/<name>-tfstate-replication a trust policy that allows only s3.amazonaws.com, for this account's state bucket (aws:SourceAccount, aws:SourceArn), and one inline policy with exactly the replication actions, kms:Decrypt of the backend key and kms:Encrypt of the replica key through S3.",
	},
	"replication_rule": {
		SecurityHub: []string{"S3.7"},
		Checkov:     []string{"CKV_AWS_144"},
		Why:         "The rule copies every state version and delete marker, re-encrypted with the replica key, into a bucket in another Region, so a regional outage or a lost bucket does not take the states with it.",
		Remediation: "Give the state bucket one enabled replication rule for all objects, through the replication role, that selects SSE-KMS encrypted objects, replicates delete markers and writes to the replica bucket in the other Region with the replica key.",
	},

	// DynamoDB lock table.
	"lock_table_billing": {
		FSBP:        []string{"DynamoDB.1"},
		Checkov:     []string{"CKV2_AWS_16"},
		Why:         "On-demand capacity never throttles lock writes, so a burst of plans and applies cannot fail to take or release a state lock.",
		Remediation: "Switch the table to on-demand capacity (billing mode PAY_PER_REQUEST).",
	},
	"lock_table_encryption": {
		Checkov:     []string{"CKV_AWS_119"},
		Why:         "Lock items name every state path, who holds its lock and the state's digest, so they are encrypted with the same customer managed key as the state.",
		Remediation: "Set the table's server-side encryption to AWS KMS with the backend's customer managed key.",
	},
	"lock_table_point_in_time_recovery": {
		FSBP:        []string{"DynamoDB.2"},
		Checkov:     []string{"CKV_AWS_28"},
		Why:         "Point-in-time recovery restores lock items and state digests after an accidental or malicious write or deletion.",
		Remediation: "Enable point-in-time recovery on the table (UpdateContinuousBackups).",
	},
	"lock_table_deletion_protection": {
		FSBP:        []string{"DynamoDB.6"},
		Why:         "Deleting the lock table silently turns locking off, and two concurrent applies can then overwrite and corrupt the same state.",
		Remediation: "Enable deletion protection on the table (UpdateTable with DeletionProtectionEnabled).",
	},
	"lock_table_resource_policy": {
		Why:         "The table's resource-based policy is the only way principals of other accounts reach the locks, so it grants exactly the configured principals and nothing else.",
		Remediation: "Put a resource-based policy that grants only the configured cross-account principals their environment's lock items, or delete the policy when there are none.",
	},

	// Per-environment IAM access policy.
	accessPolicyFamily: {
		FSBP:        []string{"IAM.1", "IAM.21", "KMS.1"},
		CIS:         []string{"1.16"},
		Checkov:     []string{"CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_288", "CKV_AWS_290", "CKV_AWS_355"},
		Why:         "Each environment's principals get only their own states, lock files, lock items and use of the key, so a compromised dev pipeline cannot read or overwrite prod state.",
		Remediation: "Attach per environment a customer managed policy that allows s3:ListBucket on its prefix, s3:GetObject and s3:PutObject on its states and lock files, its lock items and kms:Decrypt, kms:Encrypt and kms:GenerateDataKey on the backend key only, with no wildcard action or resource.",
	},

	// CloudTrail trail.
	"trail_logging": {
		SecurityHub: []string{"CloudTrail.3"},
		Checkov:     []string{"CKV_AWS_251"},
		Why:         "A trail that stopped logging leaves reads and writes of state unrecorded, which is exactly what someone covering their tracks wants.",
		Remediation: "Start logging on the trail (StartLogging).",
	},
	"trail_log_file_validation": {
		FSBP:        []string{"CloudTrail.4"},
		CIS:         []string{"3.2"},
		Checkov:     []string{"CKV_AWS_36"},
		Why:         "Signed digest files prove that the record of who read or changed state was not altered or deleted after delivery.",
		Remediation: "Enable log file integrity validation on the trail.",
	},
	"trail_destination": {
		FSBP:        []string{"CloudTrail.2"},
		CIS:         []string{"3.5"},
		Checkov:     []string{"CKV_AWS_35"},
		Why:         "The record of state access must land in the backend's private log bucket encrypted with the backend key, not wherever someone redirected it.",
		Remediation: "Deliver the trail to the log bucket under the backend's prefix with SSE-KMS using the backend's customer managed key, and to the alarms' CloudWatch Logs group and role when alarms are on.",
	},
	"trail_event_selectors": {
		CIS:         []string{"3.8", "3.9"},
		Why:         "Object-level data events are the only CloudTrail record of each read, write and deletion of a state object and of each lock item change.",
		Remediation: "Configure data event selectors that log all S3 object events (read and write) of the state bucket and all DynamoDB item events of the lock table.",
	},

	// CloudWatch alarms.
	"alarm_log_delivery": {
		FSBP:        []string{"CloudTrail.5"},
		Checkov:     []string{"CKV_AWS_66", "CKV_AWS_158", "CKV2_AWS_10"},
		Why:         "The alarms fire only if trail events reach a CloudWatch Logs group encrypted with the backend key, kept for a bounded time and written through a role limited to that group.",
		Remediation: "Send the trail to a CloudWatch Logs group encrypted with the backend key and with the configured retention, through an IAM role that only this trail can assume and that may only write to that group.",
	},
	"alarm_state_deletion": {
		SecurityHub: []string{"CloudWatch.15", "CloudWatch.17"},
		Checkov:     []string{"CKV_AWS_319"},
		Why:         "Deleting state files is the fastest way to lose track of infrastructure or hide a change, so it should alert someone at once.",
		Remediation: "Create a metric filter on the trail's log group for DeleteObject of *.tfstate keys and DeleteObjects on the state bucket, and a CloudWatch alarm on it with actions enabled that notifies an SNS topic.",
	},
	"alarm_replication_failed": {
		SecurityHub: []string{"CloudWatch.15", "CloudWatch.17"},
		Checkov:     []string{"CKV_AWS_319"},
		Why:         "A replica that silently stopped receiving states fails exactly when it is needed, so every operation S3 failed to replicate should alert someone.",
		Remediation: "Create a CloudWatch alarm on S3's OperationsFailedReplication metric of the state bucket, replica bucket and replication rule (Sum greater than 0 over 5 minutes) with actions enabled that notifies an SNS topic.",
	},
	"alarm_access_denied": {
		SecurityHub: []string{"CloudWatch.15", "CloudWatch.17"},
		Checkov:     []string{"CKV_AWS_319"},
		Why:         "Denied requests to the state bucket are the trace of someone probing for state they may not read.",
		Remediation: "Create a metric filter on the trail's log group for errorCode AccessDenied on the state bucket, and a CloudWatch alarm on it with actions enabled that notifies an SNS topic.",
	},

	// EventBridge rule on the state bucket's events.
	"state_delete_events": {
		Why:         "Deleting a state or one of its versions is the quickest way to lose track of infrastructure or hide a change; the rule notifies the alarm topic within seconds of S3 reporting it.",
		Remediation: "Create an EventBridge rule on the default event bus that matches the state bucket's Object Deleted events for state objects and targets the alarm SNS topic.",
	},
}

// sources records where each ID of the table was verified: its title, what it
// checks and, for Security Hub, the standards it belongs to. Tests keep it in
// step with the table. Security Hub pages are under
// https://docs.aws.amazon.com/securityhub/latest/userguide/; the FSBP
// membership of every "FSBP" ID (and the absence of every "SecurityHub" ID)
// is from its fsbp-standard.html control list. CIS numbers are from the
// v3.0.0 transcription in turbot/steampipe-mod-aws-compliance
// (cis_v300/section_*.pp) and, where Security Hub implements the
// recommendation, from the control's "Related requirements". Checkov paths are
// in bridgecrewio/checkov; the policy index is docs/5.Policy Index/terraform.md.
var sources = map[string]string{
	"FSBP CloudTrail.2":         "cloudtrail-controls.html#cloudtrail-2: passes when the trail has a KmsKeyId",
	"FSBP CloudTrail.4":         "cloudtrail-controls.html#cloudtrail-4: log file validation enabled",
	"FSBP CloudTrail.5":         "cloudtrail-controls.html#cloudtrail-5: trail has CloudWatchLogsLogGroupArn (the trail side is enforced under trail_destination when alarms are on)",
	"FSBP DynamoDB.1":           "dynamodb-controls.html#dynamodb-1: passes for on-demand capacity mode",
	"FSBP DynamoDB.2":           "dynamodb-controls.html#dynamodb-2: point-in-time recovery enabled",
	"FSBP DynamoDB.6":           "dynamodb-controls.html#dynamodb-6: deletion protection enabled",
	"FSBP IAM.1":                "iam-controls.html#iam-1: no Allow of Action * on Resource * in customer managed policies",
	"FSBP IAM.21":               "iam-controls.html#iam-21: no Allow of service:* actions in customer managed policies",
	"FSBP KMS.1":                "kms-controls.html#kms-1: customer managed policies do not allow kms:Decrypt or kms:ReEncryptFrom on all keys",
	"FSBP KMS.3":                "kms-controls.html#kms-3: key not scheduled for deletion",
	"FSBP S3.5":                 "s3-controls.html#s3-5: bucket policy requires aws:SecureTransport; related CIS v3.0.0/2.1.1",
	"FSBP S3.8":                 "s3-controls.html#s3-8: all four bucket-level Block Public Access settings; related CIS v3.0.0/2.1.4",
	"FSBP S3.9":                 "s3-controls.html#s3-9: server access logging enabled",
	"FSBP S3.12":                "s3-controls.html#s3-12: ACLs not used (remediation: disable ACLs with Object Ownership)",
	"FSBP S3.13":                "s3-controls.html#s3-13: bucket has a lifecycle configuration",
	"SecurityHub CloudTrail.3":  "cloudtrail-controls.html#cloudtrail-3 (now titled \"At least one CloudTrail trail should be enabled\"): PCI DSS v3.2.1 standard",
	"SecurityHub CloudWatch.15": "cloudwatch-controls.html#cloudwatch-15: alarm has an action for the ALARM state; NIST SP 800-53 and 800-171 only",
	"SecurityHub CloudWatch.17": "cloudwatch-controls.html#cloudwatch-17: alarm actions activated; NIST SP 800-53 only",
	"SecurityHub KMS.4":         "kms-controls.html#kms-4: key rotation enabled; related CIS v3.0.0/3.6; not in FSBP",
	"SecurityHub S3.10":         "s3-controls.html#s3-10: versioned bucket has a lifecycle configuration; NIST SP 800-53 only",
	"SecurityHub S3.14":         "s3-controls.html#s3-14: versioning enabled; NIST SP 800-53 and 800-171 only",
	"SecurityHub S3.7":          "s3-controls.html#s3-7: cross-Region replication enabled; PCI DSS v3.2.1 and NIST SP 800-53 only (it fails for a replication destination bucket, whose finding the page says to suppress)",
	"SecurityHub S3.11":         "s3-controls.html#s3-11: S3 Event Notifications enabled (EventBridge is one of their destinations, AmazonS3/latest/userguide/EventNotifications.html); NIST SP 800-53 and 800-171 only",
	"SecurityHub S3.15":         "s3-controls.html#s3-15: Object Lock enabled (optional mode parameter); NIST SP 800-53 and PCI DSS v4.0.1 only",
	"SecurityHub S3.17":         "s3-controls.html#s3-17: default encryption with SSE-KMS or DSSE-KMS; NIST and PCI DSS v4.0.1 only",
	"CIS 1.16":                  "cis_v300/section_1.pp: Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached",
	"CIS 2.1.1":                 "cis_v300/section_2.pp: Ensure S3 Bucket Policy is set to deny HTTP requests; S3.5 related requirements",
	"CIS 2.1.4":                 "cis_v300/section_2.pp: Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'; S3.1 and S3.8 related requirements",
	"CIS 3.2":                   "cis_v300/section_3.pp: Ensure CloudTrail log file validation is enabled",
	"CIS 3.5":                   "cis_v300/section_3.pp: Ensure CloudTrail logs are encrypted at rest using KMS CMKs; CloudTrail.2 related requirements",
	"CIS 3.6":                   "cis_v300/section_3.pp: Ensure rotation for customer-created symmetric CMKs is enabled; KMS.4 related requirements",
	"CIS 3.8":                   "cis_v300/section_3.pp and docs/cis_v300_3_8.md: object-level logging of write events for the S3 bucket (per bucket)",
	"CIS 3.9":                   "cis_v300/section_3.pp: object-level logging of read events for the S3 bucket (per bucket)",
	"CKV_AWS_7":                 "checkov/terraform/checks/resource/aws/KMSRotation.py: enable_key_rotation",
	"CKV_AWS_18":                "checkov/terraform/checks/graph_checks/aws/S3BucketLogging.yaml: bucket has access logging",
	"CKV_AWS_19":                "checkov/terraform/checks/graph_checks/aws/S3BucketEncryption.yaml: sse_algorithm aws:kms or AES256",
	"CKV_AWS_21":                "checkov/terraform/checks/graph_checks/aws/S3BucketVersioning.yaml: versioning Enabled",
	"CKV_AWS_28":                "checkov/terraform/checks/resource/aws/DynamodbRecovery.py: point_in_time_recovery enabled",
	"CKV_AWS_33":                "checkov/terraform/checks/resource/aws/KMSKeyWildcardPrincipal.py: no Allow statement with principal *",
	"CKV_AWS_35":                "checkov/terraform/checks/resource/aws/CloudtrailEncryptionWithCMK.py: trail kms_key_id set",
	"CKV_AWS_36":                "checkov/terraform/checks/resource/aws/CloudtrailLogValidation.py: enable_log_file_validation",
	"CKV_AWS_53":                "policy index: aws_s3_bucket_public_access_block block public ACLs",
	"CKV_AWS_54":                "policy index: aws_s3_bucket_public_access_block block public policy",
	"CKV_AWS_55":                "policy index: aws_s3_bucket_public_access_block ignore public ACLs",
	"CKV_AWS_56":                "policy index: aws_s3_bucket_public_access_block restrict public buckets",
	"CKV_AWS_60":                "checkov/terraform/checks/resource/aws/IAMRoleAllowsPublicAssume.py: no Allow statement of the role's trust policy has the AWS principal *",
	"CKV_AWS_61":                "checkov/terraform/checks/resource/aws/IAMRoleAllowAssumeFromAccount.py: the role's trust policy does not let a whole account (its root or ID) assume it",
	"CKV_AWS_62":                "checkov/terraform/checks/resource/aws/IAMAdminPolicyDocument.py: no Allow of * on * (aws_iam_policy)",
	"CKV_AWS_63":                "checkov/terraform/checks/resource/aws/IAMStarActionPolicyDocument.py: no Allow of action * (aws_iam_policy)",
	"CKV_AWS_66":                "checkov/terraform/checks/resource/aws/CloudWatchLogGroupRetention.py: retention_in_days set",
	"CKV_AWS_70":                "checkov/terraform/checks/resource/aws/S3AllowsAnyPrincipal.py: no Allow to principal * (Deny statements skipped)",
	"CKV_AWS_119":               "checkov/terraform/checks/resource/aws/DynamoDBTablesEncrypted.py: server_side_encryption enabled with kms_key_arn (customer managed key)",
	"CKV_AWS_143":               "checkov/terraform/checks/resource/aws/S3BucketObjectLock.py: object_lock_configuration object_lock_enabled Enabled",
	"CKV_AWS_144":               "checkov/terraform/checks/graph_checks/aws/S3BucketReplicationConfiguration.yaml: a replication rule with status Enabled",
	"CKV_AWS_145":               "checkov/terraform/checks/graph_checks/aws/S3KMSEncryptedByDefault.yaml: sse_algorithm aws:kms",
	"CKV_AWS_158":               "checkov/terraform/checks/resource/aws/CloudWatchLogGroupKMSKey.py: log group kms_key_id set",
	"CKV_AWS_227":               "checkov/terraform/checks/resource/aws/KMSKeyIsEnabled.py: is_enabled",
	"CKV_AWS_251":               "checkov/terraform/checks/resource/aws/CloudtrailEnableLogging.py: enable_logging",
	"CKV_AWS_288":               "checkov/terraform/checks/resource/aws/IAMDataExfiltration.py: no unconstrained data exfiltration actions (aws_iam_policy)",
	"CKV_AWS_290":               "checkov/terraform/checks/resource/aws/IAMWriteAccess.py: no write actions without resource constraints (aws_iam_policy)",
	"CKV_AWS_300":               "checkov/terraform/checks/resource/aws/S3AbortIncompleteUploads.py: enabled rule aborting incomplete multipart uploads for all objects",
	"CKV_AWS_319":               "checkov/terraform/checks/resource/aws/CloudWatchAlarmsEnabled.py: actions_enabled not false",
	"CKV_AWS_355":               "checkov/terraform/checks/resource/aws/IAMStarResourcePolicyDocument.py: no Resource * for restrictable actions",
	"CKV2_AWS_6":                "policy index: aws_s3_bucket has an aws_s3_bucket_public_access_block",
	"CKV2_AWS_10":               "checkov/terraform/checks/graph_checks/aws/CloudtrailHasCloudwatch.yaml: trail cloud_watch_logs_group_arn and log group",
	"CKV2_AWS_16":               "checkov/terraform/checks/graph_checks/aws/AutoScalingEnableOnDynamoDBTables.yaml: passes for billing_mode PAY_PER_REQUEST",
	"CKV2_AWS_61":               "checkov/terraform/checks/graph_checks/aws/S3BucketLifecycle.yaml: bucket has a lifecycle configuration",
	"CKV2_AWS_62":               "checkov/terraform/checks/graph_checks/aws/S3BucketEventNotifications.yaml: bucket has an aws_s3_bucket_notification (where Terraform sets eventbridge = true)",
	"CKV2_AWS_64":               "checkov/terraform/checks/graph_checks/aws/KmsKeyPolicyIsDefined.yaml: key has an explicit key policy",
	"CKV2_AWS_65":               "checkov/terraform/checks/graph_checks/aws/AWSdisableS3ACL.yaml: object_ownership BucketOwnerEnforced",
}

// Lookup returns the references of a control as the backend names it:
// "access_policy_<environment>" finds the access policy family, every other
// name must be a key of the table. The slices are copies.
func Lookup(control string) (Refs, bool) {
	key := control
	if env, ok := strings.CutPrefix(control, accessPolicyPrefix); ok && env != "" {
		key = accessPolicyFamily
	}
	r, ok := table[key]
	if !ok {
		return Refs{}, false
	}
	r.FSBP, r.SecurityHub, r.CIS, r.Checkov = slices.Clone(r.FSBP), slices.Clone(r.SecurityHub), slices.Clone(r.CIS), slices.Clone(r.Checkov)
	return r, true
}

// Controls returns the keys of the table, sorted; the access policy family is
// "access_policy_*".
func Controls() []string {
	return slices.Sorted(maps.Keys(table))
}

// Label prefixes of IDs, in the order IDs lists the schemes. Checkov IDs carry
// their scheme in their name and have no prefix.
const (
	labelFSBP        = "FSBP "
	labelSecurityHub = "SecurityHub "
	labelCIS         = "CIS "
)

// IDs returns every reference of a control as one list for the resource's
// compliance attribute: "FSBP <id>", then "SecurityHub <id>", then
// "CIS <number>" (of CISVersion), then Checkov IDs; each scheme in natural
// order (numbers compare as numbers, and CKV_AWS_ precede CKV2_AWS_). It is
// empty (not nil) for a control without references and nil for an unknown
// control.
func IDs(control string) []string {
	r, ok := Lookup(control)
	if !ok {
		return nil
	}
	out := []string{}
	for _, g := range []struct {
		label string
		ids   []string
	}{{labelFSBP, r.FSBP}, {labelSecurityHub, r.SecurityHub}, {labelCIS, r.CIS}, {"", r.Checkov}} {
		ids := slices.Clone(g.ids)
		slices.SortFunc(ids, naturalCompare)
		for _, id := range ids {
			out = append(out, g.label+id)
		}
	}
	return out
}

// Markdown returns the table as a Markdown table, one row per key of the
// table in Controls order, for the documentation.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| control | FSBP | Security Hub (other standards) | CIS " + CISVersion + " | Checkov | why |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, c := range Controls() {
		r := table[c]
		cells := []string{"`" + c + "`", cell(r.FSBP), cell(r.SecurityHub), cell(r.CIS), cell(r.Checkov), escape(r.Why)}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// cell renders a list of IDs in natural order, or a dash for none.
func cell(ids []string) string {
	if len(ids) == 0 {
		return "—"
	}
	ids = slices.Clone(ids)
	slices.SortFunc(ids, naturalCompare)
	return escape(strings.Join(ids, ", "))
}

// escape keeps a table cell in its column.
func escape(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// naturalCompare orders strings by runs: runs of digits compare as numbers,
// other runs as text, and at the same position text sorts before a number,
// so "S3.5" < "S3.13", "1.16" > "1.2" and "CKV_AWS_7" < "CKV_AWS_28" <
// "CKV2_AWS_6".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		ra, restA := nextRun(a)
		rb, restB := nextRun(b)
		da, db := isDigit(ra[0]), isDigit(rb[0])
		switch {
		case da && !db:
			return 1
		case !da && db:
			return -1
		case da && db:
			na, nb := strings.TrimLeft(ra, "0"), strings.TrimLeft(rb, "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
		case ra == rb:
		case strings.HasPrefix(rb, ra): // a's text ends first: a number or nothing follows
			if restA == "" {
				return -1
			}
			return 1
		case strings.HasPrefix(ra, rb):
			if restB == "" {
				return 1
			}
			return -1
		default:
			return strings.Compare(ra, rb)
		}
		a, b = restA, restB
	}
	return len(a) - len(b)
}

// nextRun splits s (not empty) after its first run of digits or non-digits.
func nextRun(s string) (run, rest string) {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
