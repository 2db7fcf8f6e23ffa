package statevents_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/securestate/terraform-provider-securestate/internal/acctest"
	"github.com/securestate/terraform-provider-securestate/internal/awsclient"
	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/statevents"
)

func contractSpec(c *awsclient.Client, name string) statevents.Spec {
	return statevents.Spec{Backend: name, Rule: naming.StateEventsRule(name), Bucket: naming.StateBucket(name, "123456789012"),
		TopicARN: "arn:aws:sns:" + c.Region + ":123456789012:" + name + "-alerts",
		Tags:     map[string]string{naming.OwnerTagKey: name, "team": "platform"}}
}

// readRule reads the rule straight from EventBridge, not through Find.
func readRule(t *testing.T, api *eventbridge.Client, rule string) (*eventbridge.DescribeRuleOutput, []types.Target, map[string]string) {
	t.Helper()
	ctx := context.Background()
	d, err := api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(rule)})
	if err != nil {
		t.Fatalf("DescribeRule: %v", err)
	}
	targets, err := api.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule)})
	if err != nil {
		t.Fatalf("ListTargetsByRule: %v", err)
	}
	listed, err := api.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: d.Arn})
	if err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}
	tags := map[string]string{}
	for _, tg := range listed.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return d, targets.Targets, tags
}

// checkStored checks what EventBridge holds for spec: enabled, the pattern
// (as JSON), one target (the topic, the event as it is), the tags.
func checkStored(t *testing.T, api *eventbridge.Client, spec statevents.Spec) {
	t.Helper()
	d, targets, tags := readRule(t, api, spec.Rule)
	if d.State != types.RuleStateEnabled || !statevents.SamePattern(aws.ToString(d.EventPattern), statevents.Pattern(spec.Bucket)) ||
		aws.ToString(d.EventBusName) != "default" {
		t.Errorf("stored rule %s on bus %s: state %s, pattern %s", spec.Rule, aws.ToString(d.EventBusName), d.State, aws.ToString(d.EventPattern))
	}
	if len(targets) != 1 || aws.ToString(targets[0].Id) != statevents.TargetID || aws.ToString(targets[0].Arn) != spec.TopicARN ||
		targets[0].Input != nil || targets[0].InputPath != nil || targets[0].InputTransformer != nil {
		t.Errorf("stored targets %+v, want only %s → %s", targets, statevents.TargetID, spec.TopicARN)
	}
	if !maps.Equal(tags, spec.Tags) {
		t.Errorf("stored tags %v, want %v", tags, spec.Tags)
	}
}

// The rule's whole life on the emulator: made with its target and tags,
// repaired after changes out of band (disabled, another target, the event
// rewritten, tags changed), a rule of someone else refused, deleted (targets
// first, as EventBridge requires) and deleted again. Every step is read back
// with the SDK, not only through Find.
func TestAccStateEvents_contract(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t)
	name := acctest.RandomName("se")
	spec := contractSpec(c, name)
	t.Cleanup(func() { _ = statevents.Delete(context.Background(), c.Events, spec.Rule) })

	if _, err := statevents.Find(ctx, c.Events, spec.Rule); !awserr.IsNotFound(err) {
		t.Fatalf("Find before create = %v, want not found", err)
	}
	o, err := statevents.Ensure(ctx, c.Events, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if d := statevents.Drift(spec, o); d != "" || !maps.Equal(o.Tags, spec.Tags) || !strings.HasSuffix(o.ARN, ":rule/"+spec.Rule) {
		t.Errorf("after create: drift %q, observed %+v", d, o)
	}
	checkStored(t, c.Events, spec)

	// Out of band: disabled, a second target, the topic's event replaced,
	// the ownership tag removed and another added.
	if _, err := c.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(spec.Rule), EventPattern: aws.String(`{"source":["aws.s3"]}`),
		State: types.RuleStateDisabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(spec.Rule), Targets: []types.Target{
		{Id: aws.String(statevents.TargetID), Arn: aws.String(spec.TopicARN), Input: aws.String(`"all is well"`)},
		{Id: aws.String("copy"), Arn: aws.String("arn:aws:sqs:" + c.Region + ":123456789012:elsewhere")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Events.UntagResource(ctx, &eventbridge.UntagResourceInput{ResourceARN: aws.String(o.ARN), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Events.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: aws.String(o.ARN),
		Tags: []types.Tag{{Key: aws.String("intruder"), Value: aws.String("x")}}}); err != nil {
		t.Fatal(err)
	}
	have, err := statevents.Find(ctx, c.Events, spec.Rule)
	if err != nil {
		t.Fatal(err)
	}
	d := statevents.Drift(spec, have)
	for _, want := range []string{"DISABLED", "event pattern differs", "rewrites the event", "also sends state deletions to arn:aws:sqs:"} {
		if !strings.Contains(d, want) {
			t.Errorf("drift %q, want it to say %q", d, want)
		}
	}
	if o, err = statevents.Ensure(ctx, c.Events, spec, have, true); err != nil {
		t.Fatal(err)
	}
	if d := statevents.Drift(spec, o); d != "" {
		t.Errorf("after repair: drift %q", d)
	}
	checkStored(t, c.Events, spec)

	// Without the ownership tag, a rule not in state is not adopted.
	if _, err := c.Events.UntagResource(ctx, &eventbridge.UntagResourceInput{ResourceARN: aws.String(o.ARN), TagKeys: []string{naming.OwnerTagKey}}); err != nil {
		t.Fatal(err)
	}
	if have, err = statevents.Find(ctx, c.Events, spec.Rule); err != nil {
		t.Fatal(err)
	}
	if _, err := statevents.Ensure(ctx, c.Events, spec, have, false); err == nil || !strings.Contains(err.Error(), "not created by this backend") {
		t.Errorf("Ensure of an unowned rule = %v, want a refusal", err)
	}

	if err := statevents.Delete(ctx, c.Events, spec.Rule); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(spec.Rule)}); !awserr.HasCode(err, "ResourceNotFoundException") {
		t.Errorf("DescribeRule after Delete = %v, want ResourceNotFoundException", err)
	}
	if _, err := statevents.Find(ctx, c.Events, spec.Rule); !awserr.IsNotFound(err) {
		t.Errorf("Find after Delete = %v, want not found", err)
	}
	if err := statevents.Delete(ctx, c.Events, spec.Rule); err != nil {
		t.Errorf("Delete of a deleted rule = %v, want nil", err)
	}
}

