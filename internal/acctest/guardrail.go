package acctest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
)

// Guardrails are an organisation's policies (SCPs, tag policies) that moto
// does not have: the proxy refuses requests they deny, whatever fault is
// armed and whether one is, with the AccessDenied AWS gives for an explicit
// deny in a service control policy, in the service's own error format. A
// refused request is recorded in Calls with Denied set and never reaches the
// emulator.
//
// A required tag is looked for in the create request itself, as an SCP's
// aws:RequestTag condition does: S3 CreateBucketConfiguration's Tags (moto
// 5.2.5 accepts them and drops them: GetBucketTagging then answers
// NoSuchTagSet, so only the proxy sees them), KMS CreateKey Tags, DynamoDB
// CreateTable Tags, IAM CreatePolicy and CreateRole Tags.member.N, CloudTrail
// CreateTrail TagsList, CloudWatch Logs CreateLogGroup tags and CloudWatch
// PutMetricAlarm Tags.member.N.

// guardrails are the rules set on a proxy.
type guardrails struct {
	tagPrefix *string  // RequireTagOnCreate
	denied    []string // DenyAction patterns, lower-cased
}

// RequireTagOnCreate refuses every create (s3:CreateBucket, kms:CreateKey,
// dynamodb:CreateTable, iam:CreatePolicy, iam:CreateRole,
// cloudtrail:CreateTrail, logs:CreateLogGroup, cloudwatch:PutMetricAlarm)
// whose request carries no tag whose key starts with keyPrefix ("" requires
// a tag, any tag). It replaces an earlier prefix.
func (p *FaultProxy) RequireTagOnCreate(keyPrefix string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules.tagPrefix = &keyPrefix
}

// DenyAction refuses every request of an IAM action ("s3:PutBucketPolicy",
// "kms:CreateAlias"; IAM's names, so s3:PutEncryptionConfiguration for
// PutBucketEncryption, s3:ListBucket for HeadBucket). As in a policy, the
// match ignores case and "*" and "?" are wildcards ("iam:*").
func (p *FaultProxy) DenyAction(action string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules.denied = append(p.rules.denied, strings.ToLower(action))
}

// ClearGuardrails removes every rule RequireTagOnCreate and DenyAction set.
func (p *FaultProxy) ClearGuardrails() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = guardrails{}
}

// denial is the AccessDenied answer to a request the guardrails refuse, nil
// when they let it through. Callers hold p.mu.
func (p *FaultProxy) denial(q *awsRequest) *answer {
	if p.rules.tagPrefix == nil && len(p.rules.denied) == 0 {
		return nil
	}
	action := iamAction(q)
	refused := slices.ContainsFunc(p.rules.denied, func(pattern string) bool {
		ok, _ := path.Match(pattern, strings.ToLower(action))
		return ok
	})
	if keys, create := createTags(q); create && p.rules.tagPrefix != nil &&
		!slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, *p.rules.tagPrefix) }) {
		refused = true
	}
	if !refused {
		return nil
	}
	return accessDenied(q, action)
}

// s3Actions maps the proxy's S3 operation names to IAM actions.
var s3Actions = map[string]string{
	"PUTBucket": "CreateBucket", "DELETEBucket": "DeleteBucket", "HEADBucket": "ListBucket", "GETBucket": "ListBucket",
	"GETBucketversions": "ListBucketVersions", "GETBucketlocation": "GetBucketLocation", "POSTBucketdelete": "DeleteObject",
	"PUTBucketencryption": "PutEncryptionConfiguration", "GETBucketencryption": "GetEncryptionConfiguration", "DELETEBucketencryption": "PutEncryptionConfiguration",
	"PUTBucketlifecycle": "PutLifecycleConfiguration", "GETBucketlifecycle": "GetLifecycleConfiguration", "DELETEBucketlifecycle": "PutLifecycleConfiguration",
	"PUTBucketpublicAccessBlock": "PutBucketPublicAccessBlock", "GETBucketpublicAccessBlock": "GetBucketPublicAccessBlock", "DELETEBucketpublicAccessBlock": "PutBucketPublicAccessBlock",
	"PUTBucketownershipControls": "PutBucketOwnershipControls", "GETBucketownershipControls": "GetBucketOwnershipControls", "DELETEBucketownershipControls": "PutBucketOwnershipControls",
	"PUTBucketpolicy": "PutBucketPolicy", "GETBucketpolicy": "GetBucketPolicy", "DELETEBucketpolicy": "DeleteBucketPolicy",
	"PUTBucketversioning": "PutBucketVersioning", "GETBucketversioning": "GetBucketVersioning",
	"PUTBucketlogging": "PutBucketLogging", "GETBucketlogging": "GetBucketLogging",
	"PUTBuckettagging": "PutBucketTagging", "GETBuckettagging": "GetBucketTagging", "DELETEBuckettagging": "PutBucketTagging",
	"PUTBucketacl": "PutBucketAcl", "GETBucketacl": "GetBucketAcl",
	"PUTBucketreplication": "PutReplicationConfiguration", "GETBucketreplication": "GetReplicationConfiguration", "DELETEBucketreplication": "PutReplicationConfiguration",
	"PUTBucketnotification": "PutBucketNotification", "GETBucketnotification": "GetBucketNotification",
	"PUTBucketobject-lock": "PutBucketObjectLockConfiguration", "GETBucketobject-lock": "GetBucketObjectLockConfiguration",
	"GETObjectretention": "GetObjectRetention", "GETObjectlegal-hold": "GetObjectLegalHold",
	"GETObject": "GetObject", "HEADObject": "GetObject", "PUTObject": "PutObject", "DELETEObject": "DeleteObject",
	"GETObjecttagging": "GetObjectTagging", "PUTObjecttagging": "PutObjectTagging", "GETObjectacl": "GetObjectAcl", "PUTObjectacl": "PutObjectAcl",
}

