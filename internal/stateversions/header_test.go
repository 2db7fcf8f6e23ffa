package stateversions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// header reads body and returns the header and the reason it is not a
// readable state ("" when it is).
func header(t *testing.T, body []byte) (Header, string) {
	t.Helper()
	h, err := ReadHeader(bytes.NewReader(body))
	var he *HeaderError
	switch {
	case errors.As(err, &he):
		return h, he.Reason
	case err != nil:
		t.Fatalf("ReadHeader returned a non-content error for an in-memory body: %v", err)
	}
	return h, ""
}

// States as the CLIs write them (testdata, from a local apply of two
// terraform_data resources, one with count = 2, and a data source): their
// fields, three managed instances (the data source left out) and the CLI,
// told apart by the layout (Terraform indents, OpenTofu 1.8+ does not).
func TestReadHeaderOfEachCLI(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Header
	}{
		{"terraform-1.11.4.tfstate", Header{FormatVersion: 4, Serial: 4, HasSerial: true, Lineage: "6e43ca37-7efa-07ed-bc2b-bca7bc0f908d",
			TerraformVersion: "1.11.4", CLI: CLITerraform, ResourceCount: 3, HasResourceCount: true}},
		{"opentofu-1.10.10.tfstate", Header{FormatVersion: 4, Serial: 1, HasSerial: true, Lineage: "e888043d-48eb-f7ad-bc6e-a65f8fe6b91c",
			TerraformVersion: "1.10.10", CLI: CLIOpenTofu, ResourceCount: 3, HasResourceCount: true, Compact: true}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			h, reason := header(t, readFile(t, tc.file))
			if reason != "" || h != tc.want {
				t.Errorf("got %+v (%q)\nwant %+v", h, reason, tc.want)
			}
		})
	}
}

// An encrypted OpenTofu state (testdata: pbkdf2 + aes_gcm, written by
// OpenTofu 1.10.10) gives its serial and lineage, is OpenTofu's, and is
// reported as encrypted with the reason; nothing else is known.
func TestReadHeaderOfAnEncryptedState(t *testing.T) {
	h, reason := header(t, readFile(t, "opentofu-1.10.10-encrypted.tfstate"))
	want := Header{Serial: 1, HasSerial: true, Lineage: "01d5cc7d-519e-d909-b6d4-fc3ee0df4691", CLI: CLIOpenTofu, Encrypted: true, Compact: true}
	if h != want {
		t.Errorf("got %+v\nwant %+v", h, want)
	}
	if !strings.HasPrefix(reason, "encrypted (OpenTofu state encryption)") || !strings.Contains(reason, "serial and lineage are readable") {
		t.Errorf("reason %q", reason)
	}
}

