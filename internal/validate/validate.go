// Package validate holds the plan-time rules for user input. Each rule is a plain
// function returning an error that says what is wrong and what to do instead; the
// framework adapters in this package turn them into attribute validators.
package validate

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

var regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

// Region checks the shape of an AWS region name such as us-east-1.
func Region(v string) error {
	if !regionPattern.MatchString(v) {
		return fmt.Errorf("%q is not an AWS region name; use a name such as us-east-1 or eu-central-1", v)
	}
	return nil
}

// EndpointURL checks a custom service endpoint: an absolute http(s) URL with a host.
func EndpointURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%q is not a valid URL: %s; use a URL such as https://s3.example.internal", v, strings.TrimPrefix(err.Error(), "parse "))
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q must start with https:// (or http:// for a local test endpoint)", v)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q has no host; use a URL such as https://s3.example.internal", v)
	}
	if strings.ContainsAny(v, "?# \t\r\n") || u.User != nil {
		return fmt.Errorf("%q must not carry credentials, a query, a fragment or spaces; give only scheme, host, port and path", v)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q has port %s; a port is 1-65535", v, p)
		}
	}
	return nil
}

// AssumeRoleDurationMin and AssumeRoleDurationMax bound sts:AssumeRole sessions.
const (
	AssumeRoleDurationMin = 15 * time.Minute
	AssumeRoleDurationMax = 12 * time.Hour
)

// AssumeRoleDuration checks a Go duration string within the STS limits.
func AssumeRoleDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write it like \"1h\" or \"45m\"", v)
	}
	if d < AssumeRoleDurationMin || d > AssumeRoleDurationMax {
		return 0, fmt.Errorf("%s is outside what AWS STS allows; choose between 15m and 12h", v)
	}
	return d, nil
}

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// SessionName checks an sts:AssumeRole session name.
func SessionName(v string) error {
	if !sessionNamePattern.MatchString(v) {
		return fmt.Errorf("%q is not a valid session name; use 2-64 letters, digits or any of _+=,.@-", v)
	}
	return nil
}

var externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)

// ExternalID checks an sts:AssumeRole external ID.
func ExternalID(v string) error {
	if len(v) < 2 || len(v) > 1224 || !externalIDPattern.MatchString(v) {
		return fmt.Errorf("%q is not a valid external ID; use 2-1224 letters, digits or any of _+=,.@:/-", v)
	}
	return nil
}

// IAMPrincipalARN checks an ARN naming an IAM role or user; kinds narrows it
// ("role", "user").
func IAMPrincipalARN(v string, kinds ...string) error {
	if len(kinds) == 0 {
		kinds = []string{"role", "user"}
	}
	a, err := arn.Parse(v)
	if err != nil {
		return fmt.Errorf("%q is not an ARN; use one such as arn:aws:iam::123456789012:role/name", v)
	}
	if a.Service != "iam" || a.Region != "" || !partitionPattern.MatchString(a.Partition) || !accountIDPattern.MatchString(a.AccountID) {
		return fmt.Errorf("%q is not an IAM ARN; use one such as arn:aws:iam::123456789012:role/name", v)
	}
	for _, k := range kinds {
		if rest, ok := strings.CutPrefix(a.Resource, k+"/"); ok && principalNamePattern.MatchString(rest) {
			return nil
		}
	}
	return fmt.Errorf("%q must name an IAM %s without wildcards, such as arn:%s:iam::%s:%s/name",
		v, strings.Join(kinds, " or "), a.Partition, a.AccountID, kinds[0])
}

var (
	accountIDPattern     = regexp.MustCompile(`^[0-9]{12}$`)
	partitionPattern     = regexp.MustCompile(`^aws(-[a-z]+)*$`)
	principalNamePattern = regexp.MustCompile(`^[\w+=,.@/-]{1,512}$`) // path and name; no wildcards
)

// TagKey refuses tag keys AWS reserves for itself.
func TagKey(v string) error {
	if strings.HasPrefix(strings.ToLower(v), "aws:") {
		return fmt.Errorf("tag key %q starts with \"aws:\", which AWS reserves; choose another key", v)
	}
	return nil
}

var topicNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// SNSTopicARN checks the ARN of an SNS topic.
func SNSTopicARN(v string) error {
	a, err := arn.Parse(v)
	if err != nil || a.Service != "sns" || a.Region == "" || !partitionPattern.MatchString(a.Partition) ||
		!accountIDPattern.MatchString(a.AccountID) || !topicNamePattern.MatchString(a.Resource) {
		return fmt.Errorf("%q is not an SNS topic ARN; use one such as arn:aws:sns:us-east-1:123456789012:state-alerts", v)
	}
	return nil
}

var (
	orgIDPattern  = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	orgPathPart   = regexp.MustCompile(`^(o-[a-z0-9]{10,32})/r-[0-9a-z]{4,32}(/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})*/$`)
	vpcEndpointID = regexp.MustCompile(`^vpce-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// OrganizationID checks an AWS Organizations ID (aws:PrincipalOrgID).
func OrganizationID(v string) error {
	if !orgIDPattern.MatchString(v) {
		return fmt.Errorf("%q is not an organization ID; it looks like o-a1b2c3d4e5 (\"o-\" and 10 to 32 lowercase letters or digits)", v)
	}
	return nil
}

// OrgPath checks an AWS Organizations entity path (aws:PrincipalOrgPaths):
// organization, root and organizational units, ending with "/"; no wildcards.
func OrgPath(v string) error {
	if !orgPathPart.MatchString(v) {
		return fmt.Errorf("%q is not an organization path; it looks like o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ (organization, root, "+
			"then organizational units, ending with \"/\", without wildcards: the path covers every account below it)", v)
	}
	return nil
}

// OrgPathOrganization is the organization ID an organization path starts with.
func OrgPathOrganization(v string) string {
	if m := orgPathPart.FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return ""
}

// VPCEndpointID checks a VPC endpoint ID (aws:SourceVpce).
func VPCEndpointID(v string) error {
	if !vpcEndpointID.MatchString(v) {
		return fmt.Errorf("%q is not a VPC endpoint ID; it looks like vpce-0123456789abcdef0 (\"vpce-\" and 17, or for old endpoints 8, hexadecimal digits)", v)
	}
	return nil
}
