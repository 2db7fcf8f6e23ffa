package locktable

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

func testSpec() Spec {
	return Spec{Backend: "acme", Table: "acme-tflock", ARN: tableARN, KeyARN: "arn:aws:kms:us-east-1:123456789012:key/k",
		Tags: map[string]string{naming.OwnerTagKey: "acme", "team": "platform"}}
}

const tableARN = "arn:aws:dynamodb:us-east-1:123456789012:table/acme-tflock"

// observeAndEnsure does what the orchestrator does: one Find, then Ensure
// with what it observed.
func observeAndEnsure(ctx context.Context, f *fakeDynamoDB, spec Spec, tracked bool) (*Observed, error) {
	have, err := Find(ctx, f, spec.Table, spec.ARN)
	if awserr.IsNotFound(err) {
		have, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Ensure(ctx, f, spec, have, tracked)
}

func TestEnsureCreatesAHardenedTable(t *testing.T) {
	f := newFake()
	f.creating = 1 // CREATING once: Ensure waits for ACTIVE
	spec := testSpec()
	o, err := observeAndEnsure(context.Background(), f, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 1 {
		t.Fatalf("CreateTable called %d times, want once", len(f.created))
	}
	in := f.created[0]
	if aws.ToString(in.TableName) != spec.Table || in.BillingMode != types.BillingModePayPerRequest || !aws.ToBool(in.DeletionProtectionEnabled) {
		t.Errorf("CreateTable(%s, billing %s, deletion protection %v), want %s on demand with deletion protection",
			aws.ToString(in.TableName), in.BillingMode, aws.ToBool(in.DeletionProtectionEnabled), spec.Table)
	}
	if len(in.KeySchema) != 1 || aws.ToString(in.KeySchema[0].AttributeName) != HashKey || in.KeySchema[0].KeyType != types.KeyTypeHash ||
		len(in.AttributeDefinitions) != 1 || aws.ToString(in.AttributeDefinitions[0].AttributeName) != HashKey || in.AttributeDefinitions[0].AttributeType != types.ScalarAttributeTypeS {
		t.Errorf("CreateTable key schema %+v attributes %+v, want string hash key %s", in.KeySchema, in.AttributeDefinitions, HashKey)
	}
	if s := in.SSESpecification; s == nil || !aws.ToBool(s.Enabled) || s.SSEType != types.SSETypeKms || aws.ToString(s.KMSMasterKeyId) != spec.KeyARN {
		t.Errorf("CreateTable SSE %+v, want SSE-KMS with %s", in.SSESpecification, spec.KeyARN)
	}
	var sent []string
	for _, tg := range in.Tags {
		sent = append(sent, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	if want := []string{naming.OwnerTagKey + "=acme", "team=platform"}; !slices.Equal(sent, want) {
		t.Errorf("CreateTable tags %v, want %v", sent, want)
	}
	// Everything but point-in-time recovery is set at create.
	if want := []string{"CreateTable", "UpdateContinuousBackups"}; !slices.Equal(f.writes(), want) {
		t.Errorf("writes %v, want %v", f.writes(), want)
	}
	if len(f.backups) != 1 || aws.ToString(f.backups[0].TableName) != spec.Table || !aws.ToBool(f.backups[0].PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled) {
		t.Errorf("UpdateContinuousBackups inputs %+v, want PITR on for %s", f.backups, spec.Table)
	}
	want := Observed{Name: spec.Table, ARN: f.table.arn, Status: types.TableStatusActive, HashKey: HashKey, Billing: types.BillingModePayPerRequest,
		SSEKey: spec.KeyARN, SSEEnabled: true, PITR: true, DeletionProtection: true}
	got := *o
	got.Tags = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("observed %+v, want %+v", got, want)
	}
	if !maps.Equal(o.Tags, spec.Tags) {
		t.Errorf("observed tags %v, want %v", o.Tags, spec.Tags)
	}
}

// CreateTable's reply lost: the SDK's retry finds the table in use. Ensure
// goes on with the table the first attempt made.
func TestEnsureLostCreateReply(t *testing.T) {
	f := newFake()
	f.lost = []error{apiError("ResourceInUseException")}
	o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	drifttest.Compliant(t, "table", Drift(testSpec(), o))
}

// tableUpdate is what an UpdateTable call should ask for.
type tableUpdate struct {
	billing    types.BillingMode
	protection *bool
	sse        bool
}

func TestEnsureHardensAnAdoptedTable(t *testing.T) {
	for name, tc := range map[string]struct {
		setup      func(*fakeTable)
		wantUpdate *tableUpdate
		wantWrites []string
	}{
		"compliant":                       {func(*fakeTable) {}, nil, nil},
		"provisioned, no billing summary": {func(t *fakeTable) { t.billing = nil }, &tableUpdate{types.BillingModePayPerRequest, nil, false}, []string{"UpdateTable"}},
		"deletion protection off":         {func(t *fakeTable) { t.deletionProtection = false }, &tableUpdate{"", aws.Bool(true), false}, []string{"UpdateTable"}},
		"AWS owned key":                   {func(t *fakeTable) { t.sse = nil }, &tableUpdate{"", nil, true}, []string{"UpdateTable"}},
		"another key":                     {func(t *fakeTable) { t.sse.KMSMasterKeyArn = aws.String("arn:aws:kms:us-east-1:123456789012:key/other") }, &tableUpdate{"", nil, true}, []string{"UpdateTable"}},
		"PITR off":                        {func(t *fakeTable) { t.pitr = false }, nil, []string{"UpdateContinuousBackups"}},
		"tag removed":                     {func(t *fakeTable) { delete(t.tags, "team") }, nil, []string{"TagResource"}},
		"tag added":                       {func(t *fakeTable) { t.tags["stale"] = "x" }, nil, []string{"UntagResource"}},
		"resource policy attached":        {func(t *fakeTable) { t.attach(openPolicy) }, nil, []string{"DeleteResourcePolicy"}},
		"SSE enabling":                    {func(t *fakeTable) { t.sse.Status = types.SSEStatusEnabling }, nil, nil},
		"SSE disabling":                   {func(t *fakeTable) { t.sse.Status = types.SSEStatusDisabling }, nil, []string{"UpdateTable"}},
		"still updating":                  {func(t *fakeTable) { t.status, t.describesUntilReady = types.TableStatusUpdating, 1 }, nil, nil},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			spec := testSpec()
			tc.setup(f.hardened(spec))
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.created) != 0 {
				t.Errorf("CreateTable called for an existing table")
			}
			if !slices.Equal(f.writes(), tc.wantWrites) {
				t.Errorf("writes %v, want %v", f.writes(), tc.wantWrites)
			}
			if w := tc.wantUpdate; w != nil && len(f.updated) == 1 {
				in := f.updated[0]
				if in.BillingMode != w.billing || (in.DeletionProtectionEnabled == nil) != (w.protection == nil) || (in.SSESpecification != nil) != w.sse {
					t.Errorf("UpdateTable(billing %q, deletion protection %v, SSE %+v), want billing %q, protection %v, SSE %v",
						in.BillingMode, in.DeletionProtectionEnabled, in.SSESpecification, w.billing, w.protection, w.sse)
				}
				if s := in.SSESpecification; w.sse && (s == nil || !aws.ToBool(s.Enabled) || s.SSEType != types.SSETypeKms || aws.ToString(s.KMSMasterKeyId) != spec.KeyARN) {
					t.Errorf("UpdateTable SSE %+v, want SSE-KMS with %s", s, spec.KeyARN)
				}
			}
			for _, in := range f.tagged {
				if len(in.Tags) != 1 || aws.ToString(in.Tags[0].Key) != "team" || aws.ToString(in.ResourceArn) != f.table.arn {
					t.Errorf("TagResource(%s, %+v), want the team tag only", aws.ToString(in.ResourceArn), in.Tags)
				}
			}
			for _, in := range f.untagged {
				if !slices.Equal(in.TagKeys, []string{"stale"}) || aws.ToString(in.ResourceArn) != f.table.arn {
					t.Errorf("UntagResource(%s, %v), want the stale tag only", aws.ToString(in.ResourceArn), in.TagKeys)
				}
			}
			drifttest.Compliant(t, name, Drift(spec, o))
			if !maps.Equal(o.Tags, spec.Tags) {
				t.Errorf("tags %v, want %v", o.Tags, spec.Tags)
			}
		})
	}
}

func TestEnsureRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		setup   func(*fakeTable)
		tracked bool
		want    string
	}{
		"no ownership tag":    {func(t *fakeTable) { delete(t.tags, naming.OwnerTagKey) }, false, "not created by this backend"},
		"another backend":     {func(t *fakeTable) { t.tags[naming.OwnerTagKey] = "acme-2" }, false, "not created by this backend"},
		"tracked, wrong key":  {func(t *fakeTable) { t.hashKey = "id" }, true, `has hash key "id"`},
		"adopted, wrong key":  {func(t *fakeTable) { t.hashKey = "id" }, false, `has hash key "id"`},
		"tracked, no owner":   {func(t *fakeTable) { t.tags = map[string]string{} }, true, ""},
		"tracked, other tags": {func(t *fakeTable) { t.tags[naming.OwnerTagKey] = "acme-2" }, true, ""},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			tc.setup(f.hardened(testSpec()))
			_, err := observeAndEnsure(context.Background(), f, testSpec(), tc.tracked)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Ensure of a tracked table: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if w := f.writes(); len(w) != 0 {
				t.Errorf("writes %v, want none", w)
			}
		})
	}
}

func TestEnsureFailures(t *testing.T) {
	boom := errors.New("boom")
	for name, tc := range map[string]struct {
		setup func(*fakeDynamoDB)
		want  string
	}{
		"create": {func(f *fakeDynamoDB) { f.fail["CreateTable"] = []error{boom} }, "dynamodb:CreateTable acme-tflock"},
		"describe": {func(f *fakeDynamoDB) {
			f.hardened(testSpec())
			f.fail["DescribeTable"] = []error{boom}
		}, "dynamodb:DescribeTable acme-tflock"},
		"read backups": {func(f *fakeDynamoDB) {
			f.hardened(testSpec())
			f.fail["DescribeContinuousBackups"] = []error{boom}
		}, "dynamodb:DescribeContinuousBackups acme-tflock"},
		"read tags": {func(f *fakeDynamoDB) {
			f.hardened(testSpec())
			f.fail["ListTagsOfResource"] = []error{boom}
		}, "dynamodb:ListTagsOfResource acme-tflock"},
		"read policy": {func(f *fakeDynamoDB) {
			f.hardened(testSpec())
			f.fail["GetResourcePolicy"] = []error{boom}
		}, "dynamodb:GetResourcePolicy acme-tflock"},
		"remove policy": {func(f *fakeDynamoDB) {
			f.hardened(testSpec()).attach(openPolicy)
			f.fail["DeleteResourcePolicy"] = []error{boom}
		}, "dynamodb:DeleteResourcePolicy acme-tflock"},
		"wait": {func(f *fakeDynamoDB) {
			tb := f.hardened(testSpec())
			tb.status, tb.describesUntilReady = types.TableStatusUpdating, 1 // still UPDATING when observed
			f.fail["DescribeTable"] = []error{nil, boom}
		}, "waiting for DynamoDB table acme-tflock to become ACTIVE"},
		"update": {func(f *fakeDynamoDB) {
			f.hardened(testSpec()).deletionProtection = false
			f.fail["UpdateTable"] = []error{boom}
		}, "dynamodb:UpdateTable acme-tflock"},
		"wait after update": {func(f *fakeDynamoDB) {
			f.hardened(testSpec()).deletionProtection = false
			f.fail["DescribeTable"] = []error{nil, boom} // observed, then waited for after UpdateTable
		}, "waiting for DynamoDB table acme-tflock to become ACTIVE"},
		"backups": {func(f *fakeDynamoDB) {
			f.hardened(testSpec()).pitr = false
			f.fail["UpdateContinuousBackups"] = []error{boom}
		}, "dynamodb:UpdateContinuousBackups acme-tflock"},
		"tag": {func(f *fakeDynamoDB) {
			delete(f.hardened(testSpec()).tags, "team")
			f.fail["TagResource"] = []error{boom}
		}, "dynamodb:TagResource arn:aws:dynamodb:us-east-1:123456789012:table/acme-tflock"},
		"untag": {func(f *fakeDynamoDB) {
			f.hardened(testSpec()).tags["stale"] = "x"
			f.fail["UntagResource"] = []error{boom}
		}, "dynamodb:UntagResource arn:aws:dynamodb:us-east-1:123456789012:table/acme-tflock"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			tc.setup(f)
			_, err := observeAndEnsure(context.Background(), f, testSpec(), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, boom) {
				t.Errorf("error %v, want %q wrapping the failure", err, tc.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	f := newFake()
	if _, err := Find(context.Background(), f, "acme-tflock", ""); !awserr.IsNotFound(err) {
		t.Errorf("Find of a missing table: %v, want not found", err)
	}
	f.hardened(testSpec()).status = types.TableStatusDeleting
	if _, err := Find(context.Background(), f, "acme-tflock", ""); !awserr.IsNotFound(err) || !strings.Contains(err.Error(), "deleting") {
		t.Errorf("Find of a table being deleted: %v, want not found", err)
	}
	f.table.status, f.table.sse, f.table.billing = types.TableStatusActive, nil, nil
	o, err := Find(context.Background(), f, "acme-tflock", "")
	if err != nil {
		t.Fatal(err)
	}
	if o.Billing != types.BillingModeProvisioned || o.SSEEnabled || o.SSEKey != "" {
		t.Errorf("table without billing summary or SSE description: %+v; want provisioned, AWS owned key", o)
	}
}

func TestDelete(t *testing.T) {
	boom := errors.New("boom")
	for name, tc := range map[string]struct {
		setup   func(*fakeDynamoDB)
		wantErr string
		gone    bool
	}{
		"protected table": {func(f *fakeDynamoDB) { f.hardened(testSpec()) }, "", true},
		"already gone":    {func(*fakeDynamoDB) {}, "", true},
		"gone meanwhile": {func(f *fakeDynamoDB) {
			f.hardened(testSpec())
			f.fail["DeleteTable"] = []error{apiError("ResourceNotFoundException")}
		}, "", false},
		"protection stays": {func(f *fakeDynamoDB) { f.hardened(testSpec()); f.fail["UpdateTable"] = []error{boom} }, "lifting deletion protection", false},
		"delete refused":   {func(f *fakeDynamoDB) { f.hardened(testSpec()); f.fail["DeleteTable"] = []error{boom} }, "dynamodb:DeleteTable acme-tflock", false},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			tc.setup(f)
			err := Delete(context.Background(), f, "acme-tflock")
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Delete: %v, want error %q", err, tc.wantErr)
			}
			if tc.gone && f.table != nil {
				t.Errorf("table still exists")
			}
			for _, in := range f.updated {
				if aws.ToString(in.TableName) != "acme-tflock" || in.DeletionProtectionEnabled == nil || *in.DeletionProtectionEnabled {
					t.Errorf("UpdateTable(%s, protection %v), want deletion protection lifted", aws.ToString(in.TableName), in.DeletionProtectionEnabled)
				}
			}
		})
	}
}
