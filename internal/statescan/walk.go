package statescan

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

const (
	// maxDepth bounds nesting, as encoding/json does for whole values: deeper
	// documents are refused instead of exhausting the stack.
	maxDepth = 10000
	// maxEmpties and maxEmptyBytes cap the record of null and empty values
	// kept per instance to resolve sensitive paths.
	maxEmpties    = 4096
	maxEmptyBytes = 256 << 10
	// maxEarlySensitive and maxEarlySensitiveBytes cap the sensitive paths
	// kept when they come before the attributes they refer to.
	maxEarlySensitive      = 1 << 16
	maxEarlySensitiveBytes = 1 << 20
	// maxKeyBytes and maxPathBytes bound the keys and names kept while
	// walking and the paths and addresses rendered into findings.
	maxKeyBytes  = 256
	maxPathBytes = 1024
)

// scanner holds the state of one scan.
type scanner struct {
	dec      *json.Decoder
	src      *boundedReader
	detector detector

	findings  []Finding
	resources int
	outputs   int

	// path is the path of the value being walked. For attributes it starts
	// at the attributes object; for outputs its first step is "value".
	path []step
	// pend holds the findings of the instance or output being walked.
	pend []pending

	// Per instance: the record of null and empty values (see doc.go).
	recording     bool
	unwrap        bool
	empties       []string
	emptyBytes    int
	emptyOverflow bool
	emptySet      map[string]struct{}
	// topNonEmpty lists the top-level attributes holding something whose
	// names appear in knownSecretAttributes.
	topNonEmpty []string
}

// pending is a finding whose address is not known yet.
type pending struct {
	path string
	rule string
	// key marks the finding of a key holding a secret, which a known
	// attribute above it does not hide.
	key bool
}

// summary describes a walked value.
type summary struct {
	// empty: null, "", or a collection holding only empty values.
	empty bool
	// ctyType: the value looks like a cty type in JSON, as in the "type" of
	// a dynamically typed value.
	ctyType bool
}

func newScanner(r io.Reader, opt Options) *scanner {
	limit := opt.MaxValueBytes
	if limit <= 0 {
		limit = DefaultMaxValueBytes
	}
	threshold := opt.EntropyThreshold
	if threshold <= 0 {
		threshold = DefaultEntropyThreshold
	}
	src := &boundedReader{r: r, limit: limit}
	dec := json.NewDecoder(src)
	dec.UseNumber()
	src.dec = dec
	return &scanner{dec: dec, src: src, detector: detector{base64: threshold, hex: threshold - 1}}
}

// token reads the next token; running out of input is truncation here.
func (s *scanner) token() (json.Token, error) {
	t, err := s.dec.Token()
	if err == io.EOF {
		return nil, io.ErrUnexpectedEOF
	}
	return t, err
}

// malformed reports a structural problem at the decoder's position.
func (s *scanner) malformed(format string, args ...any) error {
	off := s.dec.InputOffset()
	return &Error{Kind: ErrMalformed, Offset: off, Detail: fmt.Sprintf(format, args...) + fmt.Sprintf(" at byte offset %d", off)}
}

// run scans the whole document.
func (s *scanner) run() error {
	t, err := s.dec.Token()
	if err == io.EOF {
		return &Error{Kind: ErrEmpty, Offset: 0, Detail: "the input holds no JSON value"}
	}
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return s.malformed("the state is not a JSON object")
	}
	versionSeen := false
	encrypted := false
	for {
		key, done, err := s.key()
		if err != nil {
			return err
		}
		if done {
			break
		}
		switch key {
		case "version":
			if err := s.version(); err != nil {
				return err
			}
			versionSeen = true
		case "resources":
			err = s.resourceList()
		case "outputs":
			err = s.outputList()
		case "encrypted_data":
			encrypted = true
			err = s.skipNext()
		default:
			err = s.skipNext()
		}
		if err != nil {
			return err
		}
	}
	if _, err := s.dec.Token(); err != io.EOF {
		if err != nil {
			return err
		}
		return s.malformed("unexpected data after the state object")
	}
	if !versionSeen {
		detail := `the state has no "version" key`
		if encrypted {
			detail += "; it looks encrypted (OpenTofu state encryption), and an encrypted state holds no plaintext to scan"
		}
		return &Error{Kind: ErrVersion, Offset: -1, Detail: detail}
	}
	return nil
}

