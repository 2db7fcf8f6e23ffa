package acctest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// refusedWrite is a write a create's stale window must refuse: the name the
// proxy gives it, the error code and HTTP status the SDK must report, and
// the call.
type refusedWrite struct {
	op     string
	code   string
	status int
	call   func() error
}

// checkRefused makes each write and checks that it failed with its code and
// status, that the proxy recorded exactly these writes as NotYetVisible and
// selected none of them, and that they all happened within the window.
func checkRefused(t *testing.T, p *FaultProxy, written time.Time, writes []refusedWrite) {
	t.Helper()
	var want []string
	for _, w := range writes {
		want = append(want, w.op)
		err := w.call()
		if code, status := apiError(err); code != w.code || status != w.status {
			t.Errorf("%s of the new object within the window: %v (code %q, HTTP %d), want %s %d", w.op, err, code, status, w.code, w.status)
		}
	}
	if elapsed := time.Since(written); elapsed >= testWindow {
		t.Fatalf("the writes took %s, longer than the window %s: the test proves nothing", elapsed, testWindow)
	}
	var refused []string
	for _, c := range p.Calls() {
		if c.NotYetVisible {
			refused = append(refused, c.Service+":"+c.Operation)
			if c.Injected != "" || c.Stale {
				t.Errorf("refused %s:%s is also marked injected %q / stale %v", c.Service, c.Operation, c.Injected, c.Stale)
			}
		}
	}
	if !slices.Equal(refused, want) {
		t.Errorf("calls refused as not yet visible:\n%v\nwant:\n%v", refused, want)
	}
}

// waitWindow sleeps until the window of a write answered at written closed.
func waitWindow(written time.Time) {
	time.Sleep(time.Until(written.Add(testWindow + 100*time.Millisecond)))
}

// A new bucket refuses every write (sub-resources, objects, DeleteObjects,
// DeleteBucket) with NoSuchBucket for the window; none reaches the emulator,
// none is selected, a write to an older bucket is; after the window the new
// bucket takes writes.
func TestFaultProxy_notYetVisibleBucket(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	old := newBucket(t, c)
	bucket := RandomName("visible")
	p.Arm(Fault{Kind: FaultStaleRead, Attempts: AllWrites, Window: testWindow})
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	t.Cleanup(func() {
		p.Disarm()
		_, _ = c.S3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("o")})
		_, _ = c.S3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: &bucket})
	})

	nsb := func(op string, call func() error) refusedWrite {
		return refusedWrite{op: "s3:" + op, code: "NoSuchBucket", status: http.StatusNotFound, call: call}
	}
	checkRefused(t, p, written, []refusedWrite{
		nsb("PUTBucketencryption", func() error {
			_, err := c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &bucket, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
			return err
		}),
		nsb("PUTBucketversioning", func() error {
			_, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			return err
		}),
		nsb("PUTBucketpublicAccessBlock", func() error {
			_, err := c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}})
			return err
		}),
		nsb("PUTBucketownershipControls", func() error {
			_, err := c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: &bucket, OwnershipControls: &s3types.OwnershipControls{
				Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
			return err
		}),
		nsb("PUTBucketpolicy", func() error {
			_, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(bucketPolicy(bucket, "New"))})
			return err
		}),
		nsb("PUTBucketlifecycle", func() error {
			_, err := c.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: &bucket, LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{
				Rules: []s3types.LifecycleRule{{ID: aws.String("r"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
					AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)}}}}})
			return err
		}),
		nsb("PUTBucketlogging", func() error {
			_, err := c.S3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: &bucket, BucketLoggingStatus: &s3types.BucketLoggingStatus{
				LoggingEnabled: &s3types.LoggingEnabled{TargetBucket: &old, TargetPrefix: aws.String("logs/")}}})
			return err
		}),
		nsb("PUTBuckettagging", func() error {
			_, err := c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &bucket, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
			return err
		}),
		nsb("PUTObject", func() error {
			_, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("o"), Body: strings.NewReader("state")})
			return err
		}),
		nsb("POSTBucketdelete", func() error {
			_, err := c.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("o")}}}})
			return err
		}),
		nsb("DELETEBucketpolicy", func() error {
			_, err := c.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &bucket})
			return err
		}),
		nsb("DELETEBucket", func() error {
			_, err := c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
			return err
		}),
	})
	// An older bucket is visible: its write is forwarded and selected.
	if _, err := c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &old, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}); err != nil {
		t.Errorf("PutBucketTagging of an older bucket within the window: %s", err)
	}
	if _, injected := staleCalls(p); !slices.Equal(injected, []string{"s3:PUTBucket=stale-read", "s3:PUTBuckettagging=stale-read"}) {
		t.Errorf("selected writes %v, want the create and the older bucket's tagging", injected)
	}

	waitWindow(written)
	// Nothing refused reached the emulator.
	if _, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket}); err == nil {
		t.Errorf("the new bucket has a policy: a refused PutBucketPolicy was forwarded")
	}
	if v, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket}); err != nil || v.Status != "" {
		t.Errorf("GetBucketVersioning after the window: %v, %q; want never enabled", err, v.Status)
	}
	if _, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("o")}); err == nil {
		t.Errorf("the object of a refused PutObject exists")
	}
	if _, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Errorf("PutBucketVersioning of the new bucket after the window: %s", err)
	}
}

