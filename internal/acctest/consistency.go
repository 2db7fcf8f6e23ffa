package acctest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Consistency faults model what the emulator does not: AWS is eventually
// consistent, and an organisation's other actors may undo a change at once.
//
// FaultStaleRead: a selected write is forwarded as usual, but first the proxy
// sends the emulator, itself, the reads that the write makes stale (the table
// writeRules below: PutBucketPolicy → GetBucketPolicy of that bucket, …),
// with the write's own headers, and keeps the answers byte for byte (status,
// headers, body). From then until Fault.Window after the write's answer is
// sent, a read that asks exactly the same thing (same operation, same
// parameters once the object's identity is normalised: a key's ARN is its
// ID, a table's ARN its name, an ARN's account is ignored) gets the kept
// answer instead of the emulator's current one. A write that fails (an answer
// other than 2xx) changed nothing and opens no window.
//
// For a create, the kept answers are the emulator's own "not found" for the
// object's reads (NoSuchEntity for GetRole, ResourceNotFoundException for
// DescribeTable, TrailNotFoundException for GetTrail, an empty list for
// DescribeLogGroups, …). Two creates cannot be read back that way and are
// answered by the proxy in the service's format instead: CreateBucket (every
// GET or HEAD of the bucket or its objects is NoSuchBucket, a HEAD a bodiless
// 404; unless a HeadBucket just before the create found the bucket there
// already) and CreateKey, whose key ID only its answer tells (every read of
// that key is NotFoundException). A CreatePolicyVersion also keeps the old
// default version (GetPolicy, then GetPolicyVersion of its DefaultVersionId)
// and answers GetPolicyVersion of the new version NoSuchEntity. CloudWatch's
// DescribeAlarms asks for several alarms at once: during a PutMetricAlarm's
// window the emulator's current answer is sent with that alarm's entry
// replaced by the one kept (or removed, for a new alarm). A KMS DescribeKey by
// alias name, which no write names, is resolved by the emulator to its key ID
// and then answered as DescribeKey by that ID would be.
//
// A create's window also refuses writes to the object it made, as AWS does
// while a new object is not visible yet to the service that takes the write.
// This is part of FaultStaleRead, not an option: from the create's request
// (for CreateKey, from its answer) until its window closes, a write addressed
// to the new object is answered by the proxy, without forwarding, with the
// service's "not found" in its wire format, and recorded in Calls with
// NotYetVisible set. Such a write is never selected by the fault (it opens no
// window and does not count towards Attempts; the SDK does not retry these
// codes, and a later call that comes after the window is a candidate as any
// other). By create:
//   - CreateBucket (only when the HeadBucket before it found no bucket): every
//     PUT, DELETE or POST on the bucket, its sub-resources or its objects,
//     CreateBucket itself excepted (PUT on the bucket with no query) →
//     404 NoSuchBucket.
//   - CreateKey: the writes of writeRules whose KeyId or TargetKeyId is the
//     new key's ID or ARN (PutKeyPolicy, EnableKeyRotation, TagResource,
//     UntagResource, EnableKey, CreateAlias, UpdateAlias, …) → 400
//     NotFoundException.
//   - CreateTable: UpdateContinuousBackups of the table → 400
//     ContinuousBackupsUnavailableException ("Backups are being enabled for
//     the table: NAME. Please retry later", what AWS answers right after a
//     table becomes ACTIVE); the other writes of writeRules naming it by
//     TableName or ResourceArn (UpdateTable, TagResource, …) → 400
//     ResourceNotFoundException.
//   - CreatePolicy: writes naming its ARN (CreatePolicyVersion, TagPolicy,
//     UntagPolicy, SetDefaultPolicyVersion) → 404 NoSuchEntity.
//   - CreateRole: writes naming the role (PutRolePolicy, TagRole, UntagRole,
//     UpdateAssumeRolePolicy, UpdateRole) → 404 NoSuchEntity.
//   - CreateTrail: writes naming the trail by name or ARN (PutEventSelectors,
//     StartLogging, StopLogging, AddTags, RemoveTags, UpdateTrail) → 400
//     TrailNotFoundException.
//   - CreateLogGroup: writes naming the group by name or ARN
//     (PutRetentionPolicy, PutMetricFilter, AssociateKmsKey, TagResource,
//     UntagResource, TagLogGroup, …) → 400 ResourceNotFoundException.
//
// PutMetricAlarm, which creates or replaces an alarm, refuses nothing. Apart
// from S3, only the writes in writeRules are refused: deletes and writes the
// table does not know (AttachRolePolicy, ScheduleKeyDeletion, DeleteTable …)
// are forwarded. Reads during a create's window are answered as above.
//
// When several windows hold an answer for the same read, the oldest open one
// answers: what the object was before the first of the writes. Windows are
// dropped when they close, and by Arm and Disarm; there is one per selected
// write, so the memory is bounded by the writes selected within one Window.
//
// FaultIgnoredWrite: a selected write is answered as a success in the
// service's own format (S3: 200 or 204 with no body; JSON protocols: {}; IAM
// and CloudWatch: <XResponse> with its ResponseMetadata; CreatePolicyVersion a
// PolicyVersion whose VersionId is "v0", a number AWS never gives, which the
// provider does not use) and not forwarded: what a change undone at once by
// another actor looks like. Only writes that change an existing object's
// configuration are candidates, never a create or a delete.
//
// For both kinds, only writes the kind applies to are candidates (reads never
// are); Call and Match narrow them as for the other kinds, and Attempts counts
// distinct write calls (the SDK's retries of a selected call, which carry its
// amz-sdk-invocation-id, are selected with it), or every candidate with
// Attempts: AllWrites. A client that sends no invocation ID has each request
// counted as a call of its own.
//
// Limits: only the operations in writeRules (those the provider calls, and
// their obvious siblings) open windows; S3 is addressed path-style; ARNs the
// proxy derives from names (a new table's, trail's, log group's, alarm's,
// policy's) use the emulator's default account 123456789012, which does not
// matter for matching (accounts are ignored) but is what the kept "not found"
// of another account's create was asked about; the kept reads are signed with
// the write's signature, so with moto's IAM enforcement on
// (INITIAL_NO_AUTH_ACTION_COUNT) they would be refused and nothing is kept;
// a read whose parameters differ from the kept one (another page, a filter)
// is answered by the emulator.

