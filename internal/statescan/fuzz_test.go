package statescan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// errorMessage matches every message Scan's own errors can have: a message
// outside it may be quoting the input.
var errorMessage = regexp.MustCompile(`^statescan: (` +
	`empty state: the input holds no JSON value` +
	`|malformed state: (invalid JSON near byte offset \d+` +
	`|truncated JSON: the input ends at byte offset \d+ inside the state` +
	`|(the state is not a JSON object|unexpected data after the state object|nesting deeper than 10000 levels|sensitive_attributes is not a list|an object key is not a string) at byte offset \d+)` +
	`|unsupported state version: (found (version -?\d+|a non-integer version) at byte offset \d+; only version 4 \(Terraform 0\.12 and later, OpenTofu\) is supported` +
	`|the value of "version" after byte offset \d+ is not a number; want 4` +
	`|the state has no "version" key(; it looks encrypted \(OpenTofu state encryption\), and an encrypted state holds no plaintext to scan)?)` +
	`|state value too large: the value starting at byte offset \d+ is larger than the limit of \d+ bytes)$`)

// redactedSuffix matches an address that ends with a redacted key.
var redactedSuffix = regexp.MustCompile(`\[<redacted:(aws_access_key_id|aws_secret_access_key|private_key_block|jwt|high_entropy_token)>\]$`)

var validRules = []string{RuleSensitive, RuleKnownAttribute, RuleAWSAccessKey, RuleAWSSecretKey, RulePrivateKey, RuleJWT, RuleHighEntropy}

func FuzzScan(f *testing.F) {
	files, err := filepath.Glob("testdata/*.tfstate")
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata states: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// Compacted: the fuzzer minimizes every new input it finds, at a
		// cost that grows with the square of its size.
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			f.Fatal(err)
		}
		f.Add(c.Bytes())
	}
	f.Add([]byte(stateJSON(f, map[string]tOutput{"pw": {Value: testToken, Type: "string", Sensitive: true}},
		managed("aws_iam_access_key", "k", map[string]any{"id": testAccessKeyID, "secret": testSecretKey, "empty": ""}, []tStep{attr("secret")}, []tStep{attr("empty")}),
		managed("terraform_data", "d", map[string]any{"input": map[string]any{"value": map[string]any{"l": []any{nil, testJWT}}, "type": []any{"object", map[string]any{}}}},
			[]tStep{attr("input"), attr("l"), idx(1)}, []tStep{attr("input"), key("m")}),
		tResource{Module: "module.m[0]", Mode: "data", Type: "tls_private_key", Name: "k", Instances: []tInstance{{IndexKey: "a b", Attributes: map[string]any{"private_key_pem": testPrivateKey}}}},
	)))
	// Secret keys, which findings show redacted.
	f.Add([]byte(stateJSON(f, map[string]tOutput{"o": {Value: map[string]any{testJWT: "x"}, Type: []any{"map", "string"}}},
		tResource{Module: `module.m["` + testToken + `"]`, Mode: "managed", Type: "x", Name: "y", Instances: []tInstance{{
			IndexKey:   testAccessKeyID,
			Attributes: map[string]any{"tags": map[string]any{testAccessKeyID: testSecretKey, testToken: ""}},
			Sensitive:  [][]tStep{{attr("tags"), key(testToken)}, {attr("tags"), key(testAccessKeyID)}},
		}}},
	)))
	for _, s := range []string{
		"",
		`{"version":4}`,
		`{"version":3,"modules":[]}`,
		`{"serial":1,"encrypted_data":"x"}`,
		`{"version":4,"resources":[{"sensitive_attributes":[[{"type":"get_attr","value":"a"}]],"instances":[{"attributes_flat":{"a.b":"x","password":"y"},"index_key":1}],"type":"aws_db_instance"}]}`,
		`{"version":4,"resources":[{"instances":[{"sensitive_attributes":[[{"type":"index","value":{"value":"k"}}]],"attributes":{"k":{"value":null,"type":"dynamic"}}}]}]}`,
		`{"version":4,"outputs":{"o":{"sensitive":true,"value":[[],{}]}}}`,
		`[1,2]`,
		`{"version":4,"resources":[{"instances":[{"attributes":{"a":[[[[`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{MaxValueBytes: 4096}
		res, err := Scan(bytes.NewReader(data), opt)

		// The same input read a byte at a time (or, when large, in small
		// pieces) gives the same answer; only how far a failed scan read
		// ahead may differ.
		pieces := iotest.OneByteReader(bytes.NewReader(data))
		if len(data) > 4096 {
			pieces = iotest.HalfReader(bytes.NewReader(data))
		}
		res2, err2 := Scan(pieces, opt)
		if err != nil {
			res2.Bytes = res.Bytes
		}
		if !reflect.DeepEqual(res, res2) || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("not deterministic:\n%+v %v\n%+v %v", res, err, res2, err2)
		}

		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrValueTooLarge) {
				t.Fatalf("error of no known kind: %v", err)
			}
			if !errorMessage.MatchString(err.Error()) {
				t.Fatalf("unexpected error message %q", err)
			}
			if errors.Is(err, ErrVersion) && res.Findings != nil {
				t.Fatalf("findings with a version error: %v", res.Findings)
			}
		} else if res.Bytes != int64(len(data)) {
			t.Fatalf("read %d of %d bytes", res.Bytes, len(data))
		}

		for i, f := range res.Findings {
			if f.Address == "" || f.Path == "" || !slices.Contains(validRules, f.Rule) {
				t.Fatalf("bad finding %+v", f)
			}
			// A finding of an instance or module key ends its address with
			// the key, redacted.
			if (f.Path == indexKeyPath || f.Path == moduleKeyPath) && !redactedSuffix.MatchString(f.Address) {
				t.Fatalf("key finding with the key not redacted: %+v", f)
			}
			if i > 0 {
				p := res.Findings[i-1]
				if c := cmp.Or(cmp.Compare(p.Address, f.Address), cmp.Compare(p.Path, f.Path), cmp.Compare(p.Rule, f.Rule)); c >= 0 {
					t.Fatalf("findings not sorted and unique: %+v then %+v", p, f)
				}
			}
		}
	})
}

