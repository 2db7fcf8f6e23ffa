package acctest

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
)

// window is the stale window of these tests: long enough for a few reads on
// a loaded runner, short enough to wait out.
const testWindow = 1500 * time.Millisecond

// proxyClients starts a fault proxy in front of the emulator and returns it
// with AWS clients that go through it (the SDK's usual retries included).
func proxyClients(t *testing.T) (*FaultProxy, *awsclient.Client) {
	t.Helper()
	PreCheck(t)
	p := StartFaultProxy(t)
	// The SDK reads the endpoint and CA bundle from the process environment.
	t.Setenv("AWS_ENDPOINT_URL", p.URL)
	t.Setenv("AWS_CA_BUNDLE", p.CABundle)
	c, err := awsclient.New(context.Background(), awsclient.Settings{S3UsePathStyle: true, ProviderVersion: "acctest"}, os.Getenv)
	if err != nil {
		t.Fatalf("AWS clients through the proxy: %s", err)
	}
	return p, c
}

// apiError returns the AWS error code and HTTP status of err ("", 0: none).
func apiError(err error) (string, int) {
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	code, status := "", 0
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// staleCalls lists the calls answered from a stale window, and those the
// armed fault selected, as "service:operation".
func staleCalls(p *FaultProxy) (stale, injected []string) {
	for _, c := range p.Calls() {
		if c.Stale {
			stale = append(stale, c.Service+":"+c.Operation)
		}
		if c.Injected != "" {
			injected = append(injected, c.Service+":"+c.Operation+"="+string(c.Injected))
		}
	}
	return stale, injected
}

func bucketPolicy(bucket, sid string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::` + bucket + `"}]}`
}

func newBucket(t *testing.T, c *awsclient.Client) string {
	t.Helper()
	bucket := RandomName("stale")
	if _, err := c.S3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket: %s", err)
	}
	t.Cleanup(func() {
		_, _ = c.S3.DeleteBucketPolicy(context.Background(), &s3.DeleteBucketPolicyInput{Bucket: &bucket})
		_, _ = c.S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &bucket})
	})
	return bucket
}

// A bucket policy written under FaultStaleRead reads back as the old policy,
// byte for byte, for the window, then as the new one.
func TestFaultProxy_staleBucketPolicy(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	bucket := newBucket(t, c)
	get := func() (string, error) {
		out, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Policy), nil
	}
	if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(bucketPolicy(bucket, "Old"))}); err != nil {
		t.Fatal(err)
	}
	before, err := get()
	if err != nil {
		t.Fatal(err)
	}

	p.Arm(Fault{Kind: FaultStaleRead, Match: "s3:PUTBucketpolicy", Window: testWindow})
	if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(bucketPolicy(bucket, "New"))}); err != nil {
		t.Fatalf("the write itself must succeed: %s", err)
	}
	written := time.Now()
	for range 3 {
		got, err := get()
		if err != nil {
			t.Fatalf("stale GetBucketPolicy: %s", err)
		}
		if got != before {
			t.Errorf("within the window GetBucketPolicy = %s, want the old policy %s", got, before)
		}
	}
	// Another bucket's policy is not stale.
	other := newBucket(t, c)
	if _, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &other}); err == nil {
		t.Errorf("a bucket without a policy read one back")
	}
	stale, injected := staleCalls(p)
	if len(stale) != 3 || stale[0] != "s3:GETBucketpolicy" {
		t.Errorf("stale calls %v, want three s3:GETBucketpolicy", stale)
	}
	if !slices.Equal(injected, []string{"s3:PUTBucketpolicy=stale-read"}) {
		t.Errorf("injected calls %v", injected)
	}

	time.Sleep(time.Until(written.Add(testWindow + 100*time.Millisecond)))
	got, err := get()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `"New"`) {
		t.Errorf("after the window GetBucketPolicy = %s, want the new policy", got)
	}
}