// Consistency fault kinds.
const (
	// FaultStaleRead lets a write through, then answers the reads it makes
	// stale with their earlier answers for Fault.Window; after a create, it
	// also refuses, for that window, writes to the new object with the
	// service's "not found" (Call.NotYetVisible).
	FaultStaleRead FaultKind = "stale-read"
	// FaultIgnoredWrite answers a configuration write as a success without
	// forwarding it.
	FaultIgnoredWrite FaultKind = "ignored-write"
)

// ConsistencyKinds lists the consistency fault kinds, for tests that try them
// all. (FaultKinds keeps the kinds the fault matrix iterates.)
var ConsistencyKinds = []FaultKind{FaultStaleRead, FaultIgnoredWrite}

// AllWrites as Fault.Attempts selects every candidate write of a consistency
// fault, not a number of them.
const AllWrites = -1

// DefaultStaleWindow is Fault.Window when it is not set: how long after a
// write's answer its stale reads last.
const DefaultStaleWindow = 2 * time.Second

// writeRule says what one write operation does to later reads.
type writeRule struct {
	create bool // makes a new object: never ignored
	// reads lists the reads the write makes stale, built from the write.
	reads func(q *awsRequest) []readRequest
}

func s3Read(sub string) func(*awsRequest) []readRequest {
	return func(*awsRequest) []readRequest { return []readRequest{{method: http.MethodGet, sub: sub}} }
}

// jsonReads returns reads of the JSON protocols that carry one identity
// parameter (the read's name for it; the value is the write's parameter from).
func jsonReads(from string, reads ...string) func(*awsRequest) []readRequest {
	return func(q *awsRequest) []readRequest {
		var out []readRequest
		for _, r := range reads {
			op, param, _ := strings.Cut(r, ".")
			out = append(out, readRequest{op: op, params: map[string]any{param: q.str(from)}})
		}
		return out
	}
}

// queryReads is jsonReads for the query protocols.
func queryReads(from string, reads ...string) func(*awsRequest) []readRequest {
	return func(q *awsRequest) []readRequest {
		var out []readRequest
		for _, r := range reads {
			op, param, _ := strings.Cut(r, ".")
			out = append(out, readRequest{op: op, form: url.Values{param: {q.str(from)}}})
		}
		return out
	}
}

func both(a, b func(*awsRequest) []readRequest) func(*awsRequest) []readRequest {
	return func(q *awsRequest) []readRequest { return append(a(q), b(q)...) }
}

// derivedARN builds an ARN in the emulator's default account and the
// request's region ("" for global services).
func derivedARN(service, region, resource string) string {
	return arn.ARN{Partition: "aws", Service: service, Region: region, AccountID: emulatorAccount, Resource: resource}.String()
}

func iamPath(q *awsRequest) string {
	if p := q.str("Path"); p != "" {
		return p
	}
	return "/"
}