// A client from awsclient.InRegion makes the rule in that region only (the
// emulator, like AWS, keeps each region's rules apart and takes the region
// from the request's signature).
func TestAccStateEvents_inAnotherRegion(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	home := acctest.Client(t)
	other := home.InRegion(otherRegion(home.Region))
	name := acctest.RandomName("se")
	spec := contractSpec(other, name)
	t.Cleanup(func() { _ = statevents.Delete(context.Background(), other.Events, spec.Rule) })

	o, err := statevents.Ensure(ctx, other.Events, spec, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.ARN, ":events:"+other.Region+":") {
		t.Errorf("rule ARN %s, want one in %s", o.ARN, other.Region)
	}
	if _, err := statevents.Find(ctx, home.Events, spec.Rule); !awserr.IsNotFound(err) {
		t.Errorf("Find in %s = %v, want not found: the rule was made in %s", home.Region, err, other.Region)
	}
	checkStored(t, other.Events, spec)
}

func otherRegion(region string) string {
	if region == "us-west-2" {
		return "eu-west-1"
	}
	return "us-west-2"
}

// The pattern, run by the emulator's own EventBridge matcher (moto's, an
// implementation of AWS's documented pattern rules independent of this
// code): S3 deletions of the state bucket, delete markers and version purges
// alike, match; lock files, lifecycle expirations, other buckets and other S3
// events do not. An archive of the default bus with the rule's pattern counts
// what matches (moto delivers to neither SNS nor, readably for the SDK, a log
// group), one event at a time. The events are put with PutEvents, which AWS
// (and so possibly another emulator) refuses for the aws.s3 source; there the
// refusal is logged and the test ends. It runs in a region of its own, so no
// other test's rule sees its events.
func TestAccStateEvents_patternMatchesDeletions(t *testing.T) {
	acctest.PreCheck(t)
	ctx := context.Background()
	c := acctest.Client(t).InRegion("ap-southeast-2")
	name := acctest.RandomName("se")
	bucket := naming.StateBucket(name, "123456789012")
	archive := name + "-probe"
	bus := "arn:aws:events:" + c.Region + ":" + c.AccountID + ":event-bus/default"
	if _, err := c.Events.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String(archive), EventSourceArn: aws.String(bus),
		EventPattern: aws.String(statevents.Pattern(bucket))}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.Events.DeleteArchive(context.Background(), &eventbridge.DeleteArchiveInput{ArchiveName: aws.String(archive)})
	})
	count := func() int64 {
		t.Helper()
		out, err := c.Events.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String(archive)})
		if err != nil {
			t.Fatal(err)
		}
		return out.EventCount
	}

	for _, e := range []struct {
		key, bucket, detailType, reason, deletion string
		match                                     bool
	}{
		{"dev/terraform.tfstate", bucket, "Object Deleted", "DeleteObject", "Delete Marker Created", true},
		{"prod/terraform.tfstate", bucket, "Object Deleted", "DeleteObject", "Permanently Deleted", true},
		{"dev/terraform.tfstate.tflock", bucket, "Object Deleted", "DeleteObject", "Delete Marker Created", false},
		{"old/terraform.tfstate", bucket, "Object Deleted", "Lifecycle Expiration", "Permanently Deleted", false},
		{"other/terraform.tfstate", bucket + "-other", "Object Deleted", "DeleteObject", "Delete Marker Created", false},
		{"new/terraform.tfstate", bucket, "Object Created", "PutObject", "", false},
	} {
		before := count()
		detail, _ := json.Marshal(map[string]any{"version": "0", "bucket": map[string]string{"name": e.bucket},
			"object": map[string]string{"key": e.key}, "reason": e.reason, "deletion-type": e.deletion})
		put, err := c.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("aws.s3"),
			DetailType: aws.String(e.detailType), Detail: aws.String(string(detail)), Resources: []string{"arn:aws:s3:::" + e.bucket}}}})
		if err != nil {
			t.Fatal(err)
		}
		if put.FailedEntryCount > 0 {
			// AWS reserves aws.* sources to AWS services; moto does not.
			t.Logf("the emulator refused an event from aws.s3 (%s), as AWS does: the pattern is proven by the unit tests only here",
				aws.ToString(put.Entries[0].ErrorCode))
			return
		}
		if got := count() - before; got != map[bool]int64{true: 1, false: 0}[e.match] {
			t.Errorf("%s %s of %s (%s, %s): %d events matched, want match %v", e.detailType, e.key, e.bucket, e.reason, e.deletion, got, e.match)
		}
	}
}
