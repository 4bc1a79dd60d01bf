package cli

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostileCases are files a pull request from a fork could commit in a
// Kustomization's path, each with the reason the render must give.
var hostileCases = []struct {
	name string
	// kustomization lists the file in a kustomization.yaml (krusty reads
	// it) instead of leaving the directory to Flux's generator.
	kustomization bool
	write         func(path string) error
	want          string
}{
	{name: "alias bomb", write: writeString(aliasBomb()), want: "aliases expand to more than"},
	{name: "alias bomb through kustomization.yaml", kustomization: true, write: writeString(aliasBomb()), want: "aliases expand to more than"},
	{name: "deep flow nesting", write: writeString(configMap("spec: " + strings.Repeat("[", 9000) + strings.Repeat("]", 9000))), want: "nested more than"},
	{name: "deep block nesting", write: writeString(deepBlock(2000)), want: "nested more than"},
	{name: "huge file", write: sparseFile(1 << 30), want: "larger than the"},
	{name: "a million tiny documents", write: writeString(strings.Repeat("---\na: 1\n", 1_000_000)), want: "YAML documents, more than"},
	{name: "binary junk", kustomization: true, write: randomFile(1 << 20), want: "binary content"},
	{name: "a mapping with many keys", write: writeString(manyKeys(20_000)), want: "mapping with more than"},
	{name: "many nodes", write: writeString(configMap("spec:\n  items:\n" + strings.Repeat("  - x\n", 300_000))), want: "YAML nodes"},
}

func configMap(body string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n" + body + "\n"
}

// aliasBomb is "billion laughs": nine levels of nine aliases, 387 bytes
// that expand to 9^9 strings.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString(`data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
`)
	prev := "a"
	for _, c := range "bcdefghi" {
		fmt.Fprintf(&b, "  %c: &%c [%s]\n", c, c, strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ","))
		prev = string(c)
	}
	return configMap(b.String())
}

func deepBlock(depth int) string {
	var b strings.Builder
	b.WriteString("spec:\n")
	for i := range depth {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat(" ", i+1), i)
	}
	return configMap(b.String())
}

func manyKeys(n int) string {
	var b strings.Builder
	b.WriteString("data:\n")
	for i := range n {
		fmt.Fprintf(&b, "  k%d: v\n", i)
	}
	return configMap(b.String())
}

func writeString(s string) func(string) error {
	return func(p string) error { return os.WriteFile(p, []byte(s), 0o644) }
}

// sparseFile makes a file of n zero bytes without writing them.
func sparseFile(n int64) func(string) error {
	return func(p string) error {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		if err := f.Truncate(n); err != nil {
			_ = f.Close() // the truncate error is the one to report
			return err
		}
		return f.Close()
	}
}

func randomFile(n int) func(string) error {
	return func(p string) error {
		data := make([]byte, n)
		r := rand.NewChaCha8([32]byte{1})
		_, _ = r.Read(data)
		return os.WriteFile(p, data, 0o644)
	}
}

// hostileRepo writes a cluster whose one Kustomization applies apps/,
// holding the hostile file f.yaml.
func hostileRepo(t *testing.T, kustomization bool, write func(string) error) string {
	t.Helper()
	repo := t.TempDir()
	files := map[string]string{"clusters/test/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`}
	if kustomization {
		files["apps/kustomization.yaml"] = "resources:\n- f.yaml\n"
	}
	for name, data := range files {
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(repo, "apps"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := write(filepath.Join(repo, "apps", "f.yaml")); err != nil {
		t.Fatal(err)
	}
	return repo
}

// TestHostileFiles renders each hostile file with the built tool, as a
// process: exit 2 with one error line naming the Kustomization and the file
// and saying why, and a peak resident memory under 1 GiB (the kernel's
// count, not a timing). The time each took is logged.
func TestHostileFiles(t *testing.T) {
	bin := toolsBinary(t)
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			repo := hostileRepo(t, tc.kustomization, tc.write)
			cmd := exec.Command(bin, "render", "--repo", repo, "--cache-dir", t.TempDir(), "-o", filepath.Join(t.TempDir(), "out.yaml"), filepath.Join(repo, "clusters", "test"))
			// The default limits, whatever the test's environment says.
			cmd.Env = append(os.Environ(), "GOGC=", "GOMEMLIMIT=")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			if cmd.ProcessState == nil {
				t.Fatalf("did not run: %v", err)
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
			t.Logf("exit %d in %s, peak RSS %d MiB", cmd.ProcessState.ExitCode(), took.Round(10*time.Millisecond), rss>>20)
			if code := cmd.ProcessState.ExitCode(); code != ExitError {
				t.Errorf("exit %d, want %d\n%s", code, ExitError, stderr.String())
			}
			var errLines []string
			for _, line := range strings.Split(stderr.String(), "\n") {
				if strings.HasPrefix(line, "error: ") {
					errLines = append(errLines, line)
				}
			}
			if len(errLines) != 1 || !strings.Contains(errLines[0], "Kustomization/flux-system/apps") ||
				!strings.Contains(errLines[0], "apps/f.yaml") || !strings.Contains(errLines[0], tc.want) {
				t.Errorf("want one error line naming Kustomization/flux-system/apps, apps/f.yaml and %q; stderr:\n%s", tc.want, stderr.String())
			}
			if rss > 1<<30 {
				t.Errorf("peak RSS %d MiB, over the 1 GiB bound", rss>>20)
			}
		})
	}
}
