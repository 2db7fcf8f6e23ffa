// Package statevents manages the EventBridge rule that tells a backend's alarm
// topic, within seconds, that a state object or one of its versions was
// deleted from the state bucket: find, check, ensure, drift and delete.
//
// The rule is on the account's default event bus, where S3 sends the events
// of a bucket whose notification configuration turns EventBridge on (a
// control of the state bucket, not of this package). It matches S3's "Object
// Deleted" events of the state bucket whatever their deletion type, so both a
// delete marker over a state ("Delete Marker Created") and the purge of a
// version ("Permanently Deleted") notify, and leaves out two kinds that are
// routine:
//   - lock files (keys ending in ".tflock"): Terraform's and OpenTofu's
//     use_lockfile deletes one at every lock release;
//   - deletions by the bucket's lifecycle rule (reason "Lifecycle
//     Expiration"), which expires old versions every day. A lifecycle rule
//     changed to expire states is drift of the state bucket's lifecycle
//     control.
//
// Every other reason (DeleteObject, DeleteObjects, and any AWS adds later)
// notifies. The one target is the alarm topic, which receives the event as
// S3 wrote it: the key, the version, the deletion type, the requester and
// its source IP are what whoever is paged needs first, and an input
// transformer would be one more thing to get wrong or to drift.
//
// What the topic must allow (the provider does not manage it): its access
// policy must let EventBridge publish, for example a statement allowing the
// service principal events.amazonaws.com the action sns:Publish on the topic,
// best with a condition aws:SourceArn equal to the rule's ARN. A topic
// encrypted with a customer managed KMS key also needs that key's policy to
// let events.amazonaws.com use it (kms:Decrypt and kms:GenerateDataKey*);
// a topic encrypted with the AWS managed key alias/aws/sns cannot receive
// EventBridge events at all. Without these grants, EventBridge accepts the
// rule and its target but every delivery fails, which shows only in the
// rule's FailedInvocations metric.
package statevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/securestate/terraform-provider-securestate/internal/awserr"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/retry"
	"github.com/securestate/terraform-provider-securestate/internal/tags"
)

// API is the part of the EventBridge client this package uses.
type API interface {
	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	DescribeRule(context.Context, *eventbridge.DescribeRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	DeleteRule(context.Context, *eventbridge.DeleteRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error)
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	RemoveTargets(context.Context, *eventbridge.RemoveTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
	ListTagsForResource(context.Context, *eventbridge.ListTagsForResourceInput, ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error)
	TagResource(context.Context, *eventbridge.TagResourceInput, ...func(*eventbridge.Options)) (*eventbridge.TagResourceOutput, error)
	UntagResource(context.Context, *eventbridge.UntagResourceInput, ...func(*eventbridge.Options)) (*eventbridge.UntagResourceOutput, error)
}

// Spec is the rule a backend wants.
type Spec struct {
	Backend  string
	Rule     string // the rule's name (naming.StateEventsRule)
	Bucket   string // the state bucket
	TopicARN string // the alarm topic
	Tags     map[string]string
}

// Control is the control the rule is reported under.
const Control = "state_delete_events"

// TargetID is the ID of the rule's one target, the alarm topic.
const TargetID = "alarm-topic"

// lockSuffix ends the key of every lock file (use_lockfile).
const lockSuffix = ".tflock"

// Observed is what exists.
type Observed struct {
	Rule    string // the rule's name
	ARN     string
	Pattern string
	State   string // ENABLED, DISABLED, ...
	// Targets are the ARNs of the rule's targets, sorted; TargetIDs maps
	// each target's ID to its ARN.
	Targets   []string
	TargetIDs map[string]string
	// Reshaped are the IDs of the targets that do not deliver the event as
	// it is (Input, InputPath or InputTransformer set), sorted.
	Reshaped []string
	Tags     map[string]string
}

// Pattern is the rule's event pattern for the state bucket bucket (see the
// package comment): S3's "Object Deleted" events of the bucket, of any
// deletion type, except lock files and lifecycle expirations.
func Pattern(bucket string) string {
	p := map[string]any{
		"source":      []string{"aws.s3"},
		"detail-type": []string{"Object Deleted"},
		"detail": map[string]any{
			"bucket": map[string]any{"name": []string{bucket}},
			"object": map[string]any{"key": []any{map[string]any{"anything-but": map[string]string{"suffix": lockSuffix}}}},
			"reason": []any{map[string]any{"anything-but": "Lifecycle Expiration"}},
		},
	}
	out, err := json.Marshal(p)
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return string(out)
}

// description is the rule's description.
func (s Spec) description() string {
	return "Notifies the alarm topic when a state or state version is deleted from " + s.Bucket + " (backend " + s.Backend + ", managed by securestate)"
}

// SamePattern reports whether two event patterns match the same events: equal
// as JSON, whatever the whitespace and key order, and with the values of each
// list (which EventBridge reads as alternatives) in any order. A pattern that
// is not JSON equals nothing.
func SamePattern(a, b string) bool {
	na, errA := normalPattern(a)
	nb, errB := normalPattern(b)
	return errA == nil && errB == nil && na == nb
}

// normalPattern is a pattern's canonical JSON: keys sorted (as encoding/json
// writes maps) and list values sorted by their own canonical JSON.
func normalPattern(p string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(p), &v); err != nil {
		return "", err
	}
	out, err := json.Marshal(canonical(v))
	return string(out), err
}

func canonical(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = canonical(e)
		}
		return out
	case []any:
		type item struct {
			key string
			v   any
		}
		items := make([]item, 0, len(t))
		for _, e := range t {
			c := canonical(e)
			key, _ := json.Marshal(c)
			items = append(items, item{string(key), c})
		}
		slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.key, b.key) })
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = it.v
		}
		return out
	}
	return v
}

