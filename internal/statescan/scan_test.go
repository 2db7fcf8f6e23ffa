package statescan

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Secret values used by the tests. Each is distinctive, so a test can assert
// that no finding and no error message contains it. The ones that repository
// secret scanners know (private key headers, tokens) are assembled at run
// time.
var (
	// The AWS documentation's example key pair.
	testAccessKeyID = "AKIAIOSFODNN7EXAMPLE"
	testSecretKey   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	// A random 32-byte token, base64url-encoded (43 characters).
	testToken = derivedToken("statescan test token", 32)
	testJWT   = "eyJ" + strings.TrimPrefix(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)), "eyJ") +
		"." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"statescan-test","iat":1516239022}`)) +
		"." + derivedToken("statescan jwt signature", 32)
	testPrivateKey = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA" + derivedToken("statescan rsa body", 48) + "\n-----END RSA PRIVATE KEY-----\n"
	testPGPKey     = "-----BEGIN PGP " + "PRIVATE KEY BLOCK-----\n\nlQOYBF" + derivedToken("statescan pgp body", 48) + "\n-----END PGP PRIVATE KEY BLOCK-----\n"
	testOpenSSHKey = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" + derivedToken("statescan openssh body", 48) + "\n-----END OPENSSH PRIVATE KEY-----\n"
	// A password a person might choose: no format rule finds it.
	testPassword = "correct horse battery staple 1"
	// Another random token, for keys (43 characters).
	testKeyToken = derivedToken("statescan key token", 32)
)

// derivedBytes returns n pseudo-random bytes derived from seed.
func derivedBytes(seed string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", seed, i))
		out = append(out, sum[:]...)
	}
	return out[:n]
}

// derivedToken returns n pseudo-random bytes derived from seed, base64url
// encoded.
func derivedToken(seed string, n int) string {
	return base64.RawURLEncoding.EncodeToString(derivedBytes(seed, n))
}

// allTestSecrets lists every secret value the tests plant.
func allTestSecrets() []string {
	return []string{testAccessKeyID, testSecretKey, testToken, testJWT, testPrivateKey, testPGPKey, testOpenSSHKey, testPassword, fixtureToken, testKeyToken}
}

// Test states are built from these types, marshalled with encoding/json so
// the field order is Terraform's.
type (
	tState struct {
		Version          any                `json:"version"`
		TerraformVersion string             `json:"terraform_version"`
		Serial           int                `json:"serial"`
		Lineage          string             `json:"lineage"`
		Outputs          map[string]tOutput `json:"outputs"`
		Resources        []tResource        `json:"resources"`
		CheckResults     any                `json:"check_results"`
	}
	tOutput struct {
		Value     any  `json:"value"`
		Type      any  `json:"type"`
		Sensitive bool `json:"sensitive,omitempty"`
	}
	tResource struct {
		Module    string      `json:"module,omitempty"`
		Mode      string      `json:"mode"`
		Type      string      `json:"type"`
		Name      string      `json:"name"`
		Provider  string      `json:"provider"`
		Instances []tInstance `json:"instances"`
	}
	tInstance struct {
		IndexKey      any            `json:"index_key,omitempty"`
		Deposed       string         `json:"deposed,omitempty"`
		SchemaVersion int            `json:"schema_version"`
		Attributes    map[string]any `json:"attributes"`
		Sensitive     [][]tStep      `json:"sensitive_attributes"`
		Private       string         `json:"private,omitempty"`
	}
	tStep struct {
		Type  string `json:"type"`
		Value any    `json:"value"`
	}
)

func attr(name string) tStep { return tStep{Type: "get_attr", Value: name} }
func idx(i int) tStep {
	return tStep{Type: "index", Value: map[string]any{"value": i, "type": "number"}}
}
func key(k string) tStep {
	return tStep{Type: "index", Value: map[string]any{"value": k, "type": "string"}}
}

// managed returns a root module managed resource with one instance.
func managed(typ, name string, attrs map[string]any, sensitive ...[]tStep) tResource {
	return tResource{Mode: "managed", Type: typ, Name: name, Provider: `provider["registry.terraform.io/hashicorp/aws"]`,
		Instances: []tInstance{{Attributes: attrs, Sensitive: sensitive}}}
}

func stateJSON(t testing.TB, outputs map[string]tOutput, resources ...tResource) string {
	t.Helper()
	if outputs == nil {
		outputs = map[string]tOutput{}
	}
	if resources == nil {
		resources = []tResource{}
	}
	b, err := json.MarshalIndent(tState{Version: 4, TerraformVersion: "1.11.4", Serial: 1, Lineage: "3f1e0c52-0d4e-4c1d-8b5e-2a7e6a1f9c01", Outputs: outputs, Resources: resources}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scanString scans a state and checks the invariants every result keeps.
func scanString(t *testing.T, state string, opt Options) (Result, error) {
	t.Helper()
	res, err := Scan(strings.NewReader(state), opt)
	assertNoSecrets(t, res, err)
	return res, err
}

// assertNoSecrets fails if a result or an error reveals a planted secret.
func assertNoSecrets(t *testing.T, res Result, err error) {
	t.Helper()
	dump := fmt.Sprintf("%+v %v", res, res.Findings)
	if err != nil {
		dump += " " + err.Error() + fmt.Sprintf(" %+v", err)
	}
	for _, s := range allTestSecrets() {
		for _, part := range []string{s, s[:12], s[len(s)-12:]} {
			if strings.Contains(dump, part) {
				t.Errorf("result or error reveals part of a secret %q: %s", part[:4]+"…", dump)
			}
		}
	}
}

func assertFindings(t *testing.T, got, want []Finding) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %v\nwant %v", got, want)
	}
}

func TestScanValueRules(t *testing.T) {
	cases := []struct {
		name  string
		attrs map[string]any
		want  []Finding
	}{
		{"access key ID alone", map[string]any{"key": testAccessKeyID},
			[]Finding{{"null_resource.x", "key", RuleAWSAccessKey}}},
		{"access key ID inside text", map[string]any{"env": map[string]any{"creds": "export AWS_ACCESS_KEY_ID=" + testAccessKeyID + "\n"}},
			[]Finding{{"null_resource.x", "env.creds", RuleAWSAccessKey}}},
		{"access key ID prefixes", map[string]any{"a": "ASIAIOSFODNN7EXAMPLE", "b": "ABIAIOSFODNN7EXAMPLE", "c": "ACCAIOSFODNN7EXAMPLE", "d": "AKIAIOSFODNN7EXAMPLEX", "e": "AKIAIOSFODNN7EXAMP1E"},
			[]Finding{{"null_resource.x", "a", RuleAWSAccessKey}, {"null_resource.x", "b", RuleAWSAccessKey}, {"null_resource.x", "c", RuleAWSAccessKey}}},
		{"secret access key", map[string]any{"creds": []any{map[string]any{"secret": testSecretKey}}},
			[]Finding{{"null_resource.x", "creds[0].secret", RuleAWSSecretKey}}},
		{"secret key shape needs all classes and exact length", map[string]any{"lower": strings.Repeat("abcd", 10), "nodigit": strings.Repeat("abCD", 10), "long": testSecretKey + "A"},
			nil},
		{"RSA private key", map[string]any{"key": testPrivateKey},
			[]Finding{{"null_resource.x", "key", RulePrivateKey}}},
		{"OpenSSH private key", map[string]any{"key": testOpenSSHKey},
			[]Finding{{"null_resource.x", "key", RulePrivateKey}}},
		{"PGP private key", map[string]any{"key": testPGPKey},
			[]Finding{{"null_resource.x", "key", RulePrivateKey}}},
		{"EC, DSA, encrypted and PKCS#8 headers", map[string]any{
			"ec": "-----BEGIN EC " + "PRIVATE KEY-----", "dsa": "-----BEGIN DSA " + "PRIVATE KEY-----",
			"enc": "-----BEGIN ENCRYPTED " + "PRIVATE KEY-----", "p8": "x -----BEGIN " + "PRIVATE KEY----- y",
		}, []Finding{{"null_resource.x", "dsa", RulePrivateKey}, {"null_resource.x", "ec", RulePrivateKey}, {"null_resource.x", "enc", RulePrivateKey}, {"null_resource.x", "p8", RulePrivateKey}}},
		{"public key and certificate are not private", map[string]any{
			"pub":  "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + derivedToken("pub", 48) + "\n-----END PUBLIC KEY-----\n",
			"cert": "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE" + derivedToken("cert", 48) + "\n-----END CERTIFICATE-----\n",
		}, nil},
		{"JWT", map[string]any{"headers": map[string]any{"Authorization": "Bearer " + testJWT}},
			[]Finding{{"null_resource.x", "headers.Authorization", RuleJWT}}},
		{"high-entropy token", map[string]any{"webhook_token": testToken},
			[]Finding{{"null_resource.x", "webhook_token", RuleHighEntropy}}},
		{"high-entropy token inside a connection string", map[string]any{"conn": "Server=db.internal;User Id=app;Password=" + testToken + ";"},
			[]Finding{{"null_resource.x", "conn", RuleHighEntropy}}},
		{"a value in JSON is matched as a string", map[string]any{"doc": `{"password":"` + testSecretKey + `","key":"` + testAccessKeyID + `"}`},
			[]Finding{{"null_resource.x", "doc", RuleAWSAccessKey}}},
		{"several rules on one string, no high entropy", map[string]any{"blob": testAccessKeyID + " " + testJWT + " " + testToken},
			[]Finding{{"null_resource.x", "blob", RuleAWSAccessKey}, {"null_resource.x", "blob", RuleJWT}}},
		{"a password of words is not found by value", map[string]any{"password": testPassword}, nil},
		{"keys are scanned and redacted", map[string]any{"tags": map[string]any{testToken: "x", testAccessKeyID: "y"}},
			[]Finding{{"null_resource.x", "tags[<redacted:aws_access_key_id>]", RuleAWSAccessKey}, {"null_resource.x", "tags[<redacted:high_entropy_token>]", RuleHighEntropy}}},
		{"numbers and booleans are not scanned", map[string]any{"n": json.Number("12345678901234567890123"), "b": true}, nil},
		{"map keys that are not identifiers are quoted", map[string]any{"data": map[string]any{"tls.key": testPrivateKey, "0": testJWT}},
			[]Finding{{"null_resource.x", `data["0"]`, RuleJWT}, {"null_resource.x", `data["tls.key"]`, RulePrivateKey}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := scanString(t, stateJSON(t, nil, managed("null_resource", "x", tc.attrs)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			assertFindings(t, res.Findings, tc.want)
			if res.Resources != 1 {
				t.Errorf("Resources = %d, want 1", res.Resources)
			}
		})
	}
}

func TestScanKnownAttributes(t *testing.T) {
	if len(knownSecretAttributes) < 20 {
		t.Fatalf("the known attribute table has %d types; did it lose entries?", len(knownSecretAttributes))
	}
	for typ, attrs := range knownSecretAttributes {
		for _, a := range attrs {
			t.Run(typ+"."+a, func(t *testing.T) {
				// A value no format rule finds, so only the table can.
				value := any(testPassword)
				if a == "data" {
					value = map[string]any{"password": testPassword}
				}
				res, err := scanString(t, stateJSON(t, nil,
					managed(typ, "set", map[string]any{"id": "x", a: value}),
					managed(typ, "null", map[string]any{"id": "y", a: nil}),
					managed(typ, "blank", map[string]any{"id": "z", a: ""}),
					managed("null_resource", "other", map[string]any{"id": "w", a: value}),
				), Options{})
				if err != nil {
					t.Fatal(err)
				}
				assertFindings(t, res.Findings, []Finding{{typ + ".set", a, RuleKnownAttribute}})
			})
		}
	}
	// Types that hold no secret by design, or only public material.
	for _, typ := range []string{"random_string", "aws_key_pair", "tls_self_signed_cert"} {
		if _, ok := knownSecretAttributes[typ]; ok {
			t.Errorf("%s must not be in the table", typ)
		}
	}
}

func TestScanKnownAttributeSuppressesHighEntropy(t *testing.T) {
	res, err := scanString(t, stateJSON(t, nil,
		managed("random_password", "p", map[string]any{"id": "none", "result": testToken}),
		managed("kubernetes_secret", "s", map[string]any{"id": "default/app", "data": map[string]any{"token": testToken}}),
		managed("aws_iam_access_key", "k", map[string]any{"id": testAccessKeyID, "secret": testSecretKey}),
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"aws_iam_access_key.k", "id", RuleAWSAccessKey},
		{"aws_iam_access_key.k", "secret", RuleAWSSecretKey},
		{"aws_iam_access_key.k", "secret", RuleKnownAttribute},
		{"kubernetes_secret.s", "data", RuleKnownAttribute},
		{"random_password.p", "result", RuleKnownAttribute},
	})
}

func TestScanAddresses(t *testing.T) {
	attrs := func() map[string]any { return map[string]any{"id": "x", "token": testToken} }
	resources := []tResource{
		managed("aws_ssm_parameter", "root", attrs()),
		{Module: "module.net", Mode: "managed", Type: "aws_db_instance", Name: "main", Instances: []tInstance{
			{IndexKey: 0, Attributes: attrs()}, {IndexKey: 1, Attributes: attrs()},
		}},
		{Module: `module.app["eu"].module.db[2]`, Mode: "managed", Type: "random_password", Name: "p", Instances: []tInstance{
			{IndexKey: "a", Attributes: attrs()}, {IndexKey: `we"ird key`, Attributes: attrs()},
		}},
		{Mode: "data", Type: "aws_secretsmanager_secret_version", Name: "current", Instances: []tInstance{{Attributes: attrs()}}},
		{Module: "module.net", Mode: "data", Type: "x", Name: "y", Instances: []tInstance{{Attributes: attrs()}}},
		// A current and a deposed object of one instance make one finding.
		{Mode: "managed", Type: "x", Name: "replaced", Instances: []tInstance{
			{Attributes: attrs()}, {Deposed: "00000001", Attributes: attrs()},
		}},
	}
	outputs := map[string]tOutput{
		"token":   {Value: testToken, Type: "string"},
		"nested":  {Value: map[string]any{"list": []any{"a", testJWT}}, Type: []any{"object", map[string]any{}}},
		"my-name": {Value: testToken, Type: "string", Sensitive: true},
	}
	res, err := scanString(t, stateJSON(t, outputs, resources...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"aws_ssm_parameter.root", "token", RuleHighEntropy},
		{"data.aws_secretsmanager_secret_version.current", "token", RuleHighEntropy},
		{`module.app["eu"].module.db[2].random_password.p["a"]`, "token", RuleHighEntropy},
		{`module.app["eu"].module.db[2].random_password.p["we\"ird key"]`, "token", RuleHighEntropy},
		{"module.net.aws_db_instance.main[0]", "token", RuleHighEntropy},
		{"module.net.aws_db_instance.main[1]", "token", RuleHighEntropy},
		{"module.net.data.x.y", "token", RuleHighEntropy},
		{"output.my-name", "value", RuleHighEntropy},
		{"output.my-name", "value", RuleSensitive},
		{"output.nested", "value.list[1]", RuleJWT},
		{"output.token", "value", RuleHighEntropy},
		{"x.replaced", "token", RuleHighEntropy},
	})
	if res.Resources != 9 || res.Outputs != 3 {
		t.Errorf("Resources, Outputs = %d, %d; want 9, 3", res.Resources, res.Outputs)
	}
}

