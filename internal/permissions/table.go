package permissions

import (
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// Resource patterns, from the naming rules with "*" for the backend name, the
// account and the region. The partition is "aws"; other partitions replace it.
// The region is "*" everywhere: with replication, the replica key and bucket
// are in another region than the backend's.
var (
	anyResource = &Scope{Suffix: "AnyResource", Resources: []string{"*"},
		Why: "AWS supports no resource for these actions (a key does not exist before kms:CreateKey; the list actions list a whole account)"}
	keys = &Scope{Suffix: "Keys", Resources: []string{"arn:aws:kms:*:*:key/*"},
		Why: "key IDs are random, so keys cannot be told apart by ARN"}
	aliasAndKeys = &Scope{Suffix: "Alias", Resources: []string{"arn:aws:kms:*:*:" + naming.KeyAlias("*"),
		"arn:aws:kms:*:*:" + naming.TofuEncryptionKeyAlias("*", "*"), "arn:aws:kms:*:*:" + naming.ReplicaKeyAlias("*"), "arn:aws:kms:*:*:key/*"},
		Why: "KMS checks alias actions on the alias and on the key behind it; the second alias pattern is the environments' OpenTofu encryption keys (tofu_encryption), the third the replica key's (replication)"}
	keyGrants = &Scope{Suffix: "KeyGrants", Resources: []string{"arn:aws:kms:*:*:key/*"},
		Condition: policydoc.Conditions{"Bool": {"kms:GrantIsForAWSResource": {"true"}}},
		Why:       "limited to grants an AWS service makes for a resource (kms:GrantIsForAWSResource): DynamoDB's for the lock table"}
	// The default state bucket names, their managed log buckets
	// (<bucket>-logs) and replica buckets (<bucket>-replica); a backend with
	// its own `bucket` needs its ARN added.
	buckets = &Scope{Suffix: "Buckets", Resources: []string{"arn:aws:s3:::" + naming.StateBucket("*", "*")}}
	objects = &Scope{Suffix: "Objects", Resources: []string{"arn:aws:s3:::" + naming.StateBucket("*", "*") + "/*"}}
	tables  = &Scope{Suffix: "Table", Resources: []string{"arn:aws:dynamodb:*:*:table/" + naming.LockTable("*")}}
	// IAM ARNs carry the path: policy/securestate/<name>-tfstate-<env>.
	accessPolicies = &Scope{Suffix: "Policies", Resources: []string{"arn:aws:iam::*:policy" + naming.PolicyPath + naming.AccessPolicy("*", "*")}}
	trailRole      = &Scope{Suffix: "Role", Resources: []string{"arn:aws:iam::*:role" + naming.PolicyPath + naming.TrailLogsRole("*")}}
	passTrailRole  = &Scope{Suffix: "PassRole", Resources: trailRole.Resources,
		Condition: policydoc.Conditions{"StringEquals": {"iam:PassedToService": {"cloudtrail.amazonaws.com"}}}}
	replicationRole     = &Scope{Suffix: "Role", Resources: []string{"arn:aws:iam::*:role" + naming.PolicyPath + naming.ReplicationRole("*")}}
	passReplicationRole = &Scope{Suffix: "PassRole", Resources: replicationRole.Resources,
		Condition: policydoc.Conditions{"StringEquals": {"iam:PassedToService": {"s3.amazonaws.com"}}}}
	// Rules on the default event bus.
	eventRules = &Scope{Suffix: "Rule", Resources: []string{"arn:aws:events:*:*:rule/" + naming.StateEventsRule("*")}}
	// A log group's ARN may end in ":*"; the trailing "*" covers both forms.
	logGroup  = &Scope{Suffix: "LogGroup", Resources: []string{"arn:aws:logs:*:*:log-group:" + naming.AlarmLogGroup("*") + "*"}}
	logGroups = &Scope{Suffix: "LogGroups", Resources: []string{"arn:aws:logs:*:*:log-group:*"},
		Why: "CloudWatch Logs authorises the listing on the account's log groups as a whole (`log-group:*`), not on the group asked about"}
	alarmsScope = &Scope{Suffix: "Alarms", Resources: []string{
		"arn:aws:cloudwatch:*:*:alarm:" + naming.AccessDeniedAlarm("*"),
		"arn:aws:cloudwatch:*:*:alarm:" + naming.StateDeletedAlarm("*"),
		"arn:aws:cloudwatch:*:*:alarm:" + naming.ReplicationFailedAlarm("*"),
	}}
	trails      = &Scope{Suffix: "Trail", Resources: []string{"arn:aws:cloudtrail:*:*:trail/" + naming.Trail("*")}}
	assumedRole = &Scope{Suffix: "AssumeRole", Resources: []string{"the role_arn of the provider's assume_role block"}}
	// securestate_state_scan and securestate_locks read any bucket they are given.
	// securestate_state_versions reads the versions of the state it is given.
	scannedBucket  = &Scope{Suffix: "ScannedBucket", Resources: []string{"the bucket securestate_state_scan, securestate_locks or securestate_state_versions reads"}}
	scannedObjects = &Scope{Suffix: "ScannedObjects", Resources: []string{
		"the states (`<bucket>/<prefix>*.tfstate`) securestate_state_scan and securestate_state_versions read and the lock files (`<bucket>/<prefix>*.tflock`) securestate_locks reads"}}
)

// Components, in the order the policy lists them.
var (
	Provider       = &Component{Name: "provider", Sid: "Provider"}
	KMSKey         = &Component{Name: "kms_key, replica_kms_key", Sid: "KmsKey", Scope: keys}
	Buckets        = &Component{Name: "state_bucket, log_bucket, replica_bucket", Sid: "Buckets", Scope: buckets}
	LockTable      = &Component{Name: "lock_table", Sid: "LockTable", Scope: tables}
	AccessPolicies = &Component{Name: "access_policy/<environment>", Sid: "AccessPolicies", Scope: accessPolicies}
	Replication    = &Component{Name: "replication_role, replication_rule", Sid: "Replication", Scope: replicationRole}
	Alarms         = &Component{Name: "alarms", Sid: "Alarms"}
	StateEvents    = &Component{Name: "state_events", Sid: "StateEvents", Scope: eventRules}
	Trail          = &Component{Name: "trail", Sid: "Trail", Scope: trails}
)

// Components lists every component in order.
var Components = []*Component{Provider, KMSKey, Buckets, LockTable, AccessPolicies, Replication, Alarms, StateEvents, Trail}

func act(name string, scope *Scope) Action { return Action{Name: name, Scope: scope} }

// Operations is the table: every AWS API operation the provider can call.
// The tests fail when the code can call an operation missing here, or when
// an entry names one it cannot call. For each service the actions follow its
// page in the Service Authorization Reference; S3's are named unlike its
// operations. An operation two components call on their own resources has
// an entry per component (see Lookup).
var Operations = []Operation{
	// The provider itself.
	{Service: sts.ServiceID, Name: "GetCallerIdentity", Component: Provider, Group: Read,
		Note: "finds the account and partition; AWS answers it for every caller, even under an explicit deny, so it needs no permission"},
	{Service: sts.ServiceID, Name: "AssumeRole", Component: Provider, Group: Read, Separate: true,
		Actions: []Action{act("sts:AssumeRole", assumedRole)},
		Note:    "only with `assume_role`: the credentials the provider starts from need it (and the role's trust policy must allow them); the role assumed gets the policies"},

	// kms_key and replica_kms_key: the backend's customer managed key and its
	// alias, and with replication the replica key and its alias in the
	// replica's region (the same operations).
	{Service: kms.ServiceID, Name: "DescribeKey", Component: KMSKey, Group: Read, Actions: []Action{act("kms:DescribeKey", keys)},
		Note: "finds the key by ID or through its alias"},
	{Service: kms.ServiceID, Name: "GetKeyPolicy", Component: KMSKey, Group: Read, Actions: []Action{act("kms:GetKeyPolicy", keys)}},
	{Service: kms.ServiceID, Name: "GetKeyRotationStatus", Component: KMSKey, Group: Read, Actions: []Action{act("kms:GetKeyRotationStatus", keys)}},
	{Service: kms.ServiceID, Name: "ListResourceTags", Component: KMSKey, Group: Read, Actions: []Action{act("kms:ListResourceTags", keys)}},
	{Service: kms.ServiceID, Name: "CreateKey", Component: KMSKey, Group: CreateUpdate,
		Actions: []Action{act("kms:CreateKey", anyResource), act("kms:TagResource", anyResource)},
		Note:    "the request carries the key policy and the tags; tags on create need kms:TagResource"},
	{Service: kms.ServiceID, Name: "ListKeys", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:ListKeys", anyResource)},
		Note: "only after a CreateKey that failed or was retried: finds the keys it made anyway"},
	{Service: kms.ServiceID, Name: "ListAliases", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:ListAliases", anyResource)},
		Note: "with ListKeys, after a failed or retried CreateKey"},
	{Service: kms.ServiceID, Name: "CreateAlias", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:CreateAlias", aliasAndKeys)}},
	{Service: kms.ServiceID, Name: "UpdateAlias", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:UpdateAlias", aliasAndKeys)},
		Note: "points the alias back to the backend's key"},
	{Service: kms.ServiceID, Name: "PutKeyPolicy", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:PutKeyPolicy", keys)}},
	{Service: kms.ServiceID, Name: "EnableKeyRotation", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:EnableKeyRotation", keys)},
		Note: "with the rotation period"},
	{Service: kms.ServiceID, Name: "TagResource", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:TagResource", keys)}},
	{Service: kms.ServiceID, Name: "UntagResource", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:UntagResource", keys)}},
	{Service: kms.ServiceID, Name: "CancelKeyDeletion", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:CancelKeyDeletion", keys)},
		Note: "brings back the backend's own key found pending deletion"},
	{Service: kms.ServiceID, Name: "EnableKey", Component: KMSKey, Group: CreateUpdate, Actions: []Action{act("kms:EnableKey", keys)},
		Note: "with CancelKeyDeletion, or for a disabled key"},
	{Service: kms.ServiceID, Name: "DeleteAlias", Component: KMSKey, Group: Destroy, Actions: []Action{act("kms:DeleteAlias", aliasAndKeys)}},
	{Service: kms.ServiceID, Name: "ScheduleKeyDeletion", Component: KMSKey, Group: Destroy, Actions: []Action{act("kms:ScheduleKeyDeletion", keys)},
		Note: "after the deletion window; a create also uses it to discard duplicate keys a retried CreateKey made, or a new key whose alias failed; an update that switches tofu_encryption off or removes an environment schedules its encryption key's deletion"},

	// state_bucket and log_bucket: the same S3 operations on both.
	{Service: s3.ServiceID, Name: "HeadBucket", Component: Buckets, Group: Read, Actions: []Action{act("s3:ListBucket", buckets)},
		Note: "does the bucket exist; also checks `access_logging.target_bucket`, which then needs it too"},
	{Service: s3.ServiceID, Name: "GetBucketTagging", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetBucketTagging", buckets)}},
	{Service: s3.ServiceID, Name: "GetBucketEncryption", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetEncryptionConfiguration", buckets)}},
	{Service: s3.ServiceID, Name: "GetBucketVersioning", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetBucketVersioning", buckets)}},
	{Service: s3.ServiceID, Name: "GetPublicAccessBlock", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetBucketPublicAccessBlock", buckets)}},
	{Service: s3.ServiceID, Name: "GetBucketOwnershipControls", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetBucketOwnershipControls", buckets)}},
	{Service: s3.ServiceID, Name: "GetBucketPolicy", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetBucketPolicy", buckets)}},
	{Service: s3.ServiceID, Name: "GetBucketLifecycleConfiguration", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetLifecycleConfiguration", buckets)}},
	{Service: s3.ServiceID, Name: "GetBucketLogging", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetBucketLogging", buckets)}},
	{Service: s3.ServiceID, Name: "GetObjectLockConfiguration", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetBucketObjectLockConfiguration", buckets)},
		Note: "Object Lock and the default retention (`object_lock`); destroy also asks it first whether a bucket can hold retained versions at all"},
	{Service: s3.ServiceID, Name: "GetBucketNotificationConfiguration", Component: Buckets, Group: Read, Actions: []Action{act("s3:GetBucketNotification", buckets)},
		Note: "whether the state bucket sends its events to EventBridge; read again before the write, which replaces the whole configuration, to keep other destinations"},
	{Service: s3.ServiceID, Name: "CreateBucket", Component: Buckets, Group: CreateUpdate,
		Actions: []Action{act("s3:CreateBucket", buckets), act("s3:TagResource", buckets), act("s3:PutBucketOwnershipControls", buckets)},
		Note:    "the request carries the tags (which need s3:TagResource) and turns ACLs off (object ownership, which needs s3:PutBucketOwnershipControls)"},
	{Service: s3.ServiceID, Name: "PutBucketTagging", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutBucketTagging", buckets)}},
	{Service: s3.ServiceID, Name: "PutBucketEncryption", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutEncryptionConfiguration", buckets)}},
	{Service: s3.ServiceID, Name: "PutBucketVersioning", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutBucketVersioning", buckets)}},
	{Service: s3.ServiceID, Name: "PutPublicAccessBlock", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutBucketPublicAccessBlock", buckets)}},
	{Service: s3.ServiceID, Name: "PutBucketOwnershipControls", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutBucketOwnershipControls", buckets)}},
	{Service: s3.ServiceID, Name: "PutBucketPolicy", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutBucketPolicy", buckets)}},
	{Service: s3.ServiceID, Name: "PutBucketLifecycleConfiguration", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutLifecycleConfiguration", buckets)}},
	{Service: s3.ServiceID, Name: "PutBucketLogging", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutBucketLogging", buckets)}, AlsoDestroy: true,
		Note: "destroy turns the state bucket's logging off before it deletes the log bucket"},
	{Service: s3.ServiceID, Name: "PutObjectLockConfiguration", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutBucketObjectLockConfiguration", buckets)},
		Note: "with `object_lock`: turns Object Lock on (after versioning) with the default retention, on the state bucket and the replica bucket; removing `object_lock` removes the default retention with it"},
	{Service: s3.ServiceID, Name: "PutBucketNotificationConfiguration", Component: Buckets, Group: CreateUpdate, Actions: []Action{act("s3:PutBucketNotification", buckets)},
		Note: "sends the state bucket's events to EventBridge, keeping the destinations already there"},
	{Service: s3.ServiceID, Name: "ListObjectVersions", Component: Buckets, Group: Destroy, Actions: []Action{act("s3:ListBucketVersions", buckets)},
		Note: "counts what a bucket holds before it is deleted (destroy refuses unless `force_destroy`), and empties it; the data source `securestate_state_versions` lists a state's versions with it, which needs `s3:ListBucketVersions` granted on the bucket it reads"},
	{Service: s3.ServiceID, Name: "GetObjectRetention", Component: Buckets, Group: Destroy, Actions: []Action{act("s3:GetObjectRetention", objects)},
		Note: "only in a bucket with Object Lock: destroy reads each version's retention and refuses while one is retained, naming the date it ends"},
	{Service: s3.ServiceID, Name: "GetObjectLegalHold", Component: Buckets, Group: Destroy, Actions: []Action{act("s3:GetObjectLegalHold", objects)},
		Note: "with GetObjectRetention, for a version not under retention: a legal hold keeps it too"},
	{Service: s3.ServiceID, Name: "ListObjectsV2", Component: Buckets, Group: Read, Separate: true, Actions: []Action{act("s3:ListBucket", scannedBucket)},
		Note: "only the data sources `securestate_state_scan` and `securestate_locks`: list the states or the lock files under their prefix; grant it on the buckets they read"},
	{Service: s3.ServiceID, Name: "GetObject", Component: Buckets, Group: Read, Separate: true,
		Actions: []Action{act("s3:GetObject", scannedObjects), act("s3:GetObjectVersion", scannedObjects)},
		Note:    "only the data sources: `securestate_state_scan` reads each state's current version, `securestate_locks` each lock file, `securestate_state_versions` each version of its state by version ID, which S3 checks as `s3:GetObjectVersion` (all with `kms:Decrypt` on the bucket's key, through S3); grant them on the objects they read"},
	{Service: s3.ServiceID, Name: "DeleteObjects", Component: Buckets, Group: Destroy,
		Actions: []Action{act("s3:DeleteObject", objects), act("s3:DeleteObjectVersion", objects)},
		Note:    "only with `force_destroy`: deletes every object version and delete marker"},
	{Service: s3.ServiceID, Name: "DeleteBucket", Component: Buckets, Group: Destroy, Actions: []Action{act("s3:DeleteBucket", buckets)},
		Note: "a create also uses it to remove a new bucket it could not tag"},

	// lock_table.
	{Service: dynamodb.ServiceID, Name: "DescribeTable", Component: LockTable, Group: Read, Actions: []Action{act("dynamodb:DescribeTable", tables)}},
	{Service: dynamodb.ServiceID, Name: "DescribeContinuousBackups", Component: LockTable, Group: Read, Actions: []Action{act("dynamodb:DescribeContinuousBackups", tables)}},
	{Service: dynamodb.ServiceID, Name: "ListTagsOfResource", Component: LockTable, Group: Read, Actions: []Action{act("dynamodb:ListTagsOfResource", tables)}},
	{Service: dynamodb.ServiceID, Name: "GetResourcePolicy", Component: LockTable, Group: Read, Actions: []Action{act("dynamodb:GetResourcePolicy", tables)},
		Note: "the table's resource-based policy, which holds the backend's cross-account grants and must be absent without them"},
	{Service: dynamodb.ServiceID, Name: "CreateTable", Component: LockTable, Group: CreateUpdate,
		Actions: []Action{act("dynamodb:CreateTable", tables), act("dynamodb:TagResource", tables), act("kms:DescribeKey", keys), act("kms:CreateGrant", keyGrants)},
		Note:    "a create with tags needs dynamodb:TagResource; encryption with the backend key has DynamoDB describe the key and create a grant on it for the caller"},
	{Service: dynamodb.ServiceID, Name: "UpdateTable", Component: LockTable, Group: CreateUpdate,
		Actions: []Action{act("dynamodb:UpdateTable", tables), act("kms:DescribeKey", keys), act("kms:CreateGrant", keyGrants)}, AlsoDestroy: true,
		Note: "repairs encryption (which has DynamoDB grant itself the key again) and deletion protection; destroy lifts deletion protection with it"},
	{Service: dynamodb.ServiceID, Name: "UpdateContinuousBackups", Component: LockTable, Group: CreateUpdate, Actions: []Action{act("dynamodb:UpdateContinuousBackups", tables)},
		Note: "point-in-time recovery"},
	{Service: dynamodb.ServiceID, Name: "TagResource", Component: LockTable, Group: CreateUpdate, Actions: []Action{act("dynamodb:TagResource", tables)}},
	{Service: dynamodb.ServiceID, Name: "UntagResource", Component: LockTable, Group: CreateUpdate, Actions: []Action{act("dynamodb:UntagResource", tables)}},
	{Service: dynamodb.ServiceID, Name: "PutResourcePolicy", Component: LockTable, Group: CreateUpdate, Actions: []Action{act("dynamodb:PutResourcePolicy", tables)},
		Note: "writes the backend's cross-account grants"},
	{Service: dynamodb.ServiceID, Name: "DeleteResourcePolicy", Component: LockTable, Group: CreateUpdate, Actions: []Action{act("dynamodb:DeleteResourcePolicy", tables)},
		Note: "removes a resource policy from a table whose backend grants no one through it"},
	{Service: dynamodb.ServiceID, Name: "Scan", Component: LockTable, Group: Destroy, Actions: []Action{act("dynamodb:Scan", tables)},
		Note: "before the table is deleted (destroy, or `locking` moved to \"lockfile\"): refuses while a run holds a state lock in it; the data source `securestate_locks` reads the locks of the `lock_table` it is given with it, which needs `dynamodb:Scan` granted on that table"},
	{Service: dynamodb.ServiceID, Name: "DeleteTable", Component: LockTable, Group: Destroy, Actions: []Action{act("dynamodb:DeleteTable", tables)}},

	// access_policy/<environment>.
	{Service: iam.ServiceID, Name: "GetPolicy", Component: AccessPolicies, Group: Read, Actions: []Action{act("iam:GetPolicy", accessPolicies)}},
	{Service: iam.ServiceID, Name: "GetPolicyVersion", Component: AccessPolicies, Group: Read, Actions: []Action{act("iam:GetPolicyVersion", accessPolicies)}},
	{Service: iam.ServiceID, Name: "ListPolicyTags", Component: AccessPolicies, Group: Read, Actions: []Action{act("iam:ListPolicyTags", accessPolicies)}},
	{Service: iam.ServiceID, Name: "ListPolicies", Component: AccessPolicies, Group: Read, Actions: []Action{act("iam:ListPolicies", anyResource)},
		Note: "import by name: finds the environments from the policies under `/securestate/`"},
	{Service: iam.ServiceID, Name: "ListPolicyVersions", Component: AccessPolicies, Group: CreateUpdate, Actions: []Action{act("iam:ListPolicyVersions", accessPolicies)}, AlsoDestroy: true,
		Note: "before a new version (IAM keeps five) and before deleting the policy"},
	{Service: iam.ServiceID, Name: "CreatePolicy", Component: AccessPolicies, Group: CreateUpdate,
		Actions: []Action{act("iam:CreatePolicy", accessPolicies), act("iam:TagPolicy", accessPolicies)},
		Note:    "a create with tags needs iam:TagPolicy as well"},
	{Service: iam.ServiceID, Name: "CreatePolicyVersion", Component: AccessPolicies, Group: CreateUpdate, Actions: []Action{act("iam:CreatePolicyVersion", accessPolicies)}},
	{Service: iam.ServiceID, Name: "DeletePolicyVersion", Component: AccessPolicies, Group: CreateUpdate, Actions: []Action{act("iam:DeletePolicyVersion", accessPolicies)}, AlsoDestroy: true,
		Note: "removes the oldest version before a new one; destroy removes every version before the policy"},
	{Service: iam.ServiceID, Name: "TagPolicy", Component: AccessPolicies, Group: CreateUpdate, Actions: []Action{act("iam:TagPolicy", accessPolicies)}},
	{Service: iam.ServiceID, Name: "UntagPolicy", Component: AccessPolicies, Group: CreateUpdate, Actions: []Action{act("iam:UntagPolicy", accessPolicies)}},
	{Service: iam.ServiceID, Name: "DeletePolicy", Component: AccessPolicies, Group: Destroy, Actions: []Action{act("iam:DeletePolicy", accessPolicies)},
		Note: "IAM refuses while the policy is attached; detach it first"},

	// replication_role and replication_rule: the role S3 assumes to replicate
	// the state bucket (IAM's role operations, as for the alarms' delivery
	// role, on this role) and the state bucket's replication configuration.
	{Service: iam.ServiceID, Name: "GetRole", Component: Replication, Group: Read, Actions: []Action{act("iam:GetRole", replicationRole)}},
	{Service: iam.ServiceID, Name: "GetRolePolicy", Component: Replication, Group: Read, Actions: []Action{act("iam:GetRolePolicy", replicationRole)}},
	{Service: s3.ServiceID, Name: "GetBucketReplication", Component: Replication, Group: Read, Actions: []Action{act("s3:GetReplicationConfiguration", buckets)},
		Note: "the state bucket's replication rule"},
	{Service: iam.ServiceID, Name: "CreateRole", Component: Replication, Group: CreateUpdate,
		Actions: []Action{act("iam:CreateRole", replicationRole), act("iam:TagRole", replicationRole)},
		Note:    "the role S3 assumes to replicate the state bucket; a create with tags needs iam:TagRole as well"},
	{Service: iam.ServiceID, Name: "PutRolePolicy", Component: Replication, Group: CreateUpdate, Actions: []Action{act("iam:PutRolePolicy", replicationRole)}},
	{Service: iam.ServiceID, Name: "UpdateAssumeRolePolicy", Component: Replication, Group: CreateUpdate, Actions: []Action{act("iam:UpdateAssumeRolePolicy", replicationRole)}},
	{Service: iam.ServiceID, Name: "TagRole", Component: Replication, Group: CreateUpdate, Actions: []Action{act("iam:TagRole", replicationRole)}},
	{Service: iam.ServiceID, Name: "UntagRole", Component: Replication, Group: CreateUpdate, Actions: []Action{act("iam:UntagRole", replicationRole)}},
	{Service: s3.ServiceID, Name: "PutBucketReplication", Component: Replication, Group: CreateUpdate,
		Actions: []Action{act("s3:PutReplicationConfiguration", buckets), act("iam:PassRole", passReplicationRole)},
		Note:    "writes the rule, which names the replication role: handing S3 that role needs iam:PassRole on it"},
	{Service: iam.ServiceID, Name: "ListRolePolicies", Component: Replication, Group: Read, Actions: []Action{act("iam:ListRolePolicies", replicationRole)},
		Note: "inline policies other than the role's own are drift (permissions added to a role S3 assumes); also before the role is deleted: IAM refuses while it has any"},
	{Service: iam.ServiceID, Name: "DeleteRolePolicy", Component: Replication, Group: Destroy, Actions: []Action{act("iam:DeleteRolePolicy", replicationRole)},
		Note: "an inline policy added out of band is deleted on apply; all of them before the role is deleted"},
	{Service: iam.ServiceID, Name: "DeleteRole", Component: Replication, Group: Destroy, Actions: []Action{act("iam:DeleteRole", replicationRole)}},
	{Service: s3.ServiceID, Name: "DeleteBucketReplication", Component: Replication, Group: Destroy, Actions: []Action{act("s3:PutReplicationConfiguration", buckets)},
		Note: "removing `replication` (or destroy) removes the rule; S3 checks it as s3:PutReplicationConfiguration"},

	// alarms: the log group the trail delivers to, CloudTrail's delivery
	// role, metric filters and alarms.
	{Service: cloudwatchlogs.ServiceID, Name: "DescribeLogGroups", Component: Alarms, Group: Read, Actions: []Action{act("logs:DescribeLogGroups", logGroups)}},
	{Service: cloudwatchlogs.ServiceID, Name: "DescribeMetricFilters", Component: Alarms, Group: Read, Actions: []Action{act("logs:DescribeMetricFilters", logGroup)}},
	{Service: cloudwatch.ServiceID, Name: "DescribeAlarms", Component: Alarms, Group: Read, Actions: []Action{act("cloudwatch:DescribeAlarms", alarmsScope)}},
	{Service: iam.ServiceID, Name: "GetRole", Component: Alarms, Group: Read, Actions: []Action{act("iam:GetRole", trailRole)}},
	{Service: iam.ServiceID, Name: "GetRolePolicy", Component: Alarms, Group: Read, Actions: []Action{act("iam:GetRolePolicy", trailRole)}},
	{Service: cloudwatchlogs.ServiceID, Name: "ListTagsForResource", Component: Alarms, Group: Read, Actions: []Action{act("logs:ListTagsForResource", logGroup)}},
	{Service: cloudwatch.ServiceID, Name: "ListTagsForResource", Component: Alarms, Group: Read, Actions: []Action{act("cloudwatch:ListTagsForResource", alarmsScope)}},
	{Service: cloudwatchlogs.ServiceID, Name: "CreateLogGroup", Component: Alarms, Group: CreateUpdate,
		Actions: []Action{act("logs:CreateLogGroup", logGroup), act("logs:TagResource", logGroup), act("logs:TagLogGroup", logGroup)},
		Note:    "encrypted with the backend key and tagged in the request; tags on create need logs:TagResource (and the older logs:TagLogGroup)"},
	{Service: cloudwatchlogs.ServiceID, Name: "AssociateKmsKey", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("logs:AssociateKmsKey", logGroup)}},
	{Service: cloudwatchlogs.ServiceID, Name: "PutRetentionPolicy", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("logs:PutRetentionPolicy", logGroup)}},
	{Service: cloudwatchlogs.ServiceID, Name: "PutMetricFilter", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("logs:PutMetricFilter", logGroup)}},
	{Service: cloudwatch.ServiceID, Name: "PutMetricAlarm", Component: Alarms, Group: CreateUpdate,
		Actions: []Action{act("cloudwatch:PutMetricAlarm", alarmsScope), act("cloudwatch:TagResource", alarmsScope)},
		Note:    "a new alarm with tags needs cloudwatch:TagResource as well"},
	{Service: iam.ServiceID, Name: "CreateRole", Component: Alarms, Group: CreateUpdate,
		Actions: []Action{act("iam:CreateRole", trailRole), act("iam:TagRole", trailRole)},
		Note:    "the role CloudTrail assumes to deliver to the log group; a create with tags needs iam:TagRole as well"},
	{Service: iam.ServiceID, Name: "PutRolePolicy", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("iam:PutRolePolicy", trailRole)}},
	{Service: iam.ServiceID, Name: "UpdateAssumeRolePolicy", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("iam:UpdateAssumeRolePolicy", trailRole)}},
	{Service: cloudwatchlogs.ServiceID, Name: "TagResource", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("logs:TagResource", logGroup)}},
	{Service: cloudwatchlogs.ServiceID, Name: "UntagResource", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("logs:UntagResource", logGroup)}},
	{Service: cloudwatch.ServiceID, Name: "TagResource", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("cloudwatch:TagResource", alarmsScope)}},
	{Service: cloudwatch.ServiceID, Name: "UntagResource", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("cloudwatch:UntagResource", alarmsScope)}},
	{Service: iam.ServiceID, Name: "TagRole", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("iam:TagRole", trailRole)}},
	{Service: iam.ServiceID, Name: "UntagRole", Component: Alarms, Group: CreateUpdate, Actions: []Action{act("iam:UntagRole", trailRole)}},
	{Service: cloudwatchlogs.ServiceID, Name: "DeleteLogGroup", Component: Alarms, Group: Destroy, Actions: []Action{act("logs:DeleteLogGroup", logGroup)}},
	{Service: cloudwatch.ServiceID, Name: "DeleteAlarms", Component: Alarms, Group: Destroy, Actions: []Action{act("cloudwatch:DeleteAlarms", alarmsScope)}},
	{Service: iam.ServiceID, Name: "DeleteRolePolicy", Component: Alarms, Group: Destroy, Actions: []Action{act("iam:DeleteRolePolicy", trailRole)}},
	{Service: iam.ServiceID, Name: "DeleteRole", Component: Alarms, Group: Destroy, Actions: []Action{act("iam:DeleteRole", trailRole)}},

	// state_events: with alarms, the EventBridge rule on the default bus
	// that sends deleted states to the alarm topic.
	{Service: eventbridge.ServiceID, Name: "DescribeRule", Component: StateEvents, Group: Read, Actions: []Action{act("events:DescribeRule", eventRules)}},
	{Service: eventbridge.ServiceID, Name: "ListTargetsByRule", Component: StateEvents, Group: Read, Actions: []Action{act("events:ListTargetsByRule", eventRules)}},
	{Service: eventbridge.ServiceID, Name: "ListTagsForResource", Component: StateEvents, Group: Read, Actions: []Action{act("events:ListTagsForResource", eventRules)}},
	{Service: eventbridge.ServiceID, Name: "PutRule", Component: StateEvents, Group: CreateUpdate,
		Actions: []Action{act("events:PutRule", eventRules), act("events:TagResource", eventRules)},
		Note:    "creates or repairs the rule; a create with tags needs events:TagResource as well"},
	{Service: eventbridge.ServiceID, Name: "PutTargets", Component: StateEvents, Group: CreateUpdate, Actions: []Action{act("events:PutTargets", eventRules)},
		Note: "the alarm topic, the rule's one target (an SNS target takes no role, so no iam:PassRole)"},
	{Service: eventbridge.ServiceID, Name: "RemoveTargets", Component: StateEvents, Group: CreateUpdate, Actions: []Action{act("events:RemoveTargets", eventRules)}, AlsoDestroy: true,
		Note: "removes targets someone else added; destroy removes every target before the rule, as EventBridge requires"},
	{Service: eventbridge.ServiceID, Name: "TagResource", Component: StateEvents, Group: CreateUpdate, Actions: []Action{act("events:TagResource", eventRules)}},
	{Service: eventbridge.ServiceID, Name: "UntagResource", Component: StateEvents, Group: CreateUpdate, Actions: []Action{act("events:UntagResource", eventRules)}},
	{Service: eventbridge.ServiceID, Name: "DeleteRule", Component: StateEvents, Group: Destroy, Actions: []Action{act("events:DeleteRule", eventRules)}},

	// trail.
	{Service: cloudtrail.ServiceID, Name: "GetTrail", Component: Trail, Group: Read, Actions: []Action{act("cloudtrail:GetTrail", trails)}},
	{Service: cloudtrail.ServiceID, Name: "GetTrailStatus", Component: Trail, Group: Read, Actions: []Action{act("cloudtrail:GetTrailStatus", trails)}},
	{Service: cloudtrail.ServiceID, Name: "GetEventSelectors", Component: Trail, Group: Read, Actions: []Action{act("cloudtrail:GetEventSelectors", trails)}},
	{Service: cloudtrail.ServiceID, Name: "ListTags", Component: Trail, Group: Read, Actions: []Action{act("cloudtrail:ListTags", trails)}},
	{Service: cloudtrail.ServiceID, Name: "CreateTrail", Component: Trail, Group: CreateUpdate,
		Actions: []Action{act("cloudtrail:CreateTrail", trails), act("cloudtrail:AddTags", trails), act("iam:PassRole", passTrailRole)},
		Note:    "a create with tags needs cloudtrail:AddTags; with `alarms`, handing CloudTrail its delivery role needs iam:PassRole on that role"},
	{Service: cloudtrail.ServiceID, Name: "UpdateTrail", Component: Trail, Group: CreateUpdate,
		Actions: []Action{act("cloudtrail:UpdateTrail", trails), act("iam:PassRole", passTrailRole)},
		Note:    "with `alarms`, passes the delivery role again"},
	{Service: cloudtrail.ServiceID, Name: "PutEventSelectors", Component: Trail, Group: CreateUpdate, Actions: []Action{act("cloudtrail:PutEventSelectors", trails)}},
	{Service: cloudtrail.ServiceID, Name: "StartLogging", Component: Trail, Group: CreateUpdate, Actions: []Action{act("cloudtrail:StartLogging", trails)}},
	{Service: cloudtrail.ServiceID, Name: "AddTags", Component: Trail, Group: CreateUpdate, Actions: []Action{act("cloudtrail:AddTags", trails)}},
	{Service: cloudtrail.ServiceID, Name: "RemoveTags", Component: Trail, Group: CreateUpdate, Actions: []Action{act("cloudtrail:RemoveTags", trails)}},
	{Service: cloudtrail.ServiceID, Name: "DeleteTrail", Component: Trail, Group: Destroy, Actions: []Action{act("cloudtrail:DeleteTrail", trails)}},
}
