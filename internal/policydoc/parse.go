package policydoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse reads a policy document given as JSON or as percent-encoded JSON (the
// form IAM's GetPolicyVersion returns). "Statement" may be a single object
// instead of a list. Errors describe what is wrong and where, but never
// repeat the document text.
func Parse(text string) (Document, error) {
	body := strings.TrimSpace(text)
	if body == "" {
		return Document{}, errors.New("invalid policy document: the text is empty")
	}
	// A JSON document cannot start with '%', so such text is percent-encoded.
	if body[0] == '%' {
		decoded, err := url.QueryUnescape(body)
		if err != nil {
			return Document{}, errors.New("invalid policy document: the text looks URL-encoded but contains a malformed percent escape")
		}
		body = strings.TrimSpace(decoded)
		if body == "" {
			return Document{}, errors.New("invalid policy document: the URL-decoded text is empty")
		}
	}
	v, err := decodeValue([]byte(body))
	if err != nil {
		return Document{}, fmt.Errorf("invalid policy document: %w", err)
	}
	d, err := toDocument(v)
	if err != nil {
		return Document{}, fmt.Errorf("invalid policy document: %w", err)
	}
	return d, nil
}

// decodeValue decodes exactly one JSON value, keeping numbers as json.Number.
func decodeValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected content after the end of the JSON value")
	}
	return v, nil
}

// describeJSONError turns a decoding error into a message that does not quote
// the input beyond the single offending character the JSON decoder names.
func describeJSONError(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("the text is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not valid JSON: unexpected end of input")
	case errors.As(err, &syn):
		return fmt.Errorf("not valid JSON: %s (at byte offset %d)", syn.Error(), syn.Offset)
	default:
		return errors.New("not valid JSON")
	}
}

// toDocument converts a decoded JSON value into a Document.
func toDocument(v any) (Document, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Document{}, fmt.Errorf("the document must be a JSON object, got %s", kindOf(v))
	}
	var d Document
	haveStatement := false
	for _, k := range sortedKeys(obj) {
		val := obj[k]
		var err error
		switch k {
		case "Version":
			d.Version, err = toString(val, "Version")
		case "Id":
			d.ID, err = toString(val, "Id")
		case "Statement":
			switch s := val.(type) {
			case nil:
			case map[string]any:
				haveStatement = true
				var st Statement
				st, err = toStatement(s, "Statement")
				d.Statement = []Statement{st}
			case []any:
				haveStatement = true
				d.Statement = make([]Statement, 0, len(s))
				for i, item := range s {
					var st Statement
					st, err = toStatement(item, fmt.Sprintf("Statement[%d]", i))
					if err != nil {
						break
					}
					d.Statement = append(d.Statement, st)
				}
			default:
				err = fmt.Errorf("Statement: expected an object or a list of objects, got %s", kindOf(val))
			}
		default:
			err = fmt.Errorf("unknown top-level element %s", quoteName(k))
		}
		if err != nil {
			return Document{}, err
		}
	}
	if !haveStatement {
		return Document{}, errors.New("the document has no Statement element")
	}
	return d, nil
}

// toStatement converts a decoded JSON value into a Statement.
func toStatement(v any, path string) (Statement, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Statement{}, fmt.Errorf("%s: expected a statement object, got %s", path, kindOf(v))
	}
	var st Statement
	haveEffect := false
	for _, k := range sortedKeys(obj) {
		val := obj[k]
		field := path + "." + k
		var err error
		switch k {
		case "Sid":
			st.Sid, err = toString(val, field)
		case "Effect":
			haveEffect = val != nil
			st.Effect, err = toString(val, field)
		case "Principal":
			st.Principal, err = toPrincipal(val, field)
		case "NotPrincipal":
			st.NotPrincipal, err = toPrincipal(val, field)
		case "Action":
			st.Action, err = toStringSet(val, field, false)
		case "NotAction":
			st.NotAction, err = toStringSet(val, field, false)
		case "Resource":
			st.Resource, err = toStringSet(val, field, false)
		case "NotResource":
			st.NotResource, err = toStringSet(val, field, false)
		case "Condition":
			st.Condition, err = toConditions(val, field)
		default:
			err = fmt.Errorf("%s: unknown element %s", path, quoteName(k))
		}
		if err != nil {
			return Statement{}, err
		}
	}
	if !haveEffect {
		return Statement{}, fmt.Errorf("%s: missing Effect", path)
	}
	return st, nil
}