// key reads the next key of an object, or reports its end.
func (s *scanner) key() (key string, done bool, err error) {
	t, err := s.token()
	if err != nil {
		return "", false, err
	}
	if t == json.Delim('}') {
		return "", true, nil
	}
	key, ok := t.(string)
	if !ok {
		// The decoder only returns strings in key position.
		return "", false, s.malformed("an object key is not a string")
	}
	return key, false, nil
}

// version checks the state's "version".
func (s *scanner) version() error {
	keyEnd := s.dec.InputOffset()
	t, err := s.token()
	if err != nil {
		return err
	}
	n, ok := t.(json.Number)
	if !ok {
		if err := s.skip(t); err != nil {
			return err
		}
		return &Error{Kind: ErrVersion, Offset: keyEnd, Detail: fmt.Sprintf(`the value of "version" after byte offset %d is not a number; want 4`, keyEnd)}
	}
	if n == "4" {
		return nil
	}
	// A number has no escapes: it starts len(n) bytes before the decoder.
	at := s.dec.InputOffset() - int64(len(n))
	found := "a non-integer version"
	if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		found = "version " + strconv.FormatInt(v, 10)
	}
	return &Error{Kind: ErrVersion, Offset: at, Detail: fmt.Sprintf("found %s at byte offset %d; only version 4 (Terraform 0.12 and later, OpenTofu) is supported", found, at)}
}

// skipNext skips the next value.
func (s *scanner) skipNext() error {
	t, err := s.token()
	if err != nil {
		return err
	}
	return s.skip(t)
}

