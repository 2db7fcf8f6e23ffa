package policies

import (
	"fmt"
	"slices"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// Replica is the replication set-up a backend has: S3 copies every state
// object version, and every delete marker, from the state bucket to a bucket
// in another region, re-encrypted there with a key of that region, acting as
// the replication role.
type Replica struct {
	Bucket  string // replica bucket name
	Region  string // replica region
	KeyARN  string // replica key (in Region)
	RoleARN string // the replication role
}

// Statement IDs of replication.
const (
	SidReplicationAssume        = "S3AssumesForStateBucketReplication"
	SidReplicationSourceBucket  = "ReadReplicationConfiguration"
	SidReplicationSourceObjects = "ReadStateVersionsForReplication"
	SidReplicationReplicate     = "ReplicateToReplicaBucket"
	SidReplicationDecrypt       = "DecryptStatesThroughS3"
	SidReplicationEncrypt       = "EncryptReplicasThroughS3"
	SidReplicaStateUsers        = "StatePrincipalsReadReplicaThroughS3"
	SidReplicaList              = "ListOwnReplicaPrefix"
	SidReplicaObjects           = "ReadReplicaStateObjects"
	SidReplicaDecrypt           = "DecryptReplicaThroughS3"
)

// replicationActions are what S3 replication does, as the replication role,
// and nothing else: on the state bucket it reads the replication
// configuration and lists the bucket (which it needs for delete markers), on
// its objects it reads each version with its ACL and tags, on the replica's
// objects it writes versions, delete markers and tags.
var (
	replicationSourceBucketActions = []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}
	// With each version, its retention and legal hold: S3 replicates them
	// with a version of a bucket with Object Lock, and cannot without them.
	// Granted whether object_lock is configured or not: Object Lock, once
	// on, stays on when the block is removed (and may be switched on out of
	// band), and a version's retention reveals nothing of the state.
	replicationSourceObjectActions = []string{"s3:GetObjectLegalHold", "s3:GetObjectRetention",
		"s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"}
	replicationReplicaObjectActions = []string{"s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"}
)

// s3Context is the condition key naming what S3 encrypts for in KMS: with a
// bucket key (both buckets have one) the bucket's ARN, not the object's.
const s3Context = "kms:EncryptionContext:aws:s3:arn"

// ReplicaBucketARN is the ARN of the replica bucket; "" without replication.
func (b Backend) ReplicaBucketARN() string {
	if b.Replica == nil {
		return ""
	}
	return b.s3ARN(b.Replica.Bucket)
}

func viaS3(region string) string { return fmt.Sprintf("s3.%s.amazonaws.com", region) }

// ReplicationTrustPolicy lets S3, and nothing else, assume the replication
// role, and only to replicate the state bucket of this account (the
// confused-deputy conditions AWS documents for S3 replication).
func ReplicationTrustPolicy(b Backend) policydoc.Document {
	return policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{{
		Sid:       SidReplicationAssume,
		Effect:    "Allow",
		Principal: policydoc.Principal{"Service": {"s3.amazonaws.com"}},
		Action:    policydoc.StringSet{"sts:AssumeRole"},
		Condition: policydoc.Conditions{
			"StringEquals": {"aws:SourceAccount": {b.AccountID}},
			"ArnLike":      {"aws:SourceArn": {b.BucketARN()}},
		},
	}}}
}

// ReplicationRolePolicy is the replication role's permissions: exactly what
// S3 needs to replicate the state bucket to the replica bucket. It decrypts
// the states with the backend key through S3 in the backend's region, and
// encrypts the replicas with the replica key through S3 in the replica's
// region. Both buckets use S3 Bucket Keys, so the encryption context S3 sends
// is the bucket's ARN, not the object's (conditioning on the object ARN is
// the mistake of AWS Control Tower AFT #639, which broke its replication).
// AWS documents kms:Decrypt on the source key and kms:Encrypt on the
// replica key; it documents no kms:GenerateDataKey for replication with
// bucket keys, so none is granted.
func ReplicationRolePolicy(b Backend) policydoc.Document {
	bucket, replica := b.BucketARN(), b.ReplicaBucketARN()
	r := b.replica()
	return policydoc.Document{Version: "2012-10-17", Statement: []policydoc.Statement{
		{
			Sid: SidReplicationSourceBucket, Effect: "Allow",
			Action:   slices.Clone(replicationSourceBucketActions),
			Resource: policydoc.StringSet{bucket},
		},
		{
			Sid: SidReplicationSourceObjects, Effect: "Allow",
			Action:   slices.Clone(replicationSourceObjectActions),
			Resource: policydoc.StringSet{bucket + "/*"},
		},
		{
			Sid: SidReplicationReplicate, Effect: "Allow",
			Action:   slices.Clone(replicationReplicaObjectActions),
			Resource: policydoc.StringSet{replica + "/*"},
		},
		{
			Sid: SidReplicationDecrypt, Effect: "Allow",
			Action:   policydoc.StringSet{"kms:Decrypt"},
			Resource: policydoc.StringSet{b.KeyARN},
			Condition: policydoc.Conditions{"StringEquals": {
				"kms:ViaService": {viaS3(b.Region)},
				s3Context:        {bucket},
			}},
		},
		{
			Sid: SidReplicationEncrypt, Effect: "Allow",
			Action:   policydoc.StringSet{"kms:Encrypt"},
			Resource: policydoc.StringSet{r.KeyARN},
			Condition: policydoc.Conditions{"StringEquals": {
				"kms:ViaService": {viaS3(r.Region)},
				s3Context:        {replica},
			}},
		},
	}}
}

