package policies

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/securestate/terraform-provider-securestate/internal/policydoc"
)

func tofuKeyARN(env string) string {
	return "arn:aws:kms:eu-central-1:123456789012:key/tofu-" + env
}

// withTofuKeys gives every environment of the combination its encryption key.
func withTofuKeys(b Backend) Backend {
	b.TofuKeyARNs = map[string]string{}
	for _, env := range environments(b) {
		b.TofuKeyARNs[env] = tofuKeyARN(env)
	}
	return b
}

func statementBySid(d policydoc.Document, sid string) (policydoc.Statement, bool) {
	for _, s := range d.Statement {
		if s.Sid == sid {
			return s, true
		}
	}
	return policydoc.Statement{}, false
}

// TestTofuKeyPolicy checks, for every combination of the access model table
// and each of its environments, the OpenTofu encryption key's policy: the
// account root administers it; exactly the environment's read-write
// principals may generate data keys and decrypt, exactly its read-only
// principals may decrypt; nobody may use it through an AWS service; the
// boundary and key administration denies are the state key's. No other
// statement.
func TestTofuKeyPolicy(t *testing.T) {
	checked := 0
	for _, c := range accessCombinations() {
		b := withTofuKeys(c.b)
		stateKey := KeyPolicy(b)
		for _, env := range environments(b) {
			doc := TofuKeyPolicy(b, env)
			for _, problem := range tofuKeyProblems(b, env, doc, stateKey) {
				t.Errorf("%s, key of %s: %s\n%s", c.name(), env, problem, Render(doc))
			}
			checked++
		}
	}
	t.Logf("%d encryption key policies checked", checked)
}

func tofuKeyProblems(b Backend, env string, doc, stateKey policydoc.Document) []string {
	var problems []string
	root, ok := statementBySid(doc, SidAccountAdmin)
	if !ok || root.Effect != "Allow" || !slices.Equal(root.Principal["AWS"], []string{b.rootARN()}) || !slices.Equal(root.Action, policydoc.StringSet{"kms:*"}) {
		problems = append(problems, "no account root administration statement")
	}
	var rw, ro []string
	for _, g := range b.Grants {
		if g.Environment == env {
			rw, ro = append(rw, g.ReadWrite...), append(ro, g.ReadOnly...)
		}
	}
	grant := func(sid string, principals, actions []string) {
		s, ok := statementBySid(doc, sid)
		if len(principals) == 0 {
			if ok {
				problems = append(problems, sid+" present without principals")
			}
			return
		}
		if !ok {
			problems = append(problems, sid+" missing")
			return
		}
		if !slices.Equal(s.Principal["AWS"], sortedUnique(principals)) || !slices.Equal([]string(s.Action), actions) || len(s.Condition) != 0 {
			problems = append(problems, fmt.Sprintf("%s grants %v %v, want %v %v", sid, s.Principal["AWS"], s.Action, sortedUnique(principals), actions))
		}
	}
	grant(SidTofuGrantRW, rw, []string{"kms:Decrypt", "kms:GenerateDataKey"})
	grant(SidTofuGrantRO, ro, []string{"kms:Decrypt"})
	deny, ok := statementBySid(doc, SidTofuNoService)
	if !ok || deny.Effect != "Deny" || !slices.Equal([]string(deny.Condition["Null"]["kms:ViaService"]), []string{"false"}) {
		problems = append(problems, "no deny of use through AWS services")
	}
	// Every other statement is one of the state key's denies, unchanged.
	for _, s := range doc.Statement {
		switch s.Sid {
		case SidAccountAdmin, SidTofuGrantRW, SidTofuGrantRO, SidTofuNoService:
			continue
		}
		same, ok := statementBySid(stateKey, s.Sid)
		if !ok || s.Effect != "Deny" || Render(policydoc.Document{Statement: []policydoc.Statement{same}}) != Render(policydoc.Document{Statement: []policydoc.Statement{s}}) {
			problems = append(problems, "statement "+s.Sid+" is not one of the state key's denies")
		}
	}
	for _, s := range stateKey.Statement {
		if s.Effect != "Deny" {
			continue
		}
		if _, ok := statementBySid(doc, s.Sid); !ok {
			problems = append(problems, "the state key's deny "+s.Sid+" is missing")
		}
	}
	return problems
}

// The identity policies grant an environment's own encryption key only:
// read-write GenerateDataKey and Decrypt, read-only Decrypt; without
// encryption keys, no statement at all.
func TestTofuKeyInIdentityPolicies(t *testing.T) {
	for _, c := range accessCombinations() {
		b := withTofuKeys(c.b)
		for _, env := range environments(b) {
			for _, d := range []struct {
				doc     policydoc.Document
				sid     string
				actions []string
			}{
				{AccessPolicy(b, env), SidTofuReadWrite, []string{"kms:Decrypt", "kms:GenerateDataKey"}},
				{ReadOnlyAccessPolicy(b, env), SidTofuReadOnly, []string{"kms:Decrypt"}},
			} {
				s, ok := statementBySid(d.doc, d.sid)
				if !ok || !slices.Equal([]string(s.Action), d.actions) || !slices.Equal([]string(s.Resource), []string{tofuKeyARN(env)}) {
					t.Errorf("%s, %s: %s = %+v, want %v on %s only", c.name(), env, d.sid, s, d.actions, tofuKeyARN(env))
				}
				text := Render(d.doc)
				for _, other := range environments(b) {
					if other != env && strings.Contains(text, `"`+tofuKeyARN(other)+`"`) {
						t.Errorf("%s, %s: the policy names %s's encryption key", c.name(), env, other)
					}
				}
			}
			for _, doc := range []policydoc.Document{AccessPolicy(c.b, env), ReadOnlyAccessPolicy(c.b, env)} {
				if strings.Contains(Render(doc), "Tofu") {
					t.Errorf("%s, %s: an encryption key statement without encryption keys", c.name(), env)
				}
			}
		}
	}
}
