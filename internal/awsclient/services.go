package awsclient

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Service is an AWS service the provider calls and whose endpoint the
// provider's endpoints block can override.
type Service struct {
	// Name is the service's attribute in the endpoints block and its key in
	// Settings.Endpoints.
	Name string
	// ID is the SDK's service ID, such as "CloudWatch Logs": descriptions name
	// the service by it, and the SDK derives its endpoint variable from it.
	ID string
	// newClient sets the service's field of c, with BaseEndpoint set to
	// endpoint when that is not empty.
	newClient func(c *Client, cfg aws.Config, s Settings, endpoint string)
	// inRegion replaces the service's field of c with a client that sends
	// its requests to region and is otherwise the same (credentials,
	// endpoint, retryer, HTTP client). nil for a global service (IAM, STS),
	// whose client InRegion keeps.
	inRegion func(c *Client, region string)
}

// EnvVar is the environment variable the SDK reads for the service's endpoint
// when the endpoints block does not set one: AWS_ENDPOINT_URL_ followed by
// the service ID in upper case with spaces as underscores
// ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS").
func (svc Service) EnvVar() string {
	return "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(svc.ID), " ", "_")
}

// Services are the services the provider calls, in the order of their names.
// The provider's endpoints block, its descriptions, New's client set-up and
// InRegion all walk this list; adding a service means adding it here and a
// field to Client.
var Services = []Service{
	{Name: "cloudtrail", ID: cloudtrail.ServiceID, newClient: func(c *Client, cfg aws.Config, _ Settings, endpoint string) {
		c.CloudTrail = cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { setEndpoint(&o.BaseEndpoint, endpoint) })
	}, inRegion: func(c *Client, region string) {
		if c.CloudTrail != nil {
			c.CloudTrail = cloudtrail.New(c.CloudTrail.Options(), func(o *cloudtrail.Options) { o.Region = region })
		}
	}},
	{Name: "cloudwatch", ID: cloudwatch.ServiceID, newClient: func(c *Client, cfg aws.Config, _ Settings, endpoint string) {
		c.CloudWatch = cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { setEndpoint(&o.BaseEndpoint, endpoint) })
	}, inRegion: func(c *Client, region string) {
		if c.CloudWatch != nil {
			c.CloudWatch = cloudwatch.New(c.CloudWatch.Options(), func(o *cloudwatch.Options) { o.Region = region })
		}
	}},
	{Name: "dynamodb", ID: dynamodb.ServiceID, newClient: func(c *Client, cfg aws.Config, _ Settings, endpoint string) {
		c.DynamoDB = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { setEndpoint(&o.BaseEndpoint, endpoint) })
	}, inRegion: func(c *Client, region string) {
		if c.DynamoDB != nil {
			c.DynamoDB = dynamodb.New(c.DynamoDB.Options(), func(o *dynamodb.Options) { o.Region = region })
		}
	}},
	{Name: "events", ID: eventbridge.ServiceID, newClient: func(c *Client, cfg aws.Config, _ Settings, endpoint string) {
		c.Events = eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { setEndpoint(&o.BaseEndpoint, endpoint) })
	}, inRegion: func(c *Client, region string) {
		if c.Events != nil {
			c.Events = eventbridge.New(c.Events.Options(), func(o *eventbridge.Options) { o.Region = region })
		}
	}},
	{Name: "iam", ID: iam.ServiceID, newClient: func(c *Client, cfg aws.Config, _ Settings, endpoint string) {
		c.IAM = iam.NewFromConfig(cfg, func(o *iam.Options) { setEndpoint(&o.BaseEndpoint, endpoint) })
	}},
	{Name: "kms", ID: kms.ServiceID, newClient: func(c *Client, cfg aws.Config, _ Settings, endpoint string) {
		c.KMS = kms.NewFromConfig(cfg, func(o *kms.Options) { setEndpoint(&o.BaseEndpoint, endpoint) })
	}, inRegion: func(c *Client, region string) {
		if c.KMS != nil {
			c.KMS = kms.New(c.KMS.Options(), func(o *kms.Options) { o.Region = region })
		}
	}},
	{Name: "logs", ID: cloudwatchlogs.ServiceID, newClient: func(c *Client, cfg aws.Config, _ Settings, endpoint string) {
		c.Logs = cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { setEndpoint(&o.BaseEndpoint, endpoint) })
	}, inRegion: func(c *Client, region string) {
		if c.Logs != nil {
			c.Logs = cloudwatchlogs.New(c.Logs.Options(), func(o *cloudwatchlogs.Options) { o.Region = region })
		}
	}},
	{Name: "s3", ID: s3.ServiceID, newClient: func(c *Client, cfg aws.Config, s Settings, endpoint string) {
		c.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = s.S3UsePathStyle
			// Emulators omit response checksums; the SDK would log that on every read.
			o.DisableLogOutputChecksumValidationSkipped = true
			setEndpoint(&o.BaseEndpoint, endpoint)
		})
	}, inRegion: func(c *Client, region string) {
		if c.S3 != nil {
			c.S3 = s3.New(c.S3.Options(), func(o *s3.Options) {
				o.Region = region
				// The copied options share the original client's S3 Express
				// credentials provider, which s3.New rebinds to the new
				// client: a data race with the original's requests. A
				// fresh default one each.
				o.ExpressCredentials = nil
			})
		}
	}},
	{Name: "sts", ID: sts.ServiceID, newClient: func(c *Client, cfg aws.Config, _ Settings, endpoint string) {
		c.STS = newSTS(cfg, endpoint)
	}},
}

// newSTS is the STS client; the assume_role hop makes one before the others.
func newSTS(cfg aws.Config, endpoint string) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { setEndpoint(&o.BaseEndpoint, endpoint) })
}

// setEndpoint sets a client's BaseEndpoint when endpoint is set; otherwise the
// SDK's own resolution (including the service's EnvVar and AWS_ENDPOINT_URL)
// applies.
func setEndpoint(base **string, endpoint string) {
	if endpoint != "" {
		*base = aws.String(endpoint)
	}
}
