package stateversions

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CLIs a state can be told to come from.
const (
	CLITerraform = "terraform"
	CLIOpenTofu  = "opentofu"
)

const (
	// maxDepth bounds nesting. A state is a few dozen levels deep; a deeper
	// document is refused instead of being walked.
	maxDepth = 1000
	// maxScalarBytes bounds the scalars kept while reading (a lineage is 36
	// bytes, a version a few); longer ones are refused, never buffered.
	maxScalarBytes = 256
	// maxProviderBytes bounds the provider address kept per resource.
	maxProviderBytes = 1024
)

// Header is what a state says about itself: the fields of its top level and
// the number of resource instances it holds. Nothing else of the state is
// kept.
type Header struct {
	// FormatVersion is the state format ("version"): 4 since Terraform 0.12;
	// 0 when absent.
	FormatVersion int64
	Serial        int64
	HasSerial     bool
	Lineage       string
	// TerraformVersion is the version of the CLI that wrote the state, which
	// OpenTofu records under the same key; "" in an encrypted state.
	TerraformVersion string
	// CLI is CLITerraform, CLIOpenTofu or "" when the state does not tell
	// (see cliOf).
	CLI string
	// ResourceCount counts the instances of managed resources (data sources
	// and deposed objects left out); HasResourceCount is false when unknown.
	ResourceCount    int64
	HasResourceCount bool
	// Encrypted: an OpenTofu state encryption payload, whose serial and
	// lineage are readable and the rest is not.
	Encrypted bool
	// Compact: written without whitespace, as OpenTofu 1.8 and later write
	// a remote state; Terraform indents it.
	Compact bool
}

// HeaderError says why a body is not a state that could be read whole. Its
// message never quotes the body.
type HeaderError struct{ Reason string }

func (e *HeaderError) Error() string { return e.Reason }

// readError marks a failure of the underlying reader (not of the JSON).
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// ReadHeader reads a state from r, one byte at a time through a small
// buffer, and returns its header. The whole input is read and checked to be
// JSON, but only the top-level scalars named in Header, each resource's mode
// and provider address and the count of its instances are kept: memory does
// not grow with the state, whatever its size, nesting (bounded by maxDepth)
// or string lengths. A body that is not a readable state gives a
// *HeaderError, with whatever fields were read before the problem (never the
// resource count nor the CLI); a failure of r is returned as it is.
func ReadHeader(r io.Reader) (Header, error) {
	p := &parser{r: bufio.NewReaderSize(r, 32<<10)}
	err := p.document()
	if errors.Is(err, errEOF) {
		err = p.truncated()
	}
	var re *readError
	switch {
	case errors.As(err, &re):
		return Header{}, re.err
	case err != nil:
		p.h.CLI, p.h.ResourceCount, p.h.HasResourceCount = "", 0, false
		return p.h, err
	}
	err = p.judge()
	return p.h, err
}

// parser is one reading of a state.
type parser struct {
	r   *bufio.Reader
	off int64 // bytes consumed
	h   Header

	seenVersion, versionOK           bool
	encryptedData, encryptionVersion bool
	resourcesSeen, resourcesList     bool
	// problem is the first thing found wrong with the state's fields (the
	// JSON being fine); reported once the document is read.
	problem string

	opentofuProvider, terraformProvider bool
	instances                           int64
}

var errEOF = errors.New("end of input")

func (p *parser) next() (byte, error) {
	c, err := p.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, errEOF
		}
		return 0, &readError{err}
	}
	p.off++
	return c, nil
}

// peek skips whitespace and returns the next byte without consuming it.
func (p *parser) peek() (byte, error) {
	for {
		b, err := p.r.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errEOF
			}
			return 0, &readError{err}
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			_, _ = p.r.ReadByte()
			p.off++
			continue
		}
		return b[0], nil
	}
}

func (p *parser) invalid() error {
	return &HeaderError{Reason: fmt.Sprintf("not JSON: invalid character at byte %d", p.off)}
}

func (p *parser) truncated() error {
	return &HeaderError{Reason: fmt.Sprintf("not JSON: the data ends early, at byte %d (truncated)", p.off)}
}

