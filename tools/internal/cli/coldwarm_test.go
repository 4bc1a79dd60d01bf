package cli

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aks-gitops/platform/tools/internal/chartserver"
)

// cacheStatsRE matches what differs, by design, between a first run and a
// second: how the charts and the render were found (fetched or cached,
// misses or hits); its last two groups are the render cache's hits and
// misses.
var cacheStatsRE = regexp.MustCompile(`(charts: [0-9]+ local, [0-9]+ cached, [0-9]+ fetched, [0-9]+ reused; )?render cache: ([0-9]+) hits, ([0-9]+) misses`)

// phaseTimeRE matches check's timings per phase ("validate 2ms, policy 0s").
var phaseTimeRE = regexp.MustCompile(`\b(validate|policy|repo-rules) [0-9.]+(µs|ms|s|m[0-9.]+s)`)

// coldWarm runs one command line twice with one cache directory, empty the
// first time: exit code, stdout and stderr must be the same (but for the
// cache statistics), and no panic may show.
func coldWarm(t *testing.T, f fixture, e env, args []string) {
	t.Helper()
	cache := t.TempDir()
	var outs [2]string
	for i := range outs {
		code, stdout, stderr := run(append(slices.Clone(args), "--cache-dir", cache)...)
		if strings.Contains(stderr, "panic") {
			t.Errorf("%v: panic:\n%s", args, stderr)
		}
		stderr = cacheStatsRE.ReplaceAllString(stderr, "charts and cache: N")
		stderr = phaseTimeRE.ReplaceAllString(stderr, "$1 T")
		outs[i] = "exit " + string(rune('0'+code)) + "\n# stdout\n" + normalize(stdout, f, e) + "# stderr\n" + normalize(stderr, f, e)
	}
	if diff := cmp.Diff(outs[0], outs[1]); diff != "" {
		t.Errorf("%v: warm run differs from cold (-cold +warm):\n%s", args, diff)
	}
}

// verbArgs returns a fixture's command line for verb: flags only render
// has are left out for the others.
func verbArgs(verb string, f fixture) []string {
	args := []string{verb, "--repo", f.repo}
	for i := 0; i < len(f.args); i++ {
		a := f.args[i]
		if verb != "render" {
			switch a {
			case "-o":
				i++
				continue
			case "--show-secrets", "--partial":
				continue
			}
		}
		args = append(args, a)
	}
	return args
}

// TestColdWarm renders every fixture repository of the suite with an empty
// cache and then a warm one, through every verb: the outputs and exit codes
// must be identical. New fixtures (testdata/render/*.txtar, and any
// testdata/*.txtar with an args file; testdata/diff-*.txtar for diff) are
// covered without listing them.
func TestColdWarm(t *testing.T) {
	srv := chartserver.Start(t, chartDirs(t)...)
	abs, err := filepath.Abs(chartsDir)
	if err != nil {
		t.Fatal(err)
	}
	e := env{chartsURL: srv.URL(), chartsDir: abs}
	var paths []string
	for _, glob := range []string{"render/*.txtar", "*.txtar"} {
		m, err := filepath.Glob(filepath.Join("testdata", glob))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	n := 0
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		if strings.HasPrefix(name, "diff-") {
			continue // below, with their base and head
		}
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, path, e)
			if f.args == nil {
				t.Skip("no args: not a render fixture")
			}
			n++
			for _, verb := range []string{"render", "validate", "policy", "check"} {
				coldWarm(t, f, e, verbArgs(verb, f))
			}
			// diff: the fixture committed as base, the working tree as head.
			diffGit(t, f.repo, "init", "-q", "-b", "main")
			diffGit(t, f.repo, "add", "-A")
			diffGit(t, f.repo, "commit", "-q", "-m", "base")
			coldWarm(t, f, e, append(verbArgs("diff", f), "--base", "main"))
		})
	}
	if n < 20 {
		t.Errorf("only %d fixture repositories found", n)
	}
	diffs, err := filepath.Glob(filepath.Join("testdata", "diff-*.txtar"))
	if err != nil || len(diffs) == 0 {
		t.Fatal("no diff fixtures")
	}
	for _, path := range diffs {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			r := loadDiffFixture(t, path, e)
			for _, dr := range r.runs {
				if dr.args == nil {
					continue
				}
				args := append([]string{"diff", "--repo", r.dir, "--base", "main", "--offline", "--charts", e.chartsDir}, dr.args...)
				coldWarm(t, fixture{repo: r.dir}, e, args)
			}
		})
	}
}
