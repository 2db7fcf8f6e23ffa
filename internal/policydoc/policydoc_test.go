package policydoc

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

const bucketPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyInsecureTransport",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::state", "arn:aws:s3:::state/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }
  ]
}`

var bucketPolicyDoc = Document{
	Version: "2012-10-17",
	Statement: []Statement{{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: Principal{"*": {"*"}},
		Action:    StringSet{"s3:*"},
		Resource:  StringSet{"arn:aws:s3:::state", "arn:aws:s3:::state/*"},
		Condition: Conditions{"Bool": {"aws:SecureTransport": {"false"}}},
	}},
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Document
	}{
		{
			name: "raw JSON",
			text: bucketPolicy,
			want: bucketPolicyDoc,
		},
		{
			name: "URL-encoded by QueryEscape",
			text: url.QueryEscape(bucketPolicy),
			want: bucketPolicyDoc,
		},
		{
			name: "URL-encoded as IAM returns it",
			text: "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C" +
				"%22Action%22%3A%5B%22s3%3AGetObject%22%2C%22s3%3APutObject%22%5D%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Astate%2Fenv%2F%2A%22%7D%5D%7D",
			want: Document{
				Version: "2012-10-17",
				Statement: []Statement{{
					Effect:   "Allow",
					Action:   StringSet{"s3:GetObject", "s3:PutObject"},
					Resource: StringSet{"arn:aws:s3:::state/env/*"},
				}},
			},
		},
		{
			name: "lower-case percent escapes and surrounding whitespace",
			text: "  %7b%22Statement%22%3a%5b%5d%7d\n",
			want: Document{Statement: []Statement{}},
		},
		{
			name: "single statement object",
			text: `{"Version":"2012-10-17","Id":"key-policy","Statement":{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}}`,
			want: Document{
				Version: "2012-10-17",
				ID:      "key-policy",
				Statement: []Statement{{
					Sid:       "Root",
					Effect:    "Allow",
					Principal: Principal{"AWS": {"arn:aws:iam::123456789012:root"}},
					Action:    StringSet{"kms:*"},
					Resource:  StringSet{"*"},
				}},
			},
		},
		{
			name: "boolean and number condition values",
			text: `{"Statement":[{"Effect":"Deny","NotPrincipal":{"Service":["logging.s3.amazonaws.com","cloudtrail.amazonaws.com"]},"NotAction":["s3:GetObject"],"NotResource":"arn:aws:s3:::x",
				"Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:TlsVersion":1.2},"NumericEquals":{"s3:max-keys":[10,true,"7"]}}}]}`,
			want: Document{
				Statement: []Statement{{
					Effect:       "Deny",
					NotPrincipal: Principal{"Service": {"logging.s3.amazonaws.com", "cloudtrail.amazonaws.com"}},
					NotAction:    StringSet{"s3:GetObject"},
					NotResource:  StringSet{"arn:aws:s3:::x"},
					Condition: Conditions{
						"Bool":            {"aws:SecureTransport": {"false"}},
						"NumericLessThan": {"s3:TlsVersion": {"1.2"}},
						"NumericEquals":   {"s3:max-keys": {"10", "true", "7"}},
					},
				}},
			},
		},
		{
			name: "null elements count as absent",
			text: `{"Version":null,"Statement":[{"Sid":null,"Effect":"Allow","Action":null,"Principal":null,"Condition":null}]}`,
			want: Document{Statement: []Statement{{Effect: "Allow"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse:\n got  %#v\n want %#v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const secret = "TopSecretMarker"
	tests := []struct {
		name    string
		text    string
		wantErr string // substring the error must contain
	}{
		{"empty", "   ", "empty"},
		{"invalid JSON", `{"Version":"2012-10-17","Statement":[{"Sid":"` + secret + `","Effect":"Allow",}]}`, "not valid JSON"},
		{"truncated JSON", `{"Version":"2012-10-17","Statement":[{"Sid":"` + secret + `"`, "unexpected end of input"},
		{"trailing content", `{"Statement":[]} {"Sid":"` + secret + `"}`, "after the end"},
		{"not an object", `["` + secret + `"]`, "must be a JSON object"},
		{"no statement", `{"Version":"` + secret + `"}`, "no Statement"},
		{"statement wrong type", `{"Statement":"` + secret + `"}`, "Statement: expected an object or a list"},
		{"statement item wrong type", `{"Statement":[{"Effect":"Allow"},"` + secret + `"]}`, "Statement[1]: expected a statement object"},
		{"missing effect", `{"Statement":[{"Sid":"` + secret + `"}]}`, "Statement[0]: missing Effect"},
		{"effect wrong type", `{"Statement":[{"Effect":true,"Sid":"` + secret + `"}]}`, "Statement[0].Effect: expected a string"},
		{"action number", `{"Statement":[{"Effect":"Allow","Action":5,"Sid":"` + secret + `"}]}`, "Statement[0].Action: expected a string or a list of strings"},
		{"resource list item", `{"Statement":[{"Effect":"Allow","Resource":["a",{}],"Sid":"` + secret + `"}]}`, "Statement[0].Resource[1]"},
		{"unknown element", `{"Statement":[{"Effect":"Allow","Actions":"s3:GetObject","Sid":"` + secret + `"}]}`, `unknown element "Actions"`},
		{"unknown top-level element", `{"Statement":[],"Statements":"` + secret + `"}`, `unknown top-level element "Statements"`},
		{"principal string", `{"Statement":[{"Effect":"Allow","Principal":"` + secret + `"}]}`, `must be "*"`},
		{"principal value", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":true},"Sid":"` + secret + `"}]}`, `Principal["AWS"]`},
		{"condition not object", `{"Statement":[{"Effect":"Allow","Condition":["` + secret + `"]}]}`, "Condition: expected an object"},
		{"condition operator not object", `{"Statement":[{"Effect":"Allow","Condition":{"Bool":"` + secret + `"}}]}`, `Condition["Bool"]: expected an object`},
		{"condition value object", `{"Statement":[{"Effect":"Allow","Sid":"` + secret + `","Condition":{"Bool":{"k":{}}}}]}`, `Condition["Bool"]["k"]`},
		{"unknown element of 64 characters", `{"Statement":[{"Effect":"Allow","` + strings.Repeat("a", 64) + `":"x"}]}`, `unknown element "` + strings.Repeat("a", 64) + `"`},
		{"unknown element of 65 characters", `{"Statement":[{"Effect":"Allow","` + strings.Repeat("b", 65) + `":"x"}]}`, `unknown element "` + strings.Repeat("b", 64) + `"...`},
		// Cut before a character of several bytes, never inside it.
		{"long element cut at a character", `{"Statement":[{"Effect":"Allow","` + strings.Repeat("a", 63) + "é" + strings.Repeat("c", 10) + `":"x"}]}`, `unknown element "` + strings.Repeat("a", 63) + `"...`},
		{"bad percent escape", "%7B%22Sid%22%3A%22" + secret + "%ZZ", "malformed percent escape"},
		{"URL-encoded invalid JSON", url.QueryEscape(`{"Statement":[{"Sid":"` + secret + `",]}`), "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantErr) {
				t.Errorf("error %q does not mention %q", msg, tc.wantErr)
			}
			if strings.TrimSpace(tc.text) != "" && strings.Contains(msg, strings.TrimSpace(tc.text)) {
				t.Errorf("error %q echoes the document", msg)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q contains document content %q", msg, secret)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name string
		doc  Document
		want string
	}{
		{
			name: "wildcard principal and single-element sets render as strings",
			doc:  bucketPolicyDoc,
			want: `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",` +
				`"Resource":["arn:aws:s3:::state","arn:aws:s3:::state/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
		},
		{
			name: "statement order kept, map keys sorted, empty fields omitted",
			doc: Document{
				Version: "2012-10-17",
				ID:      "key-policy",
				Statement: []Statement{
					{Sid: "B", Effect: "Allow", Principal: Principal{"Service": {"s"}, "AWS": {"a1", "a2"}}, Action: StringSet{"kms:Decrypt"}, Resource: StringSet{"*"}, NotResource: StringSet{}},
					{Sid: "A", Effect: "Deny", NotPrincipal: Principal{"AWS": {"*"}}, NotAction: StringSet{"kms:*"}, Resource: StringSet{"*"},
						Condition: Conditions{"StringNotEquals": {"kms:ViaService": {"s3.eu-west-1.amazonaws.com"}, "aws:PrincipalAccount": {"1", "2"}}}},
				},
			},
			want: `{"Version":"2012-10-17","Id":"key-policy","Statement":[` +
				`{"Sid":"B","Effect":"Allow","Principal":{"AWS":["a1","a2"],"Service":"s"},"Action":"kms:Decrypt","Resource":"*"},` +
				`{"Sid":"A","Effect":"Deny","NotPrincipal":{"AWS":"*"},"NotAction":"kms:*","Resource":"*",` +
				`"Condition":{"StringNotEquals":{"aws:PrincipalAccount":["1","2"],"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}}]}`,
		},
		{
			name: "no statements renders an empty list",
			doc:  Document{Version: "2012-10-17"},
			want: `{"Version":"2012-10-17","Statement":[]}`,
		},
		{
			name: "HTML characters are not escaped",
			doc:  Document{Statement: []Statement{{Effect: "Allow", Condition: Conditions{"StringLike": {"aws:Referer": {"https://x/?a=1&b=<2>"}}}}}},
			want: `{"Version":"","Statement":[{"Effect":"Allow","Condition":{"StringLike":{"aws:Referer":"https://x/?a=1&b=<2>"}}}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.doc.JSON()
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			if got != tc.want {
				t.Fatalf("JSON:\n got  %s\n want %s", got, tc.want)
			}
			if s := tc.doc.String(); s != tc.want {
				t.Fatalf("String:\n got  %s\n want %s", s, tc.want)
			}
			back, err := Parse(got)
			if err != nil {
				t.Fatalf("Parse(JSON()): %v", err)
			}
			if !back.Equivalent(tc.doc) {
				t.Fatalf("Parse(JSON()) = %#v, not equivalent to %#v", back, tc.doc)
			}
		})
	}
}

func TestEncodingJSONInterop(t *testing.T) {
	// The field types also work with encoding/json directly.
	var st Statement
	if err := json.Unmarshal([]byte(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"Bool":{"aws:SecureTransport":true}}}`), &st); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	want := Statement{
		Effect:    "Allow",
		Principal: Principal{"*": {"*"}},
		Action:    StringSet{"s3:GetObject"},
		Condition: Conditions{"Bool": {"aws:SecureTransport": {"true"}}},
	}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("Unmarshal:\n got  %#v\n want %#v", st, want)
	}
	var s StringSet
	if err := json.Unmarshal([]byte(`7`), &s); err == nil {
		t.Fatal("StringSet accepted a number")
	}
}

// equivalenceBase is a two-statement bucket policy the equivalence cases vary.
const equivalenceBase = `{"Version":"2012-10-17","Statement":[
		{"Sid":"One","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/a","arn:aws:iam::111122223333:role/b"]},
		 "Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::state/*",
		 "Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},
		{"Sid":"Two","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::state","arn:aws:s3:::state/*"],
		 "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

// equivalenceCase is a pair of policy texts and whether they mean the same.
type equivalenceCase struct {
	name string
	a, b string
	want bool
}

// equivalenceCases are the pairs Equivalent is judged on; the comparison with
// github.com/hashicorp/awspolicyequivalence feeds it the same pairs.
var equivalenceCases = []equivalenceCase{
	{"identical", equivalenceBase, equivalenceBase, true},
	{"URL-encoded", equivalenceBase, url.QueryEscape(equivalenceBase), true},
	{"reordered statements", equivalenceBase, `{"Version":"2012-10-17","Statement":[
			{"Sid":"Two","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::state","arn:aws:s3:::state/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},
			{"Sid":"One","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/a","arn:aws:iam::111122223333:role/b"]},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::state/*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}`, true},
	{"reordered and duplicated actions and values", equivalenceBase, `{"Version":"2012-10-17","Statement":[
			{"Sid":"One","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/b","arn:aws:iam::111122223333:role/a","arn:aws:iam::111122223333:role/b"]},"Action":["s3:PutObject","s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::state/*"],"Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":["aws:kms","aws:kms"]}}},
			{"Sid":"Two","Effect":"Deny","Principal":"*","Action":["s3:*"],"Resource":["arn:aws:s3:::state/*","arn:aws:s3:::state"],"Condition":{"Bool":{"aws:SecureTransport":["false"]}}}]}`, true},
	{"string vs one-element list", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"r"}]}`, `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["r"]}]}`, true},
	{"whitespace", `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, "\n{ \"Statement\" : [ {\n\t\"Effect\" : \"Allow\" ,\n \"Action\" : \"a:b\" } ] }\n", true},
	{"principal star vs AWS star", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject"}]}`, true},
	{"not-principal star vs AWS star list", `{"Statement":[{"Effect":"Deny","NotPrincipal":"*","Action":"s3:GetObject"}]}`, `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["*"]},"Action":"s3:GetObject"}]}`, true},
	{"condition key case", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"AWS:securetransport":"false"}}}]}`, true},
	{"condition boolean vs string", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}`, `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, true},
	{"action case", `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"NotAction":"kms:Decrypt"}]}`, `{"Statement":[{"Effect":"Allow","Action":["S3:getobject"],"NotAction":"KMS:DECRYPT"}]}`, true},
	{"empty list vs absent", `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":[]}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, true},
	{"single statement object vs list", `{"Statement":{"Effect":"Allow","Action":"a:b"}}`, `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, true},

	{"different effect case", `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, `{"Statement":[{"Effect":"allow","Action":"a:b"}]}`, false},
	{"allow vs deny", `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, `{"Statement":[{"Effect":"Deny","Action":"a:b"}]}`, false},
	{"extra resource", `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"r1"}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":["r1","r2"]}]}`, false},
	{"resource case", `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:s3:::State"}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:s3:::state"}]}`, false},
	{"different condition value", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`, false},
	{"condition operator case", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"bool":{"aws:SecureTransport":"false"}}}]}`, false},
	{"missing condition", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, `{"Statement":[{"Effect":"Deny","Action":"s3:*"}]}`, false},
	{"different principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"a:b"}]}`, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"a:b"}]}`, false},
	{"principal kind", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"x"},"Action":"a:b"}]}`, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"x"},"Action":"a:b"}]}`, false},
	{"principal vs not-principal", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"a:b"}]}`, `{"Statement":[{"Effect":"Deny","NotPrincipal":"*","Action":"a:b"}]}`, false},
	{"action vs not-action", `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, `{"Statement":[{"Effect":"Allow","NotAction":"a:b"}]}`, false},
	{"different sid", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"a:b"}]}`, `{"Statement":[{"Sid":"a","Effect":"Allow","Action":"a:b"}]}`, false},
	{"different version", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b"}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, false},
	{"duplicated statement", `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Allow","Action":"a:b"}]}`, false},
	{"statement multiset", `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Allow","Action":"a:b"},{"Effect":"Deny","Action":"a:b"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Deny","Action":"a:b"},{"Effect":"Deny","Action":"a:b"}]}`, false},
	{"condition keys differing in case are not merged", `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"StringEquals":{"k":"1","K":"2"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"StringEquals":{"k":["1","2"]}}}]}`, false},

	// AWS rewrites an account ID principal to the account's root ARN.
	{"account ID vs root ARN principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`, true},
	{"account IDs vs root ARNs among other principals", `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/ci","444455556666"]},"Action":"s3:*"}]}`,
		`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::111122223333:role/ci","arn:aws:iam::111122223333:root"]},"Action":"s3:*"}]}`, true},
	{"account ID vs another account's root ARN", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*"}]}`, false},
	{"account ID vs a role named root", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/root"},"Action":"kms:*"}]}`, false},
	{"account ID as a service principal is not a root ARN", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"111122223333"},"Action":"kms:*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"Service":"arn:aws:iam::111122223333:root"},"Action":"kms:*"}]}`, false},
	{"sid present vs absent", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"a:b"}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, false},
	{"not-action and not-resource reordered, single vs list", `{"Statement":[{"Effect":"Deny","NotAction":["s3:GetObject","s3:PutObject"],"NotResource":"arn:aws:s3:::b/*"}]}`,
		`{"Statement":[{"Effect":"Deny","NotAction":["s3:PutObject","s3:GetObject"],"NotResource":["arn:aws:s3:::b/*"]}]}`, true},
	{"resource vs not-resource", `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"r"}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b","NotResource":"r"}]}`, false},
	{"duplicate action", `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:GetObject"],"Resource":"r"}]}`, `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"r"}]}`, true},
	{"duplicate resource", `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":["r","r"]}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"r"}]}`, true},
	{"duplicate principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/a","arn:aws:iam::111122223333:role/a"]},"Action":"a:b"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/a"},"Action":"a:b"}]}`, true},
	{"duplicate condition value", `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"StringEquals":{"aws:SourceAccount":["111122223333","111122223333"]}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`, true},
	{"condition boolean true vs string", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":[true]}}}]}`,
		`{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`, true},
	{"numeric condition number vs string", `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":10}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}]}`, true},
	{"numeric condition values differ", `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":10}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":"100"}}}]}`, false},
	// Values are compared as written: 1.0 and 1 are the same number but not
	// the same text, and AWS hands back the text it was given.
	{"numeric condition written differently", `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Condition":{"NumericEquals":{"s3:max-keys":1.0}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Condition":{"NumericEquals":{"s3:max-keys":"1"}}}]}`, false},
	{"integers beyond float64 precision", `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"NumericEquals":{"k":9007199254740993}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"NumericEquals":{"k":9007199254740992}}}]}`, false},
	{"principal star vs no principal", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*"}]}`, `{"Statement":[{"Effect":"Deny","Action":"s3:*"}]}`, false},
	{"empty condition vs no condition", `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{}}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, true},
	{"operator without keys vs no condition", `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"Bool":{}}}]}`, `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, true},
	{"version 2012-10-17 vs 2008-10-17", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b"}]}`, `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"a:b"}]}`, false},
}

func TestEquivalent(t *testing.T) {
	for _, tc := range equivalenceCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, pair := range [][2]string{{tc.a, tc.b}, {tc.b, tc.a}} {
				got, err := Equivalent(pair[0], pair[1])
				if err != nil {
					t.Fatalf("Equivalent: %v", err)
				}
				if got != tc.want {
					t.Fatalf("Equivalent(%s, %s) = %v, want %v", pair[0], pair[1], got, tc.want)
				}
			}
		})
	}
}

func TestEquivalentErrors(t *testing.T) {
	good := `{"Statement":[]}`
	if _, err := Equivalent("{", good); err == nil || !strings.HasPrefix(err.Error(), "first policy:") {
		t.Errorf("Equivalent(bad, good) error = %v, want a first-policy error", err)
	}
	if _, err := Equivalent(good, "[]"); err == nil || !strings.HasPrefix(err.Error(), "second policy:") {
		t.Errorf("Equivalent(good, bad) error = %v, want a second-policy error", err)
	}
}

func TestDocumentEquivalentInMemory(t *testing.T) {
	a := Document{Version: "2012-10-17", Statement: []Statement{{Effect: "Allow", Principal: Principal{"*": {"*", "*"}}, Action: StringSet{"kms:Decrypt"}}}}
	b := Document{Version: "2012-10-17", Statement: []Statement{{Effect: "Allow", Principal: Principal{"AWS": {"*"}}, Action: StringSet{"KMS:decrypt"}, Condition: Conditions{"Bool": {}}}}}
	if !a.Equivalent(b) || !b.Equivalent(a) {
		t.Fatal("documents should be equivalent")
	}
	c := Document{Version: "2012-10-17", ID: "other", Statement: b.Statement}
	if a.Equivalent(c) {
		t.Fatal("documents with different Id should differ")
	}
	// Distinct invalid UTF-8 strings must not collapse into one.
	d1 := Document{Statement: []Statement{{Effect: "Allow", Resource: StringSet{"\xff"}}}}
	d2 := Document{Statement: []Statement{{Effect: "Allow", Resource: StringSet{"\xfe"}}}}
	if d1.Equivalent(d2) {
		t.Fatal("different byte strings compared equal")
	}
}

func TestWildcards(t *testing.T) {
	tests := []struct {
		name string
		doc  Document
		want []string
	}{
		{
			name: "clean bucket policy",
			doc:  bucketPolicyDoc,
			want: nil,
		},
		{
			name: "KMS key policy with resource star is fine",
			doc:  Document{Statement: []Statement{{Sid: "Root", Effect: "Allow", Action: StringSet{"kms:*"}, Resource: StringSet{"*"}}}},
			want: nil,
		},
		{
			name: "deny with s3 on resource star is fine",
			doc:  Document{Statement: []Statement{{Effect: "Deny", Action: StringSet{"s3:*"}, Resource: StringSet{"*"}}}},
			want: nil,
		},
		{
			name: "action star",
			doc:  Document{Statement: []Statement{{Sid: "Bad", Effect: "Allow", Action: StringSet{"s3:GetObject", "*"}, Resource: StringSet{"arn:aws:s3:::b"}}}},
			want: []string{`statement 0 (Sid "Bad"): Action "*" covers every action`},
		},
		{
			name: "not-action star",
			doc:  Document{Statement: []Statement{{Effect: "Deny", NotAction: StringSet{"*"}, Resource: StringSet{"arn:aws:s3:::b"}}}},
			want: []string{`statement 0: NotAction "*" is a wildcard over every action`},
		},
		{
			name: "allow s3 and dynamodb on resource star",
			doc: Document{Statement: []Statement{
				{Effect: "Allow", Action: StringSet{"s3:GetObject"}, Resource: StringSet{"arn:aws:s3:::b/*"}},
				{Sid: "Wide", Effect: "Allow", Action: StringSet{"s3:GetObject", "kms:Decrypt", "DynamoDB:PutItem"}, Resource: StringSet{"arn:aws:s3:::b", "*"}},
			}},
			want: []string{`statement 1 (Sid "Wide"): allows s3:GetObject, DynamoDB:PutItem on Resource "*"`},
		},
		{
			name: "action that is exactly a service prefix",
			doc:  Document{Statement: []Statement{{Effect: "Allow", Action: StringSet{"S3:", "s3", "dynamo"}, Resource: StringSet{"*"}}}},
			want: []string{`statement 0: allows S3: on Resource "*"`},
		},
		{
			name: "resource pattern that is not exactly star",
			doc:  Document{Statement: []Statement{{Effect: "Allow", Action: StringSet{"s3:GetObject"}, Resource: StringSet{"arn:aws:s3:::*"}}}},
			want: nil,
		},
		{
			name: "action star and s3 on resource star both reported",
			doc:  Document{Statement: []Statement{{Effect: "Allow", Action: StringSet{"*", "s3:*"}, Resource: StringSet{"*"}}}},
			want: []string{`statement 0: Action "*" covers every action`, `statement 0: allows s3:* on Resource "*"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Wildcards(tc.doc)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Wildcards:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

// A long name that is not UTF-8 at all is still shortened, without a panic.
func TestQuoteNameOfInvalidUTF8(t *testing.T) {
	if got, want := quoteName(strings.Repeat("\x80", 65)), `""...`; got != want {
		t.Errorf("quoteName = %s, want %s", got, want)
	}
}

// Two condition keys with the same values make the same document whatever
// order the maps give them in (Go randomises it; 64 tries leave a chance of
// 2^-64 that a canonical form depending on it goes unseen).
func TestEquivalentConditionKeysWithTheSameValues(t *testing.T) {
	doc := func() Document {
		return Document{Version: "2012-10-17", Statement: []Statement{{Effect: "Allow", Action: StringSet{"s3:GetObject"}, Resource: StringSet{"*"},
			Condition: Conditions{"StringEquals": {"aws:SourceAccount": {"123456789012"}, "aws:SourceOwner": {"123456789012"}, "aws:PrincipalAccount": {"123456789012"}}}}}}
	}
	for range 64 {
		if !doc().Equivalent(doc()) {
			t.Fatal("a document is not equivalent to itself")
		}
	}
}
