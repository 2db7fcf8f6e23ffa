package statescan

import (
	"encoding/json"
	"strings"
)

// recordEmpty records that the value at s.path is null or "". The record
// holds paths as matchPath renders them, keys unredacted: it lives only
// while the instance is read, and is never put into a finding.
func (s *scanner) recordEmpty() {
	if !s.recording || s.emptyOverflow || len(s.path) == 0 {
		return
	}
	p, exact := matchPath(s.path)
	if !exact || len(s.empties) >= maxEmpties || s.emptyBytes+len(p) > maxEmptyBytes {
		s.emptyOverflow = true
		s.empties = s.empties[:0]
		s.emptyBytes = 0
		return
	}
	s.empties = append(s.empties, p)
	s.emptyBytes += len(p)
}

// collapseEmpty replaces what was recorded inside the empty collection at
// s.path by one entry for the collection.
func (s *scanner) collapseEmpty(start int) {
	if !s.recording || s.emptyOverflow || len(s.path) == 0 {
		return
	}
	for _, p := range s.empties[start:] {
		s.emptyBytes -= len(p)
	}
	s.empties = s.empties[:start]
	s.recordEmpty()
}

// unwrapDynamic rewrites what was recorded inside a dynamically typed value
// {"value": v, "type": t} at s.path: paths under .value move up one level,
// and what was found inside the type description is dropped.
func (s *scanner) unwrapDynamic(startPend, startEmpty int) {
	move := newMover(renderPath(s.path))
	kept := s.pend[:startPend]
	for _, p := range s.pend[startPend:] {
		if np, ok := move.move(p.path); ok {
			p.path = np
			kept = append(kept, p)
		}
	}
	s.pend = kept
	if s.emptyOverflow {
		return
	}
	// The record holds paths with their keys unredacted.
	base, _ := matchPath(s.path)
	if base != move.base {
		move = newMover(base)
	}
	keptEmpty := s.empties[:startEmpty]
	for _, p := range s.empties[startEmpty:] {
		if np, ok := move.move(p); ok {
			s.emptyBytes += len(np) - len(p)
			keptEmpty = append(keptEmpty, np)
		} else {
			s.emptyBytes -= len(p)
		}
	}
	s.empties = keptEmpty
}

// mover moves the paths inside a dynamically typed value at base.
type mover struct {
	base, value, typ string
}

func newMover(base string) mover {
	return mover{base: base, value: base + ".value", typ: base + ".type"}
}

// move returns where path p goes: up one level from under .value, nowhere
// (false) from under .type, and unchanged from elsewhere.
func (m mover) move(p string) (string, bool) {
	switch {
	case under(p, m.value):
		return m.base + p[len(m.value):], true
	case under(p, m.typ):
		return "", false
	}
	return p, true
}

// resolveSensitive reports a listed sensitive path unless its value, or a
// value containing it, was recorded as null or empty, and reports the keys
// holding a secret that the path names, whether or not it resolves: they
// are in the state, in sensitive_attributes. The path is matched with its
// keys unredacted, so two secret keys that findings show alike are told
// apart.
func (s *scanner) resolveSensitive(p []step) {
	if len(p) == 0 {
		return
	}
	for i, st := range p {
		if st.secret != 0 {
			s.keyFound(p[:i+1])
		}
	}
	if !s.emptyOverflow {
		if s.emptySet == nil {
			s.emptySet = make(map[string]struct{}, len(s.empties))
			for _, e := range s.empties {
				s.emptySet[e] = struct{}{}
			}
		}
		var b strings.Builder
		for i, st := range p {
			if b.Len() > maxPathBytes || st.clipped {
				break
			}
			appendStep(&b, st, i == 0, false)
			if _, ok := s.emptySet[b.String()]; ok {
				return
			}
		}
	}
	s.pend = append(s.pend, pending{path: renderPath(p), rule: RuleSensitive})
}

// sensitivePaths reads an instance's sensitive_attributes and passes each
// path it understands to found. Paths of unknown shapes are ignored.
func (s *scanner) sensitivePaths(found func([]step)) error {
	if ok, err := s.enter('['); !ok {
		return err
	}
	for s.dec.More() {
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return err
		}
		if p, ok := s.detector.parseSensitivePath(raw); ok {
			found(p)
		}
	}
	t, err := s.token()
	if err != nil {
		return err
	}
	if t != json.Delim(']') {
		return s.malformed("sensitive_attributes is not a list")
	}
	return nil
}

// parseSensitivePath reads one path in Terraform's format: a list of
// {"type":"get_attr","value":"name"} and {"type":"index","value":{"value":
// 0,"type":"number"}} steps (or a string key). Names and keys are checked
// for secrets as those of the attributes are.
func (d detector) parseSensitivePath(raw []byte) ([]step, bool) {
	var steps []struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if json.Unmarshal(raw, &steps) != nil || len(steps) == 0 {
		return nil, false
	}
	path := make([]step, 0, len(steps))
	for _, st := range steps {
		switch st.Type {
		case "get_attr":
			var name string
			if isNull(st.Value) || json.Unmarshal(st.Value, &name) != nil {
				return nil, false
			}
			path = append(path, d.keyStep(name))
		case "index":
			var key struct {
				Value json.RawMessage `json:"value"`
			}
			if isNull(st.Value) || json.Unmarshal(st.Value, &key) != nil || isNull(key.Value) {
				return nil, false
			}
			var name string
			var i int
			switch {
			case json.Unmarshal(key.Value, &name) == nil:
				path = append(path, d.keyStep(name))
			case json.Unmarshal(key.Value, &i) == nil && i >= 0:
				path = append(path, step{index: i, isIndex: true})
			default:
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return path, true
}

// isNull reports whether a JSON value is missing or null, which
// json.Unmarshal accepts for any type.
func isNull(v json.RawMessage) bool {
	return v == nil || string(v) == "null"
}
