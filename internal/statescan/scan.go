package statescan

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// A Finding says where a secret is, never what it is.
type Finding struct {
	// Address is the resource instance address as Terraform prints it, such
	// as aws_iam_access_key.ci, module.net.aws_db_instance.main[0],
	// data.x.y or random_password.p["a"], or output.<name> for a root output.
	// A key holding a secret is shown as [<redacted:RULE>] (see the package
	// documentation).
	Address string
	// Path is the attribute path inside the instance's attributes, such as
	// secret, master_user_secret[0].secret_arn or tags.token; for an output
	// it starts with "value". A key holding a secret is shown redacted, and
	// the finding for a secret instance or module instance key has the path
	// "<index_key>" or "<module_key>".
	Path string
	// Rule is the name of the rule that matched: one of the Rule constants.
	Rule string
}

// String renders the finding for a report line.
func (f Finding) String() string {
	return f.Address + " " + f.Path + " (" + f.Rule + ")"
}

// Result is what a scan found.
type Result struct {
	// Findings are sorted by Address, Path and Rule, one per combination.
	Findings []Finding
	// Resources counts the resource instance objects seen.
	Resources int
	// Outputs counts the root outputs seen.
	Outputs int
	// Bytes counts the bytes read from the input.
	Bytes int64
}

// DefaultMaxValueBytes is the MaxValueBytes used when Options leaves it 0.
const DefaultMaxValueBytes = 16 << 20

// DefaultEntropyThreshold is the EntropyThreshold used when Options leaves
// it 0.
const DefaultEntropyThreshold = 4.0

// Options tune a scan. The zero value is ready to use.
type Options struct {
	// MaxValueBytes limits the size of a single JSON token (a string, key
	// or value, a number, one path in sensitive_attributes, or a run of
	// whitespace) and so the memory a scan needs. 0 or less means
	// DefaultMaxValueBytes (16 MiB).
	MaxValueBytes int64
	// EntropyThreshold is the Shannon entropy, in bits per character, from
	// which a base64-like token counts as random; a hexadecimal token needs
	// one bit less. 0 or less means DefaultEntropyThreshold (4.0).
	EntropyThreshold float64
}

// Kinds of scan failure. Scan's own errors are *Error values wrapping one of
// these, so errors.Is tells them apart.
var (
	// ErrEmpty: the input holds no JSON value at all (it is empty or blank).
	ErrEmpty = errors.New("empty state")
	// ErrMalformed: the input is not JSON, is truncated, is nested deeper than
	// 10000 levels, is not a JSON object, or has data after it.
	ErrMalformed = errors.New("malformed state")
	// ErrVersion: the state has no "version" key, or a version other than 4.
	ErrVersion = errors.New("unsupported state version")
	// ErrValueTooLarge: a single JSON token is larger than MaxValueBytes.
	ErrValueTooLarge = errors.New("state value too large")
)

// An Error says why a scan stopped. Its message holds byte offsets and
// structural descriptions only, never data from the state.
type Error struct {
	// Kind is ErrEmpty, ErrMalformed, ErrVersion or ErrValueTooLarge.
	Kind error
	// Offset is the byte offset in the input where the problem was seen, or
	// -1 when there is none (a missing version key).
	Offset int64
	// Detail describes the problem.
	Detail string
}

// Error renders the kind and the detail.
func (e *Error) Error() string {
	return "statescan: " + e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns the kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

// Scan reads one Terraform state from r and reports the secrets it holds in
// plaintext. It reads r to its end on success.
//
// On failure it returns an *Error wrapping ErrEmpty, ErrMalformed, ErrVersion
// or ErrValueTooLarge, or an error wrapping the error r returned. The Result
// returned with an error holds the findings made before the failure (none for
// ErrVersion, since they would come from a format the scanner does not
// understand), sorted and unique as usual, and the counts so far: a partial
// scan, useful to report but not proof that the rest is clean. Findings
// are kept per resource until it ends, so the instances of the resource
// being read when the scan failed count only if its type and name came
// before them, as Terraform writes them.
//
// Scan may be called from several goroutines at once.
func Scan(r io.Reader, opt Options) (Result, error) {
	s := newScanner(r, opt)
	err := s.run()
	if err != nil {
		err = s.classify(err)
		if errors.Is(err, ErrVersion) {
			s.findings = nil
		}
	}
	return s.result(), err
}

// result sorts and de-duplicates the findings.
func (s *scanner) result() Result {
	f := s.findings
	slices.SortFunc(f, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Rule, b.Rule))
	})
	f = slices.Compact(f)
	if len(f) == 0 {
		f = nil
	}
	return Result{Findings: f, Resources: s.resources, Outputs: s.outputs, Bytes: s.src.n}
}

// errLimit is returned by boundedReader.Read when the value being decoded has
// grown past the limit; classify turns it into ErrValueTooLarge.
var errLimit = errors.New("value too large")

// boundedReader counts the bytes read and refuses to feed the decoder once
// the bytes it holds beyond its last token (the value it is reading) exceed
// the limit, so an oversized value is never buffered whole.
type boundedReader struct {
	r     io.Reader
	dec   *json.Decoder
	n     int64
	limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.dec != nil {
		pending := b.n - b.dec.InputOffset()
		if pending > b.limit {
			return 0, errLimit
		}
		// Never read more than one byte past the limit, so the buffer stays
		// within a small factor of it.
		if room := b.limit - pending + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// classify turns an error from the decoder or the reader into Scan's error.
// The decoder's own messages are never used: they can quote a character of
// the input, and the input may be a secret.
func (s *scanner) classify(err error) error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	off := s.dec.InputOffset()
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, errLimit):
		return &Error{Kind: ErrValueTooLarge, Offset: off, Detail: fmt.Sprintf(
			"the value starting at byte offset %d is larger than the limit of %d bytes", off, s.src.limit)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: ErrMalformed, Offset: s.src.n, Detail: fmt.Sprintf(
			"truncated JSON: the input ends at byte offset %d inside the state", s.src.n)}
	case errors.As(err, &syn):
		// The decoder's position is the offending byte when the error is
		// between tokens, and the start of the value holding it otherwise
		// (its Offset is no use: it counts only the bytes of values).
		return &Error{Kind: ErrMalformed, Offset: off, Detail: fmt.Sprintf("invalid JSON near byte offset %d", off)}
	}
	return fmt.Errorf("statescan: reading the state at byte offset %d: %w", s.src.n, err)
}
