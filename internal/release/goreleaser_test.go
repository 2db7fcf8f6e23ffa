package release

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// projectName is goreleaser's {{ .ProjectName }}: the module path's last element.
const projectName = "terraform-provider-securestate"

// release is what `goreleaser release --snapshot` wrote to dist/.
type release struct {
	Version  string            // {{ .Version }}, e.g. 0.0.0-SNAPSHOT-1a2b3c4
	Dist     string            // the dist/ folder
	Archives []archive         // the provider zips
	Sums     map[string]string // SHA256SUMS: file name → sha256 hex
}

// archive is one provider zip of a release.
type archive struct {
	Name   string // terraform-provider-securestate_<version>_<os>_<arch>.zip
	Path   string
	GOOS   string
	GOARCH string
}

// buildRelease runs goreleaser on a copy of the repository and checks what it
// wrote: every file SHA256SUMS names is in dist/ with that sha256, every zip
// is named as the CLIs' packed mirror layout needs, and the registry manifest
// is among the checksummed files.
//
// Why a copy: the configuration's `before` hook runs `go mod tidy`, which
// must never rewrite go.mod or go.sum in the working tree while other tests
// and editors use it. The copy holds what `make test` tests, the files git
// knows (tracked and new, not ignored: no .tools/, no dist/), committed into
// a fresh repository, because goreleaser takes the snapshot version from git.
//
// Why a narrowed configuration: `goreleaser release` has no --single-target
// (only `goreleaser build` has it, and that writes no archives or
// checksums; v2.16.0's release never sets the partial-build filter), and
// the real .goreleaser.yml builds eight targets: the host's alone takes about
// five minutes from a cold build cache on two cores, every other target as
// much again, each run after that half a minute. Unless allTargets is set, the
// configuration goreleaser reads is the real file with only its goos and
// goarch lists narrowed to the host (hostOnlyConfig); everything else (hooks,
// flags, ldflags, binary and archive names, checksums) is the release's own.
func buildRelease(t *testing.T, goreleaser string, allTargets bool) release {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	copyGitFiles(t, root, src)
	commitSnapshot(t, root, src)

	config, err := os.ReadFile(filepath.Join(src, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	targets := "every target of .goreleaser.yml"
	if !allTargets {
		config, err = hostOnlyConfig(config, runtime.GOOS, runtime.GOARCH)
		if err != nil {
			t.Fatalf("narrowing .goreleaser.yml to the host: %s", err)
		}
		targets = runtime.GOOS + "_" + runtime.GOARCH + " only; SECURESTATE_RELEASE_ALL_TARGETS=1 builds every target"
	}
	// Outside the copy, so the copy's tree is the repository's.
	configPath := filepath.Join(filepath.Dir(src), "goreleaser.yml")
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		t.Fatal(err)
	}

	logPath := filepath.Join(filepath.Dir(src), "goreleaser.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logFile.Close() }()
	// --snapshot implies --skip=announce,publish,validate; there is no GPG
	// key here, so signing the checksums is skipped too.
	cmd := exec.CommandContext(t.Context(), goreleaser, "release", "--snapshot", "--clean", "--skip=sign", "--config", configPath)
	cmd.Dir = src
	cmd.Env = withoutEnv(os.Environ(), "GORELEASER_CURRENT_TAG", "GORELEASER_PREVIOUS_TAG")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start).Round(time.Second)
	if err != nil {
		t.Fatalf("goreleaser release --snapshot failed after %s: %s\n%s", took, err, tail(logPath, 40))
	}
	t.Logf("goreleaser release --snapshot (%s) took %s; log: %s", targets, took, logPath)

	// The hook ran in the copy; a change there means the repository's
	// go.mod is not tidy, and a release would build from other module files
	// than those committed.
	if out, err := exec.CommandContext(t.Context(), "git", "-C", src, "status", "--porcelain", "--", "go.mod", "go.sum").CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("the release's `go mod tidy` hook changed the module files (%v): run go mod tidy and commit go.mod and go.sum\n%s", err, out)
	}
	return readDist(t, filepath.Join(src, "dist"))
}