func TestScanSensitivePaths(t *testing.T) {
	cases := []struct {
		name      string
		attrs     map[string]any
		sensitive [][]tStep
		want      []string // paths of sensitive_attribute findings
	}{
		{"top-level attribute", map[string]any{"password": testPassword}, [][]tStep{{attr("password")}}, []string{"password"}},
		{"null is no secret", map[string]any{"password": nil}, [][]tStep{{attr("password")}}, nil},
		{"empty string is no secret", map[string]any{"password": ""}, [][]tStep{{attr("password")}}, nil},
		{"empty collections are no secret", map[string]any{"a": []any{}, "m": map[string]any{}, "n": []any{map[string]any{"x": nil, "y": ""}}},
			[][]tStep{{attr("a")}, {attr("m")}, {attr("n")}}, nil},
		{"inside an empty collection", map[string]any{"master_user_secret": []any{}},
			[][]tStep{{attr("master_user_secret"), idx(0), attr("secret_arn")}}, nil},
		{"numbers and booleans are values", map[string]any{"port": 5432, "flag": false},
			[][]tStep{{attr("flag")}, {attr("port")}}, []string{"flag", "port"}},
		{"list index and nested attribute", map[string]any{"user": []any{map[string]any{"password": nil}, map[string]any{"password": testPassword}}},
			[][]tStep{{attr("user"), idx(0), attr("password")}, {attr("user"), idx(1), attr("password")}}, []string{"user[1].password"}},
		{"map key", map[string]any{"data": map[string]any{"token": testPassword, "tls.key": testPassword, "empty": ""}},
			[][]tStep{{attr("data"), key("token")}, {attr("data"), key("tls.key")}, {attr("data"), key("empty")}}, []string{"data.token", `data["tls.key"]`}},
		{"a path that does not resolve is reported", map[string]any{"id": "x"}, [][]tStep{{attr("password")}}, []string{"password"}},
		{"a collection with a value", map[string]any{"data": map[string]any{"a": "", "b": testPassword}}, [][]tStep{{attr("data")}}, []string{"data"}},
		{"dynamic value", map[string]any{"input": map[string]any{"value": testPassword, "type": "string"}}, [][]tStep{{attr("input")}}, []string{"input"}},
		{"empty dynamic value", map[string]any{"input": map[string]any{"value": "", "type": "string"}}, [][]tStep{{attr("input")}}, nil},
		{"inside a dynamic value", map[string]any{"input": map[string]any{
			"value": map[string]any{"a": nil, "b": []any{"x", testPassword}},
			"type":  []any{"object", map[string]any{"a": "string", "b": []any{"tuple", []any{"string", "string"}}}},
		}}, [][]tStep{{attr("input"), attr("a")}, {attr("input"), attr("b"), idx(1)}}, []string{"input.b[1]"}},
		{"an object with value and type that is no dynamic value", map[string]any{"rule": map[string]any{"value": "", "type": "header"}},
			[][]tStep{{attr("rule"), attr("value")}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := scanString(t, stateJSON(t, nil, managed("null_resource", "x", tc.attrs, tc.sensitive...)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				if f.Rule == RuleSensitive {
					got = append(got, f.Path)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("sensitive paths = %q, want %q (all findings: %v)", got, tc.want, res.Findings)
			}
		})
	}
}

func TestScanSensitivePathShapes(t *testing.T) {
	attrs := `{"password": "` + testPassword + `", "list": ["` + testPassword + `"], "m": {"k": "` + testPassword + `"}}`
	cases := []struct {
		name      string
		instance  string
		want      []string
		wantError bool
	}{
		{"sensitive_attributes before attributes", `{"sensitive_attributes": [[{"type":"get_attr","value":"password"}], [{"type":"get_attr","value":"gone"}]], "attributes": {"password": "", "gone": null, "x": "y"}}`,
			nil, false},
		{"sensitive_attributes before attributes, reported", `{"sensitive_attributes": [[{"type":"get_attr","value":"password"}]], "attributes": ` + attrs + `}`,
			[]string{"password"}, false},
		{"index with an unwrapped number and string", `{"attributes": ` + attrs + `, "sensitive_attributes": [[{"type":"get_attr","value":"list"},{"type":"index","value":{"value":0}}], [{"type":"get_attr","value":"m"},{"type":"index","value":{"value":"k","type":"string"}}]]}`,
			[]string{"list[0]", "m.k"}, false},
		{"unknown shapes are ignored", `{"attributes": ` + attrs + `, "sensitive_attributes": ["password", {"type":"get_attr","value":"password"}, [{"type":"splat"}], [{"type":"index","value":{"value":true}}], [{"type":"index","value":{"value":-1}}], [], [{"type":"get_attr","value":7}], [{"type":"get_attr","value":null}], [{"type":"get_attr"}], [{"type":"index","value":{"value":null}}], [{"type":"index","value":null}], null, 5]}`,
			nil, false},
		{"sensitive_attributes null or an object", `{"attributes": ` + attrs + `, "sensitive_attributes": null, "x": {"sensitive_attributes": 1}}`,
			nil, false},
		{"sensitive_attributes not closed", `{"attributes": ` + attrs + `, "sensitive_attributes": [[]}`,
			nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := `{"version": 4, "resources": [{"mode": "managed", "type": "null_resource", "name": "x", "instances": [` + tc.instance + `]}]}`
			res, err := scanString(t, state, Options{})
			if tc.wantError {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				if f.Rule == RuleSensitive {
					got = append(got, f.Path)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("sensitive paths = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScanSensitiveRecordOverflow(t *testing.T) {
	// Past the cap on recorded empty values, listed paths are reported even
	// when they are empty: the scanner can no longer tell.
	attrs := map[string]any{"password": ""}
	for i := range maxEmpties + 1 {
		attrs[fmt.Sprintf("a%05d", i)] = nil
	}
	res, err := scanString(t, stateJSON(t, nil, managed("null_resource", "x", attrs, []tStep{attr("password")})), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{{"null_resource.x", "password", RuleSensitive}})

	// Below the cap the empty value is known.
	delete(attrs, "a00000")
	delete(attrs, "a00001")
	res, err = scanString(t, stateJSON(t, nil, managed("null_resource", "x", attrs, []tStep{attr("password")})), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, nil)
}

func TestScanSensitiveOutputs(t *testing.T) {
	res, err := scanString(t, stateJSON(t, map[string]tOutput{
		"pw":          {Value: testPassword, Type: "string", Sensitive: true},
		"blank":       {Value: "", Type: "string", Sensitive: true},
		"null":        {Value: nil, Type: "string", Sensitive: true},
		"empty_map":   {Value: map[string]any{"a": ""}, Type: []any{"map", "string"}, Sensitive: true},
		"number":      {Value: 3, Type: "number", Sensitive: true},
		"plain":       {Value: testPassword, Type: "string"},
		"object":      {Value: map[string]any{"value": testPassword, "type": "string"}, Type: []any{"object", map[string]any{}}, Sensitive: true},
		"not_a_value": {Value: testPassword},
	}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"output.number", "value", RuleSensitive},
		{"output.object", "value", RuleSensitive},
		{"output.pw", "value", RuleSensitive},
	})
	if res.Outputs != 8 {
		t.Errorf("Outputs = %d, want 8", res.Outputs)
	}
}

func TestScanDynamicValuePaths(t *testing.T) {
	// terraform_data stores input and output as {"value": ..., "type": ...};
	// findings use Terraform's paths, not the JSON's.
	res, err := scanString(t, stateJSON(t, nil, managed("terraform_data", "x", map[string]any{
		"id": "3f1e0c52-0d4e-4c1d-8b5e-2a7e6a1f9c01",
		"input": map[string]any{
			"value": map[string]any{"key": testAccessKeyID, "nested": []any{map[string]any{"jwt": testJWT}}},
			"type":  []any{"object", map[string]any{"key": "string", "nested": []any{"list", []any{"object", map[string]any{"jwt": "string"}}}}},
		},
		"output":           map[string]any{"value": testJWT, "type": "string"},
		"triggers_replace": nil,
	})), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"terraform_data.x", "input.key", RuleAWSAccessKey},
		{"terraform_data.x", "input.nested[0].jwt", RuleJWT},
		{"terraform_data.x", "output", RuleJWT},
	})
}

func TestScanLegacyFlatAttributes(t *testing.T) {
	state := `{"version": 4, "resources": [{"mode": "managed", "type": "aws_db_instance", "name": "old", "instances": [{"schema_version": 0, "attributes_flat": {
		"id": "old", "password": "` + testPassword + `", "tags.%": "1", "tags.token": "` + testToken + `", "nested.0.sha256": "` + testToken + `", "count": 3}}]}]}`
	res, err := scanString(t, state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"aws_db_instance.old", "password", RuleKnownAttribute},
		{"aws_db_instance.old", "tags.token", RuleHighEntropy},
	})
}

func TestScanResourceFieldOrder(t *testing.T) {
	// instances before the type and name, and index_key after the attributes.
	state := `{"resources": [{"instances": [{"attributes": {"secret": "` + testPassword + `"}, "index_key": "k"}], "name": "ci", "type": "aws_iam_access_key", "module": "module.m", "mode": "managed"}], "version": 4}`
	res, err := scanString(t, state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{{`module.m.aws_iam_access_key.ci["k"]`, "secret", RuleKnownAttribute}})
}

func TestScanCleanState(t *testing.T) {
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::acme-logs-7f3a","arn:aws:s3:::acme-logs-7f3a/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	res, err := scanString(t, stateJSON(t,
		map[string]tOutput{"bucket_arn": {Value: "arn:aws:s3:::acme-logs-7f3a", Type: "string"}},
		managed("aws_s3_bucket", "logs", map[string]any{
			"arn":                         "arn:aws:s3:::acme-logs-7f3a",
			"bucket":                      "acme-logs-7f3a",
			"bucket_domain_name":          "acme-logs-7f3a.s3.amazonaws.com",
			"bucket_regional_domain_name": "acme-logs-7f3a.s3.eu-west-1.amazonaws.com",
			"hosted_zone_id":              "Z1BKCTXD74EZPE",
			"id":                          "acme-logs-7f3a",
			"policy":                      policy,
			"policy_base64":               base64.StdEncoding.EncodeToString([]byte(policy)),
			"tags":                        map[string]any{"Name": "MyCompanyProductionLogs01", "CostCenter": "CC-1042", "Owner": "platform-team@example.com"},
			"tags_all":                    map[string]any{"Name": "MyCompanyProductionLogs01", "ManagedBy": "terraform"},
			"grant":                       []any{map[string]any{"id": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", "type": "CanonicalUser"}},
			"server_side_encryption_configuration": []any{map[string]any{"rule": []any{map[string]any{"apply_server_side_encryption_by_default": []any{map[string]any{
				"kms_master_key_id": "arn:aws:kms:eu-west-1:123456789012:key/0444d65a-95e8-4788-8d8b-7227910b5581", "sse_algorithm": "aws:kms",
			}}}}}},
			"versioning": []any{map[string]any{"enabled": true, "mfa_delete": false}},
		}),
		managed("aws_s3_object", "release", map[string]any{
			"id":              "releases/v1.2.0/app.tar.gz",
			"etag":            "d41d8cd98f00b204e9800998ecf8427e",
			"multipart_etag":  "9b2cf535f27731c974343645a3985328-12",
			"version_id":      "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
			"checksum_sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
			"source_hash":     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"content_md5":     "1B2M2Y8AsgTpgAmY7PhCfg==",
			"metadata":        map[string]any{"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "build": "2024-05-01T12:34:56Z"},
		}),
		managed("aws_lambda_function", "api", map[string]any{
			"arn":              "arn:aws:lambda:eu-west-1:123456789012:function:ApiHandler2024",
			"code_sha256":      "2mnYZqnvTYK0xG8V2Qz9hZ2hF2yqHgk1Y2n5mBxmHKs=",
			"source_code_hash": "2mnYZqnvTYK0xG8V2Qz9hZ2hF2yqHgk1Y2n5mBxmHKs=",
			"role":             "arn:aws:iam::123456789012:role/service-role/ApiHandlerRole-1XQ5Z8K2ZNPO3",
			"function_name":    "ApiHandler2024",
			"handler":          "index.handler",
			"image_uri":        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"revision_id":      "b3bfa3df-b8c8-2624-b270-46d472f8ba6f",
			"invoke_arn":       "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:ApiHandler2024/invocations",
			"environment": []any{map[string]any{"variables": map[string]any{
				"LOG_GROUP":   "/aws/lambda/MyServiceHandler2",
				"TABLE_NAME":  "MyCompanyProductionDatabase01",
				"QUEUE_URL":   "https://sqs.eu-west-1.amazonaws.com/123456789012/WebAppAutoScalingGroup20240501",
				"DESCRIPTION": "Handles the public API of the production fleet, version two",
				"ROLE_NAME":   "eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1XQ5Z8K2ZNPO3",
			}}},
			"kms_key_arn": "",
		}),
		managed("aws_iam_role", "web", map[string]any{
			"arn":                "arn:aws:iam::123456789012:role/WebServerRole",
			"assume_role_policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			"unique_id":          "AROAJQABLZS4A3QDU576Q",
			"name":               "AmazonEKSClusterPolicyAttachment2",
		}),
		managed("aws_key_pair", "deployer", map[string]any{
			"public_key":  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmBz0uKvX3pZr9yJk6Wq8tLhN2cFd4eS7aB1oM5nQpR deployer@example",
			"fingerprint": "ea:d3:e7:9b:6b:bc:db:7a:59:6a:e1:6e:f2:49:b6:5a",
		}),
		managed("aws_instance", "web", map[string]any{
			"user_data":              "a0d6d5c1359073e0ec3c2197edcbae1c4f2844df",
			"id":                     "i-050a3791d3c27b75d",
			"vpc_security_group_ids": []any{"sg-07eeab5d0c9340102"},
			"private_dns":            "ip-172-31-16-221.ec2.internal",
		}),
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, nil)
}

func TestHighEntropy(t *testing.T) {
	d := detector{base64: DefaultEntropyThreshold, hex: DefaultEntropyThreshold - 1}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	cases := []struct {
		name  string
		value string
		key   string
		want  bool
	}{
		{"random 32-byte base64url token", testToken, "token", true},
		{"random 32-byte base64 token", base64.StdEncoding.EncodeToString(derivedBytes("std", 32)), "token", true},
		{"random token in text", "token=" + testToken + "&user=x", "url_params", true},
		{"random hex token of no digest length", fmt.Sprintf("%x", derivedBytes("hex", 24)), "api_key", true},
		{"UUID", "b3bfa3df-b8c8-2624-b270-46d472f8ba6f", "request", false},
		{"upper-case UUID", "B3BFA3DF-B8C8-2624-B270-46D472F8BA6F", "request", false},
		{"ARN", "arn:aws:iam::123456789012:role/service-role/ApiHandlerRole-1XQ5Z8K2ZNPO3", "role", false},
		{"S3 ETag", "d41d8cd98f00b204e9800998ecf8427e", "value", false},
		{"multipart S3 ETag", "9b2cf535f27731c974343645a3985328-12", "value", false},
		{"SHA-256 hex digest", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "value", false},
		{"SHA-1 hex digest", "a0d6d5c1359073e0ec3c2197edcbae1c4f2844df", "value", false},
		{"SHA-512 hex digest", strings.Repeat("e3b0c44298fc1c149afbf4c8996fb924", 4), "value", false},
		{"English sentence", "The quick brown fox jumps over the lazy dog while the Terraform state is being refreshed", "description", false},
		{"base64-encoded policy", base64.StdEncoding.EncodeToString([]byte(policy)), "policy", false},
		{"short base64-encoded document", base64.StdEncoding.EncodeToString([]byte(`{"Version":"2012-10-17"}`)), "doc", false},
		{"policy document", policy, "policy", false},
		{"URL with a token", "https://hooks.example.com/services/" + testToken, "endpoint", false},
		{"ssh public key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmBz0uKvX3pZr9yJk6Wq8tLhN2cFd4eS7aB1oM5nQpR me@host", "public_key", false},
		{"CamelCase name", "MyCompanyProductionDatabase01", "name", false},
		{"log group path", "/aws/lambda/MyServiceHandler2", "name", false},
		{"S3 key", "lambda/builds/2024-05-01/MyFunction", "key", false},
		{"role name with a random suffix", "eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1XQ5Z8K2ZNPO3", "name", false},
		{"IAM unique ID", "AROAJQABLZS4A3QDU576Q", "name", false},
		{"short token", "aB3dE5gH7jK9mN1pQ2r", "token", false},
		{"token longer than 256", derivedToken("long", 200), "token", false},
		{"attribute named like an identifier", testToken, "client_id", false},
		{"attribute named like a digest", testToken, "output_base64sha256", false},
		{"attribute named like a version", testToken, "version_id", false},
		{"attribute named like an ETag", testToken, "source_etag", false},
		{"attribute named like a fingerprint", testToken, "key_fingerprint", false},
		{"attribute named like an ARN", testToken, "target_arn", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := d.check(tc.value, tc.key)&ruleHighEntropy != 0
			if got != tc.want {
				t.Errorf("high entropy = %v, want %v (entropy %.2f, class switches %.2f)", got, tc.want, entropy(tc.value), classSwitchRate(tc.value))
			}
		})
	}
}

func TestCheckShortcuts(t *testing.T) {
	// check gives up early on strings shorter than any rule can match and on
	// lowercase names; neither shortcut may hide a match.
	d := detector{base64: DefaultEntropyThreshold, hex: DefaultEntropyThreshold - 1}
	for _, v := range []string{testAccessKeyID, "-----BEGIN " + "PRIVATE KEY-----", testSecretKey, testJWT, fmt.Sprintf("%x", derivedBytes("hex", 24))} {
		if d.checkKey(v) == 0 {
			t.Errorf("checkKey(%.6q…) found nothing", v)
		}
		if len(v) < minMatchLen || isLowerName(v) {
			t.Errorf("%.6q… is taken for a short string or a lowercase name", v)
		}
	}
	for _, v := range []string{"bucket_regional_domain_name", "server-side-encryption-configuration", strings.ToLower(testToken)} {
		if !isLowerName(v) {
			t.Errorf("isLowerName(%q) = false", v)
		}
	}
	if isLowerName(fmt.Sprintf("%x", derivedBytes("hex", 24))) {
		t.Error("a hexadecimal token is taken for a lowercase name")
	}
}

func TestHighEntropyRecall(t *testing.T) {
	// The recall the package documentation states, measured on tokens
	// derived from a fixed seed.
	d := detector{base64: DefaultEntropyThreshold, hex: DefaultEntropyThreshold - 1}
	for _, tc := range []struct {
		bytes   int
		atLeast float64
	}{{32, 0.99}, {16, 0.75}, {15, 0.55}} {
		fired := 0
		const n = 2000
		for i := range n {
			if d.check(derivedToken(fmt.Sprintf("recall-%d-%d", tc.bytes, i), tc.bytes), "token")&ruleHighEntropy != 0 {
				fired++
			}
		}
		if rate := float64(fired) / n; rate < tc.atLeast {
			t.Errorf("%d-byte tokens fire %.3f of the time, want at least %.2f", tc.bytes, rate, tc.atLeast)
		}
	}
}

func TestScanEntropyThreshold(t *testing.T) {
	state := stateJSON(t, nil, managed("null_resource", "x", map[string]any{"token": testToken}))
	res, err := scanString(t, state, Options{EntropyThreshold: 6})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, nil)
	res, err = scanString(t, state, Options{EntropyThreshold: 4.5})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{{"null_resource.x", "token", RuleHighEntropy}})
}

func TestScanErrors(t *testing.T) {
	cases := []struct {
		name    string
		input   string
		opt     Options
		kind    error
		message string
	}{
		{"empty", "", Options{}, ErrEmpty, "statescan: empty state: the input holds no JSON value"},
		{"blank", " \n\t ", Options{}, ErrEmpty, "statescan: empty state: the input holds no JSON value"},
		{"not JSON", "hello " + testPassword, Options{}, ErrMalformed, "statescan: malformed state: invalid JSON near byte offset 0"},
		{"truncated", `{"version":4,"resources":[{"type":"x"`, Options{}, ErrMalformed, "statescan: malformed state: truncated JSON: the input ends at byte offset 37 inside the state"},
		{"truncated in a string", `{"version":4,"resources":[{"type":"` + testToken, Options{}, ErrMalformed, "statescan: malformed state: truncated JSON: the input ends at byte offset 78 inside the state"},
		{"bad literal", `{"version":4,"x":tru}`, Options{}, ErrMalformed, "statescan: malformed state: invalid JSON near byte offset 17"},
		{"control character in a string", `{"version":4,"x":"` + testSecretKey[:20] + "\x01" + testSecretKey[20:] + `"}`, Options{}, ErrMalformed, "statescan: malformed state: invalid JSON near byte offset 17"},
		{"missing comma", `{"version":4 "x":1}`, Options{}, ErrMalformed, "statescan: malformed state: invalid JSON near byte offset 13"},
		{"top-level array", `[{"version":4}]`, Options{}, ErrMalformed, "statescan: malformed state: the state is not a JSON object at byte offset 1"},
		{"top-level string", `"` + testToken + `"`, Options{}, ErrMalformed, "statescan: malformed state: the state is not a JSON object at byte offset 45"},
		{"data after the object", `{"version":4} {}`, Options{}, ErrMalformed, "statescan: malformed state: unexpected data after the state object at byte offset 15"},
		{"garbage after the object", `{"version":4} ` + testPassword, Options{}, ErrMalformed, "statescan: malformed state: invalid JSON near byte offset 14"},
		{"too deep", `{"version":4,"resources":[{"instances":[{"attributes":{"a":` + strings.Repeat("[", maxDepth+1), Options{}, ErrMalformed, "statescan: malformed state: nesting deeper than 10000 levels at byte offset 10059"},
		{"too deep where skipped", `{"version":4,"check_results":` + strings.Repeat("[", maxDepth+1), Options{}, ErrMalformed, "statescan: malformed state: nesting deeper than 10000 levels at byte offset 10030"},
		{"version 3", `{"version":3,"terraform_version":"0.11.14","modules":[]}`, Options{}, ErrVersion, "statescan: unsupported state version: found version 3 at byte offset 11; only version 4 (Terraform 0.12 and later, OpenTofu) is supported"},
		{"version 5", `{"version":5}`, Options{}, ErrVersion, "statescan: unsupported state version: found version 5 at byte offset 11; only version 4 (Terraform 0.12 and later, OpenTofu) is supported"},
		{"version 4.0", `{"version":4.0}`, Options{}, ErrVersion, "statescan: unsupported state version: found a non-integer version at byte offset 11; only version 4 (Terraform 0.12 and later, OpenTofu) is supported"},
		{"version string", `{"version":"4"}`, Options{}, ErrVersion, `statescan: unsupported state version: the value of "version" after byte offset 10 is not a number; want 4`},
		{"no version", `{"serial":1,"resources":[]}`, Options{}, ErrVersion, `statescan: unsupported state version: the state has no "version" key`},
		{"encrypted OpenTofu state", `{"serial":1,"lineage":"x","meta":{"key_provider.pbkdf2.main":"eyJzYWx0Ijoi"},"encrypted_data":"` + testToken + `","encryption_version":"v0"}`, Options{}, ErrVersion,
			`statescan: unsupported state version: the state has no "version" key; it looks encrypted (OpenTofu state encryption), and an encrypted state holds no plaintext to scan`},
		{"huge attribute", `{"version":4,"resources":[{"instances":[{"attributes":{"big":"` + strings.Repeat(testToken, 100) + `"}}]}]}`, Options{MaxValueBytes: 1024}, ErrValueTooLarge,
			"statescan: state value too large: the value starting at byte offset 61 is larger than the limit of 1024 bytes"},
		{"huge key", `{"version":4,"` + strings.Repeat("k", 5000) + `":1}`, Options{MaxValueBytes: 1024}, ErrValueTooLarge,
			"statescan: state value too large: the value starting at byte offset 13 is larger than the limit of 1024 bytes"},
		{"huge number", `{"version":4,"serial":` + strings.Repeat("1", 5000) + `}`, Options{MaxValueBytes: 1024}, ErrValueTooLarge,
			"statescan: state value too large: the value starting at byte offset 22 is larger than the limit of 1024 bytes"},
		{"huge sensitive path", `{"version":4,"resources":[{"instances":[{"sensitive_attributes":[[{"type":"get_attr","value":"` + strings.Repeat("k", 5000) + `"}]]}]}]}`, Options{MaxValueBytes: 1024}, ErrValueTooLarge,
			"statescan: state value too large: the value starting at byte offset 65 is larger than the limit of 1024 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanString(t, tc.input, tc.opt)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if err.Error() != tc.message {
				t.Errorf("message:\n got %s\nwant %s", err, tc.message)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("err is %T, want *Error", err)
			}
			if !strings.Contains(tc.message, "offset") && se.Offset != -1 && tc.kind != ErrEmpty {
				t.Errorf("Offset = %d, want -1 when the message names none", se.Offset)
			}
		})
	}
}

func TestScanMinimalStates(t *testing.T) {
	for _, state := range []string{
		`{"version":4}`,
		`{"version":4,"resources":null,"outputs":null}`,
		`{"version":4,"resources":[],"outputs":{}}`,
		"\n\n{\"version\": 4}\n\n",
		`{"version":4,"resources":[{"mode":"managed","type":"x","name":"y","instances":[]}]}`,
		`{"version":4,"resources":[{"mode":"managed","type":"x","name":"y","instances":[{"attributes":null}]}]}`,
		// Unexpected shapes are skipped, not refused.
		`{"version":4,"resources":{"a":1},"outputs":[1]}`,
		`{"version":4,"resources":[1,"x",null,[{}]],"outputs":{"o":1,"p":[]}}`,
		`{"version":4,"resources":[{"type":1,"name":{},"module":[],"instances":{"x":1}}]}`,
		`{"version":4,"resources":[{"instances":[1,{"index_key":{"a":[1]},"attributes":"x","attributes_flat":[1]}]}]}`,
	} {
		res, err := scanString(t, state, Options{})
		if err != nil {
			t.Errorf("%s: %v", state, err)
		}
		if len(res.Findings) != 0 {
			t.Errorf("%s: findings %v", state, res.Findings)
		}
		if res.Bytes != int64(len(state)) {
			t.Errorf("%s: Bytes = %d, want %d", state, res.Bytes, len(state))
		}
	}
}

func TestScanPartialResultOnError(t *testing.T) {
	full := stateJSON(t, nil,
		managed("aws_iam_access_key", "first", map[string]any{"secret": testSecretKey}),
		managed("aws_iam_access_key", "second", map[string]any{"secret": testSecretKey}),
	)
	i := strings.Index(full, `"second"`)
	if i < 0 {
		t.Fatal("no second resource")
	}
	cut := full[:i]
	res, err := scanString(t, cut, Options{})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"aws_iam_access_key.first", "secret", RuleAWSSecretKey},
		{"aws_iam_access_key.first", "secret", RuleKnownAttribute},
	})
	if res.Resources != 1 || res.Bytes != int64(len(cut)) {
		t.Errorf("Resources, Bytes = %d, %d; want 1, %d", res.Resources, res.Bytes, len(cut))
	}

	// The instances of the resource being read count once read whole.
	full = stateJSON(t, nil, tResource{Mode: "managed", Type: "aws_iam_access_key", Name: "k", Instances: []tInstance{
		{IndexKey: 0, Attributes: map[string]any{"secret": testSecretKey}},
		{IndexKey: 1, Attributes: map[string]any{"secret": testSecretKey}},
	}})
	i = strings.Index(full, `"index_key": 1`)
	if i < 0 {
		t.Fatal("no second instance")
	}
	res, err = scanString(t, full[:i], Options{})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"aws_iam_access_key.k[0]", "secret", RuleAWSSecretKey},
		{"aws_iam_access_key.k[0]", "secret", RuleKnownAttribute},
	})

	// A version found after the resources voids what was found in them.
	late := `{"resources":[{"type":"aws_iam_access_key","name":"k","instances":[{"attributes":{"secret":"` + testSecretKey + `"}}]}],"version":3}`
	res, err = scanString(t, late, Options{})
	if !errors.Is(err, ErrVersion) || res.Findings != nil {
		t.Errorf("err, findings = %v, %v; want ErrVersion and none", err, res.Findings)
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestScanReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	_, err := Scan(&failingReader{data: []byte(`{"version":4,"resources":[`), err: errDisk}, Options{})
	if !errors.Is(err, errDisk) {
		t.Fatalf("err = %v, want it to wrap the read error", err)
	}
	if want := "statescan: reading the state at byte offset 26: disk on fire"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}