// eofAs turns the end of input into a truncation.
func (p *parser) eofAs(err error) error {
	if errors.Is(err, errEOF) {
		return p.truncated()
	}
	return err
}

// expect consumes the next non-space byte, which must be c.
func (p *parser) expect(c byte) error {
	b, err := p.peek()
	if err != nil {
		return p.eofAs(err)
	}
	if b != c {
		return p.invalid()
	}
	_, err = p.next()
	return err
}

func (p *parser) note(format string, args ...any) {
	if p.problem == "" {
		p.problem = fmt.Sprintf(format, args...)
	}
}

// document reads the one JSON value of the body.
func (p *parser) document() error {
	c, err := p.peek()
	switch {
	case errors.Is(err, errEOF):
		return &HeaderError{Reason: "empty: the CLI reads an empty object as no state at all"}
	case err != nil:
		return err
	}
	if c == '{' {
		err = p.top()
	} else {
		err = p.value(0)
		if err == nil {
			p.note("not a state: the JSON is not an object")
		}
	}
	if err != nil {
		return err
	}
	if _, err := p.peek(); !errors.Is(err, errEOF) {
		if err != nil {
			return err
		}
		return &HeaderError{Reason: fmt.Sprintf("not JSON: more data after the state, at byte %d", p.off)}
	}
	return nil
}

// top reads the state's top-level object.
func (p *parser) top() error {
	// OpenTofu writes `{"version":…`; Terraform `{\n  "version": …`.
	if b, err := p.r.Peek(2); err == nil {
		p.h.Compact = b[1] == '"'
	}
	return p.members(1, func(key []byte, long bool) error {
		if long {
			return p.value(1)
		}
		if null, err := p.isNull(); null || err != nil {
			// null leaves a field at its zero value, as the CLIs read it.
			if strings.EqualFold(string(key), "resources") {
				p.resourcesSeen, p.resourcesList, p.instances = true, true, 0
			}
			return err
		}
		switch fold(key, "version", "serial", "lineage", "terraform_version", "resources", "encrypted_data", "encryption_version") {
		case "version":
			p.seenVersion = true
			n, ok, err := p.integer(1)
			p.versionOK = ok
			if ok {
				p.h.FormatVersion = n
			}
			return err
		case "serial":
			n, ok, err := p.integer(1)
			p.h.Serial, p.h.HasSerial = n, ok
			if !ok && err == nil {
				p.note("not a state: its serial is not a whole number")
			}
			return err
		case "lineage":
			s, ok, err := p.shortString(1)
			if !ok && err == nil {
				p.note("not a state: its lineage is not a string of at most %d bytes", maxScalarBytes)
			}
			p.h.Lineage = s
			return err
		case "terraform_version":
			s, ok, err := p.shortString(1)
			if !ok && err == nil {
				p.note("not a state: its terraform_version is not a string of at most %d bytes", maxScalarBytes)
			}
			p.h.TerraformVersion = s
			return err
		case "resources":
			p.resourcesSeen = true
			return p.resources()
		case "encrypted_data":
			p.encryptedData = true
			return p.value(1)
		case "encryption_version":
			p.encryptionVersion = true
			return p.value(1)
		}
		return p.value(1)
	})
}

// judge turns what was read into the header's CLI and the reading's error.
func (p *parser) judge() error {
	h := &p.h
	if h.HasResourceCount = p.resourcesList && h.FormatVersion == 4; h.HasResourceCount {
		h.ResourceCount = p.instances
	}
	if p.encryptionVersion || p.encryptedData {
		h.Encrypted = true
		h.CLI = CLIOpenTofu
		h.HasResourceCount, h.ResourceCount = false, 0
		if !p.seenVersion {
			return &HeaderError{Reason: "encrypted (OpenTofu state encryption): serial and lineage are readable; " +
				"the CLI version and the resources are inside the encrypted data"}
		}
	}
	switch {
	case p.problem != "":
	case !p.seenVersion:
		p.note(`not a state: no "version"`)
	case !p.versionOK:
		p.note(`not a state: its "version" is not a whole number`)
	case h.FormatVersion != 3 && h.FormatVersion != 4:
		p.note("not a state the CLIs read: format version %d (Terraform 0.12 and later and OpenTofu write 4)", h.FormatVersion)
	case h.FormatVersion == 4 && p.resourcesSeen && !p.resourcesList:
		p.note(`not a state: its "resources" is not a list`)
	}
	if p.problem != "" {
		h.CLI, h.ResourceCount, h.HasResourceCount = "", 0, false
		return &HeaderError{Reason: p.problem}
	}
	if !h.Encrypted {
		h.CLI = cliOf(*h, p.opentofuProvider, p.terraformProvider)
	}
	return nil
}