// A new key refuses the writes that name it by ID or ARN (CreateAlias's and
// UpdateAlias's TargetKeyId, EnableKeyRotation, PutKeyPolicy, TagResource,
// UntagResource, EnableKey) with NotFoundException for the window.
func TestFaultProxy_notYetVisibleKey(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	old := newKey(t, c)
	alias, added := "alias/"+RandomName("visible"), "alias/"+RandomName("visible")
	if _, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: &old}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.KMS.DeleteAlias(context.Background(), &kms.DeleteAliasInput{AliasName: &alias})
		_, _ = c.KMS.DeleteAlias(context.Background(), &kms.DeleteAliasInput{AliasName: &added})
	})

	p.Arm(Fault{Kind: FaultStaleRead, Attempts: AllWrites, Window: testWindow})
	out, err := c.KMS.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("fault proxy test")})
	if err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	id, keyARN := aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
	t.Cleanup(func() {
		p.Disarm()
		_, _ = c.KMS.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(7)})
	})

	nf := func(op string, call func() error) refusedWrite {
		return refusedWrite{op: "kms:" + op, code: "NotFoundException", status: http.StatusBadRequest, call: call}
	}
	tags := []kmstypes.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}
	checkRefused(t, p, written, []refusedWrite{
		nf("CreateAlias", func() error {
			_, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &added, TargetKeyId: &id})
			return err
		}),
		nf("UpdateAlias", func() error {
			_, err := c.KMS.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: &alias, TargetKeyId: &keyARN})
			return err
		}),
		nf("EnableKeyRotation", func() error {
			_, err := c.KMS.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &id})
			return err
		}),
		nf("PutKeyPolicy", func() error {
			_, err := c.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &keyARN, PolicyName: aws.String("default"), Policy: aws.String(keyPolicy("New"))})
			return err
		}),
		nf("TagResource", func() error {
			_, err := c.KMS.TagResource(ctx, &kms.TagResourceInput{KeyId: &id, Tags: tags})
			return err
		}),
		nf("UntagResource", func() error {
			_, err := c.KMS.UntagResource(ctx, &kms.UntagResourceInput{KeyId: &keyARN, TagKeys: []string{"k"}})
			return err
		}),
		nf("EnableKey", func() error {
			_, err := c.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &id})
			return err
		}),
	})
	// The SDK's typed error, and the message naming the key's ARN.
	_, err = c.KMS.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &id})
	var notFound *kmstypes.NotFoundException
	if !errors.As(err, &notFound) || !strings.Contains(notFound.ErrorMessage(), keyARN) {
		t.Errorf("EnableKeyRotation of the new key: %v, want NotFoundException naming %s", err, keyARN)
	}
	if _, err := c.KMS.TagResource(ctx, &kms.TagResourceInput{KeyId: &old, Tags: tags}); err != nil {
		t.Errorf("TagResource of an older key within the window: %s", err)
	}

	waitWindow(written)
	if _, err := c.KMS.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &id}); err != nil {
		t.Errorf("EnableKeyRotation of the new key after the window: %s", err)
	}
	p.Disarm()
	if d, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias}); err != nil || aws.ToString(d.KeyMetadata.KeyId) != old {
		t.Errorf("DescribeKey(%s): %v; a refused UpdateAlias must leave it on the older key", alias, err)
	}
	if _, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &added}); err == nil {
		t.Errorf("alias %s exists: a refused CreateAlias was forwarded", added)
	}
	if tl, err := c.KMS.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: &id}); err != nil || len(tl.Tags) != 0 {
		t.Errorf("tags of the new key: %v %+v; want none", err, tl)
	}
	if pol, err := c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default")}); err != nil || strings.Contains(aws.ToString(pol.Policy), `"New"`) {
		t.Errorf("key policy of the new key: %v; a refused PutKeyPolicy was forwarded", err)
	}
}

