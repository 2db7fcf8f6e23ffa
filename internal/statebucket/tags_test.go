package statebucket

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestate/terraform-provider-securestate/internal/drifttest"
	"github.com/securestate/terraform-provider-securestate/internal/naming"
)

func tagMap(f *fakeS3, name string) map[string]string {
	out := map[string]string{}
	for _, t := range f.buckets[name].tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// The tags (ownership tag included) travel in the CreateBucket request. Where
// S3 keeps them, nothing else writes them; where they are dropped (the
// emulator), the read that waits for the new bucket shows it and they are
// written once, before any other write.
func TestEnsureTagsOnCreate(t *testing.T) {
	for name, kept := range map[string]bool{"kept on create (AWS)": true, "dropped on create (moto)": false} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.createTags = kept
			spec := testSpec()
			o, err := observeAndEnsure(context.Background(), f, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			sent := map[string]string{}
			for _, tg := range f.created[0].CreateBucketConfiguration.Tags {
				sent[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if !maps.Equal(sent, spec.Tags) || sent[naming.OwnerTagKey] != "acme" {
				t.Errorf("CreateBucket tags %v, want %v (ownership tag included)", sent, spec.Tags)
			}
			want := 1
			if kept {
				want = 0
			}
			if len(f.tagged) != want {
				t.Errorf("PutBucketTagging called %d times, want %d", len(f.tagged), want)
			}
			if kept && f.writes()[1] == "PutBucketTagging" || !kept && f.writes()[1] != "PutBucketTagging" {
				t.Errorf("writes %v", f.writes())
			}
			if !maps.Equal(o.Tags, spec.Tags) {
				t.Errorf("observed tags %v, want %v", o.Tags, spec.Tags)
			}
			drifttest.Compliant(t, name, Drift(spec, o))
		})
	}
}

// CreateBucket's reply lost where S3 keeps the tags of the request: the
// bucket found afterwards carries this backend's ownership tag and is ours.
func TestEnsureLostCreateReplyWithItsTags(t *testing.T) {
	f := newFake()
	f.createTags = true
	f.lost = []error{errors.New("connection reset")}
	o, err := observeAndEnsure(context.Background(), f, testSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	if o.Tags[naming.OwnerTagKey] != "acme" {
		t.Errorf("tags %v, want the ownership tag", o.Tags)
	}
}

// A tag added out of band is removed, a removed one put back, a changed one
// restored, in one PutBucketTagging that keeps the keys AWS reserves (S3
// refuses a tag set without them).
func TestEnsureSyncsTagsBothWays(t *testing.T) {
	f := newFake()
	spec := testSpec()
	spec.Tags["cost"] = "cc-1"
	f.hardenedBucket(spec)
	have := tagMap(f, bucket)
	delete(have, "cost")
	have["team"] = "someone-else"
	have["intruder"] = "x"
	have["aws:cloudformation:stack-name"] = "stack"
	f.buckets[bucket].tags = s3Tags(have)
	o, err := observeAndEnsure(context.Background(), f, spec, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.tagged) != 1 {
		t.Fatalf("PutBucketTagging called %d times, want once", len(f.tagged))
	}
	want := maps.Clone(spec.Tags)
	want["aws:cloudformation:stack-name"] = "stack"
	if got := tagMap(f, bucket); !maps.Equal(got, want) || !maps.Equal(o.Tags, want) {
		t.Errorf("tags %v (observed %v), want %v", got, o.Tags, want)
	}
}
