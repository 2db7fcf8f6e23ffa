package awsclient

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

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

// oneCall sends one cheap request with each service's client, by service name.
var oneCall = map[string]func(context.Context, *Client) error{
	"cloudtrail": func(ctx context.Context, c *Client) error {
		_, err := c.CloudTrail.ListTrails(ctx, &cloudtrail.ListTrailsInput{})
		return err
	},
	"cloudwatch": func(ctx context.Context, c *Client) error {
		_, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
		return err
	},
	"dynamodb": func(ctx context.Context, c *Client) error {
		_, err := c.DynamoDB.ListTables(ctx, &dynamodb.ListTablesInput{})
		return err
	},
	"events": func(ctx context.Context, c *Client) error {
		_, err := c.Events.ListRules(ctx, &eventbridge.ListRulesInput{})
		return err
	},
	"iam": func(ctx context.Context, c *Client) error {
		_, err := c.IAM.ListRoles(ctx, &iam.ListRolesInput{})
		return err
	},
	"kms": func(ctx context.Context, c *Client) error {
		_, err := c.KMS.ListKeys(ctx, &kms.ListKeysInput{})
		return err
	},
	"logs": func(ctx context.Context, c *Client) error {
		_, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		return err
	},
	"s3": func(ctx context.Context, c *Client) error {
		_, err := c.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	},
	"sts": func(ctx context.Context, c *Client) error {
		_, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	},
}

// signer records the credential scope ("access key/date/region/service") of
// every SigV4-signed request it receives.
type signer struct {
	mu     sync.Mutex
	scopes []string
}

func (s *signer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	_, cred, _ := strings.Cut(auth, "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	s.mu.Lock()
	s.scopes = append(s.scopes, cred)
	s.mu.Unlock()
	// A JSON service reads this as an empty answer; the others fail to
	// decode it, which does not matter: only the request is looked at.
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write([]byte("{}"))
}

// scope sends one request with service's client of c and returns the
// credential scope it was signed with, split into access key, region and
// signing name.
func (s *signer) scope(t *testing.T, c *Client, service string) (key, region, name string) {
	t.Helper()
	s.mu.Lock()
	s.scopes = nil
	s.mu.Unlock()
	_ = oneCall[service](context.Background(), c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.scopes) == 0 {
		t.Fatalf("%s: no request reached the endpoint", service)
	}
	parts := strings.Split(s.scopes[0], "/")
	if len(parts) != 5 {
		t.Fatalf("%s: credential scope %q, want key/date/region/service/aws4_request", service, s.scopes[0])
	}
	return parts[0], parts[2], parts[3]
}

// InRegion's clients sign their requests for the new region (the region the
// emulator and AWS act in), every regional service's included; IAM and STS
// are the same clients as before. The copy keeps the endpoints (the requests
// reach the test server), the credentials, the retryer's attempts and the
// one in-flight bound, and the original client still signs for its own
// region.
func TestInRegionSignsForTheRegion(t *testing.T) {
	isolate(t)
	if got, want := slices.Sorted(maps.Keys(oneCall)), serviceNames(); !slices.Equal(got, want) {
		t.Fatalf("oneCall covers %v, Services are %v: add a call for every service", got, want)
	}
	rec := &signer{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	endpoints := map[string]string{}
	for _, svc := range Services {
		endpoints[svc.Name] = srv.URL
	}
	retries := 2
	c, err := New(context.Background(), Settings{Region: "us-east-1", Endpoints: endpoints, S3UsePathStyle: true,
		MaxRetries: &retries, SkipCredentialsValidation: true, DefaultTags: map[string]string{"team": "platform"}}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	c.AccountID, c.CallerARN = "123456789012", "arn:aws:iam::123456789012:user/ci"

	r := c.InRegion("eu-west-1")
	if r == c || r.Region != "eu-west-1" || c.Region != "us-east-1" {
		t.Fatalf("InRegion: copy region %q, original %q; want a new client in eu-west-1 and the original untouched", r.Region, c.Region)
	}
	if r.AccountID != c.AccountID || r.CallerARN != c.CallerARN || r.Partition != c.Partition || !maps.Equal(r.DefaultTags, c.DefaultTags) {
		t.Errorf("InRegion changed the identity: %+v", r)
	}

	regional := 0
	for _, svc := range Services {
		key, region, name := rec.scope(t, r, svc.Name)
		_, before, origName := rec.scope(t, c, svc.Name)
		if key != "AKIDEXAMPLE" {
			t.Errorf("%s: signed with key %q, want the configured credentials", svc.Name, key)
		}
		if name != origName {
			t.Errorf("%s: signing name %q, was %q", svc.Name, name, origName)
		}
		field := clientField(r, svc.Name)
		if !field.IsValid() {
			t.Fatalf("%s: no Client field holds its client", svc.Name)
		}
		if svc.inRegion == nil {
			if region != before || field.Pointer() != clientField(c, svc.Name).Pointer() {
				t.Errorf("%s is global: the copy signs for %q (original %q) with client %v, want the original client", svc.Name, region, before, field)
			}
			continue
		}
		regional++
		if region != "eu-west-1" {
			t.Errorf("%s: the copy signs for %q, want eu-west-1", svc.Name, region)
		}
		if before != "us-east-1" {
			t.Errorf("%s: the original signs for %q after InRegion, want us-east-1", svc.Name, before)
		}
		opts := field.MethodByName("Options").Call(nil)[0]
		hc, _ := opts.FieldByName("HTTPClient").Interface().(*http.Client)
		orig, _ := c.S3.Options().HTTPClient.(*http.Client)
		if hc == nil || orig == nil || hc.Transport != orig.Transport {
			t.Errorf("%s: the copy does not share the original's in-flight bound", svc.Name)
		}
		if retryer, ok := opts.FieldByName("Retryer").Interface().(interface{ MaxAttempts() int }); !ok || retryer.MaxAttempts() != retries+1 {
			t.Errorf("%s: the copy's retryer is %v, want %d attempts", svc.Name, opts.FieldByName("Retryer").Interface(), retries+1)
		}
	}
	if regional < 7 {
		t.Errorf("%d regional services, want S3, KMS and the other five", regional)
	}
}

// A client without service clients (as unit tests build one) copies too.
func TestInRegionOfABareClient(t *testing.T) {
	c := &Client{Region: "us-east-1", AccountID: "123456789012"}
	r := c.InRegion("eu-west-1")
	if r.Region != "eu-west-1" || r.AccountID != "123456789012" || r.S3 != nil || c.Region != "us-east-1" {
		t.Errorf("InRegion of a bare client = %+v", r)
	}
}

func serviceNames() []string {
	var names []string
	for _, svc := range Services {
		names = append(names, svc.Name)
	}
	return slices.Sorted(slices.Values(names))
}

// clientField is the Client field holding the service's client.
func clientField(c *Client, service string) reflect.Value {
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		if serviceOfPackage(f.Elem().Type().PkgPath()) == service {
			return f
		}
	}
	return reflect.Value{}
}

// serviceOfPackage maps an SDK client package to its service's name.
func serviceOfPackage(pkg string) string {
	name := pkg[strings.LastIndex(pkg, "/")+1:]
	switch name {
	case "cloudwatchlogs":
		return "logs"
	case "eventbridge":
		return "events"
	}
	return name
}
