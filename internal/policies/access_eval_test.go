package policies

import (
	"slices"
	"strings"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// A small request evaluator for the access model's proofs: it decides
// whether a statement applies to one request the way IAM does for the
// elements and condition operators these documents use. checkOperators
// refuses any operator it does not know, so a document cannot slip past the
// semantic checks by using one.

// request is one AWS request as the policies see it.
type request struct {
	principal string // the caller's IAM ARN; "" when an AWS service calls
	service   string // the calling service principal, e.g. cloudtrail.amazonaws.com
	action    string
	resource  string
	context   map[string][]string // condition keys, lower-cased
}

// call builds a request of an IAM principal over TLS; kv are extra condition
// keys and values (a key repeated adds a value).
func call(principal, action, resource string, kv ...string) request {
	r := request{principal: principal, action: action, resource: resource, context: map[string][]string{
		"aws:securetransport":       {"true"},
		"aws:principalisawsservice": {"false"},
	}}
	if principal != "" {
		r.context["aws:principalarn"] = []string{principal}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := strings.ToLower(kv[i])
		r.context[k] = append(r.context[k], kv[i+1])
	}
	return r
}

// serviceCall builds a request an AWS service makes with its service principal.
func serviceCall(service, action, resource string) request {
	return request{service: service, action: action, resource: resource, context: map[string][]string{
		"aws:securetransport":       {"true"},
		"aws:principalisawsservice": {"true"},
	}}
}

// with returns a copy of r with the condition key set to values (none:
// the key is absent).
func (r request) with(key string, values ...string) request {
	ctx := make(map[string][]string, len(r.context)+1)
	for k, v := range r.context {
		ctx[k] = v
	}
	if len(values) == 0 {
		delete(ctx, strings.ToLower(key))
	} else {
		ctx[strings.ToLower(key)] = values
	}
	r.context = ctx
	return r
}

// knownOperators are the condition operators the evaluator understands,
// without the IfExists suffix and the set qualifier.
var knownOperators = []string{"ArnEquals", "ArnLike", "ArnNotLike", "Bool", "Null", "StringEquals", "StringLike", "StringNotEquals", "StringNotLike"}

// splitOperator cuts "ForAllValues:StringLikeIfExists" into its qualifier,
// base operator and IfExists flag.
func splitOperator(op string) (qualifier, base string, ifExists bool) {
	base = op
	if q, rest, ok := strings.Cut(op, ":"); ok {
		qualifier, base = q, rest
	}
	base, ifExists = strings.CutSuffix(base, "IfExists")
	return qualifier, base, ifExists
}

func principalApplies(p policydoc.Principal, r request) bool {
	if p == nil { // an identity policy applies to whoever holds it
		return true
	}
	if slices.Contains(p["*"], "*") || slices.Contains(p["AWS"], "*") {
		return true
	}
	if r.service != "" {
		return slices.Contains(p["Service"], r.service)
	}
	return r.principal != "" && slices.Contains(p["AWS"], r.principal)
}

func valueMatches(base, want, got string) bool {
	switch base {
	case "StringEquals", "StringNotEquals", "ArnEquals":
		return want == got
	case "StringLike", "StringNotLike", "ArnLike", "ArnNotLike":
		return globMatch(want, got)
	case "Bool":
		return strings.EqualFold(want, got)
	}
	return false
}

// conditionHolds evaluates one operator on one key as IAM does: a negated
// operator holds when the key is absent, IfExists holds when it is absent,
// ForAllValues holds over an empty set and ForAnyValue does not.
func conditionHolds(op string, want, got []string, present bool) bool {
	qualifier, base, ifExists := splitOperator(op)
	if !slices.Contains(knownOperators, base) || qualifier != "" && qualifier != "ForAllValues" && qualifier != "ForAnyValue" {
		return false
	}
	if base == "Null" {
		return len(want) == 1 && (want[0] == "true") == !present
	}
	negated := strings.Contains(base, "Not")
	matchesAny := func(v string) bool {
		return slices.ContainsFunc(want, func(w string) bool { return valueMatches(base, w, v) })
	}
	switch qualifier {
	case "ForAllValues":
		for _, v := range got {
			if matchesAny(v) == negated {
				return false
			}
		}
		return true
	case "ForAnyValue":
		return slices.ContainsFunc(got, func(v string) bool { return matchesAny(v) != negated })
	}
	if !present {
		return ifExists || negated
	}
	return slices.ContainsFunc(got, matchesAny) != negated
}

func conditionsHold(c policydoc.Conditions, r request) bool {
	for op, keys := range c {
		for key, want := range keys {
			got, present := r.context[strings.ToLower(key)]
			if !conditionHolds(op, want, got, present) {
				return false
			}
		}
	}
	return true
}

// applies reports whether the statement matches the request: principal,
// action, resource and every condition.
func applies(st policydoc.Statement, r request) bool {
	return principalApplies(st.Principal, r) &&
		slices.ContainsFunc(st.Action, func(a string) bool { return globMatch(strings.ToLower(a), strings.ToLower(r.action)) }) &&
		slices.ContainsFunc(st.Resource, func(p string) bool { return globMatch(p, r.resource) }) &&
		conditionsHold(st.Condition, r)
}

// allows reports whether an Allow statement of d applies to r.
func allows(d policydoc.Document, r request) bool {
	return slices.ContainsFunc(d.Statement, func(st policydoc.Statement) bool { return st.Effect == "Allow" && applies(st, r) })
}

// denials lists the Sids of the Deny statements of d that apply to r.
func denials(d policydoc.Document, r request) []string {
	var out []string
	for _, st := range d.Statement {
		if st.Effect == "Deny" && applies(st, r) {
			out = append(out, st.Sid)
		}
	}
	return out
}
