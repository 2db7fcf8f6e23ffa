// Package awsclient turns the provider's settings into one aws.Config and the
// service clients every resource shares. It has no Terraform framework imports so
// its rules (environment fallbacks, CA bundle, endpoints, retries) are tested as
// plain Go.
package awsclient

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithymiddleware "github.com/aws/smithy-go/middleware"
)

// DefaultMaxRetries matches the hashicorp/aws provider's default.
const DefaultMaxRetries = 25

// MaxMaxRetries bounds max_retries: beyond it an apply would wait for hours.
const MaxMaxRetries = 100

// Settings is the provider configuration after Terraform values are resolved.
// Empty strings and nil pointers mean "not set": environment fallbacks apply.
type Settings struct {
	Region                    string
	Profile                   string
	SharedConfigFiles         []string
	SharedCredentialsFiles    []string
	AssumeRole                *AssumeRole
	Endpoints                 map[string]string
	S3UsePathStyle            bool
	CustomCABundle            string
	MaxRetries                *int
	SkipCredentialsValidation bool
	DefaultTags               map[string]string
	ProviderVersion           string
}

// AssumeRole configures an sts:AssumeRole hop after the base credentials.
type AssumeRole struct {
	RoleARN     string
	SessionName string
	ExternalID  string
	Duration    time.Duration
}

// Client is what resources receive: the clients plus the caller's identity.
type Client struct {
	S3         *s3.Client
	KMS        *kms.Client
	CloudTrail *cloudtrail.Client
	CloudWatch *cloudwatch.Client
	Logs       *cloudwatchlogs.Client
	DynamoDB   *dynamodb.Client
	Events     *eventbridge.Client
	IAM        *iam.Client
	STS        *sts.Client

	Region    string
	Partition string
	// AccountID is empty when credential validation was skipped.
	AccountID   string
	CallerARN   string
	DefaultTags map[string]string
}

// SettingError is a configuration problem that belongs to one provider attribute.
type SettingError struct {
	Attribute string // dotted path, such as "assume_role.role_arn"
	Summary   string
	Detail    string
}

func (e *SettingError) Error() string { return e.Attribute + ": " + e.Summary + ": " + e.Detail }

// Env reads the process environment; tests replace it.
type Env func(string) string

// ResolveRegion applies the hashicorp/aws order: attribute, AWS_REGION, AWS_DEFAULT_REGION.
// An empty result leaves the choice to the shared config profile.
func ResolveRegion(s Settings, env Env) (string, string) {
	if s.Region != "" {
		return s.Region, "region"
	}
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := env(name); v != "" {
			return v, name
		}
	}
	return "", ""
}

// LoadCABundle reads and checks a PEM bundle: the attribute wins over AWS_CA_BUNDLE.
// It returns nil bytes when neither is set.
func LoadCABundle(s Settings, env Env) ([]byte, error) {
	file, source := s.CustomCABundle, "custom_ca_bundle"
	if file == "" {
		file, source = env("AWS_CA_BUNDLE"), "AWS_CA_BUNDLE"
	}
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &SettingError{Attribute: "custom_ca_bundle", Summary: "Unreadable CA bundle",
			Detail: fmt.Sprintf("The CA bundle %q (from %s) cannot be read: %s. Point it at a readable PEM file of CA certificates.", file, source, err)}
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return nil, &SettingError{Attribute: "custom_ca_bundle", Summary: "Invalid CA bundle",
			Detail: fmt.Sprintf("The CA bundle %q (from %s) holds no PEM certificate. It must contain one or more \"-----BEGIN CERTIFICATE-----\" blocks.", file, source)}
	}
	return data, nil
}

// MaxAttempts turns max_retries (or AWS_MAX_ATTEMPTS) into the SDK's attempt count.
func MaxAttempts(s Settings, env Env) (int, error) {
	if s.MaxRetries != nil {
		if *s.MaxRetries < 0 || *s.MaxRetries > MaxMaxRetries {
			return 0, &SettingError{Attribute: "max_retries", Summary: "Invalid max_retries",
				Detail: fmt.Sprintf("max_retries is %d; it must be between 0 and %d.", *s.MaxRetries, MaxMaxRetries)}
		}
		return *s.MaxRetries + 1, nil
	}
	if v := env("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMaxRetries+1 {
			return 0, &SettingError{Attribute: "max_retries", Summary: "Invalid AWS_MAX_ATTEMPTS",
				Detail: fmt.Sprintf("AWS_MAX_ATTEMPTS is %q; it must be a whole number from 1 to %d, or unset.", v, MaxMaxRetries+1)}
		}
		return n, nil
	}
	return DefaultMaxRetries + 1, nil
}

// PartitionForRegion names the partition of a region when STS was not asked.
func PartitionForRegion(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	default:
		return "aws"
	}
}

// ConflictCodes are the codes AWS answers a change with while another change
// to the same object is in progress; the SDK's retryer tries such calls again
// (the hashicorp/aws provider retries them too). DynamoDB's
// ResourceInUseException is not among them: CreateTable answers it for a
// table that already exists, which the lock table adopts at once; the lock
// table retries it only on the calls where it means "being updated".
var ConflictCodes = []string{
	"ConcurrentModification", // IAM: another change to the role or policy is in progress
	"ConflictException",      // CloudTrail: the trail is being changed or not loaded yet
	"OperationAborted",       // S3: a conflicting conditional operation is in progress
	// CloudWatch Logs: several changes to one log group at once (its
	// retention and metric filters are written concurrently).
	"OperationAbortedException",
	"ConcurrentModificationException", // CloudWatch, CloudTrail and others: the same, in their words
}

