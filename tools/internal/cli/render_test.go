package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/aks-gitops/platform/tools/internal/chartserver"
)

var update = flag.Bool("update", false, "rewrite golden files")

// chartsDir holds the charts the tests serve and copy.
var chartsDir = chartserver.TestCharts()

// fixture is a repository written from a txtar archive, with the command
// line from its "args" file.
type fixture struct {
	repo string
	args []string
}

// env is what a fixture's files and args may refer to.
type env struct {
	chartsURL string // a real HTTP Helm repository on loopback
	chartsDir string // the chart sources, for --charts
}

func (e env) expand(s, repo string) string {
	return strings.NewReplacer("$CHARTS_URL", e.chartsURL, "$CHARTS_DIR", e.chartsDir, "$REPO", repo).Replace(s)
}

// loadFixture writes the archive's files under a new directory.
func loadFixture(t *testing.T, path string, e env) fixture {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{repo: t.TempDir()}
	for _, file := range ar.Files {
		data := e.expand(string(file.Data), f.repo)
		if file.Name == "args" {
			f.args = strings.Fields(data)
			continue
		}
		p := filepath.Join(f.repo, filepath.FromSlash(file.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// run runs the CLI in-process.
func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), "test", args, &out, &errb)
	return code, out.String(), errb.String()
}

var durationRE = regexp.MustCompile(`in [0-9.]+(µs|ms|s|m[0-9.]+s)`)

// normalize removes what differs between runs: temporary paths, the chart
// server's port and timings.
func normalize(s string, f fixture, e env) string {
	s = strings.ReplaceAll(s, f.repo, "$REPO")
	s = strings.ReplaceAll(s, e.chartsDir, "$CHARTS_DIR")
	if e.chartsURL != "" {
		s = strings.ReplaceAll(s, e.chartsURL, "$CHARTS_URL")
	}
	return durationRE.ReplaceAllString(s, "in T")
}

func chartDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(chartsDir, "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no test charts in %s", chartsDir)
	}
	return dirs
}

// TestRenderGolden renders every fixture under testdata/render and compares
// exit code, stdout and stderr with its golden file (go test -update
// rewrites them).
func TestRenderGolden(t *testing.T) {
	srv := chartserver.Start(t, chartDirs(t)...)
	abs, err := filepath.Abs(chartsDir)
	if err != nil {
		t.Fatal(err)
	}
	e := env{chartsURL: srv.URL(), chartsDir: abs}
	cases, err := filepath.Glob(filepath.Join("testdata", "render", "*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, path, e)
			args := append([]string{"render", "--repo", f.repo, "--cache-dir", t.TempDir()}, f.args...)
			code, stdout, stderr := run(args...)
			got := fmt.Sprintf("# exit %d\n# stderr\n%s# stdout\n%s", code, normalize(stderr, f, e), normalize(stdout, f, e))
			checkGolden(t, strings.TrimSuffix(path, ".txtar")+".golden", got)
		})
	}
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", golden, diff)
	}
}

// runFixture loads a fixture and renders it with extra flags in front.
func runFixture(t *testing.T, name string, e env, extra ...string) (fixture, int, string, string) {
	t.Helper()
	f := loadFixture(t, filepath.Join("testdata", "render", name+".txtar"), e)
	args := append([]string{"render", "--repo", f.repo}, extra...)
	code, stdout, stderr := run(append(args, f.args...)...)
	return f, code, stdout, stderr
}

func localEnv(t *testing.T) env {
	t.Helper()
	abs, err := filepath.Abs(chartsDir)
	if err != nil {
		t.Fatal(err)
	}
	return env{chartsDir: abs}
}

