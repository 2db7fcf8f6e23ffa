package permissions

import (
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// Resource patterns, from the naming rules with "*" for the backend name, the
// account and the region. The partition is "aws"; other partitions replace it.
var (
	anyResource = &Scope{Suffix: "AnyResource", Resources: []string{"*"},
		Why: "AWS supports no resource for these actions (a key does not exist before kms:CreateKey; the list actions list a whole account)"}
	keys = &Scope{Suffix: "Keys", Resources: []string{"arn:aws:kms:*:*:key/*"},
		Why: "key IDs are random, so keys cannot be told apart by ARN"}
	aliasAndKeys = &Scope{Suffix: "Alias", Resources: []string{"arn:aws:kms:*:*:" + naming.KeyAlias("*"),
		"arn:aws:kms:*:*:" + naming.TofuEncryptionKeyAlias("*", "*"), "arn:aws:kms:*:*:key/*"},
		Why: "KMS checks alias actions on the alias and on the key behind it; the second alias pattern is the environments' OpenTofu encryption keys (tofu_encryption)"}
	keyGrants = &Scope{Suffix: "KeyGrants", Resources: []string{"arn:aws:kms:*:*:key/*"},
		Condition: policydoc.Conditions{"Bool": {"kms:GrantIsForAWSResource": {"true"}}},
		Why:       "limited to grants an AWS service makes for a resource (kms:GrantIsForAWSResource): DynamoDB's for the lock table"}
	// The default state bucket names and their managed log buckets
	// (<bucket>-logs); a backend with its own `bucket` needs its ARN added.
	buckets = &Scope{Suffix: "Buckets", Resources: []string{"arn:aws:s3:::" + naming.StateBucket("*", "*")}}
	objects = &Scope{Suffix: "Objects", Resources: []string{"arn:aws:s3:::" + naming.StateBucket("*", "*") + "/*"}}
	tables  = &Scope{Suffix: "Table", Resources: []string{"arn:aws:dynamodb:*:*:table/" + naming.LockTable("*")}}
	// IAM ARNs carry the path: policy/securestate/<name>-tfstate-<env>.
	accessPolicies = &Scope{Suffix: "Policies", Resources: []string{"arn:aws:iam::*:policy" + naming.PolicyPath + naming.AccessPolicy("*", "*")}}
	trailRole      = &Scope{Suffix: "Role", Resources: []string{"arn:aws:iam::*:role" + naming.PolicyPath + naming.TrailLogsRole("*")}}
	passTrailRole  = &Scope{Suffix: "PassRole", Resources: trailRole.Resources,
		Condition: policydoc.Conditions{"StringEquals": {"iam:PassedToService": {"cloudtrail.amazonaws.com"}}}}
	// A log group's ARN may end in ":*"; the trailing "*" covers both forms.
	logGroup  = &Scope{Suffix: "LogGroup", Resources: []string{"arn:aws:logs:*:*:log-group:" + naming.AlarmLogGroup("*") + "*"}}
	logGroups = &Scope{Suffix: "LogGroups", Resources: []string{"arn:aws:logs:*:*:log-group:*"},
		Why: "CloudWatch Logs authorises the listing on the account's log groups as a whole (`log-group:*`), not on the group asked about"}
	alarmsScope = &Scope{Suffix: "Alarms", Resources: []string{
		"arn:aws:cloudwatch:*:*:alarm:" + naming.AccessDeniedAlarm("*"),
		"arn:aws:cloudwatch:*:*:alarm:" + naming.StateDeletedAlarm("*"),
	}}
	trails      = &Scope{Suffix: "Trail", Resources: []string{"arn:aws:cloudtrail:*:*:trail/" + naming.Trail("*")}}
	assumedRole = &Scope{Suffix: "AssumeRole", Resources: []string{"the role_arn of the provider's assume_role block"}}
	// securestate_state_scan and securestate_locks read any bucket they are given.
	scannedBucket  = &Scope{Suffix: "ScannedBucket", Resources: []string{"the bucket securestate_state_scan or securestate_locks reads"}}
	scannedObjects = &Scope{Suffix: "ScannedObjects", Resources: []string{
		"the states (`<bucket>/<prefix>*.tfstate`) securestate_state_scan reads and the lock files (`<bucket>/<prefix>*.tflock`) securestate_locks reads"}}
)

// Components, in the order the policy lists them.
var (
	Provider       = &Component{Name: "provider", Sid: "Provider"}
	KMSKey         = &Component{Name: "kms_key", Sid: "KmsKey", Scope: keys}
	Buckets        = &Component{Name: "state_bucket, log_bucket", Sid: "Buckets", Scope: buckets}
	LockTable      = &Component{Name: "lock_table", Sid: "LockTable", Scope: tables}
	AccessPolicies = &Component{Name: "access_policy/<environment>", Sid: "AccessPolicies", Scope: accessPolicies}
	Alarms         = &Component{Name: "alarms", Sid: "Alarms"}
	Trail          = &Component{Name: "trail", Sid: "Trail", Scope: trails}
)

// Components lists every component in order.
var Components = []*Component{Provider, KMSKey, Buckets, LockTable, AccessPolicies, Alarms, Trail}

func act(name string, scope *Scope) Action { return Action{Name: name, Scope: scope} }

// Operations is the table: every AWS API operation the provider can call.
// The tests fail when the code can call an operation missing here, or when
// an entry names one it cannot call. For each service the actions follow its
// page in the Service Authorization Reference; S3's are named unlike its
// operations.
var Operations = []Operation{
	// The provider itself.
	{Service: sts.ServiceID, Name: "GetCallerIdentity", Component: Provider, Group: Read,
		Note: "finds the account and partition; AWS answers it for every caller, even under an explicit deny, so it needs no permission"},
	{Service: sts.ServiceID, Name: "AssumeRole", Component: Provider, Group: Read, Separate: true,
		Actions: []Action{act("sts:AssumeRole", assumedRole)},
		Note:    "only with `assume_role`: the credentials the provider starts from need it (and the role's trust policy must allow them); the role assumed gets the policies"},

	// kms_key: the backend's customer managed key and its alias.
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
	{Service: s3.ServiceID, Name: "ListObjectVersions", Component: Buckets, Group: Destroy, Actions: []Action{act("s3:ListBucketVersions", buckets)},
		Note: "counts what a bucket holds before it is deleted (destroy refuses unless `force_destroy`), and empties it"},
	{Service: s3.ServiceID, Name: "ListObjectsV2", Component: Buckets, Group: Read, Separate: true, Actions: []Action{act("s3:ListBucket", scannedBucket)},
		Note: "only the data sources `securestate_state_scan` and `securestate_locks`: list the states or the lock files under their prefix; grant it on the buckets they read"},
	{Service: s3.ServiceID, Name: "GetObject", Component: Buckets, Group: Read, Separate: true, Actions: []Action{act("s3:GetObject", scannedObjects)},
		Note: "only the data sources: `securestate_state_scan` reads each state's current version, `securestate_locks` each lock file (both with `kms:Decrypt` on the bucket's key, through S3); grant it on the objects they read"},
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
