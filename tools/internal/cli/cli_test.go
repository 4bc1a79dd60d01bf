package cli

import (
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/report"
)

func TestVersion(t *testing.T) {
	code, stdout, _ := run("--version")
	if code != 0 || stdout != "tools test\n" {
		t.Errorf("--version: exit %d, %q", code, stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown flag", args: []string{"render", "--nope"}, want: "unknown flag: --nope"},
		{name: "bad self-source", args: []string{"render", "--self-source", "just-a-name"}, want: "--self-source: invalid reference"},
		{name: "bad source mapping", args: []string{"render", "--source", "GitRepository/x/y"}, want: "want KIND/NAMESPACE/NAME=DIR"},
		{name: "missing entry", args: []string{"render", "--repo", ".", "does/not/exist"}, want: "render does/not/exist:"},
		{name: "charts not a dir", args: []string{"render", "--charts", "cli.go"}, want: "--charts cli.go: not a directory"},
		{name: "zero timeout", args: []string{"render", "--timeout", "0s"}, want: "--timeout 0s: want a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(tt.args...)
			if code != ExitError || stdout != "" || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line containing %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// treeHash fingerprints every file under dir (paths and contents).
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s %x", p, sha256.Sum256(data)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestRenderDeterministicAndReadOnly renders the same fixtures twice: the
// output is byte-identical and the repository is left exactly as it was
// (the generated kustomization.yaml files live in memory).
func TestRenderDeterministicAndReadOnly(t *testing.T) {
	e := localEnv(t)
	for _, name := range []string{"kustomizations", "substitution", "local-charts"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, filepath.Join("testdata", "render", name+".txtar"), e)
			before := treeHash(t, f.repo)
			args := append([]string{"render", "--repo", f.repo, "--cache-dir", t.TempDir()}, f.args...)
			_, first, _ := run(args...)
			_, second, _ := run(args...)
			if first == "" || first != second {
				t.Errorf("two renders differ or are empty:\n%s", cmp.Diff(first, second))
			}
			if after := treeHash(t, f.repo); after != before {
				t.Errorf("the render changed the repository:\n%s", cmp.Diff(before, after))
			}
		})
	}
}

// TestExampleCluster renders the example cluster the README points new
// users at, offline with its local charts, and compares it with its golden.
func TestExampleCluster(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run("render", "--repo", root, "--offline", "--cache-dir", t.TempDir(),
		"--charts", filepath.Join(root, "testdata", "example", "charts"),
		filepath.Join(root, "testdata", "example", "clusters", "demo"))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	checkGolden(t, filepath.Join(root, "testdata", "example", "render.golden.yaml"), stdout)
}

// TestValidateValuesLint runs `tools validate` on a fixture with mistyped
// values keys, a removed API version and a custom resource its CRD rejects:
// exit 1, one line per finding naming the object and where it comes from;
// free-form maps and allowed keys pass.
func TestValidateValuesLint(t *testing.T) {
	e := localEnv(t)
	f := loadFixture(t, filepath.Join("testdata", "validate-values.txtar"), e)
	code, stdout, stderr := run(append([]string{"validate", "--repo", f.repo, "--cache-dir", t.TempDir()}, f.args...)...)
	want := `clusters/test: DemoAllowedRepos/typo (Kustomization/flux-system/flux-system from clusters/test/policy.yaml)
  error schema: unknown field "spec.parameters.repositorys"
clusters/test: ConfigMap/apps/dashboards (Kustomization/flux-system/flux-system from clusters/test/dashboards.yaml)
  error dashboard: dashboard broken.json is not valid JSON: unexpected end of JSON input
clusters/test: Gizmo/apps/g (Kustomization/flux-system/flux-system from clusters/test/gizmo.yaml)
  error schema: no CustomResourceDefinition in the render defines example.com/v1 Gizmo (if the cluster provides it, pass --skip-kind example.com/Gizmo)
clusters/test: HelmRelease/apps/typos (clusters/test/releases.yaml)
  error values-lint: values key image.tagg is not defined by chart demo-app-1.0.0
  error values-lint: values key replicaCount is not defined by chart demo-app-1.0.0
clusters/test: PodDisruptionBudget/apps/web (Kustomization/flux-system/flux-system from clusters/test/pdb.yaml)
  error api-lifecycle: policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25: use policy/v1 PodDisruptionBudget
clusters/test: PrometheusRule/apps/rules (Kustomization/flux-system/flux-system from clusters/test/rules.yaml)
  error prometheus-rule: 5:11: group "apps", rule 1, "Broken": could not parse expression: 1:33: parse error: unclosed left parenthesis
clusters/test: Widget/apps/tiny (Kustomization/flux-system/flux-system from clusters/test/widget.yaml)
  error schema: spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1
  error schema: unknown field "spec.shade"
9 findings (9 errors, 0 warnings)
`
	if code != ExitFindings || stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant exit 1 and:\n%s\nstderr: %s", code, stdout, want, stderr)
	}
	// A kind the cluster provides is skipped on request.
	_, stdout, _ = run(append([]string{"validate", "--repo", f.repo, "--cache-dir", t.TempDir(), "--skip-kind", "example.com/Gizmo"}, f.args...)...)
	if strings.Contains(stdout, "Gizmo") || !strings.Contains(stdout, "8 findings") {
		t.Errorf("--skip-kind: stdout:\n%s", stdout)
	}
	// The tool ships the built-in schemas of Kubernetes 1.36 only: another
	// minor is a usage error that says what to do.
	code, _, stderr = run(append([]string{"validate", "--repo", f.repo, "--cache-dir", t.TempDir(), "--kube-version", "1.22"}, f.args...)...)
	if wantErr := "no built-in schemas for Kubernetes 1.22: this tool ships 1.36; generate a bundle from a cluster of that version with `tools schemas -o FILE` and pass --schemas FILE"; code != ExitError || !strings.Contains(stderr, wantErr) {
		t.Errorf("1.22: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestValidateFormats renders the same findings as JSON and as GitHub
// Actions annotations on the files; an unknown format is a usage error.
func TestValidateFormats(t *testing.T) {
	e := localEnv(t)
	f := loadFixture(t, filepath.Join("testdata", "validate-values.txtar"), e)
	args := func(format string) []string {
		return append([]string{"validate", "--repo", f.repo, "--cache-dir", t.TempDir(), "--format", format}, f.args...)
	}
	code, stdout, stderr := run(args("json")...)
	if code != ExitFindings {
		t.Fatalf("json: exit %d:\n%s%s", code, stdout, stderr)
	}
	if fs := jsonFindings(t, "validate", stdout); len(fs) != 9 || fs[1].File != "clusters/test/dashboards.yaml" || fs[1].Check != "dashboard" {
		t.Errorf("json findings: %+v", fs)
	}
	code, stdout, _ = run(args("github")...)
	want := "::error file=clusters/test/releases.yaml,title=values-lint HelmRelease/apps/typos::values key image.tagg is not defined by chart demo-app-1.0.0\n"
	if code != ExitFindings || !strings.Contains(stdout, want) {
		t.Errorf("github: exit %d, want a line %q in:\n%s", code, want, stdout)
	}
	code, stdout, _ = run(args("junit")...)
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(stdout), &suites); err != nil || code != ExitFindings {
		t.Fatalf("junit: exit %d, %v:\n%s", code, err, stdout)
	}
	// One case per object: seven objects, each failed by its errors.
	if suites.Tests != 7 || suites.Failures != 7 || suites.Suites[0].Cases[3].Name != "HelmRelease/apps/typos" ||
		strings.Count(suites.Suites[0].Cases[3].Failure.Text, "values-lint") != 2 {
		t.Errorf("junit: %s", stdout)
	}
	code, stdout, _ = run(args("sarif")...)
	var log struct {
		Version string
		Runs    []struct {
			Results []struct {
				RuleID    string
				Level     string
				Locations []struct {
					PhysicalLocation struct{ ArtifactLocation struct{ URI string } }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &log); err != nil || code != ExitFindings || log.Version != "2.1.0" {
		t.Fatalf("sarif: exit %d, %v:\n%s", code, err, stdout)
	}
	if r := log.Runs[0].Results; len(r) != 9 || r[3].RuleID != "values-lint" || r[3].Locations[0].PhysicalLocation.ArtifactLocation.URI != "clusters/test/releases.yaml" {
		t.Errorf("sarif results: %+v", r)
	}
	if code, _, stderr := run(args("yaml")...); code != ExitError || !strings.Contains(stderr, `--format "yaml"`) {
		t.Errorf("unknown format: exit %d: %s", code, stderr)
	}
}

// jsonFindings reads the findings of every cluster from a verb's JSON
// envelope, holding the envelope to its version and verb.
func jsonFindings(t *testing.T, verb, stdout string) []finding.Finding {
	t.Helper()
	var doc struct {
		Version  int
		Verb     string
		Clusters []struct{ Findings []finding.Finding }
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%s --format json: %v\n%s", verb, err, stdout)
	}
	if doc.Version != report.SchemaVersion || doc.Verb != verb {
		t.Errorf("%s --format json: version %d, verb %q", verb, doc.Version, doc.Verb)
	}
	var out []finding.Finding
	for _, c := range doc.Clusters {
		out = append(out, c.Findings...)
	}
	return out
}
