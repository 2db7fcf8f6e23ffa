package accesspolicy

import (
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

func TestDrift(t *testing.T) {
	spec := Spec{Environment: "dev", Document: policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{
		{Sid: "ReadWriteStateObjects", Effect: "Allow", Action: policydoc.StringSet{"s3:GetObject", "s3:PutObject"},
			Resource: policydoc.StringSet{"arn:aws:s3:::b/dev/*"}},
	}}}
	for name, tc := range map[string]struct {
		document string
		want     string
	}{
		"same":                      {`{"Version":"2012-10-17","Statement":[{"Sid":"ReadWriteStateObjects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/dev/*"]}]}`, ""},
		"reordered and URL-encoded": {`%7B%22Statement%22%3A%7B%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fdev%2F%2A%22%2C%22Action%22%3A%5B%22s3%3APutObject%22%2C%22s3%3AGetObject%22%5D%2C%22Effect%22%3A%22Allow%22%2C%22Sid%22%3A%22ReadWriteStateObjects%22%7D%2C%22Version%22%3A%222012-10-17%22%7D`, ""},
		"widened to every prefix":   {`{"Version":"2012-10-17","Statement":[{"Sid":"ReadWriteStateObjects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/*"]}]}`, "differs"},
		"not a policy":              {`{`, "differs"},
	} {
		got := Drift(spec, &Observed{DefaultVersion: "v2", Document: tc.document})
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: drift = %q, want %q", name, got, tc.want)
		}
	}
}

func TestEnvironmentFromName(t *testing.T) {
	for name, want := range map[string]string{"acme-tfstate-dev": "dev", "acme-tfstate-prod_eu": "prod_eu", "other-tfstate-dev": "", "acme-tfstate-x-tfstate-dev": ""} {
		got, ok := EnvironmentFromName("acme", name)
		if ok != (want != "") || got != want && ok {
			t.Errorf("EnvironmentFromName(acme, %s) = %q, %v; want %q", name, got, ok, want)
		}
	}
}