// skip skips the rest of the value that starts with t.
func (s *scanner) skip(t json.Token) error {
	if t != json.Delim('{') && t != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := s.token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
			if depth > maxDepth {
				return s.malformed("nesting deeper than %d levels", maxDepth)
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// enter reads the next token and reports whether it opens a container of
// the kind open ('{' or '['); any other value is skipped whole, as the
// walkers skip what they do not expect.
func (s *scanner) enter(open json.Delim) (bool, error) {
	t, err := s.token()
	if err != nil {
		return false, err
	}
	if t != open {
		return false, s.skip(t)
	}
	return true, nil
}

// outputList walks the root "outputs" object.
func (s *scanner) outputList() error {
	if ok, err := s.enter('{'); !ok {
		return err
	}
	for {
		name, done, err := s.key()
		if err != nil || done {
			return err
		}
		if err := s.output(name); err != nil {
			return err
		}
	}
}

// output walks one root output.
func (s *scanner) output(name string) error {
	if ok, err := s.enter('{'); !ok {
		return err
	}
	s.outputs++
	s.pend = s.pend[:0]
	s.recording, s.unwrap = false, false
	sensitive, hasValue := false, false
	for {
		key, done, err := s.key()
		if err != nil {
			return err
		}
		if done {
			break
		}
		switch key {
		case "value":
			s.path = append(s.path[:0], step{key: "value"})
			sum, err := s.walkNext(1)
			s.path = s.path[:0]
			if err != nil {
				return err
			}
			hasValue = !sum.empty
		case "sensitive":
			t, err := s.token()
			if err != nil {
				return err
			}
			sensitive = t == true
			if err := s.skip(t); err != nil {
				return err
			}
		default:
			if err := s.skipNext(); err != nil {
				return err
			}
		}
	}
	if sensitive && hasValue {
		s.pend = append(s.pend, pending{path: "value", rule: RuleSensitive})
	}
	addr := "output." + clip(name)
	for _, p := range s.pend {
		s.findings = append(s.findings, Finding{Address: addr, Path: p.path, Rule: p.rule})
	}
	return nil
}

// resourceList walks the "resources" array.
func (s *scanner) resourceList() error {
	if ok, err := s.enter('['); !ok {
		return err
	}
	for {
		t, err := s.token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim(']'):
			return nil
		case json.Delim('{'):
			err = s.resource()
		default:
			err = s.skip(t)
		}
		if err != nil {
			return err
		}
	}
}

// instance is what an instance leaves for its resource to finish once the
// resource's address and type are known.
type instance struct {
	key         string // "", "[0]" or `["a"]`
	pend        []pending
	topNonEmpty []string
}

// resource walks one resource object; its opening brace has been read.
func (s *scanner) resource() error {
	var r resourceFields
	var insts []instance
	for {
		key, done, err := s.key()
		if err != nil {
			return err
		}
		if done {
			break
		}
		switch key {
		case "module":
			r.module, err = s.moduleValue()
		case "mode":
			r.mode, err = s.stringValue()
		case "type":
			r.typ, err = s.stringValue()
		case "name":
			r.name, err = s.stringValue()
		case "instances":
			insts, err = s.instanceList(insts)
		default:
			err = s.skipNext()
		}
		if err != nil {
			// Keep what the instances read whole found, if the address is
			// known: Terraform writes the type and name before the
			// instances.
			if r.typ != "" && r.name != "" {
				s.addInstances(r, insts)
			}
			return err
		}
	}
	s.addInstances(r, insts)
	return nil
}

// resourceFields are the fields of a resource that make its address.
type resourceFields struct {
	module, mode, typ, name string
}

// addInstances adds the findings of a resource's instances, with those of
// the known attribute table, whose rule needs the resource type.
func (s *scanner) addInstances(r resourceFields, insts []instance) {
	var addr strings.Builder
	if r.module != "" {
		addr.WriteString(r.module)
		addr.WriteByte('.')
	}
	if r.mode != "" && r.mode != "managed" {
		addr.WriteString(r.mode)
		addr.WriteByte('.')
	}
	addr.WriteString(r.typ)
	addr.WriteByte('.')
	addr.WriteString(r.name)
	base := addr.String()
	known := knownSecretAttributes[r.typ]
	for _, in := range insts {
		pend := in.pend
		var secretPaths []string
		for _, attr := range in.topNonEmpty {
			if slices.Contains(known, attr) {
				p := renderPath([]step{{key: attr}})
				secretPaths = append(secretPaths, p)
				pend = append(pend, pending{path: p, rule: RuleKnownAttribute})
			}
		}
		a := base + in.key
		for _, p := range pend {
			if p.rule == RuleHighEntropy && !p.key && underAny(p.path, secretPaths) {
				continue
			}
			s.findings = append(s.findings, Finding{Address: a, Path: p.path, Rule: p.rule})
		}
	}
}

// moduleValue reads a resource's module address, redacts the instance keys
// in it that hold a secret and reports them (see redactModule).
func (s *scanner) moduleValue() (string, error) {
	t, err := s.token()
	if err != nil {
		return "", err
	}
	v, ok := t.(string)
	if !ok {
		return "", s.skip(t)
	}
	m, found := s.detector.redactModule(v)
	for _, f := range found {
		s.findings = append(s.findings, Finding{Address: f.address, Path: moduleKeyPath, Rule: f.rule})
	}
	return m, nil
}

// stringValue reads a value expected to be a string; another value is
// skipped and read as "".
func (s *scanner) stringValue() (string, error) {
	t, err := s.token()
	if err != nil {
		return "", err
	}
	if v, ok := t.(string); ok {
		return clip(v), nil
	}
	return "", s.skip(t)
}

// instanceList walks a resource's "instances" array.
func (s *scanner) instanceList(insts []instance) ([]instance, error) {
	if ok, err := s.enter('['); !ok {
		return insts, err
	}
	for {
		t, err := s.token()
		if err != nil {
			return insts, err
		}
		switch t {
		case json.Delim(']'):
			return insts, nil
		case json.Delim('{'):
			var in instance
			in, err = s.instance()
			if len(in.pend) > 0 || len(in.topNonEmpty) > 0 {
				insts = append(insts, in)
			}
		default:
			err = s.skip(t)
		}
		if err != nil {
			return insts, err
		}
	}
}

// instance walks one instance object; its opening brace has been read.
func (s *scanner) instance() (instance, error) {
	s.resources++
	s.pend = s.pend[:0]
	s.empties = s.empties[:0]
	s.emptyBytes = 0
	s.emptyOverflow = false
	s.emptySet = nil
	s.topNonEmpty = s.topNonEmpty[:0]
	var in instance
	var early [][]step // sensitive paths read before the attributes
	earlyBytes := 0
	attributesSeen := false
	for {
		key, done, err := s.key()
		if err != nil {
			return in, err
		}
		if done {
			break
		}
		switch key {
		case "index_key":
			in.key, err = s.indexKey()
		case "attributes":
			err = s.attributes(false)
			attributesSeen = true
		case "attributes_flat":
			err = s.attributes(true)
			attributesSeen = true
		case "sensitive_attributes":
			err = s.sensitivePaths(func(p []step) {
				if attributesSeen {
					s.resolveSensitive(p)
					return
				}
				size := 0
				for _, st := range p {
					size += len(st.key) + 8
				}
				if len(early) < maxEarlySensitive && earlyBytes+size <= maxEarlySensitiveBytes {
					early = append(early, p)
					earlyBytes += size
				}
			})
		default:
			err = s.skipNext()
		}
		if err != nil {
			return in, err
		}
	}
	for _, p := range early {
		s.resolveSensitive(p)
	}
	slices.SortFunc(s.pend, func(a, b pending) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		if c := strings.Compare(a.rule, b.rule); c != 0 {
			return c
		}
		return cmp.Compare(b2i(a.key), b2i(b.key))
	})
	in.pend = slices.Clone(slices.Compact(s.pend))
	in.topNonEmpty = slices.Clone(s.topNonEmpty)
	return in, nil
}

