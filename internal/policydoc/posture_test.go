package policydoc

import "testing"

func TestPublicAllow(t *testing.T) {
	cases := []struct {
		name, policy, want string
	}{
		{"none", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`, ""},
		{"wildcard string", `{"Version":"2012-10-17","Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}`, `statement "Open"`},
		{"wildcard AWS", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","*"]},"Action":"s3:GetObject","Resource":"*"}]}`, "statement 0"},
		{"wildcard with condition", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`, ""},
		{"deny wildcard", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			if got := PublicAllow(d); got != tc.want {
				t.Errorf("PublicAllow = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeniesInsecureTransport(t *testing.T) {
	const b = "arn:aws:s3:::acme"
	stmt := func(principal, action, resource, cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":` + principal + `,"Action":` + action + `,"Resource":` + resource + `,"Condition":` + cond + `}]}`
	}
	tls := `{"Bool":{"aws:SecureTransport":"false"}}`
	both := `["arn:aws:s3:::acme","arn:aws:s3:::acme/*"]`
	cases := []struct {
		name, policy string
		want         bool
	}{
		{"ours", stmt(`"*"`, `"s3:*"`, both, tls), true},
		{"AWS wildcard, all actions, wildcard resource", stmt(`{"AWS":"*"}`, `"*"`, `"arn:aws:s3:::acme*"`, tls), true},
		{"BoolIfExists", stmt(`"*"`, `"s3:*"`, both, `{"BoolIfExists":{"aws:SecureTransport":"false"}}`), true},
		{"objects only", stmt(`"*"`, `"s3:*"`, `"arn:aws:s3:::acme/*"`, tls), false},
		{"one action", stmt(`"*"`, `"s3:GetObject"`, both, tls), false},
		{"one principal", stmt(`{"AWS":"arn:aws:iam::111122223333:root"}`, `"s3:*"`, both, tls), false},
		{"true is not false", stmt(`"*"`, `"s3:*"`, both, `{"Bool":{"aws:SecureTransport":"true"}}`), false},
		{"narrowed by another condition", stmt(`"*"`, `"s3:*"`, both, `{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:PrincipalAccount":"1"}}`), false},
		{"another bucket", stmt(`"*"`, `"s3:*"`, `["arn:aws:s3:::other","arn:aws:s3:::other/*"]`, tls), false},
		{"allow", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":` + both + `,"Condition":` + tls + `}]}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			if got := DeniesInsecureTransport(d, b, b+"/*"); got != tc.want {
				t.Errorf("DeniesInsecureTransport = %v, want %v", got, tc.want)
			}
		})
	}
}