// fixtureToken is the sensitive variable's value in the Terraform 1.11 state.
var fixtureToken = "YoSXATzKtu96SPnuf9o_LIkOZCksejB9FRGwYD5LmJk"

func TestScanTerraform111State(t *testing.T) {
	// testdata/terraform-1.11.tfstate was written by Terraform 1.11.4 from a
	// configuration of terraform_data resources (plain, count, for_each, in
	// a module), a terraform_remote_state data source and outputs, with a
	// sensitive variable holding a random token and another holding "".
	state, err := os.ReadFile("testdata/terraform-1.11.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Scan(bytes.NewReader(state), Options{})
	assertNoSecrets(t, res, err)
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"module.inner.terraform_data.z", "input.nested[0].pw", RuleHighEntropy},
		{"module.inner.terraform_data.z", "input.nested[0].pw", RuleSensitive},
		{"module.inner.terraform_data.z", "output.nested[0].pw", RuleHighEntropy},
		{"output.pw", "value", RuleHighEntropy},
		{"output.pw", "value", RuleSensitive},
		// "clean", but Terraform marked the conditional's result sensitive.
		{"terraform_data.counted[0]", "input", RuleSensitive},
		{"terraform_data.counted[1]", "input", RuleHighEntropy},
		{"terraform_data.counted[1]", "input", RuleSensitive},
		{"terraform_data.counted[1]", "output", RuleHighEntropy},
		{`terraform_data.each["a"]`, "input", RuleSensitive},
		{`terraform_data.each["b c"]`, "input", RuleHighEntropy},
		{`terraform_data.each["b c"]`, "input", RuleSensitive},
		{`terraform_data.each["b c"]`, "output", RuleHighEntropy},
		{"terraform_data.keys", "input.access_key_id", RuleAWSAccessKey},
		{"terraform_data.keys", "output.access_key_id", RuleAWSAccessKey},
		{"terraform_data.x", "input", RuleHighEntropy},
		{"terraform_data.x", "input", RuleSensitive},
		{"terraform_data.x", "output", RuleHighEntropy},
		{"terraform_data.y", "input.list[1]", RuleHighEntropy},
		{"terraform_data.y", "input.list[1]", RuleSensitive},
		{"terraform_data.y", "input.password", RuleHighEntropy},
		{"terraform_data.y", "input.password", RuleSensitive},
		{"terraform_data.y", "output.list[1]", RuleHighEntropy},
		{"terraform_data.y", "output.password", RuleHighEntropy},
	})
	// terraform_data.blank holds "" marked sensitive, output.blank is a
	// sensitive "": neither is reported. The data source holds nothing.
	if res.Resources != 10 || res.Outputs != 3 {
		t.Errorf("Resources, Outputs = %d, %d; want 10, 3", res.Resources, res.Outputs)
	}
	if res.Bytes != int64(len(state)) {
		t.Errorf("Bytes = %d, want %d", res.Bytes, len(state))
	}
}