// state renders a version-4 state with the given resources JSON.
func state(indent bool, tfVersion, resources string) []byte {
	s := fmt.Sprintf(`{"version":4,"terraform_version":%q,"serial":7,"lineage":"l-1","outputs":{},"resources":%s,"check_results":null}`, tfVersion, resources)
	if !indent {
		return []byte(s)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func resource(mode, provider string, instances ...string) string {
	return fmt.Sprintf(`{"mode":%q,"type":"t","name":"n","provider":%q,"instances":[%s]}`, mode, provider, strings.Join(instances, ","))
}

const (
	builtin  = `provider["terraform.io/builtin/terraform"]`
	tfAWS    = `provider["registry.terraform.io/hashicorp/aws"]`
	tofuAWS  = `provider["registry.opentofu.org/hashicorp/aws"]`
	instance = `{"schema_version":0,"attributes":{"id":"x"}}`
	deposed  = `{"deposed":"00000001","schema_version":0,"attributes":{"id":"old"}}`
)

// Which CLI wrote a state: encryption, an OpenTofu registry address or the
// compact layout say OpenTofu; the indented layout says Terraform, except
// for versions 1.6 and 1.7, which OpenTofu also wrote indented: "".
func TestCLIOf(t *testing.T) {
	for name, tc := range map[string]struct {
		body []byte
		want string
	}{
		"indented 1.11.4":                 {state(true, "1.11.4", "[]"), CLITerraform},
		"indented 1.5.7":                  {state(true, "1.5.7", "[]"), CLITerraform},
		"indented 0.14.11":                {state(true, "0.14.11", "[]"), CLITerraform},
		"indented 1.8.0":                  {state(true, "1.8.0", "[]"), CLITerraform},
		"indented 1.6.2":                  {state(true, "1.6.2", "[]"), ""},
		"indented 1.7.3 terraform.io aws": {state(true, "1.7.3", "["+resource("managed", tfAWS, instance)+"]"), ""},
		"indented 1.7.3 opentofu.org aws": {state(true, "1.7.3", "["+resource("managed", tofuAWS, instance)+"]"), CLIOpenTofu},
		"indented 1.11.4 opentofu.org":    {state(true, "1.11.4", "["+resource("data", tofuAWS)+"]"), CLIOpenTofu},
		"compact 1.10.10":                 {state(false, "1.10.10", "[]"), CLIOpenTofu},
		"compact 1.11.4":                  {state(false, "1.11.4", "[]"), CLIOpenTofu},
		"indented, version not semver":    {state(true, "dev", "[]"), ""},
		"indented, no version":            {[]byte("{\n  \"version\": 4,\n  \"serial\": 1,\n  \"lineage\": \"x\"\n}"), ""},
	} {
		t.Run(name, func(t *testing.T) {
			h, reason := header(t, tc.body)
			if reason != "" || h.CLI != tc.want {
				t.Errorf("CLI %q (%q), want %q", h.CLI, reason, tc.want)
			}
		})
	}
}

// resource_count counts instances of managed resources, in modules too;
// data sources and deposed objects are left out; resources null counts 0.
func TestResourceCount(t *testing.T) {
	for name, tc := range map[string]struct {
		resources string
		want      int64
	}{
		"none":             {"[]", 0},
		"null":             {"null", 0},
		"data only":        {"[" + resource("data", builtin, instance, instance) + "]", 0},
		"managed":          {"[" + resource("managed", builtin, instance, instance) + "," + resource("managed", tfAWS, instance) + "]", 3},
		"deposed left out": {"[" + resource("managed", builtin, instance, deposed) + "]", 1},
		"module":           {`[{"module":"module.a[\"x\"]","mode":"managed","type":"t","name":"n","provider":"p","instances":[` + instance + `]}]`, 1},
		"mode after":       {`[{"instances":[` + instance + `,` + instance + `],"mode":"managed"}]`, 2},
		"no instances":     {`[{"mode":"managed","instances":null},{"mode":"managed"}]`, 0},
		"last of a twice":  {`[{"mode":"data","instances":[{}],"mode":"managed","instances":[{},{}]}]`, 2},
	} {
		t.Run(name, func(t *testing.T) {
			h, reason := header(t, state(false, "1.10.10", tc.resources))
			if reason != "" || !h.HasResourceCount || h.ResourceCount != tc.want {
				t.Errorf("count %d (known %v, %q), want %d", h.ResourceCount, h.HasResourceCount, reason, tc.want)
			}
		})
	}
}

// Bodies that are no readable state give the reason, which never quotes
// the body, and the fields read before the problem; never a count or CLI.
func TestReadHeaderRefusals(t *testing.T) {
	valid := readFile(t, "terraform-1.11.4.tfstate")
	for name, tc := range map[string]struct {
		body   string
		reason string
		serial int64
	}{
		"not JSON":            {"this is not a state\n", "not JSON: invalid character at byte 1", 0},
		"empty":               {"", "empty: the CLI reads an empty object as no state at all", 0},
		"only spaces":         {"  \n", "empty: the CLI reads an empty object as no state at all", 0},
		"truncated":           {string(valid[:len(valid)/2]), "not JSON: the data ends early, at byte 1512 (truncated)", 4},
		"trailing data":       {string(valid) + "{}", "not JSON: more data after the state, at byte 3025", 4},
		"array":               {"[1,2]", "not a state: the JSON is not an object", 0},
		"string":              {`"secret"`, "not a state: the JSON is not an object", 0},
		"no version":          {`{"serial":3,"lineage":"x"}`, `not a state: no "version"`, 3},
		"version 5":           {`{"version":5,"serial":3}`, "not a state the CLIs read: format version 5 (Terraform 0.12 and later and OpenTofu write 4)", 3},
		"version a string":    {`{"version":"4"}`, `not a state: its "version" is not a whole number`, 0},
		"version fractional":  {`{"version":4.0}`, `not a state: its "version" is not a whole number`, 0},
		"serial negative":     {`{"version":4,"serial":-1}`, "not a state: its serial is not a whole number", 0},
		"serial huge":         {`{"version":4,"serial":99999999999999999999}`, "not a state: its serial is not a whole number", 0},
		"serial a string":     {`{"version":4,"serial":"3"}`, "not a state: its serial is not a whole number", 0},
		"lineage a number":    {`{"version":4,"serial":2,"lineage":5}`, "not a state: its lineage is not a string of at most 256 bytes", 2},
		"lineage too long":    {`{"version":4,"lineage":"` + strings.Repeat("a", 257) + `"}`, "not a state: its lineage is not a string of at most 256 bytes", 0},
		"resources an object": {`{"version":4,"serial":1,"resources":{}}`, `not a state: its "resources" is not a list`, 1},
		"resource a string":   {`{"version":4,"serial":1,"resources":["x"]}`, "not a state: an element of its resources is not an object", 1},
		"bad escape":          {`{"version":4,"lineage":"\x"}`, "not JSON: invalid character at byte 25", 0},
		"control character":   {"{\"version\":4,\"lineage\":\"a\nb\"}", "not JSON: invalid character at byte 25", 0},
		"leading zero":        {`{"version":04}`, "not JSON: invalid character at byte 12", 0},
		"bare minus":          {`{"version":-}`, "not JSON: invalid character at byte 12", 0},
		"missing colon":       {`{"version" 4}`, "not JSON: invalid character at byte 11", 0},
		"missing comma":       {`{"version":4 "serial":1}`, "not JSON: invalid character at byte 13", 0},
		"bad literal":         {`{"version":4,"x":nul}`, "not JSON: invalid character at byte 20", 0},
		"unclosed string":     {`{"version":4,"lineage":"abc`, "not JSON: the data ends early, at byte 27 (truncated)", 0},
		"deeply nested":       {`{"version":4,"x":` + strings.Repeat("[", 1200) + strings.Repeat("]", 1200) + "}", "not read: nested deeper than 1000 levels, at byte 1016", 0},
	} {
		t.Run(name, func(t *testing.T) {
			h, reason := header(t, []byte(tc.body))
			if reason != tc.reason {
				t.Errorf("reason %q\n  want %q", reason, tc.reason)
			}
			if h.Serial != tc.serial || h.CLI != "" || h.HasResourceCount {
				t.Errorf("header %+v, want serial %d, no CLI, no count", h, tc.serial)
			}
			if b := strings.TrimSpace(tc.body); len(b) > 4 && strings.Contains(reason, b[:len(b)/2]) {
				t.Errorf("the reason quotes the body: %q", reason)
			}
		})
	}
}

// Keys match as the CLIs' JSON decoding matches them: escaped,
// case-insensitively, the last of duplicates winning; null leaves a field
// unset.
func TestReadHeaderKeysAsTheCLIsDecodeThem(t *testing.T) {
	h, reason := header(t, []byte(`{"Version":4,"\u0073erial":3,"serial":5,"LINEAGE":"a","lineage":null,"terraform_version":"1.9.0","resources":[{"mode":"managed","instances":[{}]}],"resources":null}`))
	want := Header{FormatVersion: 4, Serial: 5, HasSerial: true, Lineage: "a", TerraformVersion: "1.9.0", CLI: CLIOpenTofu, HasResourceCount: true, Compact: true}
	if reason != "" || h != want {
		t.Errorf("got %+v (%q)\nwant %+v", h, reason, want)
	}
	var direct struct {
		Serial  int64
		Lineage string
	}
	if err := json.Unmarshal([]byte(`{"\u0073erial":3,"serial":5,"LINEAGE":"a","lineage":null}`), &direct); err != nil || direct.Serial != 5 || direct.Lineage != "a" {
		t.Fatalf("encoding/json reads %+v (%v): the test's premise is wrong", direct, err)
	}
}

// A failure of the reader is returned as it is, not as a content problem.
func TestReadHeaderReaderFailure(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := ReadHeader(io.MultiReader(strings.NewReader(`{"version":4,"serial":`), errReader{boom}))
	var he *HeaderError
	if !errors.Is(err, boom) || errors.As(err, &he) {
		t.Errorf("err %v, want the reader's error", err)
	}
}

// hostile produces a state whose one attribute holds a string of n bytes,
// never materialised.
type hostile struct {
	prefix, suffix string
	n, off         int
	fill           byte
}

func (h *hostile) Read(p []byte) (int, error) {
	total := len(h.prefix) + h.n + len(h.suffix)
	if h.off >= total {
		return 0, io.EOF
	}
	i := 0
	for ; i < len(p) && h.off < total; i, h.off = i+1, h.off+1 {
		switch {
		case h.off < len(h.prefix):
			p[i] = h.prefix[h.off]
		case h.off < len(h.prefix)+h.n:
			p[i] = h.fill
		default:
			p[i] = h.suffix[h.off-len(h.prefix)-h.n]
		}
	}
	return i, nil
}

// A 16 MiB string, key or number is read through in constant memory: the
// reading allocates less than 1 MiB, whatever the size.
func TestReadHeaderMemoryIsBounded(t *testing.T) {
	const size = 16 << 20
	for name, src := range map[string]*hostile{
		"string value": {prefix: `{"version":4,"serial":2,"lineage":"l","resources":[{"mode":"managed","instances":[{"attributes":{"user_data":"`, n: size, fill: 'a',
			suffix: `"}}]}]}`},
		"long key":    {prefix: `{"version":4,"serial":2,"`, n: size, fill: 'k', suffix: `":1,"resources":[]}`},
		"long number": {prefix: `{"version":4,"serial":2,"x":1`, n: size, fill: '7', suffix: `,"resources":[]}`},
		"long lineage": {prefix: `{"version":4,"serial":2,"lineage":"`, n: size, fill: 'a',
			suffix: `","resources":[]}`},
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			h, err := ReadHeader(src)
			runtime.ReadMemStats(&after)
			var he *HeaderError
			if err != nil && !errors.As(err, &he) {
				t.Fatal(err)
			}
			if h.Serial != 2 {
				t.Errorf("serial %d, want 2 (%v)", h.Serial, err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("reading a state with a %d MiB %s allocated %d KiB", size>>20, name, alloc>>10)
			}
		})
	}
}

// FuzzReadHeader: any input is read without panic; ReadHeader calls it
// JSON exactly when encoding/json does (except nesting past maxDepth); and
// a state made of the fuzzed fields, written as either CLI writes it, reads
// back the same.
func FuzzReadHeader(f *testing.F) {
	for _, name := range []string{"terraform-1.11.4.tfstate", "opentofu-1.10.10.tfstate", "opentofu-1.10.10-encrypted.tfstate"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint64(3), "lineage", "1.11.4", uint8(2), true)
	}
	f.Add([]byte(`{"version":4,"x":"\ud800"}`), uint64(0), "", "", uint8(0), false)
	f.Add([]byte("{\"a\":\"\xff\"}"), uint64(1<<63), "\u2028", "1.6.0", uint8(9), false)
	f.Fuzz(func(t *testing.T, body []byte, serial uint64, lineage, version string, instances uint8, indent bool) {
		h, err := ReadHeader(bytes.NewReader(body))
		var he *HeaderError
		if err != nil && !errors.As(err, &he) {
			t.Fatalf("non-content error %v", err)
		}
		notJSON := he != nil && (strings.HasPrefix(he.Reason, "not JSON") || strings.HasPrefix(he.Reason, "empty"))
		tooDeep := he != nil && strings.HasPrefix(he.Reason, "not read: nested deeper")
		if !tooDeep && json.Valid(body) == notJSON {
			t.Fatalf("json.Valid %v, ReadHeader %q", json.Valid(body), he.Reason)
		}
		if err != nil && (h.CLI != "" && !h.Encrypted || h.HasResourceCount) {
			t.Fatalf("refused (%v) with a CLI or a count: %+v", err, h)
		}

		// A state of the fuzzed fields, as the CLIs write it.
		type inst struct {
			Attributes map[string]string `json:"attributes"`
		}
		type res struct {
			Mode      string `json:"mode"`
			Instances []inst `json:"instances"`
		}
		s := struct {
			Version          int    `json:"version"`
			TerraformVersion string `json:"terraform_version"`
			Serial           uint64 `json:"serial"`
			Lineage          string `json:"lineage"`
			Resources        []res  `json:"resources"`
		}{4, version, serial, lineage, []res{{"managed", make([]inst, instances)}, {"data", []inst{{}}}}}
		for i := range s.Resources[0].Instances {
			s.Resources[0].Instances[i].Attributes = map[string]string{"v": string(body)}
		}
		var doc []byte
		if indent {
			doc, err = json.MarshalIndent(s, "", "  ")
		} else {
			doc, err = json.Marshal(s)
		}
		if err != nil {
			t.Fatal(err)
		}
		h, err = ReadHeader(bytes.NewReader(doc))
		var wantVersion, wantLineage string
		_ = json.Unmarshal(mustMarshal(version), &wantVersion) // as decoded: invalid UTF-8 becomes U+FFFD
		_ = json.Unmarshal(mustMarshal(lineage), &wantLineage)
		tooLong := len(mustMarshal(version)) > maxScalarBytes+2 || len(mustMarshal(lineage)) > maxScalarBytes+2
		switch {
		case tooLong || serial > 1<<63-1:
			if err == nil {
				t.Fatalf("a state with a serial of %d, a %d-byte lineage and version was read: %+v", serial, len(lineage), h)
			}
		case err != nil:
			t.Fatalf("state refused: %v\n%s", err, doc)
		case h.Serial != int64(serial) || h.Lineage != wantLineage || h.TerraformVersion != wantVersion || h.ResourceCount != int64(instances) || h.Compact == indent:
			t.Fatalf("read %+v from\n%s", h, doc)
		}
	})
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