// writeRules holds every write the consistency faults know, by the name the
// proxy gives it ("service:operation", as in Calls).
var writeRules = func() map[string]writeRule {
	m := map[string]writeRule{
		"s3:PUTBucket":          {create: true, reads: func(*awsRequest) []readRequest { return nil }},
		"s3:DELETEBucketpolicy": {reads: s3Read("policy")},
		"s3:DELETEBuckettagging": {
			reads: s3Read("tagging"),
		},
		"s3:DELETEBucketencryption": {reads: s3Read("encryption")},
		"s3:DELETEBucketlifecycle":  {reads: s3Read("lifecycle")},

		"kms:CreateKey":          {create: true, reads: func(*awsRequest) []readRequest { return nil }},
		"kms:PutKeyPolicy":       {reads: keyPolicyRead},
		"kms:EnableKeyRotation":  {reads: jsonReads("KeyId", "GetKeyRotationStatus.KeyId")},
		"kms:DisableKeyRotation": {reads: jsonReads("KeyId", "GetKeyRotationStatus.KeyId")},
		"kms:TagResource":        {reads: jsonReads("KeyId", "ListResourceTags.KeyId")},
		"kms:UntagResource":      {reads: jsonReads("KeyId", "ListResourceTags.KeyId")},
		"kms:EnableKey":          {reads: jsonReads("KeyId", "DescribeKey.KeyId")},
		"kms:DisableKey":         {reads: jsonReads("KeyId", "DescribeKey.KeyId")},
		"kms:CancelKeyDeletion":  {reads: jsonReads("KeyId", "DescribeKey.KeyId")},
		"kms:CreateAlias":        {reads: aliasReads},
		"kms:UpdateAlias":        {reads: aliasReads},

		"dynamodb:CreateTable": {create: true, reads: both(
			jsonReads("TableName", "DescribeTable.TableName", "DescribeContinuousBackups.TableName"),
			func(q *awsRequest) []readRequest {
				return []readRequest{{op: "ListTagsOfResource", params: map[string]any{"ResourceArn": derivedARN("dynamodb", q.region, "table/"+resourceName(q.str("TableName"), "table/"))}}}
			})},
		"dynamodb:UpdateTable":             {reads: jsonReads("TableName", "DescribeTable.TableName")},
		"dynamodb:UpdateContinuousBackups": {reads: jsonReads("TableName", "DescribeContinuousBackups.TableName")},
		"dynamodb:UpdateTimeToLive":        {reads: jsonReads("TableName", "DescribeTimeToLive.TableName")},
		"dynamodb:TagResource":             {reads: jsonReads("ResourceArn", "ListTagsOfResource.ResourceArn")},
		"dynamodb:UntagResource":           {reads: jsonReads("ResourceArn", "ListTagsOfResource.ResourceArn")},
		"dynamodb:PutResourcePolicy":       {reads: jsonReads("ResourceArn", "GetResourcePolicy.ResourceArn")},

		"iam:CreatePolicy": {create: true, reads: func(q *awsRequest) []readRequest {
			a := url.Values{"PolicyArn": {derivedARN("iam", "", "policy"+iamPath(q)+q.str("PolicyName"))}}
			return []readRequest{{op: "GetPolicy", form: a}, {op: "ListPolicyTags", form: a}, {op: "ListPolicyVersions", form: a}}
		}},
		"iam:CreatePolicyVersion":     {reads: queryReads("PolicyArn", "GetPolicy.PolicyArn", "ListPolicyVersions.PolicyArn")},
		"iam:SetDefaultPolicyVersion": {reads: queryReads("PolicyArn", "GetPolicy.PolicyArn", "ListPolicyVersions.PolicyArn")},
		"iam:TagPolicy":               {reads: queryReads("PolicyArn", "ListPolicyTags.PolicyArn", "GetPolicy.PolicyArn")},
		"iam:UntagPolicy":             {reads: queryReads("PolicyArn", "ListPolicyTags.PolicyArn", "GetPolicy.PolicyArn")},
		"iam:CreateRole":              {create: true, reads: queryReads("RoleName", "GetRole.RoleName", "ListRoleTags.RoleName")},
		"iam:UpdateAssumeRolePolicy":  {reads: queryReads("RoleName", "GetRole.RoleName")},
		"iam:UpdateRole":              {reads: queryReads("RoleName", "GetRole.RoleName")},
		"iam:TagRole":                 {reads: queryReads("RoleName", "GetRole.RoleName", "ListRoleTags.RoleName")},
		"iam:UntagRole":               {reads: queryReads("RoleName", "GetRole.RoleName", "ListRoleTags.RoleName")},
		"iam:PutRolePolicy": {reads: func(q *awsRequest) []readRequest {
			return []readRequest{{op: "GetRolePolicy", form: url.Values{"RoleName": {q.str("RoleName")}, "PolicyName": {q.str("PolicyName")}}}}
		}},

		"cloudtrail:CreateTrail": {create: true, reads: both(
			jsonReads("Name", "GetTrail.Name", "GetTrailStatus.Name", "GetEventSelectors.TrailName"),
			func(q *awsRequest) []readRequest {
				return []readRequest{{op: "ListTags", params: map[string]any{"ResourceIdList": []any{derivedARN("cloudtrail", q.region, "trail/"+q.str("Name"))}}}}
			})},
		"cloudtrail:UpdateTrail":       {reads: jsonReads("Name", "GetTrail.Name")},
		"cloudtrail:PutEventSelectors": {reads: jsonReads("TrailName", "GetEventSelectors.TrailName")},
		"cloudtrail:StartLogging":      {reads: jsonReads("Name", "GetTrailStatus.Name")},
		"cloudtrail:StopLogging":       {reads: jsonReads("Name", "GetTrailStatus.Name")},
		"cloudtrail:AddTags":           {reads: trailTagReads},
		"cloudtrail:RemoveTags":        {reads: trailTagReads},

		"logs:CreateLogGroup": {create: true, reads: both(
			jsonReads("logGroupName", "DescribeLogGroups.logGroupNamePrefix", "DescribeMetricFilters.logGroupName", "ListTagsLogGroup.logGroupName"),
			logGroupARNRead)},
		"logs:PutRetentionPolicy":    {reads: jsonReads("logGroupName", "DescribeLogGroups.logGroupNamePrefix")},
		"logs:DeleteRetentionPolicy": {reads: jsonReads("logGroupName", "DescribeLogGroups.logGroupNamePrefix")},
		"logs:AssociateKmsKey":       {reads: jsonReads("logGroupName", "DescribeLogGroups.logGroupNamePrefix")},
		"logs:DisassociateKmsKey":    {reads: jsonReads("logGroupName", "DescribeLogGroups.logGroupNamePrefix")},
		"logs:TagLogGroup":           {reads: both(jsonReads("logGroupName", "ListTagsLogGroup.logGroupName"), logGroupARNRead)},
		"logs:UntagLogGroup":         {reads: both(jsonReads("logGroupName", "ListTagsLogGroup.logGroupName"), logGroupARNRead)},
		"logs:TagResource":           {reads: logsTagReads},
		"logs:UntagResource":         {reads: logsTagReads},
		"logs:PutMetricFilter":       {reads: jsonReads("logGroupName", "DescribeMetricFilters.logGroupName")},

		// PutMetricAlarm creates or replaces an alarm: a create for the
		// guardrails, never ignored; its DescribeAlarms is merged (alarmReads).
		"monitoring:PutMetricAlarm": {create: true, reads: func(q *awsRequest) []readRequest {
			return []readRequest{
				{op: "DescribeAlarms", form: url.Values{"AlarmNames.member.1": {q.str("AlarmName")}}},
				{op: "ListTagsForResource", form: url.Values{"ResourceARN": {derivedARN("cloudwatch", q.region, "alarm:"+q.str("AlarmName"))}}},
			}
		}},
		"monitoring:TagResource":   {reads: queryReads("ResourceARN", "ListTagsForResource.ResourceARN")},
		"monitoring:UntagResource": {reads: queryReads("ResourceARN", "ListTagsForResource.ResourceARN")},
	}
	for _, sub := range []string{"encryption", "versioning", "publicAccessBlock", "ownershipControls", "policy", "lifecycle", "logging", "tagging", "acl",
		"replication", "notification", "object-lock"} {
		m["s3:PUTBucket"+sub] = writeRule{reads: s3Read(sub)}
	}
	return m
}()