// cliOf tells which CLI wrote a readable, unencrypted state, or "":
//   - a provider from registry.opentofu.org: OpenTofu, which rewrites
//     registry.terraform.io addresses of providers the configuration does
//     not pin there;
//   - compact JSON: OpenTofu (1.8 and later write remote states without
//     whitespace; Terraform always indents them);
//   - indented JSON of a CLI version before 1.6 (OpenTofu's first) or from
//     1.8 on: Terraform;
//   - indented JSON of 1.6.x or 1.7.x, which OpenTofu wrote that way too,
//     with no provider address to tell: "".
func cliOf(h Header, opentofuProvider, terraformProvider bool) string {
	switch {
	case opentofuProvider, h.Compact:
		return CLIOpenTofu
	case h.TerraformVersion == "":
		return ""
	}
	major, minor, ok := majorMinor(h.TerraformVersion)
	switch {
	case !ok:
		return ""
	case major == 0 || major == 1 && minor < 6 || major == 1 && minor >= 8 || major > 1:
		return CLITerraform
	case terraformProvider:
		// 1.6 and 1.7: OpenTofu would have rewritten a default registry
		// address; one pinned to registry.terraform.io keeps it, so this
		// is likely, not certain. Stay silent rather than guess.
		return ""
	}
	return ""
}

func majorMinor(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return major, minor, err1 == nil && err2 == nil && major >= 0 && minor >= 0
}

// resources reads the top-level "resources" value.
func (p *parser) resources() error {
	// The last "resources" counts, as in the CLIs' decoding.
	p.resourcesList, p.instances = false, 0
	c, err := p.peek()
	if err != nil {
		return p.eofAs(err)
	}
	if c != '[' {
		return p.value(1)
	}
	p.resourcesList = true
	return p.elements(2, func() error {
		c, err := p.peek()
		if err != nil {
			return p.eofAs(err)
		}
		if c != '{' {
			p.note("not a state: an element of its resources is not an object")
			return p.value(2)
		}
		return p.resource()
	})
}

// resource reads one element of "resources" and adds its instances to the
// count if it is a managed resource.
func (p *parser) resource() error {
	var (
		mode      string
		instances int64
	)
	err := p.members(3, func(key []byte, long bool) error {
		k := fold(key, "mode", "provider", "instances")
		switch {
		case long:
			return p.value(3)
		case k == "mode":
			s, _, err := p.shortString(3)
			mode = s
			return err
		case k == "provider":
			s, _, err := p.boundedString(3, maxProviderBytes)
			// provider["registry.opentofu.org/hashicorp/aws"]
			if strings.Contains(s, `"registry.opentofu.org/`) {
				p.opentofuProvider = true
			}
			if strings.Contains(s, `"registry.terraform.io/`) {
				p.terraformProvider = true
			}
			return err
		case k == "instances":
			n, err := p.instanceList()
			instances = n
			return err
		}
		return p.value(3)
	})
	if mode == "managed" {
		p.instances += instances
	}
	return err
}

// instanceList counts the current (not deposed) objects of a resource.
func (p *parser) instanceList() (int64, error) {
	c, err := p.peek()
	if err != nil {
		return 0, p.eofAs(err)
	}
	if c != '[' {
		return 0, p.value(3) // null or not a list: no instances
	}
	var n int64
	err = p.elements(4, func() error {
		c, err := p.peek()
		if err != nil {
			return p.eofAs(err)
		}
		if c != '{' {
			return p.value(4)
		}
		deposed := false
		err = p.members(5, func(key []byte, long bool) error {
			if !long && strings.EqualFold(string(key), "deposed") {
				deposed = true
			}
			return p.value(5)
		})
		if !deposed {
			n++
		}
		return err
	})
	return n, err
}

