package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCheck runs validate, policy and the repository rules over one
// render: findings of every kind, each in its layer, in every format.
func TestCheck(t *testing.T) {
	f := loadFixture(t, filepath.Join("testdata", "check.txtar"), localEnv(t))
	args := func(extra ...string) []string {
		base := []string{"check", "--repo", f.repo, "--cache-dir", t.TempDir(), "--skip-kind", "templates.gatekeeper.sh/ConstraintTemplate", "--rules", filepath.Join("..", "..", "..", "policies", "repo")}
		return append(append(base, extra...), f.args...)
	}
	code, stdout, stderr := run(args()...)
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1:\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"clusters/test: failed: 9 objects, 3 errors, 1 warnings\n",
		"  layer                    objects  errors  warnings\n",
		"  flux-system/apps               4       3         1\n",
		"  flux-system/policies           3       0         0\n\n",
		"clusters/test: ConfigMap/apps/settings (Kustomization/flux-system/apps from apps/apps.yaml)\n  error schema: unknown field \"spec\"\n",
		"clusters/test: Deployment/apps/single (Kustomization/flux-system/apps from apps/apps.yaml)\n",
		"  error policy TestReplicas/at-least-two [deny]: 1 replicas, want at least 2\n",
		"  warning policy TestReplicas/at-least-three [warn]: 1 replicas, want at least 3\n",
		"  error repo-rule image_pinned [deny]: containers \"single\": image \"registry.example.com/single:latest\" has the latest tag",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text: want %q in:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "Deployment/apps/trio") {
		t.Errorf("the passing Deployment is reported:\n%s", stdout)
	}

	// JSON: per cluster counts, layers and findings, each with its layer.
	code, stdout, _ = run(args("--format", "json")...)
	var doc struct {
		Version  int
		Verb     string
		Clusters []struct {
			Path            string
			Objects, Errors int
			Warnings        int
			Layers          []struct{ Name string }
			Findings        []struct{ Object, Check, Layer, Action string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != ExitFindings || doc.Version != 1 || doc.Verb != "check" {
		t.Fatalf("json: exit %d, %v, version %d, verb %q:\n%s", code, err, doc.Version, doc.Verb, stdout)
	}
	c := doc.Clusters[0]
	var got []string
	for _, f := range c.Findings {
		got = append(got, f.Layer+" "+f.Check+" "+f.Action+" "+f.Object)
	}
	want := []string{
		"flux-system/apps schema  ConfigMap/apps/settings",
		"flux-system/apps policy warn Deployment/apps/single",
		"flux-system/apps policy deny Deployment/apps/single",
		"flux-system/apps repo-rule deny Deployment/apps/single",
	}
	if diff := cmp.Diff(want, got); diff != "" || c.Errors != 3 || c.Warnings != 1 || len(c.Layers) != 3 {
		t.Errorf("json (-want +got):\n%s\n%s", diff, stdout)
	}

	// Markdown: verdict, layer table, findings table (errors first); the
	// comment file --markdown-dir writes is the same report under its marker.
	dir := t.TempDir()
	_, stdout, _ = run(args("--format", "markdown", "--markdown-dir", dir)...)
	if part, err := os.ReadFile(filepath.Join(dir, "check.part-1.md")); err != nil || string(part) != "<!-- tools-check:part-1 -->\n"+stdout {
		t.Errorf("--markdown-dir: %v\n%s", err, part)
	}
	for _, want := range []string{
		"#### :x: `clusters/test` — failed: 9 objects, 3 errors, 1 warnings\n",
		"| `flux-system/apps` | 4 | 3 | 1 |\n",
		"<details open><summary>4 findings</summary>",
		"| :x: | `ConfigMap/apps/settings` | schema | unknown field \"spec\" | `apps/apps.yaml` |\n",
		"| :warning: | `Deployment/apps/single` | policy TestReplicas/at-least-three [warn] | 1 replicas, want at least 3 | `apps/apps.yaml` |\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("markdown: want %q in:\n%s", want, stdout)
		}
	}
	if strings.Index(stdout, ":warning: | `Deployment") < strings.LastIndex(stdout, "| :x: |") {
		t.Errorf("markdown: warnings before errors:\n%s", stdout)
	}

	// JUnit: one case per object with findings.
	_, stdout, _ = run(args("--format", "junit")...)
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(stdout), &suites); err != nil || suites.Tests != 2 || suites.Failures != 2 {
		t.Errorf("junit: %v %+v:\n%s", err, suites, stdout)
	}

	// --fail-on warn turns the warn violation into an error; --rules none
	// drops the repository rules.
	code, stdout, _ = run(args("--format", "json", "--fail-on", "warn", "--rules", "none")...)
	doc.Clusters = nil
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != ExitFindings || doc.Clusters[0].Errors != 3 || doc.Clusters[0].Warnings != 0 {
		t.Errorf("--fail-on warn --rules none: exit %d %v:\n%s", code, err, stdout)
	}

	// Usage errors and a broken rules directory are exit 2.
	for _, bad := range [][]string{{"--format", "yaml"}, {"--fail-on", "never"}, {"--rules", "no/such/dir"}} {
		if code, _, stderr := run(args(bad...)...); code != ExitError {
			t.Errorf("%v: exit %d: %s", bad, code, stderr)
		}
	}
	_ = stderr
}

// TestPolicyRepoRules: tools policy runs the repository rules after the
// Gatekeeper constraints, and --rules none leaves them out.
func TestPolicyRepoRules(t *testing.T) {
	f := loadFixture(t, filepath.Join("testdata", "check.txtar"), localEnv(t))
	args := func(rules string) []string {
		return append([]string{"policy", "--repo", f.repo, "--cache-dir", t.TempDir(), "--rules", rules}, f.args...)
	}
	code, stdout, stderr := run(args(filepath.Join("..", "..", "..", "policies", "repo"))...)
	want := "  error repo-rule image_pinned [deny]: containers \"single\": image \"registry.example.com/single:latest\" has the latest tag"
	if code != ExitFindings || !strings.Contains(stdout, want) || !strings.Contains(stdout, "error policy TestReplicas/at-least-two [deny]") ||
		!strings.Contains(stderr, "repository rules clusters/test: 8 rules, 1 findings") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	_, stdout, _ = run(args("none")...)
	if strings.Contains(stdout, "repo-rule") {
		t.Errorf("--rules none:\n%s", stdout)
	}
}