// Find reads the rule and its targets at once, then its tags by the ARN the
// rule reports (two round trips). A missing rule is awserr.ErrNotFound,
// whatever else failed; every other failure is reported.
func Find(ctx context.Context, api API, rule string) (*Observed, error) {
	var (
		wg               sync.WaitGroup
		desc             *eventbridge.DescribeRuleOutput
		targets          []types.Target
		descErr, listErr error
	)
	wg.Go(func() {
		if desc, descErr = api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(rule)}); descErr != nil {
			descErr = fmt.Errorf("events:DescribeRule %s: %w", rule, descErr)
		}
	})
	wg.Go(func() { targets, listErr = listTargets(ctx, api, rule) })
	wg.Wait()
	// Either read may be the one that finds the rule gone (deleted between them).
	if isNotFound(descErr) || isNotFound(listErr) {
		return nil, awserr.NotFound("EventBridge rule %s", rule)
	}
	if err := errors.Join(descErr, listErr); err != nil {
		return nil, err
	}
	o := &Observed{Rule: rule, ARN: aws.ToString(desc.Arn), Pattern: aws.ToString(desc.EventPattern), State: string(desc.State),
		TargetIDs: map[string]string{}, Tags: map[string]string{}}
	for _, t := range targets {
		id, arn := aws.ToString(t.Id), aws.ToString(t.Arn)
		o.TargetIDs[id] = arn
		o.Targets = append(o.Targets, arn)
		if t.Input != nil || t.InputPath != nil || t.InputTransformer != nil {
			o.Reshaped = append(o.Reshaped, id)
		}
	}
	slices.Sort(o.Targets)
	slices.Sort(o.Reshaped)
	listed, err := api.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: desc.Arn})
	switch {
	case isNotFound(err):
		return nil, awserr.NotFound("EventBridge rule %s", rule)
	case err != nil:
		return nil, fmt.Errorf("events:ListTagsForResource %s: %w", rule, err)
	}
	for _, t := range listed.Tags {
		o.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return o, nil
}

// listTargets lists every target of the rule, page by page.
func listTargets(ctx context.Context, api API, rule string) ([]types.Target, error) {
	var (
		out   []types.Target
		token *string
	)
	for {
		page, err := api.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("events:ListTargetsByRule %s: %w", rule, err)
		}
		out = append(out, page.Targets...)
		if token = page.NextToken; aws.ToString(token) == "" {
			return out, nil
		}
	}
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// Check refuses to adopt a rule that does not carry the backend's ownership
// tag. It reads nothing.
func Check(spec Spec, o *Observed) error {
	if o == nil || o.Tags[naming.OwnerTagKey] == spec.Backend {
		return nil
	}
	return fmt.Errorf("EventBridge rule %s already exists and was not created by this backend (no %s=%s tag); rename or delete it",
		spec.Rule, naming.OwnerTagKey, spec.Backend)
}

