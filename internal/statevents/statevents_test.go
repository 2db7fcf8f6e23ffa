package statevents

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

const topic = "arn:aws:sns:us-east-1:123456789012:alerts"

func testSpec() Spec {
	return Spec{Backend: "acme", Rule: naming.StateEventsRule("acme"), Bucket: "acme-tfstate-123456789012", TopicARN: topic,
		Tags: map[string]string{naming.OwnerTagKey: "acme", "team": "platform"}}
}

// findReads are the calls of one Find, sorted.
var findReads = []string{"DescribeRule", "ListTagsForResource", "ListTargetsByRule"}

// observeAndEnsure does what the orchestrator does: one Find, then Ensure
// with what it observed.
func observeAndEnsure(ctx context.Context, f *fakeEvents, spec Spec, tracked bool) (*Observed, error) {
	have, err := Find(ctx, f, spec.Rule)
	if awserr.IsNotFound(err) {
		have, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Ensure(ctx, f, spec, have, tracked)
}

// applied is a fake holding the rule Ensure makes for testSpec, its calls
// and recorded inputs forgotten.
func applied(t *testing.T) *fakeEvents {
	t.Helper()
	f := newFake()
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), false); err != nil {
		t.Fatal(err)
	}
	f.calls, f.rulesPut, f.put, f.removed, f.tagged, f.untagged = nil, nil, nil, nil, nil, nil
	return f
}

func observe(t *testing.T, f *fakeEvents) *Observed {
	t.Helper()
	o, err := Find(context.Background(), f, testSpec().Rule)
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	return o
}