func keyPolicyRead(q *awsRequest) []readRequest {
	name := q.str("PolicyName")
	if name == "" {
		name = "default"
	}
	return []readRequest{{op: "GetKeyPolicy", params: map[string]any{"KeyId": q.str("KeyId"), "PolicyName": name}}}
}

func aliasReads(q *awsRequest) []readRequest {
	return []readRequest{{op: "DescribeKey", params: map[string]any{"KeyId": q.str("AliasName")}}, {op: "ListAliases", params: map[string]any{}}}
}

func trailTagReads(q *awsRequest) []readRequest {
	return []readRequest{{op: "ListTags", params: map[string]any{"ResourceIdList": []any{q.str("ResourceId")}}}}
}

func logGroupARNRead(q *awsRequest) []readRequest {
	return []readRequest{{op: "ListTagsForResource", params: map[string]any{"resourceArn": derivedARN("logs", q.region, "log-group:"+q.str("logGroupName"))}}}
}

func logsTagReads(q *awsRequest) []readRequest {
	group := resourceName(q.str("resourceArn"), "log-group:")
	return []readRequest{
		{op: "ListTagsForResource", params: map[string]any{"resourceArn": q.str("resourceArn")}},
		{op: "ListTagsLogGroup", params: map[string]any{"logGroupName": group}},
	}
}

// WriteOperations lists, sorted, every write the consistency faults know, by
// the name the proxy gives it in Calls and Fault.Match ("s3:PUTBucketpolicy",
// "kms:PutKeyPolicy", "monitoring:PutMetricAlarm" …). Deletes are not among
// them: the provider's deletes need no read-back.
var WriteOperations = slices.Sorted(maps.Keys(writeRules))

// IgnorableWrites lists, sorted, the writes FaultIgnoredWrite can select:
// WriteOperations without the creates.
var IgnorableWrites = slices.DeleteFunc(slices.Clone(WriteOperations), func(name string) bool { return writeRules[name].create })

// IsWrite reports whether an operation, named as the proxy names it
// (service as in the SigV4 scope, operation as in Calls), is one of
// WriteOperations: a candidate of FaultStaleRead.
func IsWrite(service, operation string) bool {
	_, ok := writeRules[service+":"+operation]
	return ok
}

// candidate reports whether a consistency fault of this kind may select the
// named request.
func candidate(kind FaultKind, name string) bool {
	rule, ok := writeRules[name]
	return ok && (kind == FaultStaleRead || !rule.create)
}