// Drift compares the rule with the spec: "" when it is compliant, otherwise
// every problem found, separated by "; ". The pattern is compared as JSON.
func Drift(spec Spec, o *Observed) string {
	if o == nil {
		return "the EventBridge rule " + spec.Rule + " is missing"
	}
	var problems []string
	if o.State != string(types.RuleStateEnabled) {
		problems = append(problems, fmt.Sprintf("the rule is %s", orNone(o.State)))
	}
	if !SamePattern(o.Pattern, Pattern(spec.Bucket)) {
		problems = append(problems, "the rule's event pattern differs from the state deletions of "+spec.Bucket)
	}
	if arn, ok := o.TargetIDs[TargetID]; !ok || arn != spec.TopicARN {
		problems = append(problems, "the rule does not notify "+spec.TopicARN)
	}
	if len(o.Reshaped) > 0 {
		problems = append(problems, "the rule rewrites the event it sends to "+strings.Join(o.Reshaped, ", "))
	}
	if others := others(o); len(others) > 0 {
		var arns []string
		for _, id := range others {
			arns = append(arns, o.TargetIDs[id])
		}
		problems = append(problems, "the rule also sends state deletions to "+strings.Join(arns, ", "))
	}
	return strings.Join(problems, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "in no state"
	}
	return s
}

// others are the IDs of the targets besides the alarm topic, sorted.
func others(o *Observed) []string {
	var ids []string
	for id := range o.TargetIDs {
		if id != TargetID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Ensure makes the rule match the spec, starting from have, what Find
// observed (nil: the rule does not exist and is created). Without tracked
// (the rule is not in state yet) a rule without the ownership tag is
// refused before anything is written. Only what differs is written: the
// rule (pattern, state, description; the tags travel with a create), then its
// target (the topic, with the event as it is) and the removal of any other
// target, while the tags of an existing rule are synced. The result is one
// Find; a new rule whose tags it shows missing (a service that ignores tags
// on create) is tagged and read again. The writes to a rule this Ensure made
// are retried while EventBridge does not see it yet.
func Ensure(ctx context.Context, api API, spec Spec, have *Observed, tracked bool) (*Observed, error) {
	created := have == nil
	if !created && !tracked {
		if err := Check(spec, have); err != nil {
			return nil, err
		}
	}
	if created {
		have = &Observed{Rule: spec.Rule, TargetIDs: map[string]string{}, Tags: maps.Clone(spec.Tags)}
	}
	var tagErr error
	var tagging sync.WaitGroup
	if !created {
		// The rule exists: its tags are independent of the other writes
		// (which may record a new ARN in have: read it before they start).
		arn, current := have.ARN, have.Tags
		tagging.Go(func() { tagErr = syncTags(ctx, api, spec.Rule, arn, current, spec.Tags, false) })
	}
	err := ensureRule(ctx, api, spec, have, created)
	if err == nil {
		err = ensureTargets(ctx, api, spec, have, created)
	}
	tagging.Wait()
	if err := errors.Join(err, tagErr); err != nil {
		return nil, err
	}
	o, err := retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.Rule) })
	if err != nil || !tags.Differ(o.Tags, spec.Tags) {
		return o, err
	}
	// PutRule carried the tags; a service that dropped them gets them again.
	if err := syncTags(ctx, api, spec.Rule, o.ARN, o.Tags, spec.Tags, created); err != nil {
		return nil, err
	}
	return retry.Visible(ctx, func() (*Observed, error) { return Find(ctx, api, spec.Rule) })
}

// ensureRule writes the rule when it is new or its pattern, state or
// description differ (PutRule replaces them all), and records its ARN.
func ensureRule(ctx context.Context, api API, spec Spec, have *Observed, created bool) error {
	if !created && have.State == string(types.RuleStateEnabled) && SamePattern(have.Pattern, Pattern(spec.Bucket)) {
		return nil
	}
	in := &eventbridge.PutRuleInput{Name: aws.String(spec.Rule), EventPattern: aws.String(Pattern(spec.Bucket)),
		State: types.RuleStateEnabled, Description: aws.String(spec.description())}
	if created {
		// In the create itself: an organisation may deny creating an untagged rule.
		in.Tags = ruleTags(spec.Tags)
	}
	out, err := api.PutRule(ctx, in)
	if err != nil {
		return fmt.Errorf("events:PutRule %s: %w", spec.Rule, err)
	}
	if arn := aws.ToString(out.RuleArn); arn != "" {
		have.ARN = arn
	}
	return nil
}