// A new table refuses UpdateContinuousBackups with
// ContinuousBackupsUnavailableException, UpdateTable and TagResource with
// ResourceNotFoundException, for the window.
func TestFaultProxy_notYetVisibleTable(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	name := RandomName("visible")
	p.Arm(Fault{Kind: FaultStaleRead, Attempts: AllWrites, Window: testWindow})
	out, err := c.DynamoDB.CreateTable(ctx, lockTable(name))
	if err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	t.Cleanup(func() {
		p.Disarm()
		_, _ = c.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
	})
	tableARN := aws.ToString(out.TableDescription.TableArn)
	enable := func() error {
		_, err := c.DynamoDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: &name,
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
		return err
	}
	checkRefused(t, p, written, []refusedWrite{
		{op: "dynamodb:UpdateContinuousBackups", code: "ContinuousBackupsUnavailableException", status: http.StatusBadRequest, call: enable},
		{op: "dynamodb:UpdateTable", code: "ResourceNotFoundException", status: http.StatusBadRequest, call: func() error {
			_, err := c.DynamoDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &name, DeletionProtectionEnabled: aws.Bool(true)})
			return err
		}},
		{op: "dynamodb:TagResource", code: "ResourceNotFoundException", status: http.StatusBadRequest, call: func() error {
			_, err := c.DynamoDB.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: &tableARN, Tags: []ddbtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
	})
	var unavailable *ddbtypes.ContinuousBackupsUnavailableException
	if err := enable(); !errors.As(err, &unavailable) || aws.ToString(unavailable.Message) != "Backups are being enabled for the table: "+name+". Please retry later" {
		t.Errorf("UpdateContinuousBackups of the new table: %v, want AWS's ContinuousBackupsUnavailableException", err)
	}

	waitWindow(written)
	if s, err := pitr(ctx, c, name); err != nil || s != ddbtypes.PointInTimeRecoveryStatusDisabled {
		t.Errorf("PITR after the window: %q, %v; a refused UpdateContinuousBackups was forwarded", s, err)
	}
	if tl, err := c.DynamoDB.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: &tableARN}); err != nil || len(tl.Tags) != 0 {
		t.Errorf("tags of the new table after the window: %v %+v; want none", err, tl)
	}
	if err := enable(); err != nil {
		t.Errorf("UpdateContinuousBackups of the new table after the window: %s", err)
	}
}

