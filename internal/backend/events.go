package backend

import (
	"context"

	"github.com/securestate/terraform-provider-securestate/internal/naming"
	"github.com/securestate/terraform-provider-securestate/internal/statevents"
)

// idEvents is the EventBridge rule that notifies the alarm topic when a
// state object or version is deleted (with cloudtrail.alarms).
const idEvents = "state_events"

func (s settings) eventsSpec() statevents.Spec {
	return statevents.Spec{Backend: s.Name, Rule: naming.StateEventsRule(s.Name), Bucket: s.Bucket, TopicARN: s.AlarmTopic, Tags: s.awsTags()}
}

// eventsComponent is the rule on the default event bus: the state bucket
// sends its events to EventBridge (a control of the bucket), and this rule
// forwards deletions of states and their versions to the alarm topic within
// seconds, where the CloudTrail metric filter takes minutes.
func (s settings) eventsComponent() component {
	spec := s.eventsSpec()
	return component{
		id: idEvents, ident: spec.Rule,
		controls: []string{statevents.Control},
		missing:  "the state deletion events rule is missing",
		// Find: the rule, then its targets and tags together. Create: PutRule
		// (with the tags), PutTargets, the verification (two).
		cost: cost{find: 2, create: 4, repair: 2, keep: 2, remove: 2},
		find: func(ctx context.Context, r *run) error {
			o, err := statevents.Find(ctx, r.c.Events, spec.Rule)
			return keep(&r.events, o, err)
		},
		found: func(r *run) bool { return r.events != nil },
		check: func(r *run) error { return statevents.Check(spec, r.events) },
		ensure: func(ctx context.Context, r *run, tracked bool) error {
			o, err := statevents.Ensure(ctx, r.c.Events, spec, r.events, tracked)
			r.events = o
			return err
		},
		drift: func(r *run) map[string]string {
			return map[string]string{statevents.Control: statevents.Drift(spec, r.events)}
		},
		tags:   func(r *run) []map[string]string { return []map[string]string{r.events.Tags} },
		remove: func(ctx context.Context, r *run) error { return statevents.Delete(ctx, r.c.Events, spec.Rule) },
	}
}