// toString accepts a JSON string; null counts as absent.
func toString(v any, path string) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	default:
		return "", fmt.Errorf("%s: expected a string, got %s", path, kindOf(v))
	}
}

// toStringSet accepts a string or a list of strings; with lenient set it also
// accepts booleans and numbers, keeping their string form. null yields nil.
func toStringSet(v any, path string, lenient bool) (StringSet, error) {
	want := "a string or a list of strings"
	if lenient {
		want = "a string, boolean, number or a list of those"
	}
	if v == nil {
		return nil, nil
	}
	if s, ok := scalarString(v, lenient); ok {
		return StringSet{s}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected %s, got %s", path, want, kindOf(v))
	}
	out := make(StringSet, 0, len(list))
	for i, item := range list {
		s, ok := scalarString(item, lenient)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: expected %s, got %s", path, i, want, kindOf(item))
		}
		out = append(out, s)
	}
	return out, nil
}

// scalarString returns the string form of a JSON string, or (when lenient)
// of a boolean or number.
func scalarString(v any, lenient bool) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case bool:
		if lenient {
			return strconv.FormatBool(s), true
		}
	case json.Number:
		if lenient {
			return s.String(), true
		}
	}
	return "", false
}

// toPrincipal accepts "*" or an object of principal kinds.
func toPrincipal(v any, path string) (Principal, error) {
	switch p := v.(type) {
	case nil:
		return nil, nil
	case string:
		if p != wildcardKind {
			return nil, fmt.Errorf(`%s: a principal written as a string must be "*"`, path)
		}
		return Principal{wildcardKind: {wildcardKind}}, nil
	case map[string]any:
		out := make(Principal, len(p))
		for _, k := range sortedKeys(p) {
			vals, err := toStringSet(p[k], path+"["+quoteName(k)+"]", false)
			if err != nil {
				return nil, err
			}
			out[k] = vals
		}
		return out, nil
	default:
		return nil, fmt.Errorf(`%s: expected "*" or an object of principal kinds, got %s`, path, kindOf(v))
	}
}

// toConditions accepts an object of operators, each an object of keys.
func toConditions(v any, path string) (Conditions, error) {
	if v == nil {
		return nil, nil
	}
	ops, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected an object of condition operators, got %s", path, kindOf(v))
	}
	out := make(Conditions, len(ops))
	for _, op := range sortedKeys(ops) {
		opPath := path + "[" + quoteName(op) + "]"
		keys, ok := ops[op].(map[string]any)
		if !ok && ops[op] != nil {
			return nil, fmt.Errorf("%s: expected an object of condition keys, got %s", opPath, kindOf(ops[op]))
		}
		inner := make(map[string]StringSet, len(keys))
		for _, k := range sortedKeys(keys) {
			vals, err := toStringSet(keys[k], opPath+"["+quoteName(k)+"]", true)
			if err != nil {
				return nil, err
			}
			inner[k] = vals
		}
		out[op] = inner
	}
	return out, nil
}

// kindOf names the JSON type of a decoded value.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// quoteName quotes an element or key name for an error message, shortening
// long names so that errors never carry large pieces of the input.
func quoteName(name string) string {
	const limit = 64
	if len(name) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		return strconv.Quote(name[:cut]) + "..."
	}
	return strconv.Quote(name)
}

// sortedKeys returns the keys of m in sorted order so that the first error
// reported for a document is always the same one.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