// A new policy refuses CreatePolicyVersion, TagPolicy and UntagPolicy, a new
// role PutRolePolicy, TagRole, UntagRole and UpdateAssumeRolePolicy, with a
// 404 NoSuchEntity for the window.
func TestFaultProxy_notYetVisibleIAM(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role := RandomName("visible")
	p.Arm(Fault{Kind: FaultStaleRead, Attempts: AllWrites, Window: testWindow})
	out, err := c.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(RandomName("visible")), Path: aws.String("/faultproxy/"), PolicyDocument: aws.String(iamDoc("s3:GetObject"))})
	if err != nil {
		t.Fatal(err)
	}
	policyWritten, policy := time.Now(), aws.ToString(out.Policy.Arn)
	t.Cleanup(func() {
		p.Disarm()
		_, _ = c.IAM.DeletePolicy(context.Background(), &iam.DeletePolicyInput{PolicyArn: &policy})
	})
	if _, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &role, AssumeRolePolicyDocument: &trust}); err != nil {
		t.Fatal(err)
	}
	roleWritten := time.Now()
	t.Cleanup(func() {
		p.Disarm()
		_, _ = c.IAM.DeleteRolePolicy(context.Background(), &iam.DeleteRolePolicyInput{RoleName: &role, PolicyName: aws.String("inline")})
		_, _ = c.IAM.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: &role})
	})

	nse := func(op string, call func() error) refusedWrite {
		return refusedWrite{op: "iam:" + op, code: "NoSuchEntity", status: http.StatusNotFound, call: call}
	}
	tags := []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	checkRefused(t, p, policyWritten, []refusedWrite{
		nse("CreatePolicyVersion", func() error {
			_, err := c.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &policy, PolicyDocument: aws.String(iamDoc("s3:PutObject")), SetAsDefault: true})
			return err
		}),
		nse("TagPolicy", func() error {
			_, err := c.IAM.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: &policy, Tags: tags})
			return err
		}),
		nse("UntagPolicy", func() error {
			_, err := c.IAM.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: &policy, TagKeys: []string{"k"}})
			return err
		}),
		nse("PutRolePolicy", func() error {
			_, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: aws.String("inline"), PolicyDocument: aws.String(iamDoc("s3:GetObject"))})
			return err
		}),
		nse("TagRole", func() error {
			_, err := c.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: &role, Tags: tags})
			return err
		}),
		nse("UntagRole", func() error {
			_, err := c.IAM.UntagRole(ctx, &iam.UntagRoleInput{RoleName: &role, TagKeys: []string{"k"}})
			return err
		}),
		nse("UpdateAssumeRolePolicy", func() error {
			_, err := c.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &role, PolicyDocument: aws.String(strings.Replace(trust, "logs", "cloudtrail", 1))})
			return err
		}),
	})
	_, err = c.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: &role, Tags: tags})
	var nf *iamtypes.NoSuchEntityException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), role) {
		t.Errorf("TagRole of the new role: %v, want NoSuchEntityException naming the role", err)
	}

	waitWindow(roleWritten)
	if vs, err := c.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: &policy}); err != nil || len(vs.Versions) != 1 {
		t.Errorf("versions of the new policy after the window: %v %+v; a refused CreatePolicyVersion was forwarded", err, vs)
	}
	if rp, err := c.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &role}); err != nil || len(rp.PolicyNames) != 0 {
		t.Errorf("inline policies of the new role after the window: %v %+v; want none", err, rp)
	}
	if r, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &role}); err != nil || !strings.Contains(aws.ToString(r.Role.AssumeRolePolicyDocument), "logs") {
		t.Errorf("trust policy of the new role after the window: %v; a refused UpdateAssumeRolePolicy was forwarded", err)
	}
	if _, err := c.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: &role, Tags: tags}); err != nil {
		t.Errorf("TagRole of the new role after the window: %s", err)
	}
}

// A new trail refuses PutEventSelectors, StartLogging, AddTags, RemoveTags
// and UpdateTrail, by name or ARN, with TrailNotFoundException.
func TestFaultProxy_notYetVisibleTrail(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	bucket := newBucket(t, c)
	name := RandomName("visible")
	p.Arm(Fault{Kind: FaultStaleRead, Match: "cloudtrail:CreateTrail", Window: testWindow})
	out, err := c.CloudTrail.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: &name, S3BucketName: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	t.Cleanup(func() {
		p.Disarm()
		_, _ = c.CloudTrail.DeleteTrail(context.Background(), &cloudtrail.DeleteTrailInput{Name: &name})
	})
	trailARN := aws.ToString(out.TrailARN)
	tnf := func(op string, call func() error) refusedWrite {
		return refusedWrite{op: "cloudtrail:" + op, code: "TrailNotFoundException", status: http.StatusBadRequest, call: call}
	}
	tags := []cttypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	checkRefused(t, p, written, []refusedWrite{
		tnf("PutEventSelectors", func() error {
			_, err := c.CloudTrail.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: &name,
				EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true)}}})
			return err
		}),
		tnf("StartLogging", func() error {
			_, err := c.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &trailARN})
			return err
		}),
		tnf("AddTags", func() error {
			_, err := c.CloudTrail.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: &trailARN, TagsList: tags})
			return err
		}),
		tnf("RemoveTags", func() error {
			_, err := c.CloudTrail.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: &trailARN, TagsList: tags})
			return err
		}),
		tnf("UpdateTrail", func() error {
			_, err := c.CloudTrail.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: &name, EnableLogFileValidation: aws.Bool(true)})
			return err
		}),
	})
	_, err = c.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &name})
	var nf *cttypes.TrailNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "trail/"+name) {
		t.Errorf("StartLogging of the new trail: %v, want TrailNotFoundException naming it", err)
	}

	waitWindow(written)
	if st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: &name}); err != nil || aws.ToBool(st.IsLogging) {
		t.Errorf("trail status after the window: %v; a refused StartLogging was forwarded", err)
	}
	if tr, err := c.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: &name}); err != nil || aws.ToBool(tr.Trail.LogFileValidationEnabled) {
		t.Errorf("trail after the window: %v; a refused UpdateTrail was forwarded", err)
	}
	if _, err := c.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &name}); err != nil {
		t.Errorf("StartLogging of the new trail after the window: %s", err)
	}
}