// readDist reads dist/metadata.json, dist/artifacts.json and the checksums
// file, and checks them against the files.
func readDist(t *testing.T, dist string) release {
	t.Helper()
	var meta struct {
		Version string `json:"version"`
	}
	readJSON(t, filepath.Join(dist, "metadata.json"), &meta)
	if meta.Version == "" {
		t.Fatal("dist/metadata.json has no version")
	}
	var artifacts []struct {
		Name   string `json:"name"`
		Path   string `json:"path"`
		GOOS   string `json:"goos"`
		GOARCH string `json:"goarch"`
		Type   string `json:"type"`
	}
	readJSON(t, filepath.Join(dist, "artifacts.json"), &artifacts)

	rel := release{Version: meta.Version, Dist: dist}
	sumsName := fmt.Sprintf("%s_%s_SHA256SUMS", projectName, meta.Version)
	for _, a := range artifacts {
		switch a.Type {
		case "Archive":
			want := fmt.Sprintf("%s_%s_%s_%s.zip", projectName, meta.Version, a.GOOS, a.GOARCH)
			if a.Name != want {
				t.Errorf("archive %s: the CLIs' packed mirror layout needs the name %s", a.Name, want)
			}
			rel.Archives = append(rel.Archives, archive{Name: a.Name, Path: filepath.Join(dist, a.Name), GOOS: a.GOOS, GOARCH: a.GOARCH})
		case "Checksum":
			if a.Name != sumsName {
				t.Errorf("checksums file %s, want %s", a.Name, sumsName)
			}
		}
	}
	if len(rel.Archives) == 0 {
		t.Fatal("goreleaser built no archive")
	}
	text, err := os.ReadFile(filepath.Join(dist, sumsName))
	if err != nil {
		t.Fatalf("reading the checksums goreleaser wrote: %s", err)
	}
	if rel.Sums, err = parseSums(text); err != nil {
		t.Fatalf("%s: %s", sumsName, err)
	}
	// The registry reads the protocol version from the manifest, which it
	// finds only among the checksummed files. goreleaser checksums
	// terraform-registry-manifest.json under the release's name for it
	// (checksum.extra_files) without copying it into dist/.
	manifest := fmt.Sprintf("%s_%s_manifest.json", projectName, meta.Version)
	want, err := sha256File(filepath.Join("..", "..", "terraform-registry-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rel.Sums[manifest] != want {
		t.Errorf("%s: %s has sha256 %q, want that of terraform-registry-manifest.json (%s)", sumsName, manifest, rel.Sums[manifest], want)
	}
	// Every other file SHA256SUMS names is in dist/ with that content.
	for name, sum := range rel.Sums {
		if name == manifest {
			continue
		}
		if got, err := sha256File(filepath.Join(dist, name)); err != nil {
			t.Errorf("%s names %s: %s", sumsName, name, err)
		} else if got != sum {
			t.Errorf("%s: sha256 %s, but %s says %s", name, got, sumsName, sum)
		}
	}
	for _, a := range rel.Archives {
		if _, ok := rel.Sums[a.Name]; !ok {
			t.Errorf("%s is not in %s", a.Name, sumsName)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return rel
}

// Archive returns the zip for goos/goarch.
func (r release) Archive(t *testing.T, goos, goarch string) archive {
	t.Helper()
	i := slices.IndexFunc(r.Archives, func(a archive) bool { return a.GOOS == goos && a.GOARCH == goarch })
	if i < 0 {
		t.Fatalf("the release has no archive for %s_%s", goos, goarch)
	}
	return r.Archives[i]
}

var (
	goosLine   = regexp.MustCompile(`^(\s*(?:-\s+)?goos:\s*)\[([^\]]*)\]\s*$`)
	goarchLine = regexp.MustCompile(`^(\s*(?:-\s+)?goarch:\s*)\[([^\]]*)\]\s*$`)
)

// hostOnlyConfig returns config with the build's goos and goarch flow lists
// (`goos: [linux, darwin]`) narrowed to goos and goarch, which they must
// list. It edits text rather than re-encoding YAML, so comments, order and
// every other setting stay as written; a configuration it cannot narrow (no
// such line, several builds, a block-style list) is an error, never silently
// the full build.
func hostOnlyConfig(config []byte, goos, goarch string) ([]byte, error) {
	lines := strings.SplitAfter(string(config), "\n")
	for _, f := range []struct {
		key    string
		line   *regexp.Regexp
		target string
	}{{"goos", goosLine, goos}, {"goarch", goarchLine, goarch}} {
		found := 0
		for i, line := range lines {
			body := strings.TrimRight(line, "\n")
			m := f.line.FindStringSubmatch(body)
			if m == nil {
				continue
			}
			found++
			listed := strings.Split(m[2], ",")
			for j := range listed {
				listed[j] = strings.Trim(strings.TrimSpace(listed[j]), `"'`)
			}
			if !slices.Contains(listed, f.target) {
				return nil, fmt.Errorf("%s [%s] does not list the host's %s", f.key, m[2], f.target)
			}
			lines[i] = m[1] + "[" + f.target + "]" + line[len(body):]
		}
		if found != 1 {
			return nil, fmt.Errorf("want one `%s: [...]` line (one build, flow-style list), found %d", f.key, found)
		}
	}
	return []byte(strings.Join(lines, "")), nil
}

// parseSums reads a SHA256SUMS file: "<64 hex digits>  <file name>" per line.
func parseSums(text []byte) (map[string]string, error) {
	sums := map[string]string{}
	line := regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			return nil, fmt.Errorf("line %d is not `<sha256>  <name>`: %q", n, sc.Text())
		}
		if _, dup := sums[m[2]]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", n, m[2])
		}
		sums[m[2]] = m[1]
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("no checksums")
	}
	return sums, sc.Err()
}