// ensureTargets points the alarm-topic target at the topic, delivering the
// event as it is, and removes every other target.
func ensureTargets(ctx context.Context, api API, spec Spec, have *Observed, created bool) error {
	var (
		wg             sync.WaitGroup
		putErr, rmErr  error
		arn, ok        = have.TargetIDs[TargetID]
		reshaped       = slices.Contains(have.Reshaped, TargetID)
		others         = others(have)
		targetsChanged = !ok || arn != spec.TopicARN || reshaped
	)
	if targetsChanged {
		wg.Go(func() {
			// PutTargets replaces a target of the same ID whole, dropping
			// any input rewriting.
			putErr = retry.AfterCreate(ctx, created, func() error {
				out, err := api.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(spec.Rule),
					Targets: []types.Target{{Id: aws.String(TargetID), Arn: aws.String(spec.TopicARN)}}})
				if err != nil {
					return err
				}
				return failedEntries(out.FailedEntries)
			})
			if putErr != nil {
				putErr = fmt.Errorf("events:PutTargets %s: %w", spec.Rule, putErr)
			}
		})
	}
	if len(others) > 0 {
		wg.Go(func() {
			out, err := api.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(spec.Rule), Ids: others})
			if err == nil {
				err = removeFailures(out.FailedEntries)
			}
			if err != nil {
				rmErr = fmt.Errorf("events:RemoveTargets %s (%s): %w", spec.Rule, strings.Join(others, ", "), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(putErr, rmErr)
}

// entryError is a target EventBridge refused within a call that succeeded
// (PutTargets and RemoveTargets answer 200 and list the entries that
// failed). It is a smithy.APIError, so its code shows as the AWS error code.
type entryError struct{ target, code, message string }

func (e *entryError) Error() string {
	return fmt.Sprintf("target %s: %s: %s", e.target, e.code, e.message)
}

func (e *entryError) ErrorCode() string             { return e.code }
func (e *entryError) ErrorMessage() string          { return e.message }
func (e *entryError) ErrorFault() smithy.ErrorFault { return smithy.FaultUnknown }

func failedEntries(entries []types.PutTargetsResultEntry) error {
	var errs []error
	for _, e := range entries {
		errs = append(errs, &entryError{aws.ToString(e.TargetId), aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)})
	}
	return errors.Join(errs...)
}

func removeFailures(entries []types.RemoveTargetsResultEntry) error {
	var errs []error
	for _, e := range entries {
		errs = append(errs, &entryError{aws.ToString(e.TargetId), aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)})
	}
	return errors.Join(errs...)
}

// syncTags turns the rule's tags from have into want: a tag added out of
// band is removed, a removed or changed one written again. created says the
// rule was made moments ago by this Ensure (its tag calls are retried while
// EventBridge does not see it).
func syncTags(ctx context.Context, api API, rule, arn string, have, want map[string]string, created bool) error {
	return tags.Apply(have, want, func(keys []string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.UntagResource(ctx, &eventbridge.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: keys})
			return err
		}); err != nil {
			return fmt.Errorf("events:UntagResource %s: %w", rule, err)
		}
		return nil
	}, func(set map[string]string) error {
		if err := retry.AfterCreate(ctx, created, func() error {
			_, err := api.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: aws.String(arn), Tags: ruleTags(set)})
			return err
		}); err != nil {
			return fmt.Errorf("events:TagResource %s: %w", rule, err)
		}
		return nil
	})
}

func ruleTags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range tags.SortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// Delete removes the rule: its targets first (EventBridge refuses to delete
// a rule that has any), then the rule. A rule already gone counts as deleted.
func Delete(ctx context.Context, api API, rule string) error {
	targets, err := listTargets(ctx, api, rule)
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return err
	}
	if len(targets) > 0 {
		ids := make([]string, 0, len(targets))
		for _, t := range targets {
			ids = append(ids, aws.ToString(t.Id))
		}
		out, err := api.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), Ids: ids})
		switch {
		case isNotFound(err):
			return nil
		case err == nil:
			err = removeFailures(out.FailedEntries)
		}
		if err != nil {
			return fmt.Errorf("events:RemoveTargets %s: %w", rule, err)
		}
	}
	if _, err := api.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule)}); err != nil && !isNotFound(err) {
		return fmt.Errorf("events:DeleteRule %s: %w", rule, err)
	}
	return nil
}
