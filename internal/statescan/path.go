package statescan

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// step is one step of an attribute path: a key or a list index.
type step struct {
	key     string
	index   int
	isIndex bool
	// raw marks a legacy attributes_flat key ("tags.Name"), printed as is.
	raw bool
	// clipped marks a key shortened by clip.
	clipped bool
	// secret holds the rules the key (for a raw key, one of its parts)
	// matched; such a key is shown redacted in findings.
	secret ruleSet
	// shown is how a raw key with a secret part is shown in findings.
	shown string
}

// Paths of the findings made for a secret instance key or module instance
// key, which lie outside the attributes.
const (
	indexKeyPath  = "<index_key>"
	moduleKeyPath = "<module_key>"
)

// keyStep returns the step for a key or attribute name, clipped, after
// checking the whole key for secrets.
func (d detector) keyStep(key string) step {
	c := clip(key)
	return step{key: c, clipped: len(c) != len(key), secret: d.checkKey(key)}
}

// flatKeyStep returns the step for a legacy attributes_flat key, such as
// tags.Name or list.0.id, and the findings for it. Each part between dots
// is checked as a key, and so is the whole key (a JSON Web Token holds
// dots). If one matches, all but the first part is shown as one redacted
// step (tags[<redacted:jwt>]), or the whole key when the first part holds
// the secret or the start of it; the finding's path is the key so shown.
func (d detector) flatKeyStep(key string) (step, []pending) {
	c := clip(key)
	st := step{key: c, raw: true, clipped: len(c) != len(key)}
	head, rest, dotted := strings.Cut(key, ".")
	r := d.checkKey(key)
	headRules := r
	if dotted {
		headRules = d.checkKey(head)
		r |= headRules
		for part := range strings.SplitSeq(rest, ".") {
			r |= d.checkKey(part)
		}
	}
	if r == 0 {
		return st, nil
	}
	if dotted && headRules == 0 && r&ruleJWT != 0 {
		// A token that starts in the first part and runs on past its dot.
		if loc := jwtPattern.FindStringIndex(key); loc != nil && loc[0] < len(head) {
			headRules = ruleJWT
		}
	}
	st.secret = r.withoutEntropy()
	if headRules != 0 {
		st.shown = st.secret.redacted()
	} else {
		st.shown = clip(head) + st.secret.redacted()
	}
	var found []pending
	for _, name := range st.secret.names() {
		found = append(found, pending{path: st.shown, rule: name, key: true})
	}
	return st, found
}

// moduleFinding is a secret key in a module address: the address of the
// module instance it makes, redacted, and the rule it matched.
type moduleFinding struct {
	address, rule string
}

// redactModule checks the instance keys of a module address as the state
// writes it, such as module.app["eu"].module.db[2], and returns it with the
// secret ones redacted (module.app[<redacted:jwt>]), clipped, and a
// finding for each. The text inside brackets, quoted or not, is a key; a
// bracket left open runs to the end.
func (d detector) redactModule(m string) (string, []moduleFinding) {
	if !strings.Contains(m, "[") {
		return clip(m), nil
	}
	var b strings.Builder
	var found []moduleFinding
	for {
		i := strings.IndexByte(m, '[')
		if i < 0 {
			b.WriteString(m)
			break
		}
		b.WriteString(m[:i])
		end, key, quoted := bracketKey(m[i:])
		r := d.checkKey(key)
		if quoted {
			if u, err := strconv.Unquote(`"` + key + `"`); err == nil && u != key {
				r |= d.checkKey(u)
			}
		}
		if r != 0 {
			r = r.withoutEntropy()
			addr := clip(b.String()) + r.redacted()
			b.WriteString(r.redacted())
			for _, name := range r.names() {
				found = append(found, moduleFinding{address: addr, rule: name})
			}
		} else {
			b.WriteString(m[i : i+end])
		}
		m = m[i+end:]
	}
	return clip(b.String()), found
}

// bracketKey reads the bracketed key that s starts with: ["key"] (with
// backslash escapes) or [key]. It returns the length of the brackets and
// what they hold, and whether that was quoted. A bracket or quote left open
// runs to the end of s.
func bracketKey(s string) (end int, key string, quoted bool) {
	if len(s) > 1 && s[1] == '"' {
		for j := 2; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '"':
				if j+1 < len(s) && s[j+1] == ']' {
					return j + 2, s[2:j], true
				}
				return len(s), s[1:], false
			}
		}
		return len(s), s[1:], false
	}
	if j := strings.IndexByte(s, ']'); j >= 0 {
		return j + 1, s[1:j], false
	}
	return len(s), s[1:], false
}

// clip shortens a key or name longer than maxKeyBytes, marking the cut with
// "…", and copies it so the long original is not kept alive.
func clip(s string) string {
	if len(s) <= maxKeyBytes {
		return s
	}
	i := maxKeyBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return strings.Clone(s[:i]) + "…"
}

// renderPath renders an attribute path for a finding: identifiers joined
// with dots, other keys as ["key"], indexes as [2], and keys holding a
// secret redacted.
func renderPath(p []step) string {
	var b strings.Builder
	for i, st := range p {
		if b.Len() > maxPathBytes {
			b.WriteString("…")
			break
		}
		appendStep(&b, st, i == 0, true)
	}
	return b.String()
}

// matchPath renders an attribute path with its keys as they are, to match
// sensitive paths against the record of empty values, and reports whether
// it is exact: false when a key was clipped or the path cut at
// maxPathBytes. Two secret keys that are redacted alike in findings stay
// apart here. It is never put into a finding.
func matchPath(p []step) (string, bool) {
	var b strings.Builder
	exact := true
	for i, st := range p {
		if b.Len() > maxPathBytes {
			b.WriteString("…")
			return b.String(), false
		}
		appendStep(&b, st, i == 0, false)
		exact = exact && !st.clipped
	}
	return b.String(), exact
}

// appendStep renders one step of a path; redact shows a key holding a
// secret redacted.
func appendStep(b *strings.Builder, st step, first, redact bool) {
	switch {
	case st.isIndex:
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(st.index))
		b.WriteByte(']')
	case redact && st.secret != 0 && st.raw:
		if !first && !strings.HasPrefix(st.shown, "[") {
			b.WriteByte('.')
		}
		b.WriteString(st.shown)
	case redact && st.secret != 0:
		b.WriteString(st.secret.redacted())
	case st.raw && st.key != "" || isIdentifier(st.key):
		if !first {
			b.WriteByte('.')
		}
		b.WriteString(st.key)
	default:
		b.WriteByte('[')
		b.WriteString(strconv.Quote(st.key))
		b.WriteByte(']')
	}
}

// isIdentifier reports whether key is a Terraform identifier: a letter or
// underscore, then letters, digits, underscores and hyphens.
func isIdentifier(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// underAny reports whether path is one of roots or lies under one.
func underAny(path string, roots []string) bool {
	for _, r := range roots {
		if under(path, r) {
			return true
		}
	}
	return false
}

// under reports whether path is root or lies under it.
func under(path, root string) bool {
	return path == root || (strings.HasPrefix(path, root) && (path[len(root)] == '.' || path[len(root)] == '['))
}
