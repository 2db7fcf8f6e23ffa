package policydoc

import (
	"net/url"
	"testing"
)

func FuzzParse(f *testing.F) {
	seeds := []string{
		bucketPolicy,
		url.QueryEscape(bucketPolicy),
		`{"Version":"2012-10-17","Id":"key","Statement":{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}}`,
		`{"Statement":[{"Effect":"Deny","NotPrincipal":{"Service":["a","b"]},"NotAction":[],"NotResource":"x",
			"Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:TlsVersion":[1.2,"1e3"]},"Null":{"k":null}}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"*":["*","*"]},"Action":["s3:GetObject","S3:getobject"],"Condition":{"StringEquals":{"k":"1","K":"2"},"Bool":{}}}]}`,
		`{"Statement":[]}`,
		`[]`,
		`%7B%22Statement%22%3A%5B%5D%7D`,
		`{"Statement":[{"Effect":"Allow",}]}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		doc, err := Parse(text)
		if err != nil {
			return
		}
		if !doc.Equivalent(doc) {
			t.Fatalf("parsed document is not equivalent to itself: %#v", doc)
		}
		out, err := doc.JSON()
		if err != nil {
			t.Fatalf("JSON of parsed document: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(JSON()) failed: %v\nJSON: %s", err, out)
		}
		if !back.Equivalent(doc) || !doc.Equivalent(back) {
			t.Fatalf("Parse(JSON()) not equivalent\n parsed %#v\n back   %#v\n JSON   %s", doc, back, out)
		}
		again, err := back.JSON()
		if err != nil {
			t.Fatalf("JSON after round trip: %v", err)
		}
		if again != out {
			t.Fatalf("rendering is not stable:\n first  %s\n second %s", out, again)
		}
		if s := doc.String(); s != out {
			t.Fatalf("String and JSON differ:\n String %s\n JSON   %s", s, out)
		}
	})
}
