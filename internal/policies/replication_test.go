package policies

import (
	"slices"
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

func replicatedBackend(partition string) Backend {
	b := baseBackend()
	b.Partition = partition
	b.Replica = testReplica()
	if partition != "aws" {
		b.KeyARN = strings.Replace(b.KeyARN, "arn:aws:", "arn:"+partition+":", 1)
		b.Replica.KeyARN = strings.Replace(b.Replica.KeyARN, "arn:aws:", "arn:"+partition+":", 1)
		b.Replica.RoleARN = strings.Replace(b.Replica.RoleARN, "arn:aws:", "arn:"+partition+":", 1)
	}
	return b
}

// The replication role's permissions, written out: the exact action set on
// each resource and the exact conditions of the two key uses. The states are
// decrypted for the state bucket's ARN and the replicas encrypted for the
// replica bucket's ARN (bucket keys: the bucket is the encryption context,
// not the object; AWS Control Tower AFT #639), each only through S3 in its
// own region; kms:Encrypt only on the replica key, no kms:GenerateDataKey
// (AWS documents Decrypt on the source key and Encrypt on the replica key).
func TestReplicationRolePolicyIsExactlyWhatReplicationNeeds(t *testing.T) {
	for _, partition := range []string{"aws", "aws-cn"} {
		b := replicatedBackend(partition)
		bucket, replica := "arn:"+partition+":s3:::"+tBucket, "arn:"+partition+":s3:::"+tReplicaBucket
		want := policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{
			{Sid: SidReplicationSourceBucket, Effect: "Allow", Action: policydoc.StringSet{"s3:GetReplicationConfiguration", "s3:ListBucket"},
				Resource: policydoc.StringSet{bucket}},
			{Sid: SidReplicationSourceObjects, Effect: "Allow",
				Action: policydoc.StringSet{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging",
					"s3:GetObjectRetention", "s3:GetObjectLegalHold"},
				Resource: policydoc.StringSet{bucket + "/*"}},
			{Sid: SidReplicationReplicate, Effect: "Allow", Action: policydoc.StringSet{"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"},
				Resource: policydoc.StringSet{replica + "/*"}},
			{Sid: SidReplicationDecrypt, Effect: "Allow", Action: policydoc.StringSet{"kms:Decrypt"}, Resource: policydoc.StringSet{b.KeyARN},
				Condition: policydoc.Conditions{"StringEquals": {
					"kms:ViaService":                   {"s3.eu-central-1.amazonaws.com"},
					"kms:EncryptionContext:aws:s3:arn": {bucket},
				}}},
			{Sid: SidReplicationEncrypt, Effect: "Allow", Action: policydoc.StringSet{"kms:Encrypt"}, Resource: policydoc.StringSet{b.Replica.KeyARN},
				Condition: policydoc.Conditions{"StringEquals": {
					"kms:ViaService":                   {"s3.eu-west-1.amazonaws.com"},
					"kms:EncryptionContext:aws:s3:arn": {replica},
				}}},
		}}
		got := ReplicationRolePolicy(b)
		if !got.Equivalent(want) {
			t.Errorf("%s: role policy\n%s\nwant\n%s", partition, Render(got), Render(want))
		}
		back, err := policydoc.Parse(Render(got))
		if err != nil || !back.Equivalent(want) {
			t.Errorf("%s: the rendered role policy does not parse back (%v)", partition, err)
		}
		if w := policydoc.Wildcards(got); len(w) > 0 {
			t.Errorf("%s: %v", partition, w)
		}
		for _, st := range got.Statement {
			for _, v := range st.Condition["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] {
				if strings.Contains(v, "/") {
					t.Errorf("%s: %s conditions on an object ARN %q: with bucket keys S3 names the bucket", partition, st.Sid, v)
				}
			}
		}
	}
}