// b2i orders false before true.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// indexKey reads an instance's index_key. A string key holding a secret is
// redacted, and reported at the path indexKeyPath.
func (s *scanner) indexKey() (string, error) {
	t, err := s.token()
	if err != nil {
		return "", err
	}
	switch v := t.(type) {
	case nil:
		return "", nil
	case string:
		if r := s.detector.checkKey(v); r != 0 {
			for _, name := range r.names() {
				s.pend = append(s.pend, pending{path: indexKeyPath, rule: name, key: true})
			}
			return r.redacted(), nil
		}
		return "[" + strconv.Quote(clip(v)) + "]", nil
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return "[" + strconv.FormatInt(i, 10) + "]", nil
		}
	}
	return "[?]", s.skip(t)
}

// attributes walks an instance's attributes (or legacy attributes_flat)
// object, scanning every value and recording the empty ones.
func (s *scanner) attributes(flat bool) error {
	if ok, err := s.enter('{'); !ok {
		return err
	}
	// A dynamic value is unwrapped below the top level (walkObject never
	// sees the attributes object itself), and never in the flat form.
	s.recording, s.unwrap = true, !flat
	s.emptySet = nil
	defer func() { s.recording, s.unwrap = false, false }()
	for {
		key, done, err := s.key()
		if err != nil || done {
			return err
		}
		var sum summary
		s.path = s.path[:0]
		if flat {
			st, found := s.detector.flatKeyStep(key)
			s.path = append(s.path, st)
			s.pend = append(s.pend, found...)
			var t json.Token
			t, err = s.token()
			if err == nil {
				sum, err = s.walkScalar(t)
			}
		} else {
			s.pushKey(key)
			sum, err = s.walkNext(1)
		}
		s.path = s.path[:0]
		if err != nil {
			return err
		}
		if !sum.empty {
			if _, ok := knownAttributeNames[key]; ok {
				s.topNonEmpty = append(s.topNonEmpty, key)
			}
		}
	}
}

// walkScalar handles a legacy flat attribute, whose values are strings:
// strings and nulls are walked, anything else is skipped.
func (s *scanner) walkScalar(t json.Token) (summary, error) {
	switch t.(type) {
	case string, nil:
		return s.walk(t, 1)
	}
	return summary{}, s.skip(t)
}