// copyGitFiles copies the files git knows in root (tracked and untracked, not
// ignored; as they are in the working tree) to dst.
func copyGitFiles(t *testing.T, root, dst string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %s", err)
	}
	for name := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		from, to := filepath.Join(root, name), filepath.Join(dst, name)
		info, err := os.Lstat(from)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree, not yet in the index
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(from)
			if err == nil {
				err = os.Symlink(target, to)
			}
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := copyFile(from, to, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// commitSnapshot makes dst a git repository with one commit of everything in
// it, dated like root's HEAD, so the same tree gives the same snapshot
// version. goreleaser reads the remote's URL and, without one, records the
// commit as "none" in snapshot mode; the URL is never contacted.
func commitSnapshot(t *testing.T, root, dst string) {
	t.Helper()
	date, err := exec.CommandContext(t.Context(), "git", "-C", root, "log", "-1", "--format=%cI").Output()
	if err != nil {
		t.Fatalf("git log: %s", err)
	}
	env := append(withoutEnv(os.Environ(), "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"),
		"GIT_AUTHOR_NAME=release test", "GIT_AUTHOR_EMAIL=release-test@localhost",
		"GIT_COMMITTER_NAME=release test", "GIT_COMMITTER_EMAIL=release-test@localhost",
		"GIT_AUTHOR_DATE="+strings.TrimSpace(string(date)), "GIT_COMMITTER_DATE="+strings.TrimSpace(string(date)))
	for _, args := range [][]string{
		{"init", "-q"},
		{"remote", "add", "origin", "https://github.com/securestate/terraform-provider-securestate.git"},
		{"add", "."},
		{"-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "release test snapshot"},
	} {
		cmd := exec.CommandContext(t.Context(), "git", args...)
		cmd.Dir, cmd.Env = dst, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %s\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatalf("reading %s: %s", path, err)
	}
}

// withoutEnv returns env without the given variables.
func withoutEnv(env []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, name)
	})
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