// Only S3 may assume the role, only for this account's state bucket.
func TestReplicationTrustPolicyLetsOnlyS3ReplicateTheStateBucket(t *testing.T) {
	b := replicatedBackend("aws")
	want := policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{{
		Sid: SidReplicationAssume, Effect: "Allow", Principal: policydoc.Principal{"Service": {"s3.amazonaws.com"}},
		Action: policydoc.StringSet{"sts:AssumeRole"},
		Condition: policydoc.Conditions{
			"StringEquals": {"aws:SourceAccount": {tAccount}},
			"ArnLike":      {"aws:SourceArn": {tBucketA}},
		},
	}}}
	if got := ReplicationTrustPolicy(b); !got.Equivalent(want) {
		t.Errorf("trust policy\n%s\nwant\n%s", Render(got), Render(want))
	}
}

// Every combination of the access model's table, with replication switched
// on, passes every check: the table itself pairs replication with each value
// of every other dimension, this covers it with every boundary × key
// administrators × provider triple as well.
func TestReplicationOverEveryCombination(t *testing.T) {
	documents := 0
	for _, c := range accessCombinations() {
		b := c.b
		b.Replica = testReplica()
		docs := renderDocuments(b)
		documents += len(docs)
		for _, f := range runChecks(b, docs) {
			t.Errorf("%s with replication: %s", c.name(), f)
		}
		for name, d := range map[string]policydoc.Document{"trust": ReplicationTrustPolicy(b), "role": ReplicationRolePolicy(b),
			"replica key": ReplicaKeyPolicy(b), "replica bucket": ReplicaBucketPolicy(b)} {
			if w := policydoc.Wildcards(d); len(w) > 0 {
				t.Errorf("%s, %s: %v", c.name(), name, w)
			}
		}
	}
	if documents == 0 {
		t.Fatal("no documents checked")
	}
}

// A failover configuration is read-only: with replication, no policy lets
// anyone take a lock on the replica (no lock file grant, no write there),
// whichever locking the backend uses; the lock table's grants are the
// state's only.
func TestFailoverConfigurationCannotLock(t *testing.T) {
	for _, lock := range []string{"table+lockfile", "table", "lockfile"} {
		b := backendOf(t, lock, "two-envs", "replica")
		for _, d := range renderDocuments(b) {
			for i, st := range d.doc.Statement {
				if st.Effect != "Allow" || !reachesReplica(b, st) && d.kind != "replica-bucket" {
					continue
				}
				for _, r := range st.Resource {
					if strings.HasSuffix(r, ".tflock") {
						t.Errorf("%s: %s grants lock files on the replica", lock, describe(d, i))
					}
				}
				if hasWrite(st) {
					t.Errorf("%s: %s writes the replica: %v", lock, describe(d, i), st.Action)
				}
			}
		}
	}
}

// Without replication the documents have no trace of it, and the replica
// documents of such a backend render (they are never sent) without panicking.
func TestWithoutReplicationNoReplicaStatement(t *testing.T) {
	b := baseBackend()
	for _, d := range []policydoc.Document{AccessPolicy(b, "dev"), ReadOnlyAccessPolicy(b, "dev"), KeyPolicy(b), BucketPolicy(b)} {
		if strings.Contains(Render(d), "-replica") || strings.Contains(Render(d), "eu-west-1") {
			t.Errorf("a document without replication mentions the replica: %s", Render(d))
		}
	}
	if b.ReplicaBucketARN() != "" {
		t.Errorf("ReplicaBucketARN = %q without replication", b.ReplicaBucketARN())
	}
	_ = Render(ReplicaKeyPolicy(b)) + Render(ReplicaBucketPolicy(b)) + Render(ReplicationRolePolicy(b))
}

// Replication reads each version's retention and legal hold (S3
// replicates them with a version of a bucket with Object Lock), whether
// object_lock is configured or not: Object Lock stays on when the block is
// removed.
func TestReplicationRoleReadsRetention(t *testing.T) {
	var objects []string
	for _, st := range ReplicationRolePolicy(replicatedBackend("aws")).Statement {
		if st.Sid == SidReplicationSourceObjects {
			objects = st.Action
		}
	}
	for _, a := range []string{"s3:GetObjectRetention", "s3:GetObjectLegalHold"} {
		if !slices.Contains(objects, a) {
			t.Errorf("%s not granted (actions %v)", a, objects)
		}
	}
}