// bigValueState is an io.Reader producing a state with one string attribute
// of n bytes, without holding it.
func bigValueState(n int64) io.Reader {
	return io.MultiReader(
		strings.NewReader(`{"version":4,"resources":[{"mode":"managed","type":"x","name":"y","instances":[{"attributes":{"big":"`),
		io.LimitReader(repeatReader('a'), n),
		strings.NewReader(`"}}]}]}`),
	)
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestScanBoundedMemory(t *testing.T) {
	// A 64 MiB string with a 1 MiB limit fails before it is buffered.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Scan(bigValueState(64<<20), Options{MaxValueBytes: 1 << 20})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("err = %v, want ErrValueTooLarge", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	if alloc > 8<<20 {
		t.Errorf("the scan allocated %.1f MiB, want less than 8 MiB", float64(alloc)/(1<<20))
	}
	t.Logf("64 MiB value, 1 MiB limit: %.1f MiB allocated, %d bytes read", float64(alloc)/(1<<20), res.Bytes)
	if res.Bytes > 2<<20 {
		t.Errorf("the scan read %d bytes, want it to stop soon after the limit", res.Bytes)
	}

	// Under the limit the same value is scanned.
	res, err = Scan(bigValueState(512<<10), Options{MaxValueBytes: 1 << 20})
	if err != nil || res.Resources != 1 {
		t.Errorf("512 KiB value under a 1 MiB limit: %v, %d resources", err, res.Resources)
	}
}

func TestScanLargeStatePeakHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a 32 MB state")
	}
	// The live heap stays small whatever the size of the state.
	g := newSynthState(32 << 20)
	runtime.GC()
	h := startHeapSampler()
	res, err := Scan(g, Options{})
	peak := h.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != g.expected {
		t.Errorf("%d findings, want %d", len(res.Findings), g.expected)
	}
	if peak > 16 {
		t.Errorf("peak heap %.1f MiB scanning %d MB, want under 16 MiB", peak, res.Bytes>>20)
	}
	t.Logf("%d MB, %d instances, %d findings, peak heap %.1f MiB", res.Bytes>>20, res.Resources, len(res.Findings), peak)
}

func TestSynthStateFindings(t *testing.T) {
	// The generator's benign resources make no finding and its secrets the
	// ones it counts: the benchmark scans a realistic state.
	g := newSynthState(2 << 20)
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, g); err != nil {
		t.Fatal(err)
	}
	res, err := Scan(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != g.expected || g.expected < 20 {
		t.Errorf("%d findings, want %d (at least 20): %v", len(res.Findings), g.expected, res.Findings)
	}
}

func TestScanLongKeysAndDeepPaths(t *testing.T) {
	long := strings.Repeat("k", 100_000)
	deep := any(testAccessKeyID)
	for range 300 {
		deep = map[string]any{"abcdefgh": deep}
	}
	many := make([]any, 1000)
	for i := range many {
		many[i] = testAccessKeyID
	}
	res, err := scanString(t, stateJSON(t, nil,
		managed("null_resource", "long", map[string]any{long: map[string]any{"inner": testAccessKeyID, "blank": ""}, "list": map[string]any{long: many}},
			[]tStep{attr(long), attr("blank")}),
		managed("null_resource", "deep", map[string]any{"root": deep}),
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	clipped := `["` + strings.Repeat("k", maxKeyBytes) + `…"]`
	var deepPath string
	pathBytes := 0
	for _, f := range res.Findings {
		pathBytes += len(f.Path)
		if f.Address == "null_resource.deep" {
			deepPath = f.Path
		}
	}
	// The long key is clipped; the empty value under it cannot be told from
	// another key's, so its sensitive path is reported.
	for _, want := range []Finding{
		{"null_resource.long", clipped + ".blank", RuleSensitive},
		{"null_resource.long", clipped + ".inner", RuleAWSAccessKey},
		{"null_resource.long", "list" + clipped + "[999]", RuleAWSAccessKey},
	} {
		if !slices.Contains(res.Findings, want) {
			t.Errorf("no finding %v", want)
		}
	}
	if len(res.Findings) != 1003 {
		t.Errorf("%d findings, want 1003", len(res.Findings))
	}
	if pathBytes > 1003*(maxKeyBytes+32) {
		t.Errorf("findings hold %d bytes of paths", pathBytes)
	}
	if !strings.HasSuffix(deepPath, "…") || len(deepPath) > maxPathBytes+16 || !strings.HasPrefix(deepPath, "root.abcdefgh.abcdefgh.") {
		t.Errorf("deep path %q (%d bytes), want one cut after %d bytes", deepPath, len(deepPath), maxPathBytes)
	}
}

func TestScanConcurrent(t *testing.T) {
	state, err := os.ReadFile("testdata/terraform-1.11.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Scan(bytes.NewReader(state), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := Scan(bytes.NewReader(state), Options{})
			if err != nil || !slices.Equal(got.Findings, want.Findings) {
				t.Errorf("concurrent scan: %v, %v", err, got.Findings)
			}
		})
	}
	wg.Wait()
}