// identity normalises, per service, the parameters that name the object a
// read is about, so that a read by ARN matches a kept read by name or ID.
var identity = map[string]map[string]func(string) string{
	"kms":        {"KeyId": kmsKeyRef},
	"dynamodb":   {"TableName": tableName, "ResourceArn": tableName},
	"cloudtrail": {"Name": trailName, "TrailName": trailName, "ResourceIdList": trailName, "ResourceId": trailName},
	"iam":        {"PolicyArn": withoutAccount},
	"logs":       {"resourceArn": logGroupName, "logGroupIdentifier": logGroupName},
	"monitoring": {"ResourceARN": withoutAccount},
}

func tableName(s string) string    { return resourceName(s, "table/") }
func trailName(s string) string    { return resourceName(s, "trail/") }
func logGroupName(s string) string { return resourceName(s, "log-group:") }

// readKey identifies a read for the kept answers: service, operation and
// normalised parameters ("" for an S3 request that reads no bucket).
func readKey(q *awsRequest) string {
	norm := identity[q.service]
	switch {
	case q.service == "s3":
		if (q.r.Method != http.MethodGet && q.r.Method != http.MethodHead) || !q.bucketLevel() {
			return ""
		}
		return q.name() + ":" + q.bucket()
	case q.jsonProtocol():
		m := make(map[string]any, len(q.params))
		for k, v := range q.params {
			if f := norm[k]; f != nil {
				v = normaliseValue(v, f)
			}
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return q.name() + ":" + string(b)
	default:
		f := url.Values{}
		for k, v := range q.form {
			if k == "Action" || k == "Version" {
				continue
			}
			base := k
			if i := strings.Index(k, ".member."); i > 0 {
				base = k[:i]
			}
			if n := norm[base]; n != nil {
				v = slices.Clone(v)
				for i := range v {
					v[i] = n(v[i])
				}
			}
			f[k] = v
		}
		return q.name() + ":" + f.Encode()
	}
}

func normaliseValue(v any, f func(string) string) any {
	switch v := v.(type) {
	case string:
		return f(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normaliseValue(e, f)
		}
		return out
	}
	return v
}

// window is what one selected write of FaultStaleRead keeps for the reads it
// makes stale.
type window struct {
	until  time.Time          // zero while the write is in flight
	kept   map[string]*answer // by readKey
	made   object             // a create's new object: writes to it are refused (zero: none)
	alarms map[string][]byte  // PutMetricAlarm: alarm name → its DescribeAlarms entry (nil: none)
}

func (w *window) open(now time.Time) bool { return w.until.IsZero() || now.Before(w.until) }

// openWindows drops the windows that closed and returns the others, oldest
// first. Callers hold p.mu.
func (p *FaultProxy) openWindows(now time.Time) []*window {
	p.windows = slices.DeleteFunc(p.windows, func(w *window) bool { return !w.open(now) })
	return p.windows
}

// object names an AWS object a create made: its kind and its identity,
// normalised as identity does (a bucket's, table's, role's, trail's or log
// group's name, a key's ID, a policy's ARN without its account).
type object struct{ kind, id string }

// Kinds of object.
const (
	objBucket   = "bucket"
	objKey      = "key"
	objTable    = "table"
	objPolicy   = "policy"
	objRole     = "role"
	objTrail    = "trail"
	objLogGroup = "log group"
)

// createdObject is the object a create names in its request (CreateBucket's
// and CreateKey's are learnt otherwise: openWindow, closeWindow); zero for
// other writes.
func createdObject(q *awsRequest) object {
	switch q.name() {
	case "dynamodb:CreateTable":
		return object{objTable, tableName(q.str("TableName"))}
	case "iam:CreatePolicy":
		return object{objPolicy, withoutAccount(derivedARN("iam", "", "policy"+iamPath(q)+q.str("PolicyName")))}
	case "iam:CreateRole":
		return object{objRole, q.str("RoleName")}
	case "cloudtrail:CreateTrail":
		return object{objTrail, trailName(q.str("Name"))}
	case "logs:CreateLogGroup":
		return object{objLogGroup, logGroupName(q.str("logGroupName"))}
	}
	return object{}
}

// targetParams says, per service, which parameters of a write name an object
// of which kind, and how their values are normalised.
var targetParams = map[string][]struct {
	param, kind string
	norm        func(string) string
}{
	"kms":        {{"KeyId", objKey, kmsKeyRef}, {"TargetKeyId", objKey, kmsKeyRef}},
	"dynamodb":   {{"TableName", objTable, tableName}, {"ResourceArn", objTable, tableName}},
	"iam":        {{"PolicyArn", objPolicy, withoutAccount}, {"RoleName", objRole, func(s string) string { return s }}},
	"cloudtrail": {{"Name", objTrail, trailName}, {"TrailName", objTrail, trailName}, {"ResourceId", objTrail, trailName}},
	"logs":       {{"logGroupName", objLogGroup, logGroupName}, {"logGroupIdentifier", objLogGroup, logGroupName}, {"resourceArn", objLogGroup, logGroupName}},
}

// writeTargets lists the objects a write is addressed to, for the
// not-yet-visible rule: none for a read, a create or a write writeRules does
// not know (S3: any request but GET, HEAD and CreateBucket is addressed to
// its bucket).
func writeTargets(q *awsRequest) []object {
	if q.service == "s3" {
		m := q.r.Method
		if m == http.MethodGet || m == http.MethodHead || (q.op == "PUTBucket" && q.r.URL.RawQuery == "") || q.bucket() == "" {
			return nil
		}
		return []object{{objBucket, q.bucket()}}
	}
	if rule, ok := writeRules[q.name()]; !ok || rule.create {
		return nil
	}
	var out []object
	for _, t := range targetParams[q.service] {
		if v := q.str(t.param); v != "" {
			out = append(out, object{t.kind, t.norm(v)})
		}
	}
	return out
}

// notYetVisible is the proxy's answer to a write addressed to an object a
// create's open window made, nil for any other request. Callers hold p.mu.
func (p *FaultProxy) notYetVisible(q *awsRequest, now time.Time) *answer {
	targets := writeTargets(q)
	if len(targets) == 0 {
		return nil
	}
	for _, w := range p.openWindows(now) {
		if w.made.id != "" && slices.Contains(targets, w.made) {
			return notVisibleAnswer(q, w.made)
		}
	}
	return nil
}

// notVisibleAnswer is the service's "not found" for a write to o.
func notVisibleAnswer(q *awsRequest, o object) *answer {
	switch o.kind {
	case objBucket:
		return noSuchBucket(q)
	case objKey:
		return kmsKeyNotFound(q, o.id)
	case objTable:
		if q.op == "UpdateContinuousBackups" {
			return jsonError(q, "com.amazonaws.dynamodb.v20120810#ContinuousBackupsUnavailableException", "Backups are being enabled for the table: "+o.id+". Please retry later")
		}
		return jsonError(q, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Requested resource not found: Table: "+o.id+" not found")
	case objPolicy:
		return iamNoSuchEntity(fmt.Sprintf("Policy %s does not exist or is not attachable.", q.str("PolicyArn")))
	case objRole:
		return iamNoSuchEntity(fmt.Sprintf("The role with name %s cannot be found.", o.id))
	case objTrail:
		return jsonError(q, "TrailNotFoundException", fmt.Sprintf("Unknown trail: %s for the user: %s", derivedARN("cloudtrail", q.region, "trail/"+o.id), emulatorAccount))
	case objLogGroup:
		return jsonError(q, "ResourceNotFoundException", "The specified log group does not exist.")
	}
	return nil
}

// kmsKeyReads are the KMS reads that name a key (KeyId).
var kmsKeyReads = []string{"DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags", "ListKeyPolicies", "GetPublicKey", "ListAliases"}

// staleLookup is what the windows say about a read.
type staleLookup struct {
	answer       *answer           // the stale answer
	resolveAlias bool              // a KMS DescribeKey by alias while keys have windows
	alarms       map[string][]byte // DescribeAlarms of alarms with windows: their kept entries
}

// lookup finds the stale answer to a request, if any. Callers hold p.mu.
func (p *FaultProxy) lookup(q *awsRequest, now time.Time) staleLookup {
	windows := p.openWindows(now)
	if len(windows) == 0 {
		return staleLookup{}
	}
	key := readKey(q)
	read := q.r.Method == http.MethodGet || q.r.Method == http.MethodHead
	keyRef := ""
	if q.service == "kms" && slices.Contains(kmsKeyReads, q.op) {
		keyRef = kmsKeyRef(q.str("KeyId"))
	}
	var out staleLookup
	for _, w := range windows {
		if a := w.kept[key]; a != nil && key != "" {
			return staleLookup{answer: a}
		}
		if w.made.kind == objBucket && q.service == "s3" && read && q.bucket() == w.made.id {
			return staleLookup{answer: noSuchBucket(q)}
		}
		if w.made.kind == objKey && keyRef == w.made.id {
			return staleLookup{answer: kmsKeyNotFound(q, w.made.id)}
		}
		if len(w.alarms) > 0 && q.name() == "monitoring:DescribeAlarms" {
			for name, entry := range w.alarms {
				if _, seen := out.alarms[name]; !seen && slices.Contains(alarmNames(q.form), name) {
					if out.alarms == nil {
						out.alarms = map[string][]byte{}
					}
					out.alarms[name] = entry
				}
			}
		}
		if strings.HasPrefix(keyRef, "alias/") && q.op == "DescribeKey" && (w.made.kind == objKey || hasKeyDescribe(w)) {
			out.resolveAlias = true
		}
	}
	return out
}

func hasKeyDescribe(w *window) bool {
	for k := range w.kept {
		if strings.HasPrefix(k, "kms:DescribeKey:") {
			return true
		}
	}
	return false
}

func alarmNames(form url.Values) []string {
	var names []string
	for k, v := range form {
		if strings.HasPrefix(k, "AlarmNames.member.") {
			names = append(names, v...)
		}
	}
	return names
}

// openWindow sends the reads a selected write makes stale and registers what
// they answered; the window is open until closeWindow.
func (p *FaultProxy) openWindow(q *awsRequest) *window {
	w := &window{kept: map[string]*answer{}, made: createdObject(q)}
	rule := writeRules[q.name()]
	reads := rule.reads(q)
	switch q.name() {
	case "s3:PUTBucket":
		if a, err := p.read(q, readRequest{method: http.MethodHead}); err == nil && !a.ok() {
			w.made = object{objBucket, q.bucket()}
		}
	case "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion":
		// The default version's document is read by its ID, which GetPolicy
		// names: keep both.
		if a, err := p.read(q, reads[0]); err == nil && a.ok() {
			if v := xmlField(a.body, "DefaultVersionId"); v != "" {
				reads = append(reads, readRequest{op: "GetPolicyVersion", form: url.Values{"PolicyArn": {q.str("PolicyArn")}, "VersionId": {v}}})
			}
		}
	}
	for _, rr := range reads {
		a, err := p.read(q, rr)
		if err != nil || !keepable(a) {
			continue
		}
		if rr.op == "DescribeAlarms" {
			if w.alarms == nil {
				w.alarms = map[string][]byte{}
			}
			w.alarms[q.str("AlarmName")] = alarmEntries(a.body)[q.str("AlarmName")]
			continue
		}
		w.kept[rr.key(q, p.target)] = a
	}
	p.mu.Lock()
	p.windows = append(p.windows, w)
	p.mu.Unlock()
	return w
}

// keepable tells a read's answer from a refusal of the proxy's own request
// (a signature check, when moto enforces IAM): only the former is kept.
func keepable(a *answer) bool {
	return a.status != http.StatusForbidden || !bytes.Contains(a.body, []byte("Signature"))
}

// key is the readKey of a read derived from write q.
func (rr readRequest) key(q *awsRequest, target *url.URL) string {
	req, body, err := rr.build(q, target)
	if err != nil {
		return ""
	}
	op := rr.op
	if q.service == "s3" {
		op = rr.method + "Bucket" + rr.sub
	}
	return readKey(parseRequest(req, body, q.service, op))
}

// read sends one read derived from write q to the emulator.
func (p *FaultProxy) read(q *awsRequest, rr readRequest) (*answer, error) {
	req, _, err := rr.build(q, p.target)
	if err != nil {
		return nil, err
	}
	return send(p.client, req)
}

// closeWindow starts the window's countdown once the write is answered, or
// drops it when the write failed. For a CreateKey it learns the new key's ID,
// for a CreatePolicyVersion the new version's, from the answer.
func (p *FaultProxy) closeWindow(w *window, q *awsRequest, status int, body []byte, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if status < 200 || status >= 300 {
		p.windows = slices.DeleteFunc(p.windows, func(o *window) bool { return o == w })
		return
	}
	switch q.name() {
	case "kms:CreateKey":
		if id := describedKeyID(body); id != "" {
			w.made = object{objKey, id}
		}
	case "iam:CreatePolicyVersion":
		if v := xmlField(body, "VersionId"); v != "" {
			rr := readRequest{op: "GetPolicyVersion", form: url.Values{"PolicyArn": {q.str("PolicyArn")}, "VersionId": {v}}}
			w.kept[rr.key(q, p.target)] = iamNoSuchEntity(fmt.Sprintf("Policy %s version %s does not exist or is not attachable.", q.str("PolicyArn"), v))
		}
	}
	w.until = time.Now().Add(d)
}

// describedKeyID is the key ID in a KMS answer's KeyMetadata ("": none).
func describedKeyID(body []byte) string {
	var out struct {
		KeyMetadata struct {
			KeyID string `json:"KeyId"`
		}
	}
	_ = json.Unmarshal(body, &out)
	return out.KeyMetadata.KeyID
}

// xmlField returns the text of the first element of that name in an XML body.
func xmlField(body []byte, name string) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			var s string
			if d.DecodeElement(&s, &se) == nil {
				return s
			}
			return ""
		}
	}
}