// After a CreateBucket under FaultStaleRead, the bucket does not exist for
// the window: HeadBucket is a bodiless 404, other reads NoSuchBucket.
func TestFaultProxy_staleCreateBucket(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	bucket := RandomName("stale-new")
	p.Arm(Fault{Kind: FaultStaleRead, Match: "s3:PUTBucket", Window: testWindow})
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	t.Cleanup(func() { _, _ = c.S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &bucket}) })

	_, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	var nf *s3types.NotFound
	if code, status := apiError(err); !errors.As(err, &nf) || status != 404 {
		t.Errorf("HeadBucket of the new bucket: %v (code %q, HTTP %d), want NotFound 404", err, code, status)
	}
	_, err = c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	if code, status := apiError(err); code != "NoSuchBucket" || status != 404 {
		t.Errorf("GetBucketVersioning of the new bucket: %v, want NoSuchBucket 404", err)
	}
	if stale, _ := staleCalls(p); len(stale) != 2 {
		t.Errorf("stale calls %v, want HeadBucket and GetBucketVersioning", stale)
	}
	time.Sleep(time.Until(written.Add(testWindow + 100*time.Millisecond)))
	if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); err != nil {
		t.Errorf("HeadBucket after the window: %s", err)
	}
}

func newKey(t *testing.T, c *awsclient.Client) string {
	t.Helper()
	out, err := c.KMS.CreateKey(t.Context(), &kms.CreateKeyInput{Description: aws.String("fault proxy test")})
	if err != nil {
		t.Fatalf("CreateKey: %s", err)
	}
	id := aws.ToString(out.KeyMetadata.KeyId)
	t.Cleanup(func() {
		_, _ = c.KMS.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(7)})
	})
	return id
}