// iamAction names the IAM action a request needs: the operation for the
// JSON and query protocols (CloudWatch's prefix is cloudwatch, not its
// signing name monitoring); S3's from s3Actions.
func iamAction(q *awsRequest) string {
	switch q.service {
	case "s3":
		if a, ok := s3Actions[q.op]; ok {
			return "s3:" + a
		}
		return "s3:" + q.op
	case "monitoring":
		return "cloudwatch:" + q.op
	}
	return q.service + ":" + q.op
}

// createTags returns the tag keys a create request carries, and whether it
// is a create the tag rule applies to.
func createTags(q *awsRequest) ([]string, bool) {
	switch q.name() {
	case "s3:PUTBucket":
		var conf struct {
			Tags []struct{ Key string } `xml:"Tags>Tag"`
		}
		_ = xml.Unmarshal(q.body, &conf)
		var keys []string
		for _, t := range conf.Tags {
			keys = append(keys, t.Key)
		}
		return keys, true
	case "kms:CreateKey":
		return jsonTagKeys(q.body, "Tags", "TagKey"), true
	case "dynamodb:CreateTable":
		return jsonTagKeys(q.body, "Tags", "Key"), true
	case "cloudtrail:CreateTrail":
		return jsonTagKeys(q.body, "TagsList", "Key"), true
	case "logs:CreateLogGroup":
		var in struct{ Tags map[string]string }
		_ = json.Unmarshal(q.body, &in) // field names match case-insensitively: "tags"
		var keys []string
		for k := range in.Tags {
			keys = append(keys, k)
		}
		return keys, true
	case "iam:CreatePolicy", "iam:CreateRole", "monitoring:PutMetricAlarm":
		var keys []string
		for k, v := range q.form {
			if strings.HasPrefix(k, "Tags.member.") && strings.HasSuffix(k, ".Key") {
				keys = append(keys, v...)
			}
		}
		return keys, true
	}
	return nil, false
}

func jsonTagKeys(body []byte, list, key string) []string {
	var in map[string]json.RawMessage
	var tags []map[string]any
	if json.Unmarshal(body, &in) != nil || json.Unmarshal(in[list], &tags) != nil {
		return nil
	}
	var keys []string
	for _, t := range tags {
		if k, ok := t[key].(string); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// resourceARN is the ARN of what a request acts on, when the request tells
// it (in the emulator's default account), else "*".
func resourceARN(q *awsRequest) string {
	switch q.service {
	case "s3":
		if b := strings.TrimPrefix(q.r.URL.Path, "/"); b != "" {
			return "arn:aws:s3:::" + b
		}
	case "kms":
		if id := kmsKeyRef(q.str("KeyId")); id != "" && !strings.HasPrefix(id, "alias/") {
			return derivedARN("kms", q.region, "key/"+id)
		}
	case "dynamodb":
		if a := q.str("ResourceArn"); a != "" {
			return a
		}
		if t := q.str("TableName"); t != "" {
			return derivedARN("dynamodb", q.region, "table/"+tableName(t))
		}
	case "iam":
		switch {
		case q.str("PolicyArn") != "":
			return q.str("PolicyArn")
		case q.op == "CreatePolicy":
			return derivedARN("iam", "", "policy"+iamPath(q)+q.str("PolicyName"))
		case q.str("RoleName") != "":
			return derivedARN("iam", "", "role"+iamPath(q)+q.str("RoleName"))
		}
	case "cloudtrail":
		for _, k := range []string{"Name", "TrailName", "ResourceId"} {
			if v := q.str(k); v != "" {
				return derivedARN("cloudtrail", q.region, "trail/"+trailName(v))
			}
		}
	case "logs":
		if v := q.str("resourceArn"); v != "" {
			return v
		}
		if v := q.str("logGroupName"); v != "" {
			return derivedARN("logs", q.region, "log-group:"+v)
		}
	case "monitoring":
		if v := q.str("AlarmName"); v != "" {
			return derivedARN("cloudwatch", q.region, "alarm:"+v)
		}
	}
	return "*"
}

// accessDenied is AWS's answer to a request an SCP denies explicitly.
func accessDenied(q *awsRequest, action string) *answer {
	resource := resourceARN(q)
	if q.service == "s3" {
		resource = `"` + resource + `"` // S3 quotes the resource; the others do not
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in a service control policy", emulatorPrincipal, action, resource)
	switch {
	case q.service == "s3":
		h := http.Header{"X-Amz-Request-Id": {"guardrail"}}
		if q.r.Method == http.MethodHead {
			return &answer{status: http.StatusForbidden, header: h}
		}
		h.Set("Content-Type", "application/xml")
		return &answer{status: http.StatusForbidden, header: h, body: fmt.Appendf(nil,
			`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>AccessDenied</Code><Message>%s</Message><RequestId>guardrail</RequestId><HostId>guardrail</HostId></Error>`, xmlEscape(msg))}
	case q.jsonProtocol():
		code := "AccessDeniedException"
		if q.service == "dynamodb" {
			code = "com.amazon.coral.service#AccessDeniedException"
		}
		return jsonError(q, code, msg)
	}
	return queryError(q.service, http.StatusForbidden, "AccessDenied", msg)
}
