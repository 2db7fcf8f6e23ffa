package policies

import (
	"slices"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

// Statement IDs of OpenTofu's client-side state encryption.
const (
	SidTofuReadWrite = "UseTofuEncryptionKey"   // identity policies: this environment's key
	SidTofuReadOnly  = "DecryptTofuState"       // read-only identity policies
	SidTofuGrantRW   = "GrantedTofuEncryption"  // key policy: the environment's read-write principals
	SidTofuGrantRO   = "GrantedTofuDecryption"  // key policy: its read-only principals
	SidTofuNoService = "DenyUseThroughServices" // key policy: only direct calls (OpenTofu's own)
)

// tofuWriteActions are what OpenTofu's aws_kms key provider calls: a new data
// key for every state or plan it writes, and the data key of the state it
// reads decrypted. It calls nothing else (no DescribeKey, no Encrypt).
var tofuWriteActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}

// TofuKeyPolicy is the key policy of one environment's OpenTofu state
// encryption key. The key encrypts only that environment's states and plans,
// so whoever may use it may read exactly that environment: the account's
// administrators through IAM (the root statement, as for the state key, so
// the environment's managed policy grants its same-account users), the
// environment's access-block principals directly (read-write: new data keys
// and decryption; read-only: decryption), and no AWS service on anyone's
// behalf (OpenTofu calls KMS itself; nothing else needs this key). The
// boundary and key administration denies are the state key's.
//
// One key per environment, not one key with an encryption context per
// environment: OpenTofu's aws_kms key provider (1.10) sends no encryption
// context, so a shared key could only be granted whole, and a principal of
// one environment could decrypt the data keys of every other.
func TofuKeyPolicy(b Backend, environment string) policydoc.Document {
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
	var readWrite, readOnly []string
	for _, g := range b.Grants {
		if g.Environment == environment {
			readWrite = append(readWrite, g.ReadWrite...)
			readOnly = append(readOnly, g.ReadOnly...)
		}
	}
	if len(readWrite) > 0 {
		doc.Statement = append(doc.Statement, policydoc.Statement{
			Sid: SidTofuGrantRW, Effect: "Allow", Principal: policydoc.Principal{"AWS": sortedUnique(readWrite)},
			Action: slices.Clone(tofuWriteActions), Resource: policydoc.StringSet{"*"},
		})
	}
	if len(readOnly) > 0 {
		doc.Statement = append(doc.Statement, policydoc.Statement{
			Sid: SidTofuGrantRO, Effect: "Allow", Principal: policydoc.Principal{"AWS": sortedUnique(readOnly)},
			Action: policydoc.StringSet{"kms:Decrypt"}, Resource: policydoc.StringSet{"*"},
		})
	}
	// Use through an AWS service (an S3 object or a table encrypted with this
	// key by mistake) is refused: the key is for client-side encryption only.
	doc.Statement = append(doc.Statement, policydoc.Statement{
		Sid: SidTofuNoService, Effect: "Deny", Principal: policydoc.Principal{"*": {"*"}},
		Action: slices.Clone(keyUseActions), Resource: policydoc.StringSet{"*"},
		Condition: policydoc.Conditions{"Null": {"kms:ViaService": {"false"}}},
	})
	doc.Statement = append(doc.Statement, boundaryDenies(b, keyUseActions, keyUseActions, []string{"*"}, false)...)
	doc.Statement = append(doc.Statement, keyAdministration(b)...)
	return doc
}

// tofuStatement is the identity policy statement of an environment with
// OpenTofu encryption: its own key only; nil without.
func tofuStatement(b Backend, environment string, readOnly bool) []policydoc.Statement {
	keyARN := b.TofuKeyARNs[environment]
	if keyARN == "" {
		return nil
	}
	if readOnly {
		return []policydoc.Statement{{Sid: SidTofuReadOnly, Effect: "Allow", Action: policydoc.StringSet{"kms:Decrypt"}, Resource: policydoc.StringSet{keyARN}}}
	}
	return []policydoc.Statement{{Sid: SidTofuReadWrite, Effect: "Allow", Action: slices.Clone(tofuWriteActions), Resource: policydoc.StringSet{keyARN}}}
}