// replica is b.Replica, or an empty one (the documents of a backend without
// replication are never sent; they only must not panic).
func (b Backend) replica() Replica {
	if b.Replica == nil {
		return Replica{}
	}
	return *b.Replica
}

// ReplicaKeyPolicy is the replica key's policy, the state key's made for a
// failover copy: the account root administers it (so IAM policies decide,
// as for the state key); the state principals and every principal of the
// access blocks (read-write ones included: the replica is only ever read) may
// decrypt with it through S3 in the replica region, for the replica bucket
// only. The boundary and key administration denies are the state key's (the
// replication role exempt from the boundary).
//
// The replication role encrypts the replicas through its own policy
// (ReplicationRolePolicy: kms:Encrypt through S3 in the replica region for
// the replica bucket), which the root statement makes effective in this
// account. The key policy does not name it: KMS refuses a policy naming a
// principal that does not exist yet, and the role's policy names this key,
// so naming it here would make each wait for the other.
func ReplicaKeyPolicy(b Backend) policydoc.Document {
	r, replica := b.replica(), b.ReplicaBucketARN()
	context := policydoc.Conditions{"StringLike": {s3Context: {replica, replica + "/*"}}}
	doc := policydoc.Document{
		Version: "2012-10-17",
		Statement: []policydoc.Statement{{
			Sid:       SidAccountAdmin,
			Effect:    "Allow",
			Principal: policydoc.Principal{"AWS": {b.rootARN()}},
			Action:    policydoc.StringSet{"kms:*"},
			Resource:  policydoc.StringSet{"*"},
		}},
	}
	doc.Statement = appendKeyGrant(doc.Statement, SidReplicaStateUsers, sortedUnique(b.Principals), []string{"kms:Decrypt"}, "s3", r.Region, context)
	doc.Statement = appendKeyGrant(doc.Statement, SidGrantReadOnlyS3, b.grantPrincipals(true, true), []string{"kms:Decrypt"}, "s3", r.Region, context)
	doc.Statement = append(doc.Statement, boundaryDenies(b, keyUseActions, keyUseActions, []string{"*"}, false)...)
	doc.Statement = append(doc.Statement, keyAdministration(b)...)
	return doc
}

// ReplicaBucketPolicy is the replica bucket's policy: every control of the
// state bucket's (TLS only; SSE-KMS with the replica key only), read-only
// grants of each environment's prefix to its principals, read-write ones
// included (the replica is a failover copy: nobody writes it but S3
// replication), and the boundary's denies with the replication role exempt.
// The boundary's VPC endpoint condition is left out: VPC endpoints belong to
// one region, the boundary's to the state bucket's, so in the replica region
// it would refuse every failover read.
func ReplicaBucketPolicy(b Backend) policydoc.Document {
	replica := b.ReplicaBucketARN()
	doc := policydoc.Document{Version: "2012-10-17", Statement: bucketDenies(replica, b.replica().KeyARN)}
	doc.Statement = append(doc.Statement, bucketGrantStatements(b, replica, true)...)
	doc.Statement = append(doc.Statement, boundaryDenies(b, []string{"s3:*"}, guardedActions, []string{replica, replica + "/*"}, false)...)
	return doc
}

// replicaReadStatements are what an environment's identity policies grant on
// the replica: list its prefix, read its states and their versions, decrypt
// them through S3 in the replica region. That is all a read-only failover
// configuration needs (`terraform plan -lock=false` against the replica):
// no lock file and no lock table item is ever taken there, so a failover
// configuration cannot hold locks; nil without replication.
func replicaReadStatements(b Backend, environment string) []policydoc.Statement {
	if b.Replica == nil {
		return nil
	}
	replica, prefix := b.ReplicaBucketARN(), environment+"/"
	return []policydoc.Statement{
		{
			Sid: SidReplicaList, Effect: "Allow",
			Action:    slices.Clone(listReadOnlyActions),
			Resource:  policydoc.StringSet{replica},
			Condition: policydoc.Conditions{"StringLike": {"s3:prefix": {prefix + "*"}}},
		},
		{
			Sid: SidReplicaObjects, Effect: "Allow",
			Action:   slices.Clone(stateReadOnlyActions),
			Resource: policydoc.StringSet{replica + "/" + prefix + "*"},
		},
		{
			Sid: SidReplicaDecrypt, Effect: "Allow",
			Action:    policydoc.StringSet{"kms:Decrypt"},
			Resource:  policydoc.StringSet{b.Replica.KeyARN},
			Condition: policydoc.Conditions{"StringEquals": {"kms:ViaService": {viaS3(b.Replica.Region)}}},
		},
	}
}