// TestRenderOutputDir checks -o DIR: one file per Flux object at a stable
// path, nothing on stdout, and a second run replacing the first.
func TestRenderOutputDir(t *testing.T) {
	e := localEnv(t)
	cache := t.TempDir()
	f, code, stdout, stderr := runFixture(t, "output-dir", e, "--cache-dir", cache)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	out := filepath.Join(f.repo, "out")
	var got []string
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"clusters/test/.rendered-by-tools",
		"clusters/test/helmrelease/apps/db.yaml",
		"clusters/test/kustomization/flux-system/apps.yaml",
		"clusters/test/kustomization/flux-system/flux-system.yaml",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	db, err := os.ReadFile(filepath.Join(out, "clusters/test/helmrelease/apps/db.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"kind: StatefulSet", "kind: Service", "template demo-db/templates/statefulset.yaml"} {
		if !strings.Contains(string(db), s) {
			t.Errorf("db.yaml lacks %q", s)
		}
	}
	// A second run replaces the tree it wrote.
	if code, _, stderr := run(append([]string{"render", "--repo", f.repo, "--cache-dir", cache}, f.args...)...); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	// A path ending in .yaml gets the stream.
	file := filepath.Join(t.TempDir(), "all.yaml")
	args := []string{"render", "--repo", f.repo, "--cache-dir", cache, "--charts", e.chartsDir, "--offline", "-o", file, filepath.Join(f.repo, "clusters", "test")}
	if code, stdout, stderr := run(args...); code != 0 || stdout != "" {
		t.Fatalf("-o file: exit %d, stdout %q: %s", code, stdout, stderr)
	}
	if data, err := os.ReadFile(file); err != nil || !strings.Contains(string(data), "kind: StatefulSet") {
		t.Errorf("-o file: %v, %d bytes", err, len(data))
	}
	// So does a file that exists and is no directory (/dev/null: timing
	// a render without keeping it).
	args[len(args)-2] = os.DevNull
	if code, stdout, stderr := run(args...); code != 0 || stdout != "" {
		t.Errorf("-o %s: exit %d, stdout %q: %s", os.DevNull, code, stdout, stderr)
	}
	// A directory it did not write is never overwritten.
	foreign := t.TempDir()
	if err := os.MkdirAll(filepath.Join(foreign, "clusters", "test"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "clusters", "test", "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	args = []string{"render", "--repo", f.repo, "--cache-dir", cache, "--charts", e.chartsDir, "--offline", "-o", foreign, filepath.Join(f.repo, "clusters", "test")}
	code, _, stderr = run(args...)
	if code != ExitError || !strings.Contains(stderr, "refusing to overwrite") {
		t.Errorf("foreign output dir: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(foreign, "clusters", "test", "keep.txt")); err != nil {
		t.Errorf("foreign file removed: %v", err)
	}
}

// TestSecretsNeverPrinted renders Secrets and secret-fed substitutions and
// checks that no secret value reaches stdout or stderr, unless asked.
func TestSecretsNeverPrinted(t *testing.T) {
	values := []string{"hunter2-do-not-print", "super-secret-token", "c3VwZXItc2VjcmV0LXRva2Vu"}
	_, code, stdout, stderr := runFixture(t, "secrets", env{}, "--cache-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, v := range values {
		if strings.Contains(stdout+stderr, v) {
			t.Errorf("secret value %q printed", v)
		}
	}
	_, code, stdout, _ = runFixture(t, "secrets", env{}, "--cache-dir", t.TempDir(), "--show-secrets")
	if code != 0 || !strings.Contains(stdout, "hunter2-do-not-print") {
		t.Errorf("--show-secrets: exit %d, value not shown", code)
	}
}

// TestChartCache checks that a chart used by several releases is fetched
// once, that a second run is served from the disk cache without the
// network, and that --offline without a cache fails clearly.
func TestChartCache(t *testing.T) {
	srv := chartserver.Start(t, chartDirs(t)...)
	e := env{chartsURL: srv.URL()}
	cache := t.TempDir()
	f, code, _, stderr := runFixture(t, "shared-chart", e, "--cache-dir", cache)
	if code != 0 {
		t.Fatalf("cold: exit %d: %s", code, stderr)
	}
	if n := srv.Requests("/demo-app-1.0.0.tgz"); n != 1 {
		t.Errorf("cold run downloaded the chart %d times, want 1", n)
	}
	if !strings.Contains(stderr, "1 fetched, 2 reused") {
		t.Errorf("cold summary: %s", stderr)
	}
	args := append([]string{"render", "--repo", f.repo, "--cache-dir", cache, "--offline"}, f.args...)
	code, _, stderr = run(args...)
	if code != 0 {
		t.Fatalf("warm offline: exit %d: %s", code, stderr)
	}
	if n := srv.Requests("/demo-app-1.0.0.tgz"); n != 1 {
		t.Errorf("warm run downloaded again (%d requests)", n)
	}
	if !strings.Contains(stderr, "1 cached, 0 fetched, 2 reused") {
		t.Errorf("warm summary: %s", stderr)
	}
	args = append([]string{"render", "--repo", f.repo, "--cache-dir", t.TempDir(), "--offline"}, f.args...)
	code, _, stderr = run(args...)
	if code != ExitError || !strings.Contains(stderr, "not available offline") {
		t.Errorf("offline without cache: exit %d: %s", code, stderr)
	}
}
