package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/aks-gitops/platform/tools/internal/report"
)

// diffRepo is a git repository written from a diff fixture: files named
// base/PATH exist only in the base commit (on main), head/PATH only in the
// head commit (on the checked-out branch feature), any other file in both.
type diffRepo struct {
	dir string
	// runs are the fixture's NAME.args (one command line after
	// `diff --repo REPO --cache-dir CACHE`), with their NAME.want: "exit N"
	// then the expected stdout.
	runs []diffRun
}

type diffRun struct {
	name string
	args []string
	want string
}

// git runs git in dir with a fixed identity and no user configuration.
func diffGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		// Fixed dates: the same fixture makes the same commits.
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commitTrees makes a repository whose main branch holds base and whose
// branch feature (checked out) holds head.
func commitTrees(t *testing.T, base, head map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	diffGit(t, dir, "init", "-q", "-b", "main")
	writeTree(t, dir, base)
	diffGit(t, dir, "add", "-A")
	diffGit(t, dir, "commit", "-q", "--allow-empty", "-m", "base")
	diffGit(t, dir, "checkout", "-q", "-b", "feature")
	for name := range base {
		if _, ok := head[name]; !ok {
			diffGit(t, dir, "rm", "-q", name)
		}
	}
	writeTree(t, dir, head)
	diffGit(t, dir, "add", "-A")
	diffGit(t, dir, "commit", "-q", "--allow-empty", "-m", "head")
	return dir
}

func loadDiffFixture(t *testing.T, path string, e env) diffRepo {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	base, head := map[string]string{}, map[string]string{}
	runs := map[string]*diffRun{}
	run := func(name string) *diffRun {
		if runs[name] == nil {
			runs[name] = &diffRun{name: name}
		}
		return runs[name]
	}
	for _, f := range ar.Files {
		data := string(f.Data)
		switch {
		case strings.HasSuffix(f.Name, ".args"):
			run(strings.TrimSuffix(f.Name, ".args")).args = strings.Fields(e.expand(data, ""))
		case strings.HasSuffix(f.Name, ".want"):
			run(strings.TrimSuffix(f.Name, ".want")).want = data
		case strings.HasPrefix(f.Name, "base/"):
			base[strings.TrimPrefix(f.Name, "base/")] = data
		case strings.HasPrefix(f.Name, "head/"):
			head[strings.TrimPrefix(f.Name, "head/")] = data
		default:
			base[f.Name], head[f.Name] = data, data
		}
	}
	r := diffRepo{dir: commitTrees(t, base, head)}
	for _, x := range runs {
		r.runs = append(r.runs, *x)
	}
	sort.Slice(r.runs, func(i, j int) bool { return r.runs[i].name < r.runs[j].name })
	return r
}

// diffTimeRE matches the end of diff's summary: its time and the render
// cache's figures, which differ from run to run.
var diffTimeRE = regexp.MustCompile(`in [0-9.]+s(; render cache: [0-9]+ hits, [0-9]+ misses)?\n`)

// TestDiffFixtures runs every testdata/diff-*.txtar: a real git repository
// with a base and a head commit, `tools diff` run in-process, exit code and
// stdout compared exactly (go test -update rewrites the .want sections).
func TestDiffFixtures(t *testing.T) {
	e := localEnv(t)
	cases, err := filepath.Glob(filepath.Join("testdata", "diff-*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range cases {
		// Absolute: the runs change the working directory.
		path, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			r := loadDiffFixture(t, path, e)
			cache := t.TempDir()
			got := map[string]string{}
			for _, run := range r.runs {
				args := append([]string{"diff", "--repo", r.dir, "--cache-dir", cache, "--offline", "--charts", e.chartsDir}, run.args...)
				code, stdout, stderr := runIn(t, r.dir, args...)
				out := fmt.Sprintf("exit %d\n%s", code, strings.ReplaceAll(stdout, r.dir, "$REPO"))
				if code == ExitError {
					// Errors are on stderr: keep them, without timings.
					out += "stderr:\n" + diffTimeRE.ReplaceAllString(strings.ReplaceAll(stderr, r.dir, "$REPO"), "in T\n")
				}
				got[run.name] = out
				if *update {
					continue
				}
				if diff := cmp.Diff(run.want, out); diff != "" {
					t.Errorf("%s: %v (-want +got):\n%s\nstderr:\n%s", run.name, run.args, diff, stderr)
				}
			}
			if *update {
				updateWants(t, path, got)
			}
		})
	}
}

// runIn runs the CLI in-process with dir as the working directory (the
// default base is found from the repository there).
func runIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	return run(args...)
}

