// Package fuzzgen builds valid values from a fuzz target's arbitrary bytes, so
// that nearly every input reaches the code under test instead of being
// rejected by a validity filter. Each builder leaves a value that is already
// valid as it is, so seeds mean what they say. Only tests import it.
package fuzzgen

import "strings"

// Alphabets of the names the provider accepts.
const (
	LowerDigitHyphen    = "abcdefghijklmnopqrstuvwxyz0123456789-"
	EnvironmentAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789_-"
)

// IntoAlphabet keeps a byte of alphabet and maps any other byte into it.
func IntoAlphabet(c byte, alphabet string) byte {
	if strings.IndexByte(alphabet, c) >= 0 {
		return c
	}
	return alphabet[int(c)%len(alphabet)]
}

// MapInto cuts raw to maxLen bytes and maps each into alphabet.
func MapInto(raw, alphabet string, maxLen int) []byte {
	b := []byte(raw[:min(len(raw), maxLen)])
	for i, c := range b {
		b[i] = IntoAlphabet(c, alphabet)
	}
	return b
}

// BackendName builds 3-32 of a-z, 0-9 and single hyphens, starting and ending with
// a letter or digit, without a prefix S3 reserves for its default bucket.
func BackendName(raw string) string {
	b := MapInto(raw, LowerDigitHyphen, 32)
	for len(b) < 3 {
		b = append(b, 'a')
	}
	for i := range b {
		if b[i] == '-' && (i == 0 || i == len(b)-1 || b[i-1] == '-') {
			b[i] = '0'
		}
	}
	for _, p := range []string{"sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(string(b)+"-", p) {
			b[0] = 'x'
		}
	}
	return string(b)
}

// Environment builds 1-32 of a-z, 0-9, _ and -, starting with a letter or digit,
// without "tfstate".
func Environment(raw string) string {
	b := MapInto(raw, EnvironmentAlphabet, 32)
	if len(b) == 0 {
		b = append(b, 'e')
	}
	if b[0] == '_' || b[0] == '-' {
		b[0] = '0'
	}
	return strings.ReplaceAll(string(b), "tfstate", "tfstat_")
}

// Bucket builds 3-63 of a-z, 0-9 and -, starting and ending with a letter or digit,
// without a prefix or suffix S3 reserves.
func Bucket(raw string) string {
	b := MapInto(raw, LowerDigitHyphen, 63)
	for len(b) < 3 {
		b = append(b, 'b')
	}
	if b[0] == '-' {
		b[0] = '0'
	}
	if b[len(b)-1] == '-' {
		b[len(b)-1] = '0'
	}
	s := string(b)
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(s, p) {
			s = "b" + s[1:]
		}
	}
	for _, x := range []string{"-s3alias", "--ol-s3", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(s, x) {
			s = s[:len(s)-1] + "0"
		}
	}
	return s
}

// Region builds an area of 2-4 letters, one or more labels of letters and a number
// of 1-2 digits, joined by hyphens, taken from the input's labels.
func Region(raw string) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	labels := strings.Split(raw, "-")
	area := MapInto(labels[0], letters, 4)
	for len(area) < 2 {
		area = append(area, 'x')
	}
	var middle []string
	number := "1"
	if n := len(labels); n > 1 {
		for _, l := range labels[1 : n-1] {
			if m := MapInto(l, letters, 16); len(m) > 0 {
				middle = append(middle, string(m))
			}
		}
		if d := MapInto(labels[n-1], "0123456789", 2); len(d) > 0 {
			number = string(d)
		}
	}
	if len(middle) == 0 {
		middle = []string{"east"}
	}
	return string(area) + "-" + strings.Join(middle, "-") + "-" + number
}

// KeyID builds 1-64 of a-z, 0-9 and -.
func KeyID(raw string) string {
	if b := MapInto(raw, LowerDigitHyphen, 64); len(b) > 0 {
		return string(b)
	}
	return "k"
}
