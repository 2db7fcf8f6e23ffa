package policydoc

import (
	"net/url"
	"testing"
)

// A bucket policy as IAM and S3 hand it back: statements reordered, single
// values unwrapped, and (for IAM) URL-encoded.
const (
	benchWritten = `{"Version":"2012-10-17","Statement":[
{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:*"],
 "Resource":["arn:aws:s3:::acme-tfstate-123456789012","arn:aws:s3:::acme-tfstate-123456789012/*"],
 "Condition":{"Bool":{"aws:SecureTransport":["false"]}}},
{"Sid":"DenyObjectsEncryptedWithOtherKeys","Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:PutObject"],
 "Resource":["arn:aws:s3:::acme-tfstate-123456789012/*"],
 "Condition":{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption-aws-kms-key-id":["arn:aws:kms:eu-central-1:123456789012:key/1111"]}}}]}`
	benchReturned = `{"Statement":[
{"Condition":{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:eu-central-1:123456789012:key/1111"}},
 "Sid":"DenyObjectsEncryptedWithOtherKeys","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
 "Resource":"arn:aws:s3:::acme-tfstate-123456789012/*"},
{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"S3:*",
 "Resource":["arn:aws:s3:::acme-tfstate-123456789012/*","arn:aws:s3:::acme-tfstate-123456789012"],
 "Condition":{"Bool":{"aws:securetransport":"false"}}}],"Version":"2012-10-17"}`
)

// BenchmarkEquivalent measures the semantic comparison every refresh makes for
// each policy a backend owns (key, bucket, one per environment).
func BenchmarkEquivalent(b *testing.B) {
	for name, returned := range map[string]string{"json": benchReturned, "url-encoded": url.QueryEscape(benchReturned)} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				same, err := Equivalent(benchWritten, returned)
				if err != nil || !same {
					b.Fatalf("Equivalent = %v, %v; want true", same, err)
				}
			}
		})
	}
}

// BenchmarkParse measures parsing alone, the larger part of a comparison.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchReturned); err != nil {
			b.Fatal(err)
		}
	}
}