// The pattern, read as JSON: S3 "Object Deleted" events of the state bucket,
// any deletion type (no filter on it), lock files and lifecycle expirations
// left out, nothing else.
func TestPattern(t *testing.T) {
	var got any
	if err := json.Unmarshal([]byte(Pattern("acme-tfstate-123456789012")), &got); err != nil {
		t.Fatalf("Pattern is not JSON: %v", err)
	}
	want := map[string]any{
		"source":      []any{"aws.s3"},
		"detail-type": []any{"Object Deleted"},
		"detail": map[string]any{
			"bucket": map[string]any{"name": []any{"acme-tfstate-123456789012"}},
			"object": map[string]any{"key": []any{map[string]any{"anything-but": map[string]any{"suffix": ".tflock"}}}},
			"reason": []any{map[string]any{"anything-but": "Lifecycle Expiration"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Pattern =\n %v\nwant\n %v", got, want)
	}
	if strings.Contains(Pattern("b"), "deletion-type") {
		t.Error("the pattern filters on deletion-type: delete markers and version purges must both match")
	}
}

func TestSamePattern(t *testing.T) {
	p := Pattern("acme-tfstate-123456789012")
	for name, tc := range map[string]struct {
		other string
		same  bool
	}{
		"itself": {p, true},
		"reformatted, keys reordered": {`{ "detail": { "reason": [ {"anything-but":"Lifecycle Expiration"} ], "object": {"key": [{"anything-but": {"suffix": ".tflock"}}]},
			"bucket": {"name": ["acme-tfstate-123456789012"]} }, "detail-type": ["Object Deleted"], "source": ["aws.s3"] }`, true},
		"another bucket":       {Pattern("acme-tfstate-210987654321"), false},
		"lock files included":  {strings.Replace(p, `{"anything-but":{"suffix":".tflock"}}`, `{"prefix":""}`, 1), false},
		"not JSON":             {"{", false},
		"empty":                {"", false},
		"an alternative added": {strings.Replace(p, `["Object Deleted"]`, `["Object Deleted","Object Created"]`, 1), false},
	} {
		if got := SamePattern(p, tc.other); got != tc.same {
			t.Errorf("%s: SamePattern = %v, want %v", name, got, tc.same)
		}
	}
	// The values of a list are alternatives: their order does not matter.
	if !SamePattern(`{"a":["x","y",{"prefix":"z"}]}`, `{"a":[{"prefix":"z"},"y","x"]}`) {
		t.Error("lists in another order differ")
	}
	if SamePattern(`{"a":["x","y"]}`, `{"a":["x"]}`) {
		t.Error("a list with a value less is the same")
	}
}

func compliant() *Observed {
	s := testSpec()
	return &Observed{Rule: s.Rule, ARN: ruleARN(s.Rule), Pattern: Pattern(s.Bucket), State: "ENABLED",
		Targets: []string{topic}, TargetIDs: map[string]string{TargetID: topic}, Tags: maps.Clone(s.Tags)}
}

func TestDrift(t *testing.T) {
	spec := testSpec()
	if got := Drift(spec, compliant()); got != "" {
		t.Errorf("compliant rule: Drift = %q", got)
	}
	for name, tc := range map[string]struct {
		mutate func(*Observed)
		want   []string
	}{
		"disabled":         {func(o *Observed) { o.State = "DISABLED" }, []string{"the rule is DISABLED"}},
		"pattern widened":  {func(o *Observed) { o.Pattern = `{"source":["aws.s3"]}` }, []string{"event pattern differs"}},
		"pattern not JSON": {func(o *Observed) { o.Pattern = "" }, []string{"event pattern differs"}},
		"another topic": {func(o *Observed) { o.TargetIDs[TargetID] = "arn:aws:sns:us-east-1:123456789012:elsewhere" },
			[]string{"does not notify " + topic}},
		"no target":    {func(o *Observed) { o.TargetIDs, o.Targets = map[string]string{}, nil }, []string{"does not notify " + topic}},
		"input set":    {func(o *Observed) { o.Reshaped = []string{TargetID} }, []string{"rewrites the event it sends to " + TargetID}},
		"extra target": {func(o *Observed) { o.TargetIDs["copy"] = "arn:aws:sqs:us-east-1:123456789012:q" }, []string{"also sends state deletions to arn:aws:sqs:us-east-1:123456789012:q"}},
		"several": {func(o *Observed) { o.State = "DISABLED"; o.TargetIDs = map[string]string{} },
			[]string{"the rule is DISABLED", "does not notify"}},
	} {
		o := compliant()
		tc.mutate(o)
		got := Drift(spec, o)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: Drift = %q, want it to say %q", name, got, w)
			}
		}
	}
	if got := Drift(spec, nil); !strings.Contains(got, spec.Rule+" is missing") {
		t.Errorf("no rule: Drift = %q", got)
	}
	// The tags are not a control: tag drift is reported through the tags.
	o := compliant()
	o.Tags = map[string]string{}
	if got := Drift(spec, o); got != "" {
		t.Errorf("untagged rule: Drift = %q", got)
	}
}

func TestCheck(t *testing.T) {
	spec := testSpec()
	for name, tags := range map[string]map[string]string{"no ownership tag": {"team": "platform"}, "another backend's": {naming.OwnerTagKey: "acme-2"}} {
		o := compliant()
		o.Tags = tags
		if err := Check(spec, o); err == nil || !strings.Contains(err.Error(), "not created by this backend") || !strings.Contains(err.Error(), spec.Rule) {
			t.Errorf("%s: Check = %v, want a refusal naming %s", name, err, spec.Rule)
		}
		f := newFake()
		if _, err := Ensure(context.Background(), f, spec, o, false); err == nil || len(f.calls) != 0 {
			t.Errorf("%s: Ensure = %v after calls %v, want a refusal without I/O", name, err, f.calls)
		}
		// A rule in state is repaired whatever its tags.
		if _, err := Ensure(context.Background(), newFake(), spec, o, true); err != nil && strings.Contains(err.Error(), "not created by this backend") {
			t.Errorf("%s, tracked: Ensure refused: %v", name, err)
		}
	}
	if err := Check(spec, compliant()); err != nil {
		t.Errorf("own rule: Check = %v", err)
	}
	if err := Check(spec, nil); err != nil {
		t.Errorf("no rule: Check = %v", err)
	}
}

// A new rule: PutRule with the pattern, ENABLED, a description and the tags,
// then the one target, the topic, with the event as it is; then one Find.
func TestEnsureCreates(t *testing.T) {
	f := newFake()
	spec := testSpec()
	o, err := Ensure(context.Background(), f, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); !slices.Equal(w, []string{"PutRule", "PutTargets"}) {
		t.Errorf("writes %v, want PutRule then PutTargets", w)
	}
	if n := len(f.writes()); !slices.Equal(slices.Sorted(slices.Values(f.calls[n:])), findReads) {
		t.Errorf("calls %v, want the writes and then one Find", f.calls)
	}
	in := f.rulesPut[0]
	sent := map[string]string{}
	for _, tg := range in.Tags {
		sent[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if aws.ToString(in.Name) != spec.Rule || aws.ToString(in.EventPattern) != Pattern(spec.Bucket) || in.State != types.RuleStateEnabled ||
		!strings.Contains(aws.ToString(in.Description), spec.Bucket) || aws.ToString(in.EventBusName) != "" || !maps.Equal(sent, spec.Tags) {
		t.Errorf("PutRule %+v (tags %v), want %s on the default bus, enabled, with the pattern and the tags", in, sent, spec.Rule)
	}
	pt := f.put[0]
	if aws.ToString(pt.Rule) != spec.Rule || len(pt.Targets) != 1 {
		t.Fatalf("PutTargets %+v, want one target on %s", pt, spec.Rule)
	}
	if tg := pt.Targets[0]; aws.ToString(tg.Id) != TargetID || aws.ToString(tg.Arn) != topic || tg.Input != nil || tg.InputPath != nil ||
		tg.InputTransformer != nil || tg.RoleArn != nil {
		t.Errorf("target %+v, want %s → %s delivering the event as it is", tg, TargetID, topic)
	}
	if got := Drift(spec, o); got != "" || o.ARN != ruleARN(spec.Rule) || !maps.Equal(o.Tags, spec.Tags) {
		t.Errorf("observed %+v (drift %q)", o, got)
	}
}

// Ensure of a compliant rule writes nothing and reads it once: the final Find.
func TestEnsureCompliantReadsOnce(t *testing.T) {
	f := applied(t)
	if _, err := Ensure(context.Background(), f, testSpec(), observe(t, f), false); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(f.calls)); !slices.Equal(got, findReads) {
		t.Errorf("calls %v, want one Find (%v) and no write", got, findReads)
	}
}

func TestEnsureRepairs(t *testing.T) {
	spec := testSpec()
	rule := spec.Rule
	for name, tc := range map[string]struct {
		mutate func(f *fakeEvents)
		writes []string
	}{
		"disabled":        {func(f *fakeEvents) { f.rules[rule].rule.State = types.RuleStateDisabled }, []string{"PutRule"}},
		"pattern changed": {func(f *fakeEvents) { f.rules[rule].rule.EventPattern = aws.String(`{"source":["aws.s3"]}`) }, []string{"PutRule"}},
		"pattern reformatted": {func(f *fakeEvents) {
			var v any
			_ = json.Unmarshal([]byte(Pattern(spec.Bucket)), &v)
			out, _ := json.MarshalIndent(v, "", "    ")
			f.rules[rule].rule.EventPattern = aws.String(string(out))
		}, nil},
		"target to another topic": {func(f *fakeEvents) {
			f.rules[rule].targets[0].Arn = aws.String("arn:aws:sns:us-east-1:123456789012:elsewhere")
		}, []string{"PutTargets"}},
		"target removed": {func(f *fakeEvents) { f.rules[rule].targets = nil }, []string{"PutTargets"}},
		"input rewritten": {func(f *fakeEvents) {
			f.rules[rule].targets[0].InputTransformer = &types.InputTransformer{InputTemplate: aws.String(`"nothing to see"`)}
		}, []string{"PutTargets"}},
		"another target added": {func(f *fakeEvents) {
			f.rules[rule].targets = append(f.rules[rule].targets, types.Target{Id: aws.String("copy"), Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:q")})
		}, []string{"RemoveTargets"}},
		"tags changed": {func(f *fakeEvents) {
			f.rules[rule].tags = map[string]string{naming.OwnerTagKey: "acme", "team": "other", "intruder": "x", "aws:cloudformation:stack-name": "s"}
		}, []string{"TagResource", "UntagResource"}},
		"everything": {func(f *fakeEvents) {
			r := f.rules[rule]
			r.rule.State = types.RuleStateDisabled
			r.targets = []types.Target{{Id: aws.String("copy"), Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:q")}}
			delete(r.tags, "team")
		}, []string{"PutRule", "PutTargets", "RemoveTargets", "TagResource"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := applied(t)
			tc.mutate(f)
			o, err := observeAndEnsure(context.Background(), f, spec, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(slices.Values(f.writes())); !slices.Equal(got, tc.writes) {
				t.Errorf("writes %v, want %v", f.writes(), tc.writes)
			}
			if i, j := slices.Index(f.writes(), "PutRule"), slices.Index(f.writes(), "PutTargets"); i >= 0 && j >= 0 && j < i {
				t.Errorf("writes %v: the target before the rule", f.writes())
			}
			if got := Drift(spec, o); got != "" {
				t.Errorf("after Ensure: drift %q", got)
			}
			for _, rm := range f.removed {
				if !slices.Equal(rm.Ids, []string{"copy"}) {
					t.Errorf("RemoveTargets %v, want only the foreign target", rm.Ids)
				}
			}
			want := maps.Clone(spec.Tags)
			if _, ok := o.Tags["aws:cloudformation:stack-name"]; ok {
				want["aws:cloudformation:stack-name"] = "s"
			}
			if !maps.Equal(o.Tags, want) {
				t.Errorf("tags %v, want %v", o.Tags, want)
			}
		})
	}
}

// The tags travel in the PutRule that creates the rule; a service that drops
// them gets them again after the verification read shows them missing, and
// only then.
func TestEnsureTagsOnCreateAndRepairsDroppedTags(t *testing.T) {
	for name, drop := range map[string]bool{"kept on create": false, "dropped on create": true} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.dropCreateTags = drop
			o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(f.tagged), map[bool]int{false: 0, true: 1}[drop]; got != want {
				t.Errorf("TagResource called %d times, want %d", got, want)
			}
			if !maps.Equal(o.Tags, testSpec().Tags) {
				t.Errorf("observed tags %v, want %v", o.Tags, testSpec().Tags)
			}
		})
	}
}

// Each write that follows the making of the rule is answered once with
// ResourceNotFoundException, as EventBridge may while it does not see a rule
// made moments ago: Ensure writes again and succeeds.
func TestEnsureRetriesWritesToANewRuleNotYetVisible(t *testing.T) {
	for op, dropTags := range map[string]bool{"PutTargets": false, "TagResource": true} {
		t.Run(op, func(t *testing.T) {
			f := newFake()
			f.dropCreateTags = dropTags
			f.fail[op] = []error{apiError("ResourceNotFoundException")}
			o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
			if err != nil {
				t.Fatal(err)
			}
			if n := f.count(op); n != 2 {
				t.Errorf("%s called %d times, want twice (not visible, then done)", op, n)
			}
			if got := Drift(testSpec(), o); got != "" {
				t.Errorf("drift %q", got)
			}
		})
	}
}

// A new rule EventBridge never sees: Ensure gives up at the propagation
// bound (here a short deadline).
func TestEnsureGivesUpOnANewRuleNeverVisible(t *testing.T) {
	f := newFake()
	f.always["PutTargets"] = apiError("ResourceNotFoundException")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := observeAndEnsure(ctx, f, testSpec(), false)
	if !awserr.HasCode(err, "ResourceNotFoundException") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ensure = %v, want ResourceNotFoundException at the bound", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Ensure took %s, want it bounded by the 1 s deadline", took)
	}
	if n := f.count("PutTargets"); n < 2 {
		t.Errorf("PutTargets called %d times, want it retried", n)
	}
}

// Writes to a rule that existed before this Ensure are made once.
func TestEnsureDoesNotRetryWritesToAnExistingRule(t *testing.T) {
	f := applied(t)
	f.rules[testSpec().Rule].targets = nil
	f.fail["PutTargets"] = []error{apiError("ResourceNotFoundException")}
	if _, err := observeAndEnsure(context.Background(), f, testSpec(), true); !awserr.HasCode(err, "ResourceNotFoundException") {
		t.Fatalf("Ensure = %v, want ResourceNotFoundException", err)
	}
	if n := f.count("PutTargets"); n != 1 {
		t.Errorf("PutTargets called %d times, want once", n)
	}
}

func TestEnsureFailures(t *testing.T) {
	boom := errors.New("boom")
	spec := testSpec()
	for name, tc := range map[string]struct {
		fresh  bool
		mutate func(*fakeEvents)
		op     string
		want   string
	}{
		"create":        {true, nil, "PutRule", "events:PutRule " + spec.Rule},
		"target":        {true, nil, "PutTargets", "events:PutTargets " + spec.Rule},
		"repair rule":   {false, func(f *fakeEvents) { f.rules[spec.Rule].rule.State = types.RuleStateDisabled }, "PutRule", "events:PutRule"},
		"remove target": {false, addForeignTarget, "RemoveTargets", "events:RemoveTargets " + spec.Rule + " (copy)"},
		"untag":         {false, func(f *fakeEvents) { f.rules[spec.Rule].tags["intruder"] = "x" }, "UntagResource", "events:UntagResource " + spec.Rule},
		"find after":    {true, nil, "ListTagsForResource", "events:ListTagsForResource " + spec.Rule},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			if !tc.fresh {
				f = applied(t)
			}
			if tc.mutate != nil {
				tc.mutate(f)
			}
			f.fail[tc.op] = []error{boom}
			_, err := observeAndEnsure(context.Background(), f, spec, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, boom) {
				t.Errorf("error %v, want %q wrapping the failure", err, tc.want)
			}
		})
	}
	// A rule whose creation failed gets no target.
	f := newFake()
	f.fail["PutRule"] = []error{boom}
	if _, err := Ensure(context.Background(), f, spec, nil, false); !errors.Is(err, boom) || f.count("PutTargets") != 0 {
		t.Errorf("Ensure = %v after calls %v, want the PutRule failure and no target", err, f.calls)
	}
}

