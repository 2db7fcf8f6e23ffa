package replication

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

// specVariants are the four metrics × time control combinations.
func specVariants() map[string]Spec {
	out := map[string]Spec{}
	for _, v := range []struct {
		name                 string
		metrics, timeControl bool
	}{{"plain", false, false}, {"metrics", true, false}, {"time control", false, true}, {"both", true, true}} {
		s := testSpec()
		s.Metrics, s.TimeControl = v.metrics, v.timeControl
		out[v.name] = s
	}
	return out
}

// What EnsureRule sends, written out: the role, and one rule replicating
// every object, SSE-KMS encrypted ones selected, delete markers replicated,
// to the replica bucket with the replica key; metrics (15 minutes) with
// Metrics or TimeControl, Replication Time Control (15 minutes) with
// TimeControl. The emulator does not read every one of these back, so this
// is their proof.
func TestEnsureRuleSendsTheOneRule(t *testing.T) {
	for name, spec := range specVariants() {
		f := newFakeS3()
		o, err := EnsureRule(context.Background(), f, spec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(f.puts) != 1 {
			t.Fatalf("%s: %d PutBucketReplication", name, len(f.puts))
		}
		in := f.puts[0]
		c := in.ReplicationConfiguration
		if aws.ToString(in.Bucket) != "acme-tfstate-123456789012" || aws.ToString(c.Role) != "arn:aws:iam::123456789012:role/securestate/acme-tfstate-replication" || len(c.Rules) != 1 {
			t.Fatalf("%s: put %s as %s with %d rules", name, aws.ToString(in.Bucket), aws.ToString(c.Role), len(c.Rules))
		}
		r := c.Rules[0]
		d := r.Destination
		checks := map[string]bool{
			"ID":                           aws.ToString(r.ID) == "securestate-replica",
			"priority 1":                   aws.ToInt32(r.Priority) == 1,
			"enabled":                      r.Status == types.ReplicationRuleStatusEnabled,
			"every object":                 r.Filter != nil && r.Filter.Prefix != nil && *r.Filter.Prefix == "" && r.Filter.Tag == nil && r.Filter.And == nil && r.Prefix == nil, //nolint:staticcheck // the V1 Prefix must stay unset
			"delete markers":               r.DeleteMarkerReplication != nil && r.DeleteMarkerReplication.Status == types.DeleteMarkerReplicationStatusEnabled,
			"SSE-KMS objects":              r.SourceSelectionCriteria != nil && r.SourceSelectionCriteria.SseKmsEncryptedObjects.Status == types.SseKmsEncryptedObjectsStatusEnabled,
			"no replica modifications":     r.SourceSelectionCriteria != nil && r.SourceSelectionCriteria.ReplicaModifications == nil,
			"no existing objects setting":  r.ExistingObjectReplication == nil,
			"replica bucket":               aws.ToString(d.Bucket) == "arn:aws:s3:::acme-tfstate-123456789012-replica",
			"replica key":                  d.EncryptionConfiguration != nil && aws.ToString(d.EncryptionConfiguration.ReplicaKmsKeyID) == "arn:aws:kms:eu-west-1:123456789012:key/2222",
			"same account, same owner":     d.Account == nil && d.AccessControlTranslation == nil && d.StorageClass == "",
			"metrics":                      (spec.Metrics || spec.TimeControl) == (d.Metrics != nil && d.Metrics.Status == types.MetricsStatusEnabled && aws.ToInt32(d.Metrics.EventThreshold.Minutes) == 15),
			"time control":                 spec.TimeControl == (d.ReplicationTime != nil && d.ReplicationTime.Status == types.ReplicationTimeStatusEnabled && aws.ToInt32(d.ReplicationTime.Time.Minutes) == 15),
			"metrics only when asked":      spec.Metrics || spec.TimeControl || d.Metrics == nil,
			"time control only when asked": spec.TimeControl || d.ReplicationTime == nil,
		}
		for what, ok := range checks {
			if !ok {
				t.Errorf("%s: the rule sent is wrong: %s", name, what)
			}
		}
		if drift := RuleDrift(spec, o); drift != "" {
			t.Errorf("%s: the rule read back drifts: %s", name, drift)
		}
		if got := f.ops(); len(got) != 2 || got[0] != "PutBucketReplication" || got[1] != "GetBucketReplication" {
			t.Errorf("%s: calls %v, want the write and one read", name, got)
		}
	}
}

// While the new role (or versioning, or a bucket) propagates, S3's named
// refusals are retried; any other refusal is returned at once.
func TestEnsureRuleRetriesOnlyPropagation(t *testing.T) {
	spec := testSpec()
	for name, err := range map[string]error{
		"AccessDenied":             apiError("AccessDenied", "Access Denied"),
		"InvalidRequest role":      apiError("InvalidRequest", "Unable to validate the following destination configurations: role"),
		"NoSuchBucket":             apiError("NoSuchBucket", "The specified bucket does not exist"),
		"versioning just enabled":  apiError("InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration"),
		"destination just created": apiError("InvalidRequest", "Destination bucket must exist."),
	} {
		f := newFakeS3()
		f.fail["PutBucketReplication"] = []error{err, err}
		if _, got := EnsureRule(context.Background(), f, spec); got != nil || f.count("PutBucketReplication") != 3 {
			t.Errorf("%s: EnsureRule = %v after %d puts, want success on the third", name, got, f.count("PutBucketReplication"))
		}
	}
	for name, err := range map[string]error{
		"InvalidRequest other": apiError("InvalidRequest", "Priority must be unique"),
		"MalformedXML":         apiError("MalformedXML", "The XML you provided was not well-formed"),
		"plain":                errors.New("connection reset"),
	} {
		f := newFakeS3()
		f.fail["PutBucketReplication"] = []error{err}
		if _, got := EnsureRule(context.Background(), f, spec); !errors.Is(got, err) || f.count("PutBucketReplication") != 1 ||
			!strings.Contains(got.Error(), "s3:PutBucketReplication acme-tfstate-123456789012") {
			t.Errorf("%s: EnsureRule = %v after %d puts, want the error at once", name, got, f.count("PutBucketReplication"))
		}
	}
}

// Versioning still off when the retries end is reported as such.
func TestEnsureRuleNamesVersioning(t *testing.T) {
	f := newFakeS3()
	versioning := apiError("InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration")
	f.always["PutBucketReplication"] = versioning
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := EnsureRule(ctx, f, testSpec())
	if !errors.Is(err, versioning) || !strings.Contains(err.Error(), "versioning must be Enabled on the state bucket and on the replica bucket acme-tfstate-123456789012-replica") {
		t.Errorf("EnsureRule = %v, want the versioning refusal explained", err)
	}
	if f.count("PutBucketReplication") < 2 {
		t.Errorf("%d puts: versioning written moments ago is retried", f.count("PutBucketReplication"))
	}
}

func TestFindRule(t *testing.T) {
	f := newFakeS3()
	if _, err := FindRule(context.Background(), f, "b"); !awserr.IsNotFound(err) {
		t.Errorf("FindRule without configuration = %v, want not found", err)
	}
	denied := apiError("AccessDenied", "Access Denied")
	f.fail["GetBucketReplication"] = []error{denied}
	if _, err := FindRule(context.Background(), f, "b"); !errors.Is(err, denied) || awserr.IsNotFound(err) || !strings.Contains(err.Error(), "s3:GetBucketReplication b") {
		t.Errorf("FindRule = %v, want the failure named", err)
	}
}

// Drift by AWS's semantics: the rule as written is compliant (also when S3
// adds what it defaults, a STANDARD storage class, disabled optional
// elements); every control that reads differently is named.
func TestRuleDrift(t *testing.T) {
	spec := testSpec() // metrics on, time control off
	written := func() *Rule { return &Rule{Role: spec.RoleARN(), Rules: []types.ReplicationRule{WantRule(spec)}} }
	if d := RuleDrift(spec, written()); d != "" {
		t.Errorf("the rule as written: drift %q", d)
	}
	defaults := written()
	defaults.Rules[0].Destination.StorageClass = types.StorageClassStandard
	defaults.Rules[0].Destination.ReplicationTime = &types.ReplicationTime{Status: types.ReplicationTimeStatusDisabled}
	defaults.Rules[0].SourceSelectionCriteria.ReplicaModifications = &types.ReplicaModifications{Status: types.ReplicaModificationsStatusDisabled}
	if d := RuleDrift(spec, defaults); d != "" {
		t.Errorf("the rule with S3's defaults: drift %q", d)
	}
	cases := map[string]struct {
		mutate func(r *Rule, rule *types.ReplicationRule)
		want   string
	}{
		"role":     {func(r *Rule, _ *types.ReplicationRule) { r.Role = "arn:aws:iam::123456789012:role/other" }, "replication role"},
		"disabled": {func(_ *Rule, x *types.ReplicationRule) { x.Status = types.ReplicationRuleStatusDisabled }, "Disabled"},
		"priority": {func(_ *Rule, x *types.ReplicationRule) { x.Priority = aws.Int32(2) }, "priority"},
		"prefix":   {func(_ *Rule, x *types.ReplicationRule) { x.Filter.Prefix = aws.String("prod/") }, "every state object"},
		"tag filter": {func(_ *Rule, x *types.ReplicationRule) {
			x.Filter.Tag = &types.Tag{Key: aws.String("k"), Value: aws.String("v")}
		}, "every state object"},
		"no filter":            {func(_ *Rule, x *types.ReplicationRule) { x.Filter = nil }, "every state object"},
		"delete markers":       {func(_ *Rule, x *types.ReplicationRule) { x.DeleteMarkerReplication = nil }, "delete markers"},
		"SSE-KMS not selected": {func(_ *Rule, x *types.ReplicationRule) { x.SourceSelectionCriteria = nil }, "SSE-KMS"},
		"replica modifications": {func(_ *Rule, x *types.ReplicationRule) {
			x.SourceSelectionCriteria.ReplicaModifications = &types.ReplicaModifications{Status: types.ReplicaModificationsStatusEnabled}
		}, "replicated back"},
		"destination":    {func(_ *Rule, x *types.ReplicationRule) { x.Destination.Bucket = aws.String("arn:aws:s3:::elsewhere") }, "elsewhere"},
		"no destination": {func(_ *Rule, x *types.ReplicationRule) { x.Destination = nil }, "no destination"},
		"account":        {func(_ *Rule, x *types.ReplicationRule) { x.Destination.Account = aws.String("999999999999") }, "account 999999999999"},
		"owner override": {func(_ *Rule, x *types.ReplicationRule) {
			x.Destination.AccessControlTranslation = &types.AccessControlTranslation{Owner: types.OwnerOverrideDestination}
		}, "owner"},
		"key":               {func(_ *Rule, x *types.ReplicationRule) { x.Destination.EncryptionConfiguration = nil }, "replica key"},
		"glacier":           {func(_ *Rule, x *types.ReplicationRule) { x.Destination.StorageClass = types.StorageClassGlacier }, "GLACIER"},
		"metrics off":       {func(_ *Rule, x *types.ReplicationRule) { x.Destination.Metrics = nil }, "metrics are off"},
		"metrics threshold": {func(_ *Rule, x *types.ReplicationRule) { x.Destination.Metrics.EventThreshold = nil }, "threshold"},
		"time control on": {func(_ *Rule, x *types.ReplicationRule) {
			x.Destination.ReplicationTime = &types.ReplicationTime{Status: types.ReplicationTimeStatusEnabled}
		}, "Time Control is on"},
		"another rule": {func(r *Rule, _ *types.ReplicationRule) {
			r.Rules = append(r.Rules, types.ReplicationRule{ID: aws.String("backup")})
		}, `another rule "backup"`},
		"our rule replaced":     {func(_ *Rule, x *types.ReplicationRule) { x.ID = aws.String("mine") }, "securestate-replica is missing"},
		"V1 rule with a prefix": {func(_ *Rule, x *types.ReplicationRule) { x.Prefix = aws.String("dev/") }, "every state object"}, //nolint:staticcheck // a V1 rule written out of band
		"without status":        {func(_ *Rule, x *types.ReplicationRule) { x.Status = "" }, "without status"},
	}
	for name, c := range cases {
		r := written()
		c.mutate(r, &r.Rules[0])
		if d := RuleDrift(spec, r); !strings.Contains(d, c.want) {
			t.Errorf("%s: drift %q, want it to say %q", name, d, c.want)
		}
	}
	// With time control the metrics are required too, and a time other than
	// 15 minutes is drift; without metrics, metrics left on are drift.
	tc := specVariants()["time control"]
	r := &Rule{Role: tc.RoleARN(), Rules: []types.ReplicationRule{WantRule(tc)}}
	r.Rules[0].Destination.ReplicationTime.Time = &types.ReplicationTimeValue{Minutes: aws.Int32(30)}
	if d := RuleDrift(tc, r); !strings.Contains(d, "not 15 minutes") {
		t.Errorf("time control of 30 minutes: drift %q", d)
	}
	r.Rules[0].Destination.ReplicationTime = nil
	r.Rules[0].Destination.Metrics = nil
	if d := RuleDrift(tc, r); !strings.Contains(d, "Time Control is off") || !strings.Contains(d, "metrics are off") {
		t.Errorf("time control and metrics gone: drift %q", d)
	}
	plain := specVariants()["plain"]
	if d := RuleDrift(plain, written()); !strings.Contains(d, "metrics are on") {
		t.Errorf("metrics left on: drift %q", d)
	}
	if d := RuleDrift(spec, nil); !strings.Contains(d, "no replication rule") {
		t.Errorf("no configuration: drift %q", d)
	}
	if d := RuleDrift(spec, &Rule{Role: spec.RoleARN()}); !strings.Contains(d, naming.ReplicationRuleID+" is missing") {
		t.Errorf("no rule: drift %q", d)
	}
}

func TestDeleteRule(t *testing.T) {
	spec := testSpec()
	f := newFakeS3()
	if _, err := EnsureRule(context.Background(), f, spec); err != nil {
		t.Fatal(err)
	}
	if err := DeleteRule(context.Background(), f, spec.Bucket); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRule(context.Background(), f, spec.Bucket); !awserr.IsNotFound(err) {
		t.Errorf("after DeleteRule: FindRule = %v", err)
	}
	for _, code := range []string{"ReplicationConfigurationNotFoundError", "NoSuchBucket"} {
		f.fail["DeleteBucketReplication"] = []error{apiError(code, "gone")}
		if err := DeleteRule(context.Background(), f, spec.Bucket); err != nil {
			t.Errorf("%s: DeleteRule = %v, want done", code, err)
		}
	}
	denied := apiError("AccessDenied", "Access Denied")
	f.fail["DeleteBucketReplication"] = []error{denied}
	if err := DeleteRule(context.Background(), f, spec.Bucket); !errors.Is(err, denied) {
		t.Errorf("DeleteRule = %v, want the refusal", err)
	}
}