// updateWants rewrites the .want sections of a fixture.
func updateWants(t *testing.T, path string, got map[string]string) {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range ar.Files {
		if name, ok := strings.CutSuffix(f.Name, ".want"); ok {
			ar.Files[i].Data = []byte(got[name])
			delete(got, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		ar.Files = append(ar.Files, txtar.File{Name: name + ".want", Data: []byte(got[name])})
	}
	if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDiffSecretsInEveryFormat changes a Secret's values and a ConfigMap
// that embeds one of them: no value appears in text, JSON, Markdown or the
// Markdown part files, only the keys.
func TestDiffSecretsInEveryFormat(t *testing.T) {
	values := []string{"old-password-1234", "new-password-5678", "b2xkLXRva2VuLXZhbHVl", "old-token-value", "bmV3LXRva2VuLXZhbHVl", "new-token-value", "removed-value-999", "added-value-000"}
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n"
	base := map[string]string{
		"clusters/test/secret.yaml": secret +
			"stringData:\n  password: old-password-1234\n  gone: removed-value-999\ndata:\n  token: b2xkLXRva2VuLXZhbHVl\n",
		"clusters/test/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dsn\n  namespace: shop\ndata:\n  url: postgres://app:old-password-1234@db/app\n",
	}
	head := map[string]string{
		"clusters/test/secret.yaml": secret +
			"stringData:\n  password: new-password-5678\n  fresh: added-value-000\ndata:\n  token: bmV3LXRva2VuLXZhbHVl\n",
		"clusters/test/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dsn\n  namespace: shop\ndata:\n  url: postgres://app:new-password-5678@db/app\n",
	}
	dir := commitTrees(t, base, head)
	cache := t.TempDir()
	for _, format := range []string{"text", "json", "markdown"} {
		md := t.TempDir()
		code, stdout, stderr := runIn(t, dir, "diff", "--repo", dir, "--cache-dir", cache, "--format", format, "--color", "always", "--markdown-dir", md)
		if code != ExitFindings {
			t.Fatalf("%s: exit %d, stderr:\n%s", format, code, stderr)
		}
		all := stdout + stderr
		files, _ := filepath.Glob(filepath.Join(md, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all += string(b)
		}
		for _, v := range values {
			if strings.Contains(all, v) {
				t.Errorf("%s: secret value %q shown:\n%s", format, v, all)
			}
		}
		for _, key := range []string{"data.password", "data.token", "data.gone", "data.fresh"} {
			if !strings.Contains(stdout, key) {
				t.Errorf("%s: key %s not reported:\n%s", format, key, stdout)
			}
		}
		if format == "json" {
			var doc struct {
				Version  int
				Verb     string
				Clusters []struct {
					Path    string
					Summary map[string]int
					Changes []struct{ Action, Origin string }
				}
			}
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc.Version != report.SchemaVersion || doc.Verb != "diff" ||
				len(doc.Clusters) != 1 || doc.Clusters[0].Path != "clusters/test" || doc.Clusters[0].Summary["changed"] != 2 ||
				len(doc.Clusters[0].Changes) != 2 || doc.Clusters[0].Changes[0].Origin == "" {
				t.Errorf("json: %v %+v", err, doc)
			}
		}
	}
}

// TestDiffMarkdownParts diffs a change set far over GitHub's comment limit,
// with one object alone over it: every part file fits a comment, is headed
// "part i/n" under the hidden marker, and the parts without their headers
// concatenate to exactly the Markdown report on stdout.
func TestDiffMarkdownParts(t *testing.T) {
	base, head := map[string]string{}, map[string]string{}
	for i := range 300 {
		name := fmt.Sprintf("clusters/test/cm-%03d.yaml", i)
		cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%03d\n  namespace: shop\ndata:\n  config.txt: |\n"
		var b, h strings.Builder
		fmt.Fprintf(&b, cm, i)
		fmt.Fprintf(&h, cm, i)
		for l := range 12 {
			fmt.Fprintf(&b, "    line %d of cm-%03d: the old value, with some more text to make it longer\n", l, i)
			fmt.Fprintf(&h, "    line %d of cm-%03d: the new value, with some more text to make it longer\n", l, i)
		}
		base[name], head[name] = b.String(), h.String()
	}
	var big, bigNew strings.Builder
	big.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\n  namespace: shop\ndata:\n  big.txt: |\n")
	bigNew.WriteString(big.String())
	for l := range 3000 {
		fmt.Fprintf(&big, "    old line %d %s\n", l, strings.Repeat("x", 20))
		fmt.Fprintf(&bigNew, "    new line %d %s\n", l, strings.Repeat("x", 20))
	}
	base["clusters/test/huge.yaml"], head["clusters/test/huge.yaml"] = big.String(), bigNew.String()
	dir := commitTrees(t, base, head)
	md := filepath.Join(t.TempDir(), "md")
	code, stdout, stderr := runIn(t, dir, "diff", "--repo", dir, "--cache-dir", t.TempDir(), "--format", "markdown", "--markdown-dir", md)
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	files, err := filepath.Glob(filepath.Join(md, "clusters_test.part-*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("%d parts, want the report split into at least 3", len(files))
	}
	var joined strings.Builder
	for i := 1; i <= len(files); i++ {
		b, err := os.ReadFile(filepath.Join(md, "clusters_test.part-"+strconv.Itoa(i)+".md"))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if n := len([]rune(s)); n > 65536 {
			t.Errorf("part %d: %d characters, over GitHub's 65,536", i, n)
		}
		header := fmt.Sprintf("<!-- tools-diff:clusters/test:part-%d -->\n**part %d/%d**\n\n", i, i, len(files))
		body, ok := strings.CutPrefix(s, header)
		if !ok {
			t.Fatalf("part %d does not start with %q:\n%.200s", i, header, s)
		}
		if strings.Count(body, "<details>") != strings.Count(body, "</details>") {
			t.Errorf("part %d splits a <details> block", i)
		}
		joined.WriteString(body)
	}
	if joined.String() != stdout {
		t.Errorf("the parts do not concatenate to the report (%d vs %d bytes)", joined.Len(), len(stdout))
	}
	if !strings.Contains(stdout, "ConfigMap/shop/huge</code> changed") || !strings.Contains(stdout, "(continued)") {
		t.Error("the object over the limit is not continued in a further block")
	}
}

// TestDiffUsageErrors: bad flags and revisions are one line on stderr and
// exit 2, before anything renders.
func TestDiffUsageErrors(t *testing.T) {
	dir := commitTrees(t, map[string]string{"clusters/test/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\n"}, nil)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "format", args: []string{"--format", "yaml"}, want: `--format "yaml": want one of text, json, markdown, html`},
		{name: "live html", args: []string{"--live", "--format", "html"}, want: `--format "html": want one of text, json, markdown`},
		{name: "color", args: []string{"--color", "rainbow"}, want: `--color "rainbow": want auto, always or never`},
		{name: "ignore rule", args: []string{"--ignore", "spec.replicas"}, want: `ignore rule "spec.replicas": want label:KEY, annotation:KEY or field:[KIND:]PATH`},
		{name: "ignore file", args: []string{"--ignore-file", "nope.txt"}, want: "--ignore-file: open nope.txt"},
		{name: "base", args: []string{"--base", "no-such-branch"}, want: `base: revision "no-such-branch": no such commit`},
		{name: "head", args: []string{"--head", "--output=x"}, want: `head: revision "--output=x": not a revision`},
		{name: "live with base", args: []string{"--live", "--base", "main"}, want: "--live compares the working tree with the cluster: --base and --head do not apply"},
		{name: "path outside", args: []string{"/etc"}, want: "/etc: not inside the repository"},
		{name: "no such entry", args: []string{"clusters/nope"}, want: "clusters/nope: no such entry at base (merge base "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runIn(t, dir, append([]string{"diff", "--repo", dir, "--cache-dir", t.TempDir()}, tt.args...)...)
			if code != ExitError || stdout != "" || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line containing %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestDiffColor: colour only when asked for (stdout here is no terminal),
// and never in JSON or Markdown.
func TestDiffColor(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\ndata: {k: %s}\n"
	dir := commitTrees(t, map[string]string{"clusters/test/cm.yaml": fmt.Sprintf(cm, "one")}, map[string]string{"clusters/test/cm.yaml": fmt.Sprintf(cm, "two")})
	cache := t.TempDir()
	for _, tt := range []struct {
		args  []string
		color bool
	}{
		{args: nil, color: false},
		{args: []string{"--color", "always"}, color: true},
		{args: []string{"--color", "never"}, color: false},
		{args: []string{"--color", "always", "--format", "json"}, color: false},
		{args: []string{"--color", "always", "--format", "markdown"}, color: false},
	} {
		code, stdout, stderr := runIn(t, dir, append([]string{"diff", "--repo", dir, "--cache-dir", cache}, tt.args...)...)
		if code != ExitFindings {
			t.Fatalf("%v: exit %d: %s", tt.args, code, stderr)
		}
		if got := strings.Contains(stdout, "\x1b["); got != tt.color {
			t.Errorf("%v: colour %v, want %v:\n%q", tt.args, got, tt.color, stdout)
		}
	}
}

// TestDiffNoChange: the same tree at both revisions is exit 0.
func TestDiffNoChange(t *testing.T) {
	files := map[string]string{"clusters/test/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\n"}
	dir := commitTrees(t, files, files)
	code, stdout, stderr := runIn(t, dir, "diff", "--repo", dir, "--cache-dir", t.TempDir())
	if code != ExitOK || stdout != "clusters/test: no changes\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// BenchmarkDiffRepository diffs this repository's clusters against HEAD~1,
// warm caches, through the CLI. The upstream charts are not in the
// repository: set TOOLS_UPSTREAM_CHARTS to a directory of them (skipped
// otherwise).
func BenchmarkDiffRepository(b *testing.B) {
	charts := os.Getenv("TOOLS_UPSTREAM_CHARTS")
	if charts == "" {
		b.Skip("TOOLS_UPSTREAM_CHARTS not set")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	b.Chdir(root)
	args := []string{"diff", "--repo", root, "--base", "HEAD~1", "--offline", "--charts", charts, "--cache-dir", b.TempDir()}
	if code := Run(b.Context(), "bench", args, io.Discard, io.Discard); code == ExitError {
		b.Fatal("diff failed")
	}
	for b.Loop() {
		if code := Run(b.Context(), "bench", args, io.Discard, io.Discard); code == ExitError {
			b.Fatal("diff failed")
		}
	}
}

// TestDiffClusterAdded: an entry only head has is all additions, the
// other entry is compared as usual.
func TestDiffClusterAdded(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\n"
	dir := commitTrees(t, map[string]string{"clusters/a/cm.yaml": cm}, map[string]string{"clusters/a/cm.yaml": cm, "clusters/b/cm.yaml": cm})
	code, stdout, stderr := runIn(t, dir, "diff", "--repo", dir, "--cache-dir", t.TempDir(), "--max-object-lines", "-1")
	want := "clusters/a: no changes\nclusters/b: 1 added, 0 removed, 0 changed\n+ ConfigMap/b/a added (Kustomization/flux-system/flux-system from clusters/b/cm.yaml)\n    (8 lines of YAML not shown)\n"
	if code != ExitFindings || stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", code, stdout, want, stderr)
	}
}

// TestDiffWarm: a diff whose head changes a base file that one
// Kustomization reads keeps that build's base and head renders side by
// side in the render cache instead of each replacing the other: run again,
// both sides are all hits with the same output, and so is a render of
// either revision afterwards.
func TestDiffWarm(t *testing.T) {
	base := exampleTree(t)
	head := maps.Clone(base)
	breakDeployment(head, "1.29.2")
	dir := commitTrees(t, base, base)
	writeTree(t, dir, head)
	cache := t.TempDir()
	flags := []string{"--repo", dir, "--cache-dir", cache, "--offline", "--charts", filepath.Join(dir, "testdata/example/charts")}
	entry := "testdata/example/clusters/demo"
	stats := func(stderr string) (hits, misses string) {
		t.Helper()
		m := cacheStatsRE.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no render cache figures in:\n%s", stderr)
		}
		return m[2], m[3]
	}

	diffArgs := append(append([]string{"diff", "--base", "HEAD"}, flags...), entry)
	code, first, stderr := runIn(t, dir, diffArgs...)
	if code != ExitFindings || !strings.Contains(first, "nginx-unprivileged:1.29.2") {
		t.Fatalf("first diff: exit %d\n%s\n%s", code, first, stderr)
	}
	if _, misses := stats(stderr); misses == "0" {
		t.Errorf("first diff: no misses with an empty cache:\n%s", stderr)
	}
	// The base's checkout is kept: the second diff uses it as it is (a
	// file left in it is still there), and renders the same.
	trees, err := filepath.Glob(filepath.Join(cache, "revisions", "slot-*", "tree"))
	if err != nil || len(trees) != 1 {
		t.Fatalf("kept checkouts after the first diff: %v, %v; want one", trees, err)
	}
	probe := filepath.Join(trees[0], "left-by-the-test")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, second, stderr := runIn(t, dir, diffArgs...)
	if code != ExitFindings || second != first {
		t.Errorf("second diff: exit %d, output differs from the first:\n%s", code, cmp.Diff(first, second))
	}
	if _, err := os.Stat(probe); err != nil {
		t.Errorf("the second diff wrote the base's checkout again: %v", err)
	}
	if _, misses := stats(stderr); misses != "0" {
		t.Errorf("second diff: %s misses, want 0:\n%s", misses, stderr)
	}

	renderArgs := append(append([]string{"render"}, flags...), entry)
	for _, rev := range []string{"head", "base"} {
		if rev == "base" {
			diffGit(t, dir, "checkout", "-q", ".")
		}
		code, _, stderr := runIn(t, dir, renderArgs...)
		if _, misses := stats(stderr); code != ExitOK || misses != "0" {
			t.Errorf("render of %s after the diffs: exit %d, %s misses, want 0:\n%s", rev, code, misses, stderr)
		}
	}
}
