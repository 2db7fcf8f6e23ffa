// Package policydoc models AWS IAM policy documents (identity policies, S3
// bucket policies and KMS key policies). It renders them as compact,
// deterministic JSON, parses the forms AWS hands back (including the
// percent-encoded text returned by IAM), and compares documents by meaning
// rather than by text.
package policydoc

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	ID        string      `json:"Id,omitempty"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy document.
type Statement struct {
	Sid          string     `json:"Sid,omitempty"`
	Effect       string     `json:"Effect"` // "Allow" or "Deny"
	Principal    Principal  `json:"Principal,omitempty"`
	NotPrincipal Principal  `json:"NotPrincipal,omitempty"`
	Action       StringSet  `json:"Action,omitempty"`
	NotAction    StringSet  `json:"NotAction,omitempty"`
	Resource     StringSet  `json:"Resource,omitempty"`
	NotResource  StringSet  `json:"NotResource,omitempty"`
	Condition    Conditions `json:"Condition,omitempty"`
}

// StringSet is a JSON value that AWS writes either as one string or as a list
// of strings. It renders as a single string when it holds exactly one
// element and as a list otherwise; as a struct field tagged omitempty an
// empty set is left out.
type StringSet []string

// Principal names who a statement applies to: a map from principal kind
// ("AWS", "Service", "Federated", "CanonicalUser") to values. The wildcard
// principal, written "*" in JSON, is represented as {"*": {"*"}} and renders
// back as the JSON string "*".
type Principal map[string]StringSet

// Conditions maps a condition operator (such as "StringEquals" or "Bool") to
// condition keys and their values. Boolean and numeric values in the input
// are kept in their string form.
type Conditions map[string]map[string]StringSet

// wildcardKind is the Principal key that stands for the JSON string "*".
const wildcardKind = "*"

// String renders the document as compact JSON: map keys sorted, statements
// in their order, HTML-sensitive characters not escaped. It is the way to
// render a policy for AWS.
//
// Its error policy: rendering a Document cannot fail. Everything in it is a
// string, a list of strings or a map of those, which encoding/json always
// encodes (invalid UTF-8 becomes U+FFFD), and this package's MarshalJSON
// methods only emit what encoding/json produced. A marshal error therefore
// means a bug in this package, and String panics saying so, instead of
// handing callers an error they cannot act on or an empty text they might
// send to AWS as a policy.
func (d Document) String() string {
	text, err := d.JSON()
	if err != nil {
		panic("policydoc: bug: a policy document failed to render: " + err.Error())
	}
	return text
}

// JSON is String returning the marshal error instead of panicking. By the
// reasoning on String the error is never non-nil unless this package has a
// bug; use String.
func (d Document) JSON() (string, error) {
	if d.Statement == nil {
		d.Statement = []Statement{}
	}
	b, err := marshalPlain(d)
	if err != nil {
		return "", fmt.Errorf("rendering policy document: %w", err)
	}
	return string(b), nil
}

// MarshalJSON renders a one-element set as a string and any other set as a
// list.
func (s StringSet) MarshalJSON() ([]byte, error) {
	switch len(s) {
	case 0:
		return []byte("[]"), nil
	case 1:
		return marshalPlain(s[0])
	default:
		return marshalPlain([]string(s))
	}
}

// UnmarshalJSON accepts a string or a list of strings.
func (s *StringSet) UnmarshalJSON(data []byte) error {
	v, err := decodeValue(data)
	if err != nil {
		return fmt.Errorf("policydoc: StringSet: %w", err)
	}
	if v == nil {
		return nil
	}
	out, err := toStringSet(v, "StringSet", false)
	if err != nil {
		return fmt.Errorf("policydoc: %w", err)
	}
	*s = out
	return nil
}

// MarshalJSON renders the wildcard principal as "*" and anything else as an
// object of principal kinds.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.isWildcard() {
		return []byte(`"*"`), nil
	}
	return marshalPlain(map[string]StringSet(p))
}

// UnmarshalJSON accepts the string "*" or an object mapping principal kinds
// to a string or list of strings.
func (p *Principal) UnmarshalJSON(data []byte) error {
	v, err := decodeValue(data)
	if err != nil {
		return fmt.Errorf("policydoc: Principal: %w", err)
	}
	if v == nil {
		return nil
	}
	out, err := toPrincipal(v, "Principal")
	if err != nil {
		return fmt.Errorf("policydoc: %w", err)
	}
	*p = out
	return nil
}

// UnmarshalJSON accepts an object of operators, each an object of condition
// keys whose values are strings, booleans, numbers or lists of those.
func (c *Conditions) UnmarshalJSON(data []byte) error {
	v, err := decodeValue(data)
	if err != nil {
		return fmt.Errorf("policydoc: Conditions: %w", err)
	}
	if v == nil {
		return nil
	}
	out, err := toConditions(v, "Conditions")
	if err != nil {
		return fmt.Errorf("policydoc: %w", err)
	}
	*c = out
	return nil
}

// isWildcard reports whether p is the "*" principal in its internal form:
// the single kind "*" whose values are all "*".
func (p Principal) isWildcard() bool {
	if len(p) != 1 {
		return false
	}
	vals, ok := p[wildcardKind]
	if !ok || len(vals) == 0 {
		return false
	}
	for _, v := range vals {
		if v != wildcardKind {
			return false
		}
	}
	return true
}

// marshalPlain encodes v as compact JSON without HTML escaping.
func marshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