func TestScanSecretKeysRedacted(t *testing.T) {
	// Keys come from data (for_each over a variable, a map of tags), so they
	// can be secrets; a finding shows such a key redacted, and reports it.
	cases := []struct {
		name      string
		outputs   map[string]tOutput
		resources []tResource
		want      []Finding
	}{
		{"for_each key that is a high-entropy token", nil,
			[]tResource{{Mode: "managed", Type: "terraform_data", Name: "k", Instances: []tInstance{
				{IndexKey: testToken, Attributes: map[string]any{"id": "x", "input": map[string]any{"value": testJWT, "type": "string"}}},
				{IndexKey: "plain", Attributes: map[string]any{"id": "y", "input": map[string]any{"value": testJWT, "type": "string"}}},
			}}},
			[]Finding{
				{`terraform_data.k["plain"]`, "input", RuleJWT},
				{"terraform_data.k[<redacted:high_entropy_token>]", "<index_key>", RuleHighEntropy},
				{"terraform_data.k[<redacted:high_entropy_token>]", "input", RuleJWT},
			}},
		{"for_each key that is an access key ID, with nothing else found", nil,
			[]tResource{{Mode: "managed", Type: "aws_iam_user", Name: "u", Instances: []tInstance{
				{IndexKey: testAccessKeyID, Attributes: map[string]any{"name": "ci"}},
			}}},
			[]Finding{{"aws_iam_user.u[<redacted:aws_access_key_id>]", "<index_key>", RuleAWSAccessKey}}},
		{"module instance key that is a JWT", nil,
			[]tResource{
				{Module: `module.svc["` + testJWT + `"]`, Mode: "managed", Type: "x", Name: "a", Instances: []tInstance{{Attributes: map[string]any{"token": testToken}}}},
				{Module: `module.svc["` + testJWT + `"]`, Mode: "data", Type: "x", Name: "clean", Instances: []tInstance{{Attributes: map[string]any{"id": "1"}}}},
				{Module: `module.app["eu"].module.db["` + testAccessKeyID + `"]`, Mode: "managed", Type: "x", Name: "b", Instances: []tInstance{{IndexKey: 1, Attributes: map[string]any{"id": "2"}}}},
			},
			[]Finding{
				{`module.app["eu"].module.db[<redacted:aws_access_key_id>]`, "<module_key>", RuleAWSAccessKey},
				{"module.svc[<redacted:jwt>]", "<module_key>", RuleJWT},
				{"module.svc[<redacted:jwt>].x.a", "token", RuleHighEntropy},
			}},
		{"tag key that is an access key ID, with a secret value", nil,
			[]tResource{managed("aws_s3_bucket", "b", map[string]any{"tags": map[string]any{testAccessKeyID: testSecretKey, "Name": "logs"}})},
			[]Finding{
				{"aws_s3_bucket.b", "tags[<redacted:aws_access_key_id>]", RuleAWSAccessKey},
				{"aws_s3_bucket.b", "tags[<redacted:aws_access_key_id>]", RuleAWSSecretKey},
			}},
		{"the name exclusions of values do not apply to keys", nil,
			[]tResource{managed("null_resource", "x", map[string]any{"ids": map[string]any{testKeyToken: "a"}, "user_id": map[string]any{testKeyToken: "b"}})},
			[]Finding{
				{"null_resource.x", "ids[<redacted:high_entropy_token>]", RuleHighEntropy},
				{"null_resource.x", "user_id[<redacted:high_entropy_token>]", RuleHighEntropy},
			}},
		{"a known attribute does not hide a secret key under it", nil,
			[]tResource{managed("kubernetes_secret", "s", map[string]any{"data": map[string]any{testKeyToken: "v"}})},
			[]Finding{
				{"kubernetes_secret.s", "data", RuleKnownAttribute},
				{"kubernetes_secret.s", "data[<redacted:high_entropy_token>]", RuleHighEntropy},
			}},
		{"sensitive path through a secret key", nil,
			[]tResource{
				managed("null_resource", "set", map[string]any{"data": map[string]any{testKeyToken: testPassword}}, []tStep{attr("data"), key(testKeyToken)}),
				// Empty: the key is still reported, the value is not.
				managed("null_resource", "empty", map[string]any{"data": map[string]any{testKeyToken: ""}}, []tStep{attr("data"), key(testKeyToken)}),
				// Two secret keys shown alike: the empty one does not hide the other.
				managed("null_resource", "two", map[string]any{"data": map[string]any{testKeyToken: "", testToken: testPassword}},
					[]tStep{attr("data"), key(testKeyToken)}, []tStep{attr("data"), key(testToken)}),
				// Only in sensitive_attributes: a path that does not resolve.
				managed("null_resource", "listed", map[string]any{"data": map[string]any{"other": testPassword}}, []tStep{attr("data"), key(testAccessKeyID), attr("x")}),
				// Inside a dynamic value, as terraform_data stores it.
				managed("terraform_data", "d", map[string]any{"input": map[string]any{
					"value": map[string]any{testKeyToken: ""},
					"type":  []any{"object", map[string]any{testKeyToken: "string"}},
				}}, []tStep{attr("input"), key(testKeyToken)}),
			},
			[]Finding{
				{"null_resource.empty", "data[<redacted:high_entropy_token>]", RuleHighEntropy},
				{"null_resource.listed", "data[<redacted:aws_access_key_id>]", RuleAWSAccessKey},
				{"null_resource.listed", "data[<redacted:aws_access_key_id>].x", RuleSensitive},
				{"null_resource.set", "data[<redacted:high_entropy_token>]", RuleHighEntropy},
				{"null_resource.set", "data[<redacted:high_entropy_token>]", RuleSensitive},
				{"null_resource.two", "data[<redacted:high_entropy_token>]", RuleHighEntropy},
				{"null_resource.two", "data[<redacted:high_entropy_token>]", RuleSensitive},
				{"terraform_data.d", "input[<redacted:high_entropy_token>]", RuleHighEntropy},
			}},
		{"attribute names and output keys", map[string]tOutput{"o": {Value: map[string]any{"list": []any{map[string]any{testJWT: 1}}}, Type: []any{"object", map[string]any{}}}},
			[]tResource{managed("null_resource", "x", map[string]any{testAccessKeyID: "", "nested": []any{map[string]any{testKeyToken: nil}}})},
			[]Finding{
				{"null_resource.x", "[<redacted:aws_access_key_id>]", RuleAWSAccessKey},
				{"null_resource.x", "nested[0][<redacted:high_entropy_token>]", RuleHighEntropy},
				{"output.o", "value.list[0][<redacted:jwt>]", RuleJWT},
			}},
		{"long secret key", nil,
			[]tResource{managed("null_resource", "x", map[string]any{"tags": map[string]any{strings.Repeat("k", maxKeyBytes-10) + " " + testKeyToken: "v"}})},
			[]Finding{{"null_resource.x", "tags[<redacted:high_entropy_token>]", RuleHighEntropy}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := scanString(t, stateJSON(t, tc.outputs, tc.resources...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			assertFindings(t, res.Findings, tc.want)
		})
	}
}

func TestScanSecretKeysRedactedLegacyFlat(t *testing.T) {
	state := `{"version": 4, "resources": [{"mode": "managed", "type": "x", "name": "old", "instances": [{"schema_version": 0, "attributes_flat": {
		"id": "old", "tags.%": "2", "tags.` + testAccessKeyID + `": "a", "tags.Name": "n", "meta.` + testJWT + `.x": "b", "` + testKeyToken + `.y": "c", "list.0.` + testSecretKey + `": "d", "` + testJWT + `.z": "e"}}]}]}`
	res, err := scanString(t, state, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"x.old", "[<redacted:high_entropy_token>]", RuleHighEntropy},
		{"x.old", "[<redacted:jwt>]", RuleJWT},
		{"x.old", "list[<redacted:aws_secret_access_key>]", RuleAWSSecretKey},
		{"x.old", "meta[<redacted:jwt>]", RuleJWT},
		{"x.old", "tags[<redacted:aws_access_key_id>]", RuleAWSAccessKey},
	})
}