// newRetryer is the SDK's standard retryer with attempts attempts, retrying
// ConflictCodes besides its default codes.
func newRetryer(attempts int) aws.Retryer {
	conflicts := retry.RetryableErrorCode{Codes: map[string]struct{}{}}
	for _, c := range ConflictCodes {
		conflicts.Codes[c] = struct{}{}
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.Retryables = append(o.Retryables, conflicts)
		// No client-side retry quota: many concurrent calls retrying at once
		// (a graph of 20 backends under throttling) would otherwise end in
		// "retry quota exceeded" instead of their own errors, as the
		// hashicorp/aws provider also decides.
		o.RateLimiter = ratelimit.None
	})
}

// New builds the shared aws.Config and clients, and resolves the caller's
// identity unless credential validation is skipped.
func New(ctx context.Context, s Settings, env Env) (*Client, error) {
	region, _ := ResolveRegion(s, env)
	bundle, err := LoadCABundle(s, env)
	if err != nil {
		return nil, err
	}
	attempts, err := MaxAttempts(s, env)
	if err != nil {
		return nil, err
	}

	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(attempts) }),
		config.WithAPIOptions([]func(*smithymiddleware.Stack) error{
			awsmiddleware.AddUserAgentKeyValue("terraform-provider-securestate", s.ProviderVersion),
		}),
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if s.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.Profile))
	}
	if len(s.SharedConfigFiles) > 0 {
		opts = append(opts, config.WithSharedConfigFiles(s.SharedConfigFiles))
	}
	if len(s.SharedCredentialsFiles) > 0 {
		opts = append(opts, config.WithSharedCredentialsFiles(s.SharedCredentialsFiles))
	}
	if bundle != nil {
		opts = append(opts, config.WithCustomCABundle(bytes.NewReader(bundle)))
	}

	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if s.Profile != "" {
			return nil, &SettingError{Attribute: "profile", Summary: "Cannot load AWS configuration",
				Detail: fmt.Sprintf("Loading profile %q failed: %s", s.Profile, err)}
		}
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, &SettingError{Attribute: "region", Summary: "Missing AWS region",
			Detail: "No region is set. Set the provider's region argument, AWS_REGION or AWS_DEFAULT_REGION, or a region in the selected profile."}
	}
	// Every client below, the assume_role hop included, shares one bound.
	if cfg.HTTPClient, err = limitInFlight(cfg.HTTPClient, DefaultMaxInFlight); err != nil {
		return nil, err
	}

	if s.AssumeRole != nil {
		ar := *s.AssumeRole
		stsClient := newSTS(cfg, s.Endpoints["sts"])
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, ar.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			if ar.SessionName != "" {
				o.RoleSessionName = ar.SessionName
			}
			if ar.ExternalID != "" {
				o.ExternalID = aws.String(ar.ExternalID)
			}
			if ar.Duration > 0 {
				o.Duration = ar.Duration
			}
		}))
	}

	c := &Client{
		Region:      cfg.Region,
		Partition:   PartitionForRegion(cfg.Region),
		DefaultTags: s.DefaultTags,
	}
	for _, svc := range Services {
		svc.newClient(c, cfg, s, s.Endpoints[svc.Name])
	}

	if s.SkipCredentialsValidation {
		return c, nil
	}
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("validating credentials with sts:GetCallerIdentity: %w", err)
	}
	c.AccountID = aws.ToString(out.Account)
	c.CallerARN = aws.ToString(out.Arn)
	if parsed, err := arn.Parse(c.CallerARN); err == nil {
		c.Partition = parsed.Partition
	}
	return c, nil
}

// InRegion returns a shallow copy of c whose regional clients (S3, KMS and
// every other service but the global IAM and STS, which it keeps) send their
// requests to region: for objects of the backend that live in another
// region, such as the replica bucket and its key. Each client is rebuilt
// from its own options, so credentials (the assume_role hop included),
// endpoints, the retryer, the CA bundle and the HTTP client with its
// in-flight bound are the same; so are the caller's identity, partition and
// default tags (region must be in c's partition, where the credentials are
// valid). c itself is not changed.
func (c *Client) InRegion(region string) *Client {
	r := *c
	r.Region = region
	for _, svc := range Services {
		if svc.inRegion != nil {
			svc.inRegion(&r, region)
		}
	}
	return &r
}

// IsSettingError reports whether err belongs to one provider attribute.
func IsSettingError(err error) (*SettingError, bool) {
	var se *SettingError
	ok := errors.As(err, &se)
	return se, ok
}

// Meta is what the provider hands to resources and data sources. Its client is
// absent while the provider configuration holds values that are known only at
// apply (for example an endpoint taken from another resource).
type Meta struct {
	client  *Client
	unknown []string
}

// Configured wraps a ready client.
func Configured(c *Client) *Meta { return &Meta{client: c} }

// Pending records that the listed provider arguments are not known yet.
func Pending(unknown []string) *Meta { return &Meta{unknown: unknown} }

// Client returns the configured client, or an error naming the arguments that
// are still unknown.
func (m *Meta) Client() (*Client, error) {
	if m.client == nil {
		return nil, &PendingError{Unknown: m.unknown}
	}
	return m.client, nil
}

// PendingError says the provider cannot call AWS before its configuration is known.
type PendingError struct{ Unknown []string }

func (e *PendingError) Error() string {
	return fmt.Sprintf("the provider configuration is not known until apply (unknown: %s)", strings.Join(e.Unknown, ", "))
}