// A new log group refuses PutRetentionPolicy, PutMetricFilter,
// AssociateKmsKey, TagResource and UntagResource, by name or ARN, with
// ResourceNotFoundException.
func TestFaultProxy_notYetVisibleLogGroup(t *testing.T) {
	p, c := proxyClients(t)
	ctx := t.Context()
	group := "/faultproxy/" + RandomName("visible")
	p.Arm(Fault{Kind: FaultStaleRead, Attempts: AllWrites, Window: testWindow})
	if _, err := c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	t.Cleanup(func() {
		p.Disarm()
		_, _ = c.Logs.DeleteLogGroup(context.Background(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: &group})
	})
	groupARN := derivedARN("logs", "us-east-1", "log-group:"+group)
	rnf := func(op string, call func() error) refusedWrite {
		return refusedWrite{op: "logs:" + op, code: "ResourceNotFoundException", status: http.StatusBadRequest, call: call}
	}
	checkRefused(t, p, written, []refusedWrite{
		rnf("PutRetentionPolicy", func() error {
			_, err := c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: aws.Int32(365)})
			return err
		}),
		rnf("PutMetricFilter", func() error {
			_, err := c.Logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: &group, FilterName: aws.String("f"), FilterPattern: aws.String("ERROR"),
				MetricTransformations: []logstypes.MetricTransformation{{MetricName: aws.String("M"), MetricNamespace: aws.String("FaultProxy"), MetricValue: aws.String("1")}}})
			return err
		}),
		rnf("AssociateKmsKey", func() error {
			// Never forwarded, so the key need not exist.
			_, err := c.Logs.AssociateKmsKey(ctx, &cloudwatchlogs.AssociateKmsKeyInput{LogGroupName: &group, KmsKeyId: aws.String(derivedARN("kms", "us-east-1", "key/11111111-2222-3333-4444-555555555555"))})
			return err
		}),
		rnf("TagResource", func() error {
			_, err := c.Logs.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: &groupARN, Tags: map[string]string{"k": "v"}})
			return err
		}),
		rnf("UntagResource", func() error {
			_, err := c.Logs.UntagResource(ctx, &cloudwatchlogs.UntagResourceInput{ResourceArn: &groupARN, TagKeys: []string{"k"}})
			return err
		}),
	})
	var nf *logstypes.ResourceNotFoundException
	if _, err := c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: aws.Int32(365)}); !errors.As(err, &nf) {
		t.Errorf("PutRetentionPolicy of the new group: %v, want ResourceNotFoundException", err)
	}

	waitWindow(written)
	lg, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: &group})
	if err != nil || len(lg.LogGroups) != 1 || lg.LogGroups[0].RetentionInDays != nil || lg.LogGroups[0].KmsKeyId != nil {
		t.Errorf("the group after the window: %v %+v; want no retention and no key", err, lg)
	}
	if mf, err := c.Logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: &group}); err != nil || len(mf.MetricFilters) != 0 {
		t.Errorf("metric filters after the window: %v %+v; want none", err, mf)
	}
	if tl, err := c.Logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: &groupARN}); err != nil || len(tl.Tags) != 0 {
		t.Errorf("tags after the window: %v %+v; want none", err, tl)
	}
	if _, err := c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: aws.Int32(365)}); err != nil {
		t.Errorf("PutRetentionPolicy of the new group after the window: %s", err)
	}
}