// walkNext walks the next value.
func (s *scanner) walkNext(depth int) (summary, error) {
	t, err := s.token()
	if err != nil {
		return summary{}, err
	}
	return s.walk(t, depth)
}

// walk walks the value that starts with t, at s.path, scanning its strings
// and recording its empty values.
func (s *scanner) walk(t json.Token, depth int) (summary, error) {
	switch v := t.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return summary{}, s.malformed("nesting deeper than %d levels", maxDepth)
		}
		if v == '{' {
			return s.walkObject(depth)
		}
		return s.walkArray(depth)
	case string:
		if v == "" {
			s.recordEmpty()
			return summary{empty: true, ctyType: false}, nil
		}
		if rules := s.detector.check(v, s.name()); rules != 0 {
			p := renderPath(s.path)
			for _, r := range rules.names() {
				s.pend = append(s.pend, pending{path: p, rule: r})
			}
		}
		return summary{ctyType: ctyPrimitives[v]}, nil
	case nil:
		s.recordEmpty()
		return summary{empty: true}, nil
	}
	// Numbers and booleans.
	return summary{}, nil
}

// walkObject walks an object; its opening brace has been read.
func (s *scanner) walkObject(depth int) (summary, error) {
	startPend, startEmpty := len(s.pend), len(s.empties)
	sum := summary{empty: true}
	keys := 0
	var value, typ *summary
	for {
		key, done, err := s.key()
		if err != nil {
			return sum, err
		}
		if done {
			break
		}
		s.pushKey(key)
		cs, err := s.walkNext(depth + 1)
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return sum, err
		}
		keys++
		switch key {
		case "value":
			value = &cs
		case "type":
			typ = &cs
		}
		if !cs.empty {
			sum.empty = false
		}
	}
	if s.unwrap && keys == 2 && value != nil && typ != nil && typ.ctyType {
		s.unwrapDynamic(startPend, startEmpty)
		sum.empty = value.empty
	}
	if sum.empty {
		s.collapseEmpty(startEmpty)
	}
	return sum, nil
}

// pushKey adds a key or attribute name to s.path, and reports it at its
// path if it holds a secret.
func (s *scanner) pushKey(key string) {
	s.path = append(s.path, s.detector.keyStep(key))
	if s.path[len(s.path)-1].secret != 0 {
		s.keyFound(s.path)
	}
}

// keyFound reports the secret key that path ends with, at path.
func (s *scanner) keyFound(path []step) {
	p := renderPath(path)
	for _, name := range path[len(path)-1].secret.names() {
		s.pend = append(s.pend, pending{path: p, rule: name, key: true})
	}
}

// walkArray walks an array; its opening bracket has been read.
func (s *scanner) walkArray(depth int) (summary, error) {
	startEmpty := len(s.empties)
	sum := summary{empty: true}
	for i := 0; ; i++ {
		t, err := s.token()
		if err != nil {
			return sum, err
		}
		if t == json.Delim(']') {
			break
		}
		if i == 0 {
			kind, ok := t.(string)
			sum.ctyType = ok && ctyKinds[kind]
		}
		s.path = append(s.path, step{index: i, isIndex: true})
		cs, err := s.walk(t, depth+1)
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return sum, err
		}
		if !cs.empty {
			sum.empty = false
		}
	}
	if sum.empty {
		s.collapseEmpty(startEmpty)
	}
	return sum, nil
}

// ctyPrimitives and ctyKinds recognise the JSON form of a cty type: a
// primitive type name, or an array starting with a collection kind.
var (
	ctyPrimitives = map[string]bool{"string": true, "number": true, "bool": true, "dynamic": true}
	ctyKinds      = map[string]bool{"list": true, "set": true, "map": true, "object": true, "tuple": true}
)

// name is the attribute name or map key nearest to the value being walked,
// which the high-entropy rule consults.
func (s *scanner) name() string {
	for i := len(s.path) - 1; i >= 0; i-- {
		st := s.path[i]
		if st.isIndex {
			continue
		}
		if st.raw {
			if j := strings.LastIndexByte(st.key, '.'); j >= 0 {
				return st.key[j+1:]
			}
		}
		return st.key
	}
	return ""
}