// alarmEntries splits a DescribeAlarms answer's MetricAlarms into its
// entries, by alarm name, byte for byte.
func alarmEntries(body []byte) map[string][]byte {
	out := map[string][]byte{}
	_, _, members := metricAlarms(body)
	for _, m := range members {
		out[xmlField(m, "AlarmName")] = m
	}
	return out
}

// metricAlarms finds the MetricAlarms element of a DescribeAlarms answer:
// its outer byte range and its member elements.
func metricAlarms(body []byte) (start, end int, members [][]byte) {
	d := xml.NewDecoder(bytes.NewReader(body))
	depth, listDepth := 0, -1
	memberStart := 0
	start, end = -1, -1
	for {
		off := int(d.InputOffset())
		tok, err := d.Token()
		if err != nil {
			return start, end, members
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case listDepth < 0 && t.Name.Local == "MetricAlarms":
				listDepth, start = depth, off
			case depth == listDepth+1 && listDepth > 0 && t.Name.Local == "member":
				memberStart = off
			}
		case xml.EndElement:
			switch {
			case depth == listDepth+1 && listDepth > 0 && t.Name.Local == "member":
				members = append(members, body[memberStart:d.InputOffset()])
			case depth == listDepth:
				end = int(d.InputOffset())
				listDepth = -2 // done
			}
			depth--
		}
	}
}