// Which objects a request is addressed to, for the rule: reads, creates,
// deletes the consistency model does not know and other services' writes
// name none; IDs, names and ARNs name the same object. No emulator.
func TestWriteTargets(t *testing.T) {
	const keyID = "0b6f1c1e-1111-2222-3333-444455556666"
	jsonReq := func(service, target, body string) *awsRequest {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "https://aws.test/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", target)
		op := target[strings.LastIndex(target, ".")+1:]
		return parseRequest(r, []byte(body), service, op)
	}
	queryReq := func(body string) *awsRequest {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "https://iam.test/", strings.NewReader(body))
		_, op := classify(r, []byte(body))
		return parseRequest(r, []byte(body), "iam", op)
	}
	s3Req := func(method, target string) *awsRequest {
		r := httptest.NewRequestWithContext(t.Context(), method, "https://s3.test"+target, nil)
		return parseRequest(r, nil, "s3", s3Operation(r))
	}
	cases := []struct {
		what string
		q    *awsRequest
		want []object
	}{
		{"CreateBucket", s3Req(http.MethodPut, "/b"), nil},
		{"GetBucketPolicy", s3Req(http.MethodGet, "/b?policy"), nil},
		{"HeadBucket", s3Req(http.MethodHead, "/b"), nil},
		{"PutBucketPolicy", s3Req(http.MethodPut, "/b?policy"), []object{{objBucket, "b"}}},
		{"PutObject", s3Req(http.MethodPut, "/b/state/key"), []object{{objBucket, "b"}}},
		{"DeleteBucket", s3Req(http.MethodDelete, "/b"), []object{{objBucket, "b"}}},
		{"PUT without a bucket", s3Req(http.MethodPut, "/"), nil},
		{"PutKeyPolicy by ARN", jsonReq("kms", "TrentService.PutKeyPolicy", `{"KeyId":"arn:aws:kms:eu-west-1:999999999999:key/`+keyID+`"}`), []object{{objKey, keyID}}},
		{"CreateAlias", jsonReq("kms", "TrentService.CreateAlias", `{"AliasName":"alias/a","TargetKeyId":"`+keyID+`"}`), []object{{objKey, keyID}}},
		{"DescribeKey", jsonReq("kms", "TrentService.DescribeKey", `{"KeyId":"`+keyID+`"}`), nil},
		{"ScheduleKeyDeletion", jsonReq("kms", "TrentService.ScheduleKeyDeletion", `{"KeyId":"`+keyID+`"}`), nil},
		{"CreateKey", jsonReq("kms", "TrentService.CreateKey", `{}`), nil},
		{"DynamoDB TagResource", jsonReq("dynamodb", "DynamoDB_20120810.TagResource", `{"ResourceArn":"arn:aws:dynamodb:us-east-1:1:table/t"}`), []object{{objTable, "t"}}},
		{"DeleteTable", jsonReq("dynamodb", "DynamoDB_20120810.DeleteTable", `{"TableName":"t"}`), nil},
		{"AddTags", jsonReq("cloudtrail", "CloudTrail_20131101.AddTags", `{"ResourceId":"arn:aws:cloudtrail:us-east-1:1:trail/tr"}`), []object{{objTrail, "tr"}}},
		{"Logs TagResource", jsonReq("logs", "Logs_20140328.TagResource", `{"resourceArn":"arn:aws:logs:us-east-1:1:log-group:/g:*"}`), []object{{objLogGroup, "/g"}}},
		{"PutRolePolicy", queryReq("Action=PutRolePolicy&RoleName=r&PolicyName=p"), []object{{objRole, "r"}}},
		{"TagPolicy", queryReq("Action=TagPolicy&PolicyArn=arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fx%2Fp"), []object{{objPolicy, "arn:aws:iam:::policy/x/p"}}},
		{"GetRole", queryReq("Action=GetRole&RoleName=r"), nil},
		{"AttachRolePolicy", queryReq("Action=AttachRolePolicy&RoleName=r"), nil},
	}
	for _, tc := range cases {
		if got := writeTargets(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: targets %v, want %v", tc.what, got, tc.want)
		}
	}
}
