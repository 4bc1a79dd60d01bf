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
var chartsDir = filepath.Join("..", "render", "testdata", "charts")

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
			golden := strings.TrimSuffix(path, ".txtar") + ".golden"
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
				t.Errorf("render %s mismatch (-want +got):\n%s", name, diff)
			}
		})
	}
}