func TestScanSecretKeysErrors(t *testing.T) {
	// A scan that fails keeps what it found, redacted, and its error names
	// no key.
	full := stateJSON(t, nil, tResource{Module: `module.m["` + testKeyToken + `"]`, Mode: "managed", Type: "x", Name: "k", Instances: []tInstance{
		{IndexKey: testToken, Attributes: map[string]any{"tags": map[string]any{testAccessKeyID: "x"}}},
		{IndexKey: testJWT, Attributes: map[string]any{"id": "y"}},
	}})
	i := strings.Index(full, testJWT)
	if i < 0 {
		t.Fatal("no second instance")
	}
	res, err := scanString(t, full[:i+10], Options{})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	assertFindings(t, res.Findings, []Finding{
		{"module.m[<redacted:high_entropy_token>]", "<module_key>", RuleHighEntropy},
		{"module.m[<redacted:high_entropy_token>].x.k[<redacted:high_entropy_token>]", "<index_key>", RuleHighEntropy},
		{"module.m[<redacted:high_entropy_token>].x.k[<redacted:high_entropy_token>]", "tags[<redacted:aws_access_key_id>]", RuleAWSAccessKey},
	})
	_, err = scanString(t, stateJSON(t, nil, tResource{Mode: "managed", Type: "x", Name: "k", Instances: []tInstance{{IndexKey: testToken}}})+testSecretKey, Options{})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

func TestRedactModule(t *testing.T) {
	d := detector{base64: DefaultEntropyThreshold, hex: DefaultEntropyThreshold - 1}
	for _, tc := range []struct {
		module string
		want   string
		found  []moduleFinding
	}{
		{"module.net", "module.net", nil},
		{`module.app["eu"].module.db[2]`, `module.app["eu"].module.db[2]`, nil},
		{`module.a["` + testJWT + `"].module.b["x"]`, `module.a[<redacted:jwt>].module.b["x"]`,
			[]moduleFinding{{"module.a[<redacted:jwt>]", RuleJWT}}},
		{`module.a["x"].module.b["` + testToken + `"]`, `module.a["x"].module.b[<redacted:high_entropy_token>]`,
			[]moduleFinding{{`module.a["x"].module.b[<redacted:high_entropy_token>]`, RuleHighEntropy}}},
		// Escapes, an unquoted key and brackets left open.
		{`module.a["q\"` + testAccessKeyID + `\\"]`, `module.a[<redacted:aws_access_key_id>]`,
			[]moduleFinding{{"module.a[<redacted:aws_access_key_id>]", RuleAWSAccessKey}}},
		{`module.a[` + testSecretKey + `].b`, `module.a[<redacted:aws_secret_access_key>].b`,
			[]moduleFinding{{"module.a[<redacted:aws_secret_access_key>]", RuleAWSSecretKey}}},
		{`module.a["` + testToken, `module.a[<redacted:high_entropy_token>]`,
			[]moduleFinding{{"module.a[<redacted:high_entropy_token>]", RuleHighEntropy}}},
		{`module.a["` + testToken + `"x].b`, `module.a[<redacted:high_entropy_token>]`,
			[]moduleFinding{{"module.a[<redacted:high_entropy_token>]", RuleHighEntropy}}},
		{`module.a[` + testToken, `module.a[<redacted:high_entropy_token>]`,
			[]moduleFinding{{"module.a[<redacted:high_entropy_token>]", RuleHighEntropy}}},
		// A long address is clipped before the redacted key, not through it.
		{"module." + strings.Repeat("m", 300) + `["` + testToken + `"]`, "module." + strings.Repeat("m", maxKeyBytes-7) + "…",
			[]moduleFinding{{"module." + strings.Repeat("m", maxKeyBytes-7) + "…[<redacted:high_entropy_token>]", RuleHighEntropy}}},
	} {
		got, found := d.redactModule(tc.module)
		if got != tc.want || !slices.Equal(found, tc.found) {
			t.Errorf("redactModule(%.12q…) = %q, %v; want %q, %v", tc.module, got, found, tc.want, tc.found)
		}
	}
}