func keyPolicy(sid string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`
}

// Under FaultStaleRead on every write, a key policy reads back old (by key
// ID and by ARN), a new key is NotFoundException by its ID and ARN, and an
// alias made just now is not found; all of them are current after the window.
func TestFaultProxy_staleKMS(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	id := newKey(t, c)
	if _, err := c.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default"), Policy: aws.String(keyPolicy("Old"))}); err != nil {
		t.Fatal(err)
	}
	desc, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := aws.ToString(desc.KeyMetadata.Arn)
	alias := "alias/" + RandomName("stale")

	p.Arm(Fault{Kind: FaultStaleRead, Attempts: AllWrites, Window: testWindow})
	if _, err := c.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default"), Policy: aws.String(keyPolicy("New"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: &id}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.KMS.DeleteAlias(context.Background(), &kms.DeleteAliasInput{AliasName: &alias}) })
	fresh := newKey(t, c)
	written := time.Now()

	for _, ref := range []string{id, keyARN} {
		pol, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &ref, PolicyName: aws.String("default")})
		if err != nil || !strings.Contains(aws.ToString(pol.Policy), `"Old"`) {
			t.Errorf("GetKeyPolicy(%s) within the window: %v, %v; want the old policy", ref, err, pol)
		}
	}
	freshARN := strings.Replace(keyARN, id, fresh, 1)
	for _, ref := range []string{fresh, freshARN} {
		_, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &ref})
		if code, status := apiError(err); code != "NotFoundException" || status != 400 {
			t.Errorf("DescribeKey(%s) of the new key within the window: %v, want NotFoundException", ref, err)
		}
	}
	_, err = c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias})
	if code, _ := apiError(err); code != "NotFoundException" {
		t.Errorf("DescribeKey(%s) of the new alias within the window: %v, want NotFoundException", alias, err)
	}
	if stale, _ := staleCalls(p); len(stale) != 5 {
		t.Errorf("stale calls %v, want 5", stale)
	}

	time.Sleep(time.Until(written.Add(testWindow + 100*time.Millisecond)))
	pol, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default")})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), `"New"`) {
		t.Errorf("GetKeyPolicy after the window: %v; want the new policy", err)
	}
	if d, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias}); err != nil || aws.ToString(d.KeyMetadata.KeyId) != id {
		t.Errorf("DescribeKey(%s) after the window: %v", alias, err)
	}
	if _, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &fresh}); err != nil {
		t.Errorf("DescribeKey of the new key after the window: %s", err)
	}
}

// A KMS DescribeKey by alias name during a window of EnableKey on the key ID
// answers what DescribeKey by the ID kept: the key still disabled.
func TestFaultProxy_staleDescribeKeyByAlias(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	id := newKey(t, c)
	alias := "alias/" + RandomName("stale")
	if _, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: &id}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.KMS.DeleteAlias(context.Background(), &kms.DeleteAliasInput{AliasName: &alias}) })
	if _, err := c.KMS.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &id}); err != nil {
		t.Fatal(err)
	}
	p.Arm(Fault{Kind: FaultStaleRead, Match: "kms:EnableKey", Window: testWindow})
	if _, err := c.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &id}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{id, alias} {
		d, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &ref})
		if err != nil || d.KeyMetadata.Enabled {
			t.Errorf("DescribeKey(%s) within the window: %v; want the key disabled", ref, err)
		}
	}
	if stale, _ := staleCalls(p); len(stale) != 2 {
		t.Errorf("stale calls %v, want 2", stale)
	}
}

func newPolicy(t *testing.T, c *awsclient.Client) string {
	t.Helper()
	out, err := c.IAM.CreatePolicy(t.Context(), &iam.CreatePolicyInput{PolicyName: aws.String(RandomName("stale")), Path: aws.String("/faultproxy/"), PolicyDocument: aws.String(iamDoc("s3:GetObject"))})
	if err != nil {
		t.Fatalf("CreatePolicy: %s", err)
	}
	a := aws.ToString(out.Policy.Arn)
	t.Cleanup(func() {
		ctx := context.Background()
		if vs, err := c.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: &a}); err == nil {
			for _, v := range vs.Versions {
				if !v.IsDefaultVersion {
					_, _ = c.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: &a, VersionId: v.VersionId})
				}
			}
		}
		_, _ = c.IAM.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &a})
	})
	return a
}

func iamDoc(action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
}

// A CreatePolicyVersion set as default under FaultStaleRead: GetPolicy still
// names v1, GetPolicyVersion(v1) is still the default with the old document,
// the new version does not exist yet; all current after the window.
func TestFaultProxy_staleIAMDefaultVersion(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	a := newPolicy(t, c)
	p.Arm(Fault{Kind: FaultStaleRead, Match: "iam:CreatePolicyVersion", Window: testWindow})
	v, err := c.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &a, PolicyDocument: aws.String(iamDoc("s3:PutObject")), SetAsDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	newVersion := aws.ToString(v.PolicyVersion.VersionId)
	pol, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &a})
	if err != nil || aws.ToString(pol.Policy.DefaultVersionId) != "v1" {
		t.Errorf("GetPolicy within the window: %v, default %s; want v1", err, aws.ToString(pol.Policy.DefaultVersionId))
	}
	old, err := c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &a, VersionId: aws.String("v1")})
	if err != nil || !old.PolicyVersion.IsDefaultVersion || !strings.Contains(aws.ToString(old.PolicyVersion.Document), "GetObject") {
		t.Errorf("GetPolicyVersion(v1) within the window: %v; want the old default document", err)
	}
	_, err = c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &a, VersionId: &newVersion})
	if code, status := apiError(err); code != "NoSuchEntity" || status != 404 {
		t.Errorf("GetPolicyVersion(%s) within the window: %v, want NoSuchEntity 404", newVersion, err)
	}
	time.Sleep(time.Until(written.Add(testWindow + 100*time.Millisecond)))
	pol, err = c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &a})
	if err != nil || aws.ToString(pol.Policy.DefaultVersionId) != newVersion {
		t.Errorf("GetPolicy after the window: %v; want default %s", err, newVersion)
	}
}

func newTable(t *testing.T, c *awsclient.Client) string {
	t.Helper()
	name := RandomName("stale")
	_, err := c.DynamoDB.CreateTable(t.Context(), lockTable(name))
	if err != nil {
		t.Fatalf("CreateTable: %s", err)
	}
	t.Cleanup(func() {
		_, _ = c.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
	})
	return name
}

// lockTable is the CreateTable of a lock table (LockID hash key, on demand).
func lockTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            &name,
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
	}
}

func pitr(ctx context.Context, c *awsclient.Client, table string) (ddbtypes.PointInTimeRecoveryStatus, error) {
	out, err := c.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: &table})
	if err != nil {
		return "", err
	}
	return out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus, nil
}

// Point-in-time recovery enabled under FaultStaleRead reads back disabled for
// the window; a table created under it is ResourceNotFoundException.
func TestFaultProxy_staleDynamoDB(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	table := newTable(t, c)
	p.Arm(Fault{Kind: FaultStaleRead, Attempts: AllWrites, Window: testWindow})
	if _, err := c.DynamoDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: &table,
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	fresh := newTable(t, c)
	written := time.Now()
	if s, err := pitr(ctx, c, table); err != nil || s != ddbtypes.PointInTimeRecoveryStatusDisabled {
		t.Errorf("PITR within the window: %q, %v; want DISABLED", s, err)
	}
	_, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &fresh})
	var nf *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeTable of the new table within the window: %v, want ResourceNotFoundException", err)
	}
	time.Sleep(time.Until(written.Add(testWindow + 100*time.Millisecond)))
	if s, err := pitr(ctx, c, table); err != nil || s != ddbtypes.PointInTimeRecoveryStatusEnabled {
		t.Errorf("PITR after the window: %q, %v; want ENABLED", s, err)
	}
	if _, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &fresh}); err != nil {
		t.Errorf("DescribeTable of the new table after the window: %s", err)
	}
}

// CloudTrail, CloudWatch Logs and CloudWatch: a new trail is
// TrailNotFoundException, a retention change reads back old, a new alarm is
// missing from a DescribeAlarms that also names an existing one (which is
// still listed).
func TestFaultProxy_staleMonitoring(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	bucket := newBucket(t, c)
	group := "/faultproxy/" + RandomName("stale")
	if _, err := c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.Logs.DeleteLogGroup(context.Background(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: &group})
	})
	alarm := func(name string) *cloudwatch.PutMetricAlarmInput {
		return &cloudwatch.PutMetricAlarmInput{AlarmName: &name, MetricName: aws.String("M"), Namespace: aws.String("FaultProxy"), Statistic: cwtypes.StatisticSum,
			Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold}
	}
	existing, added := RandomName("alarm"), RandomName("alarm")
	if _, err := c.CloudWatch.PutMetricAlarm(ctx, alarm(existing)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.CloudWatch.DeleteAlarms(context.Background(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{existing, added}})
	})
	trail := RandomName("stale")

	p.Arm(Fault{Kind: FaultStaleRead, Attempts: AllWrites, Window: testWindow})
	if _, err := c.CloudTrail.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: &trail, S3BucketName: &bucket}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.CloudTrail.DeleteTrail(context.Background(), &cloudtrail.DeleteTrailInput{Name: &trail})
	})
	if _, err := c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: aws.Int32(365)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CloudWatch.PutMetricAlarm(ctx, alarm(added)); err != nil {
		t.Fatal(err)
	}

	_, err := c.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: &trail})
	var tnf *cttypes.TrailNotFoundException
	if !errors.As(err, &tnf) {
		t.Errorf("GetTrail of the new trail within the window: %v, want TrailNotFoundException", err)
	}
	lg, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: &group})
	if err != nil || len(lg.LogGroups) != 1 || lg.LogGroups[0].RetentionInDays != nil {
		t.Errorf("DescribeLogGroups within the window: %v %+v; want the group without retention", err, lg)
	}
	al, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{existing, added}})
	if err != nil || len(al.MetricAlarms) != 1 || aws.ToString(al.MetricAlarms[0].AlarmName) != existing {
		t.Errorf("DescribeAlarms within the window: %v %+v; want only %s", err, al, existing)
	}
	if stale, _ := staleCalls(p); len(stale) != 3 {
		t.Errorf("stale calls %v, want 3", stale)
	}
}

// An ignored write succeeds for the SDK and changes nothing: S3 bucket
// policy, KMS key policy, IAM CreatePolicyVersion, DynamoDB PITR. A create is
// never ignored.
func TestFaultProxy_ignoredWrite(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	bucket := newBucket(t, c)
	if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(bucketPolicy(bucket, "Old"))}); err != nil {
		t.Fatal(err)
	}
	id := newKey(t, c)
	if _, err := c.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default"), Policy: aws.String(keyPolicy("Old"))}); err != nil {
		t.Fatal(err)
	}
	policy := newPolicy(t, c)
	table := newTable(t, c)

	p.Arm(Fault{Kind: FaultIgnoredWrite, Attempts: AllWrites})
	if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(bucketPolicy(bucket, "New"))}); err != nil {
		t.Errorf("ignored PutBucketPolicy: %s", err)
	}
	if _, err := c.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default"), Policy: aws.String(keyPolicy("New"))}); err != nil {
		t.Errorf("ignored PutKeyPolicy: %s", err)
	}
	v, err := c.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &policy, PolicyDocument: aws.String(iamDoc("s3:PutObject")), SetAsDefault: true})
	if err != nil || v.PolicyVersion == nil || aws.ToString(v.PolicyVersion.VersionId) == "" {
		t.Errorf("ignored CreatePolicyVersion: %v, %+v; want a PolicyVersion", err, v)
	}
	if _, err := c.DynamoDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: &table,
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Errorf("ignored UpdateContinuousBackups: %s", err)
	}
	created := newBucket(t, c) // forwarded: not a candidate

	_, injected := staleCalls(p)
	want := []string{"s3:PUTBucketpolicy=ignored-write", "kms:PutKeyPolicy=ignored-write", "iam:CreatePolicyVersion=ignored-write", "dynamodb:UpdateContinuousBackups=ignored-write"}
	if !slices.Equal(injected, want) {
		t.Errorf("injected calls %v, want %v", injected, want)
	}
	p.Disarm()
	if out, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket}); err != nil || !strings.Contains(aws.ToString(out.Policy), `"Old"`) {
		t.Errorf("bucket policy after an ignored write: %v; want the old one", err)
	}
	if out, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default")}); err != nil || !strings.Contains(aws.ToString(out.Policy), `"Old"`) {
		t.Errorf("key policy after an ignored write: %v; want the old one", err)
	}
	if out, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &policy}); err != nil || aws.ToString(out.Policy.DefaultVersionId) != "v1" {
		t.Errorf("policy after an ignored CreatePolicyVersion: %v; want default v1", err)
	}
	if s, err := pitr(ctx, c, table); err != nil || s != ddbtypes.PointInTimeRecoveryStatusDisabled {
		t.Errorf("PITR after an ignored write: %q, %v; want DISABLED", s, err)
	}
	if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &created}); err != nil {
		t.Errorf("a bucket created under FaultIgnoredWrite does not exist: %s", err)
	}
}

// Every write the proxy knows is a write; reads and deletes are not; the
// ignorable ones are the writes without the creates.
func TestFaultProxy_writeLists(t *testing.T) {
	for _, name := range WriteOperations {
		service, op, _ := strings.Cut(name, ":")
		if !IsWrite(service, op) {
			t.Errorf("IsWrite(%s) = false for a listed write", name)
		}
	}
	for _, name := range []string{"s3:GETBucketpolicy", "s3:HEADBucket", "kms:DescribeKey", "iam:GetPolicy", "dynamodb:DeleteTable", "kms:ScheduleKeyDeletion"} {
		service, op, _ := strings.Cut(name, ":")
		if IsWrite(service, op) {
			t.Errorf("IsWrite(%s) = true", name)
		}
	}
	for _, create := range []string{"s3:PUTBucket", "kms:CreateKey", "dynamodb:CreateTable", "iam:CreatePolicy", "iam:CreateRole", "cloudtrail:CreateTrail", "logs:CreateLogGroup", "monitoring:PutMetricAlarm"} {
		if !slices.Contains(WriteOperations, create) || slices.Contains(IgnorableWrites, create) {
			t.Errorf("%s: a create must be a write and never ignorable", create)
		}
	}
	if !slices.Contains(IgnorableWrites, "iam:CreatePolicyVersion") || !slices.Contains(IgnorableWrites, "s3:PUTBucketpolicy") {
		t.Errorf("IgnorableWrites misses configuration writes: %v", IgnorableWrites)
	}
}