// mergeAlarms answers a DescribeAlarms during PutMetricAlarm windows: the
// emulator's current answer with each windowed alarm's entry replaced by the
// kept one, or removed when there was none.
func mergeAlarms(live *answer, kept map[string][]byte) *answer {
	start, end, members := metricAlarms(live.body)
	if start < 0 || end < 0 || !live.ok() {
		return live
	}
	var list bytes.Buffer
	list.WriteString("<MetricAlarms>")
	for _, m := range members {
		name := xmlField(m, "AlarmName")
		if old, ok := kept[name]; ok {
			list.Write(old)
			continue
		}
		list.Write(m)
	}
	out := *live
	out.body = slices.Concat(live.body[:start], list.Bytes(), []byte("</MetricAlarms>"), live.body[end:])
	return &out
}

// noSuchBucket is S3's answer to a read of a bucket that does not exist.
func noSuchBucket(q *awsRequest) *answer {
	h := http.Header{"X-Amz-Request-Id": {"stale-read"}}
	if q.r.Method == http.MethodHead {
		return &answer{status: http.StatusNotFound, header: h}
	}
	h.Set("Content-Type", "application/xml")
	return &answer{status: http.StatusNotFound, header: h, body: fmt.Appendf(nil,
		`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>%s</BucketName><RequestId>stale-read</RequestId><HostId>stale-read</HostId></Error>`,
		xmlEscape(q.bucket()))}
}