// FuzzKeyRedaction plants one key in every place a key reaches a finding:
// an instance key, a module instance key, a map key, an attribute name, an
// output's map key, a step of sensitive_attributes and a legacy flat key. A
// key the detector finds must never appear in the result.
func FuzzKeyRedaction(f *testing.F) {
	for _, k := range []string{testAccessKeyID, testSecretKey, testToken, testJWT, "-----BEGIN " + "PRIVATE KEY-----", "tags", "a.b", "x.arn:" + testToken,
		testJWT + ".z", `q"` + testToken, "https://example.com/" + testToken, "\u00e9" + testToken, strings.Repeat("k", 250) + testToken} {
		f.Add(k)
	}
	d := detector{base64: DefaultEntropyThreshold, hex: DefaultEntropyThreshold - 1}
	f.Fuzz(func(t *testing.T, k string) {
		if !utf8.ValidString(k) {
			// encoding/json would plant another key.
			t.Skip()
		}
		secret := d.checkKey(k) != 0
		quoted := strconv.Quote(k)
		state := stateJSON(t, map[string]tOutput{"o": {Value: map[string]any{k: "v"}, Type: []any{"map", "string"}}},
			tResource{Module: "module.m[" + quoted + "]", Mode: "managed", Type: "x", Name: "y", Instances: []tInstance{{
				IndexKey:   k,
				Attributes: map[string]any{k: "v", "tags": map[string]any{k: testSecretKey}, "empty": map[string]any{k: ""}},
				Sensitive:  [][]tStep{{attr("tags"), key(k)}, {attr("empty"), key(k)}, {attr("gone"), key(k)}},
			}}})
		flatKeys, err := json.Marshal(map[string]string{k: "v", "tags." + k: "v"})
		if err != nil {
			t.Fatal(err)
		}
		flat := `{"version":4,"resources":[{"mode":"managed","type":"x","name":"flat","instances":[{"attributes_flat":` + string(flatKeys) + `}]}]}`
		for _, s := range []string{state, flat} {
			res, err := Scan(strings.NewReader(s), Options{})
			if err != nil {
				t.Fatalf("%v", err)
			}
			if !secret {
				continue
			}
			dump := fmt.Sprintf("%+v", res)
			if strings.Contains(dump, k) {
				t.Fatalf("the result shows a secret key: %s", dump)
			}
			if len(res.Findings) == 0 {
				t.Fatal("a secret key was not reported")
			}
		}
	})
}
