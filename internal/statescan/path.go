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
}

// keyStep returns the step for a key, clipped.
func keyStep(key string) step {
	c := clip(key)
	return step{key: c, clipped: len(c) != len(key)}
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

// renderPath renders an attribute path: identifiers joined with dots, other
// keys as ["key"], indexes as [2].
func renderPath(p []step) string {
	r, _ := renderPathExact(p)
	return r
}

// renderPathExact renders an attribute path, and reports whether it is
// exact: false when a key was clipped or the path cut at maxPathBytes.
func renderPathExact(p []step) (string, bool) {
	var b strings.Builder
	exact := true
	for i, st := range p {
		if b.Len() > maxPathBytes {
			b.WriteString("…")
			return b.String(), false
		}
		appendStep(&b, st, i == 0)
		exact = exact && !st.clipped
	}
	return b.String(), exact
}

func appendStep(b *strings.Builder, st step, first bool) {
	switch {
	case st.isIndex:
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(st.index))
		b.WriteByte(']')
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