// members reads an object whose '{' is next, calling member for each key
// (long: longer than maxScalarBytes, and cut), which must read the value.
// Values inside are at depth.
func (p *parser) members(depth int, member func(key []byte, long bool) error) error {
	if depth > maxDepth {
		return &HeaderError{Reason: fmt.Sprintf("not read: nested deeper than %d levels, at byte %d", maxDepth, p.off)}
	}
	if err := p.expect('{'); err != nil {
		return err
	}
	c, err := p.peek()
	if err != nil {
		return p.eofAs(err)
	}
	if c == '}' {
		_, err = p.next()
		return err
	}
	for {
		if c, err := p.peek(); err != nil {
			return p.eofAs(err)
		} else if c != '"' {
			return p.invalid()
		}
		key, long, err := p.str(maxScalarBytes)
		if err != nil {
			return err
		}
		if !long && bytes.IndexByte(key, '\\') >= 0 {
			key = unescape(key)
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if err := member(key, long); err != nil {
			return err
		}
		if done, err := p.separator('}'); done || err != nil {
			return err
		}
	}
}

// separator reads the ',' between two members or elements, or the closing
// byte (done).
func (p *parser) separator(closing byte) (done bool, err error) {
	c, err := p.peek()
	if err != nil {
		return false, p.eofAs(err)
	}
	if c != ',' && c != closing {
		return false, p.invalid()
	}
	_, err = p.next()
	return c == closing, err
}

// isNull reads the next value if it is null.
func (p *parser) isNull() (bool, error) {
	c, err := p.peek()
	if err != nil {
		return false, p.eofAs(err)
	}
	if c != 'n' {
		return false, nil
	}
	return true, p.literal("null")
}

// fold returns the name key matches as the CLIs' JSON decoding matches a
// field (case-insensitively), or "".
func fold(key []byte, names ...string) string {
	for _, n := range names {
		if strings.EqualFold(string(key), n) {
			return n
		}
	}
	return ""
}

// unescape decodes a checked JSON string body with escapes.
func unescape(raw []byte) []byte {
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		return raw
	}
	return []byte(s)
}

// elements reads an array whose '[' is next, calling elem for each element,
// which must read it. Elements are at depth.
func (p *parser) elements(depth int, elem func() error) error {
	if depth > maxDepth {
		return &HeaderError{Reason: fmt.Sprintf("not read: nested deeper than %d levels, at byte %d", maxDepth, p.off)}
	}
	if err := p.expect('['); err != nil {
		return err
	}
	c, err := p.peek()
	if err != nil {
		return p.eofAs(err)
	}
	if c == ']' {
		_, err = p.next()
		return err
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if done, err := p.separator(']'); done || err != nil {
			return err
		}
	}
}

// value reads (and checks) any JSON value whose container is at depth.
func (p *parser) value(depth int) error {
	c, err := p.peek()
	if err != nil {
		return p.eofAs(err)
	}
	switch {
	case c == '{':
		return p.members(depth+1, func([]byte, bool) error { return p.value(depth + 1) })
	case c == '[':
		return p.elements(depth+1, func() error { return p.value(depth + 1) })
	case c == '"':
		_, _, err := p.str(0)
		return err
	case c == '-' || c >= '0' && c <= '9':
		_, _, err := p.number(0)
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return p.invalid()
}

func (p *parser) literal(word string) error {
	for i := range len(word) {
		c, err := p.next()
		if err != nil {
			return p.eofAs(err)
		}
		if c != word[i] {
			p.off--
			return p.invalid()
		}
	}
	return nil
}

// integer reads a value that should be a whole number (ok false, and the
// value read and checked, when it is not one or is out of range).
func (p *parser) integer(depth int) (int64, bool, error) {
	c, err := p.peek()
	if err != nil {
		return 0, false, p.eofAs(err)
	}
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, p.value(depth)
	}
	raw, long, err := p.number(maxScalarBytes)
	if err != nil || long {
		return 0, false, err
	}
	// Not a count a CLI writes (a fraction, a negative or huge number):
	// the field is reported unknown, not the object refused.
	n, perr := strconv.ParseInt(string(raw), 10, 64)
	if ok := perr == nil && n >= 0; ok {
		return n, true, nil
	}
	return 0, false, nil
}