// kmsKeyNotFound is KMS's answer to a request about a key that does not
// exist.
func kmsKeyNotFound(q *awsRequest, id string) *answer {
	return jsonError(q, "NotFoundException", fmt.Sprintf("Key '%s' does not exist", derivedARN("kms", q.region, "key/"+id)))
}

// jsonError is a 400 error of the JSON protocols: __type and message.
func jsonError(q *awsRequest, code, msg string) *answer {
	body, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
	return jsonAnswer(q, http.StatusBadRequest, body)
}

// iamNoSuchEntity is IAM's answer to a request about something that does not
// exist.
func iamNoSuchEntity(msg string) *answer {
	return queryError("iam", http.StatusNotFound, "NoSuchEntity", msg)
}

// queryError is an error of the query protocols (IAM, STS, CloudWatch) that
// the caller caused: a Sender error in the service's namespace.
func queryError(service string, status int, code, msg string) *answer {
	return &answer{status: status, header: http.Header{"Content-Type": {"text/xml"}}, body: fmt.Appendf(nil,
		`<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`,
		xmlNamespaces[service], code, xmlEscape(msg))}
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// jsonAnswer is an answer of the JSON protocols, with DynamoDB's CRC32 of
// the body, which its SDK checks.
func jsonAnswer(q *awsRequest, status int, body []byte) *answer {
	h := http.Header{"Content-Type": {q.r.Header.Get("Content-Type")}, "X-Amzn-Requestid": {"fault-proxy"}}
	if q.service == "dynamodb" {
		h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	}
	return &answer{status: status, header: h, body: body}
}

// xmlNamespaces are the query protocols' response namespaces.
var xmlNamespaces = map[string]string{
	"iam":        "https://iam.amazonaws.com/doc/2010-05-08/",
	"monitoring": "http://monitoring.amazonaws.com/doc/2010-08-01/",
	"sts":        "https://sts.amazonaws.com/doc/2011-06-15/",
}

// ignoredAnswer is the success a FaultIgnoredWrite answers a write with.
func ignoredAnswer(q *awsRequest) *answer {
	h := http.Header{}
	switch {
	case q.service == "s3":
		h.Set("X-Amz-Request-Id", "ignored-write")
		if q.op == "PUTBucketpolicy" || strings.HasPrefix(q.op, "DELETE") {
			return &answer{status: http.StatusNoContent, header: h}
		}
		return &answer{status: http.StatusOK, header: h}
	case q.jsonProtocol():
		return jsonAnswer(q, http.StatusOK, []byte("{}"))
	}
	result := ""
	if q.op == "CreatePolicyVersion" {
		result = fmt.Sprintf(`<CreatePolicyVersionResult><PolicyVersion><VersionId>v0</VersionId><IsDefaultVersion>%s</IsDefaultVersion><CreateDate>%s</CreateDate></PolicyVersion></CreatePolicyVersionResult>`,
			strconv.FormatBool(strings.EqualFold(q.str("SetAsDefault"), "true")), time.Now().UTC().Format(time.RFC3339))
	}
	h.Set("Content-Type", "text/xml")
	return &answer{status: http.StatusOK, header: h, body: fmt.Appendf(nil, `<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>ignored-write</RequestId></ResponseMetadata></%sResponse>`,
		q.op, xmlNamespaces[q.service], result, q.op)}
}