func addForeignTarget(f *fakeEvents) {
	r := f.rules[testSpec().Rule]
	r.targets = append(r.targets, types.Target{Id: aws.String("copy"), Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:q")})
}

// PutTargets and RemoveTargets answer 200 and list the targets they refused:
// Ensure reports each with its code.
func TestEnsureReportsRefusedTargets(t *testing.T) {
	spec := testSpec()
	f := newFake()
	f.failEntries["PutTargets"] = "ValidationException"
	_, err := observeAndEnsure(context.Background(), f, spec, false)
	if err == nil || awserr.Code(err) != "ValidationException" || !strings.Contains(err.Error(), "target "+TargetID) {
		t.Errorf("refused PutTargets: Ensure = %v, want the entry's ValidationException naming %s", err, TargetID)
	}
	f = applied(t)
	addForeignTarget(f)
	f.failEntries["RemoveTargets"] = "InternalException"
	_, err = observeAndEnsure(context.Background(), f, spec, true)
	if err == nil || awserr.Code(err) != "InternalException" || !strings.Contains(err.Error(), "target copy") {
		t.Errorf("refused RemoveTargets: Ensure = %v, want the entry's InternalException naming copy", err)
	}
}

func TestFind(t *testing.T) {
	spec := testSpec()
	t.Run("missing", func(t *testing.T) {
		f := newFake()
		f.fail["ListTargetsByRule"] = []error{errors.New("denied")}
		if _, err := Find(context.Background(), f, spec.Rule); !awserr.IsNotFound(err) || !strings.Contains(err.Error(), spec.Rule) {
			t.Errorf("Find of a missing rule = %v, want not found, whatever else failed", err)
		}
	})
	t.Run("gone between the reads", func(t *testing.T) {
		f := applied(t)
		f.fail["ListTargetsByRule"] = []error{apiError("ResourceNotFoundException")}
		if _, err := Find(context.Background(), f, spec.Rule); !awserr.IsNotFound(err) {
			t.Errorf("Find = %v, want not found", err)
		}
		f.fail["ListTagsForResource"] = []error{apiError("ResourceNotFoundException")}
		if _, err := Find(context.Background(), f, spec.Rule); !awserr.IsNotFound(err) {
			t.Errorf("Find = %v, want not found", err)
		}
	})
	t.Run("every failure", func(t *testing.T) {
		f := applied(t)
		errs := map[string]error{"DescribeRule": errors.New("describe denied"), "ListTargetsByRule": errors.New("list denied")}
		for op, e := range errs {
			f.fail[op] = []error{e}
		}
		_, err := Find(context.Background(), f, spec.Rule)
		for op, e := range errs {
			if !errors.Is(err, e) || !strings.Contains(err.Error(), "events:"+op+" "+spec.Rule) {
				t.Errorf("Find = %v, want events:%s reported", err, op)
			}
		}
		if f.count("ListTagsForResource") != 0 {
			t.Error("tags read after the rule could not be")
		}
	})
	t.Run("targets paged", func(t *testing.T) {
		f := applied(t)
		f.pageSize = 1
		r := f.rules[spec.Rule]
		r.targets = append(r.targets, types.Target{Id: aws.String("b"), Arn: aws.String("arn:b")}, types.Target{Id: aws.String("a"), Arn: aws.String("arn:a"), Input: aws.String(`"x"`)})
		o, err := Find(context.Background(), f, spec.Rule)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(o.Targets, slices.Sorted(slices.Values([]string{"arn:a", "arn:b", topic}))) || len(o.TargetIDs) != 3 || !slices.Equal(o.Reshaped, []string{"a"}) {
			t.Errorf("Find = targets %v, IDs %v, reshaped %v; want all three pages", o.Targets, o.TargetIDs, o.Reshaped)
		}
		if n := f.count("ListTargetsByRule"); n != 3 {
			t.Errorf("ListTargetsByRule called %d times, want 3 pages", n)
		}
	})
	t.Run("observed", func(t *testing.T) {
		o, err := Find(context.Background(), applied(t), spec.Rule)
		if err != nil {
			t.Fatal(err)
		}
		if o.Rule != spec.Rule || o.ARN != ruleARN(spec.Rule) || o.State != "ENABLED" || o.Pattern != Pattern(spec.Bucket) ||
			!slices.Equal(o.Targets, []string{topic}) || !maps.Equal(o.Tags, spec.Tags) || len(o.Reshaped) != 0 {
			t.Errorf("Find = %+v", o)
		}
	})
}

func TestDelete(t *testing.T) {
	boom := errors.New("boom")
	spec := testSpec()
	t.Run("targets first", func(t *testing.T) {
		f := applied(t)
		addForeignTarget(f)
		if err := Delete(context.Background(), f, spec.Rule); err != nil {
			t.Fatal(err)
		}
		if w := f.writes(); !slices.Equal(w, []string{"RemoveTargets", "DeleteRule"}) {
			t.Errorf("writes %v, want RemoveTargets then DeleteRule", w)
		}
		if ids := f.removed[0].Ids; !slices.Equal(slices.Sorted(slices.Values(ids)), []string{TargetID, "copy"}) {
			t.Errorf("RemoveTargets %v, want every target", ids)
		}
		if len(f.rules) != 0 {
			t.Errorf("rules left: %v", f.rules)
		}
		// Gone: nothing to do, no error.
		f.calls = nil
		if err := Delete(context.Background(), f, spec.Rule); err != nil || len(f.writes()) != 0 {
			t.Errorf("Delete again = %v with writes %v, want nothing done", err, f.writes())
		}
	})
	t.Run("no targets", func(t *testing.T) {
		f := applied(t)
		f.rules[spec.Rule].targets = nil
		if err := Delete(context.Background(), f, spec.Rule); err != nil || !slices.Equal(f.writes(), []string{"DeleteRule"}) {
			t.Errorf("Delete = %v with writes %v, want DeleteRule alone", err, f.writes())
		}
	})
	t.Run("gone after the listing", func(t *testing.T) {
		f := applied(t)
		f.fail["RemoveTargets"] = []error{apiError("ResourceNotFoundException")}
		if err := Delete(context.Background(), f, spec.Rule); err != nil || f.count("DeleteRule") != 0 {
			t.Errorf("Delete = %v after calls %v, want done", err, f.calls)
		}
		f.fail["DeleteRule"] = []error{apiError("ResourceNotFoundException")}
		f.rules[spec.Rule].targets = nil
		if err := Delete(context.Background(), f, spec.Rule); err != nil {
			t.Errorf("Delete = %v, want a rule gone at DeleteRule to count as deleted", err)
		}
	})
	for op, want := range map[string]string{"ListTargetsByRule": "events:ListTargetsByRule", "RemoveTargets": "events:RemoveTargets", "DeleteRule": "events:DeleteRule"} {
		t.Run(op, func(t *testing.T) {
			f := applied(t)
			f.fail[op] = []error{boom}
			if err := Delete(context.Background(), f, spec.Rule); !errors.Is(err, boom) || !strings.Contains(err.Error(), want+" "+spec.Rule) {
				t.Errorf("Delete = %v, want %s reported", err, want)
			}
		})
	}
	t.Run("target refused", func(t *testing.T) {
		f := applied(t)
		f.failEntries["RemoveTargets"] = "InternalException"
		if err := Delete(context.Background(), f, spec.Rule); awserr.Code(err) != "InternalException" || f.count("DeleteRule") != 0 {
			t.Errorf("Delete = %v after calls %v, want the refusal and no DeleteRule", err, f.calls)
		}
	})
}