// shortString reads a value that should be a string of at most
// maxScalarBytes.
func (p *parser) shortString(depth int) (string, bool, error) {
	return p.boundedString(depth, maxScalarBytes)
}

// boundedString reads a value that should be a string; ok is false (and the
// value read) when it is not one or is longer than limit bytes as written.
func (p *parser) boundedString(depth, limit int) (string, bool, error) {
	c, err := p.peek()
	if err != nil {
		return "", false, p.eofAs(err)
	}
	if c != '"' {
		return "", false, p.value(depth)
	}
	raw, long, err := p.str(limit)
	if err != nil || long {
		return "", false, err
	}
	return string(unescape(raw)), true, nil
}

// str reads a string whose '"' is next and returns its body as written,
// escapes included, when it has at most keep bytes (long otherwise; nothing
// is kept with keep 0).
func (p *parser) str(keep int) (raw []byte, long bool, err error) {
	if _, err := p.next(); err != nil { // '"'
		return nil, false, err
	}
	var buf bytes.Buffer
	add := func(c byte) {
		switch {
		case long || keep == 0:
		case buf.Len() < keep:
			buf.WriteByte(c)
		default:
			long = true
		}
	}
	for {
		c, err := p.next()
		if err != nil {
			return nil, false, p.eofAs(err)
		}
		switch {
		case c == '"':
			if long {
				return nil, true, nil
			}
			return buf.Bytes(), false, nil
		case c < 0x20:
			p.off--
			return nil, false, p.invalid()
		case c == '\\':
			add(c)
			e, err := p.next()
			if err != nil {
				return nil, false, p.eofAs(err)
			}
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				add(e)
			case 'u':
				add(e)
				for range 4 {
					h, err := p.next()
					if err != nil {
						return nil, false, p.eofAs(err)
					}
					if !isHex(h) {
						p.off--
						return nil, false, p.invalid()
					}
					add(h)
				}
			default:
				p.off--
				return nil, false, p.invalid()
			}
		default:
			add(c)
		}
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads a number (JSON's grammar) and returns it as written when it
// has at most keep bytes.
func (p *parser) number(keep int) (raw []byte, long bool, err error) {
	var buf bytes.Buffer
	// at is the next byte, ok false at the end of the input.
	at := func() (c byte, ok bool, err error) {
		b, err := p.r.Peek(1)
		switch {
		case errors.Is(err, io.EOF):
			return 0, false, nil
		case err != nil:
			return 0, false, &readError{err}
		}
		return b[0], true, nil
	}
	take := func() error {
		c, err := p.next()
		if err != nil {
			return p.eofAs(err)
		}
		if keep > 0 && buf.Len() >= keep {
			long = true
		} else if keep > 0 {
			buf.WriteByte(c)
		}
		return nil
	}
	// digits reads a run of digits, which must not be empty.
	digits := func() error {
		for n := 0; ; n++ {
			c, ok, err := at()
			switch {
			case err != nil:
				return err
			case ok && isDigit(c):
				if err := take(); err != nil {
					return err
				}
				continue
			case n > 0:
				return nil
			case !ok:
				return p.truncated()
			}
			return p.invalid()
		}
	}
	// is reads the next byte if it is one of set.
	is := func(set string) (bool, error) {
		c, ok, err := at()
		if err != nil || !ok || !strings.ContainsRune(set, rune(c)) {
			return false, err
		}
		return true, take()
	}
	if _, err := is("-"); err != nil {
		return nil, false, err
	}
	zero, err := is("0")
	if err != nil {
		return nil, false, err
	}
	if !zero {
		if err := digits(); err != nil {
			return nil, false, err
		}
	}
	if dot, err := is("."); err != nil {
		return nil, false, err
	} else if dot {
		if err := digits(); err != nil {
			return nil, false, err
		}
	}
	if exp, err := is("eE"); err != nil {
		return nil, false, err
	} else if exp {
		if _, err := is("+-"); err != nil {
			return nil, false, err
		}
		if err := digits(); err != nil {
			return nil, false, err
		}
	}
	if long {
		return nil, true, nil
	}
	return buf.Bytes(), false, nil
}
