package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/policy"
	"github.com/aks-gitops/platform/tools/internal/report"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// TestPolicyViolations runs `tools policy` on a cluster whose render holds
// CEL, Rego and referential templates, a Gatekeeper webhook Deployment
// with exempt namespaces, a Config and a chart with a hook (see the
// fixture's comment): exit 1 and exactly the violations the webhook would
// raise, each naming its object and file.
func TestPolicyViolations(t *testing.T) {
	e := localEnv(t)
	f := loadFixture(t, filepath.Join("testdata", "policy-violations.txtar"), e)
	args := append([]string{"policy", "--repo", f.repo, "--cache-dir", t.TempDir()}, f.args...)
	code, stdout, stderr := run(args...)
	want := `clusters/test: ConfigMap/apps/settings (Kustomization/flux-system/flux-system from clusters/test/workloads.yaml)
  warning policy TestNoConfigMaps/no-configmaps [dryrun]: ConfigMaps are being phased out
clusters/test: Deployment/apps/web (Kustomization/flux-system/flux-system from clusters/test/workloads.yaml)
  warning policy TestNoLatest/no-latest [warn]: container web uses the latest tag
  error policy TestRequiredLabel/team [deny]: Deployment web has no label team
clusters/test: Ingress/apps/shop (Kustomization/flux-system/flux-system from clusters/test/ingresses.yaml)
  error policy TestUniqueHost/unique-host [deny]: host shop.example.com is also used by Ingress open/shop-copy
clusters/test: Job/apps/db-migrate (HelmRelease/apps/db chart hooked-0.1.0 template hooked/templates/job.yaml (hook: pre-install) defined in clusters/test/release.yaml)
  error policy TestRequiredLabel/team [deny]: Job db-migrate has no label team
clusters/test: Ingress/open/shop-copy (Kustomization/flux-system/flux-system from clusters/test/ingresses.yaml)
  error policy TestUniqueHost/unique-host [deny]: host shop.example.com is also used by Ingress apps/shop
clusters/test: Deployment/secure/vault (Kustomization/flux-system/flux-system from clusters/test/workloads.yaml)
  error policy TestRequiredLabel/owner-in-restricted [deny]: Deployment vault has no label owner
7 findings (5 errors, 2 warnings)
`
	if code != ExitFindings {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s\nstderr:\n%s", diff, stderr)
	}
	// Each row of the behaviour, named, so a regression says which broke.
	for _, tc := range []struct {
		name, object string
	}{
		{"excludedNamespaces", "Deployment/legacy/old"},
		{"namespaceSelector not matching", "Deployment/open/board"},
		{"--exempt-namespace", "Deployment/tools-exempt/tool"},
		{"--exempt-namespace-prefix", "Deployment/sandbox-1/play"},
		{"Config excludes from webhook", "Deployment/scratch-a/tmp"},
		{"ignore label on the namespace", "Deployment/gatekeeper-system/gatekeeper-controller-manager"},
		{"labelSelector not matching", "ConfigMap/apps/fresh"},
		{"compliant", "Deployment/apps/api"},
		{"unique host", "Ingress/open/blog"},
	} {
		if strings.Contains(stdout, tc.object) {
			t.Errorf("%s: %s flagged", tc.name, tc.object)
		}
	}
	if s := "4 templates, 5 constraints; 26 objects evaluated, 6 skipped"; !strings.Contains(stderr, s) {
		t.Errorf("stderr lacks %q:\n%s", s, stderr)
	}

	// JSON carries the action, the file and the rule for each finding.
	_, stdout, _ = run(append([]string{"policy", "--repo", f.repo, "--cache-dir", t.TempDir(), "--format", "json"}, f.args...)...)
	got := struct{ Findings []finding.Finding }{jsonFindings(t, "policy", stdout)}
	hook := finding.Finding{
		Cluster: "clusters/test", Object: object.ID{Kind: "Job", Namespace: "apps", Name: "db-migrate"}, File: "clusters/test/release.yaml",
		Where: "HelmRelease/apps/db chart hooked-0.1.0 template hooked/templates/job.yaml (hook: pre-install) defined in clusters/test/release.yaml",
		Check: "policy", Rule: "TestRequiredLabel/team", Action: "deny", Layer: "flux-system/flux-system", Message: "Job db-migrate has no label team",
	}
	if len(got.Findings) != 7 {
		t.Fatalf("--format json: %d findings, want 7", len(got.Findings))
	}
	i := slices.IndexFunc(got.Findings, func(f finding.Finding) bool { return f.Object == hook.Object })
	if i < 0 {
		t.Fatalf("no finding on %s", hook.Object)
	}
	if diff := cmp.Diff(hook, got.Findings[i]); diff != "" {
		t.Errorf("hook finding (-want +got):\n%s", diff)
	}

	// --fail-on dryrun: every violation fails.
	_, stdout, _ = run(append([]string{"policy", "--repo", f.repo, "--cache-dir", t.TempDir(), "--fail-on", "dryrun"}, f.args...)...)
	if !strings.HasSuffix(stdout, "7 findings (7 errors, 0 warnings)\n") {
		t.Errorf("--fail-on dryrun: %s", stdout)
	}
}

// TestPolicyGatorParity renders the violations fixture, runs the gator
// binary's `gator test` on the render and compares its violations with
// tools policy's (object, constraint, action, message). gator reviews every
// object with the gator enforcement point; the webhook, and tools policy,
// never see the namespaces Gatekeeper exempts, and a namespace missing from
// the render is an unmatchable namespaceSelector for gator (an
// auto-rejection) where tools policy takes it as existing: objects in those
// namespaces are left out of the comparison.
func TestPolicyGatorParity(t *testing.T) {
	gator := gatorBinary(t)
	e := localEnv(t)
	f := loadFixture(t, filepath.Join("testdata", "policy-violations.txtar"), e)
	cache := t.TempDir()
	out := filepath.Join(t.TempDir(), "render.yaml")
	if code, _, stderr := run(append([]string{"render", "--repo", f.repo, "--cache-dir", cache, "-o", out}, f.args...)...); code != ExitOK {
		t.Fatalf("render: exit %d: %s", code, stderr)
	}
	data, err := exec.CommandContext(t.Context(), gator, "test", "-f", out, "-o", "json").Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("gator test: %v", err)
	}
	var results []struct {
		Msg               string `json:"msg"`
		EnforcementAction string `json:"enforcementAction"`
		Constraint        struct {
			Kind     string `json:"kind"`
			Metadata struct{ Name string }
		} `json:"constraint"`
		ViolatingObject struct {
			Kind     string `json:"kind"`
			Metadata struct{ Name, Namespace string }
		} `json:"violatingObject"`
	}
	if err := json.Unmarshal(data, &results); err != nil {
		t.Fatalf("gator test -o json: %v\n%s", err, data)
	}
	notCompared := map[string]bool{"legacy": true, "tools-exempt": true, "sandbox-1": true, "scratch-a": true, "gatekeeper-system": true}
	var theirs []string
	for _, r := range results {
		o := r.ViolatingObject
		if notCompared[o.Metadata.Namespace] {
			continue
		}
		ref := o.Kind + "/" + o.Metadata.Name
		if o.Metadata.Namespace != "" {
			ref = o.Kind + "/" + o.Metadata.Namespace + "/" + o.Metadata.Name
		}
		theirs = append(theirs, ref+" "+r.Constraint.Kind+"/"+r.Constraint.Metadata.Name+" "+r.EnforcementAction+" "+r.Msg)
	}
	_, stdout, _ := run(append([]string{"policy", "--repo", f.repo, "--cache-dir", cache, "--format", "json"}, f.args...)...)
	got := struct{ Findings []finding.Finding }{jsonFindings(t, "policy", stdout)}
	var mine []string
	for _, f := range got.Findings {
		mine = append(mine, f.Object.String()+" "+f.Rule+" "+f.Action+" "+f.Message)
	}
	sort.Strings(theirs)
	sort.Strings(mine)
	if diff := cmp.Diff(theirs, mine); diff != "" {
		t.Errorf("violations (-gator +tools):\n%s", diff)
	}
	if len(mine) != 7 {
		t.Errorf("%d violations compared, want 7", len(mine))
	}
}

// TestPolicyWarnOnly checks that a warn violation is reported and exits 0,
// and that --fail-on warn makes it fail.
func TestPolicyWarnOnly(t *testing.T) {
	e := localEnv(t)
	f := loadFixture(t, filepath.Join("testdata", "policy-warn.txtar"), e)
	code, stdout, stderr := run(append([]string{"policy", "--repo", f.repo, "--cache-dir", t.TempDir()}, f.args...)...)
	want := `clusters/test: Deployment/apps/single (Kustomization/flux-system/flux-system from clusters/test/app.yaml)
  warning policy TestReplicas/two-replicas [warn]: 1 replicas, want at least 2
1 findings (0 errors, 1 warnings)
`
	if code != ExitOK || stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant exit 0 and:\n%s\nstderr: %s", code, stdout, want, stderr)
	}
	code, _, _ = run(append([]string{"policy", "--repo", f.repo, "--cache-dir", t.TempDir(), "--fail-on", "warn"}, f.args...)...)
	if code != ExitFindings {
		t.Errorf("--fail-on warn: exit %d, want 1", code)
	}
	code, _, stderr = run(append([]string{"policy", "--repo", f.repo, "--fail-on", "loud"}, f.args...)...)
	if code != ExitError || !strings.Contains(stderr, `--fail-on "loud"`) {
		t.Errorf("--fail-on loud: exit %d, stderr %s", code, stderr)
	}
}

// TestPolicyBrokenTemplate checks that a template that does not compile is
// exit 2 with its name and file.
func TestPolicyBrokenTemplate(t *testing.T) {
	e := localEnv(t)
	f := loadFixture(t, filepath.Join("testdata", "policy-broken.txtar"), e)
	// tools check fails the same way: no partial report.
	for _, verb := range []string{"policy", "check"} {
		code, stdout, stderr := run(append([]string{verb, "--repo", f.repo, "--cache-dir", t.TempDir()}, f.args...)...)
		if code != ExitError || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q; want 2 and nothing", verb, code, stdout)
		}
		for _, s := range []string{"ConstraintTemplate testbroken", "clusters/test/broken-template.yaml", "undefined function no_such_function"} {
			if !strings.Contains(stderr, s) {
				t.Errorf("%s: stderr lacks %q:\n%s", verb, s, stderr)
			}
		}
		if strings.Count(stderr, "\nerror:") != 1 || strings.Contains(stderr, "panic") {
			t.Errorf("%s: want one error line:\n%s", verb, stderr)
		}
	}
}

// TestPolicyVerify runs `tools policy verify` on fixture suites with a
// deliberate failure and on the repository's policies/, and compares the
// verdict on every test and case with the gator binary's.
func TestPolicyVerify(t *testing.T) {
	f := loadFixture(t, filepath.Join("testdata", "policy-suites.txtar"), env{})
	suites := filepath.Join(f.repo, "suites")
	code, stdout, stderr := run("policy", "verify", suites)
	want := `ok   $DIR/labels/suite.yaml
  ok   team-label
    ok   with-label
    ok   without-label
FAIL $DIR/tags/suite.yaml
  FAIL no-latest
    ok   pinned
    ok   latest-flagged
    FAIL deliberately-wrong
           unexpected number of violations: got 1 violations but want none: got messages [app uses latest]
  FAIL broken-template
         adding template: unable to compile modules: 1 error occurred: template:4: rego_type_error: undefined function undefined_function
FAIL: 2 suites, 3 tests (2 failed), 5 cases (1 failed)
`
	if code != ExitFindings {
		t.Errorf("exit %d, want 1; stderr: %s", code, stderr)
	}
	if diff := cmp.Diff(want, strings.ReplaceAll(stdout, suites, "$DIR")); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}

	// JSON has the same verdicts.
	_, stdout, _ = run("policy", "verify", "--format", "json", suites)
	var got struct {
		Version int
		Verb    string
		Suites  []policy.SuiteResult
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Version != report.SchemaVersion || got.Verb != "policy verify" {
		t.Fatalf("--format json: %v, version %d, verb %q", err, got.Version, got.Verb)
	}
	if v := verdicts(got.Suites); v[suites+"/tags/suite.yaml/no-latest/deliberately-wrong"] != "FAIL" || v[suites+"/labels/suite.yaml/team-label/with-label"] != "PASS" {
		t.Errorf("--format json verdicts: %v", v)
	}

	// A file that is not a suite, or a directory without one: exit 2.
	bad := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: test.gatekeeper.sh/v1alpha1\nkind: Suite\ntests: {not: a list}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run("policy", "verify", filepath.Dir(bad)); code != ExitError || !strings.Contains(stderr, "suite.yaml") {
		t.Errorf("unreadable suite: exit %d, stderr %s", code, stderr)
	}
	if code, _, stderr := run("policy", "verify", t.TempDir()); code != ExitError || !strings.Contains(stderr, "no Suite") {
		t.Errorf("no suite: exit %d, stderr %s", code, stderr)
	}

	// Parity with the gator binary, on the fixture and on policies/.
	gator := gatorBinary(t)
	repoPolicies, err := filepath.Abs(filepath.Join("..", "..", "..", "policies"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{suites, repoPolicies} {
		results, err := policy.Verify(t.Context(), []string{dir}, policy.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mine := verdicts(results)
		theirs := gatorVerdicts(t, gator, dir)
		if diff := cmp.Diff(theirs, mine); diff != "" {
			t.Errorf("%s: verdicts (-gator +tools):\n%s", dir, diff)
		}
		if dir == repoPolicies && len(mine) < 50 {
			t.Errorf("policies/: only %d verdicts", len(mine))
		}
	}
}

// verdicts maps suite/test and suite/test/case to PASS or FAIL.
func verdicts(suites []policy.SuiteResult) map[string]string {
	out := map[string]string{}
	v := func(failed bool) string {
		if failed {
			return "FAIL"
		}
		return "PASS"
	}
	for _, s := range suites {
		for _, tr := range s.Tests {
			out[s.Path+"/"+tr.Name] = v(tr.Failed())
			for _, c := range tr.Cases {
				out[s.Path+"/"+tr.Name+"/"+c.Name] = v(c.Error != "")
			}
		}
	}
	return out
}

var (
	gatorTestLine  = regexp.MustCompile(`^(?:=== RUN   |--- (?:PASS|FAIL): )(\S+)`)
	gatorEndTest   = regexp.MustCompile(`^--- (PASS|FAIL): (\S+)`)
	gatorCaseLine  = regexp.MustCompile(`^    --- (PASS|FAIL): (\S+)`)
	gatorSuiteLine = regexp.MustCompile(`^(ok|FAIL)\t(\S+)\t`)
)

// gatorVerdicts runs `gator verify -v DIR/...` and reads its per-test and
// per-case lines.
func gatorVerdicts(t *testing.T, gator, dir string) map[string]string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), gator, "verify", "-v", dir+"/...").Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("gator verify %s: %v", dir, err)
	}
	verdicts := map[string]string{}
	pending := map[string]string{}
	test := ""
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if m := gatorCaseLine.FindStringSubmatch(line); m != nil {
			pending[test+"/"+m[2]] = m[1]
			continue
		}
		if m := gatorEndTest.FindStringSubmatch(line); m != nil {
			pending[m[2]] = m[1]
			continue
		}
		if m := gatorTestLine.FindStringSubmatch(line); m != nil {
			test = m[1]
			continue
		}
		if m := gatorSuiteLine.FindStringSubmatch(line); m != nil {
			for k, v := range pending {
				verdicts[m[2]+"/"+k] = v
			}
			pending = map[string]string{}
		}
	}
	if len(verdicts) == 0 {
		t.Fatalf("gator verify %s: no verdicts in:\n%s", dir, out)
	}
	return verdicts
}

// gatorBinary finds the gator binary scripts/install-tools.sh builds. The
// comparison is skipped only when it is absent and
// AKS_GITOPS_SKIP_GATOR=1 says so; CI has it.
func gatorBinary(t *testing.T) string {
	t.Helper()
	p, err := testenv.Tool("gator")
	if err == nil {
		return p
	}
	if os.Getenv("AKS_GITOPS_SKIP_GATOR") == "1" {
		t.Skip("gator binary absent and AKS_GITOPS_SKIP_GATOR=1: no parity check")
	}
	t.Fatalf("%v (or set AKS_GITOPS_SKIP_GATOR=1)", err)
	return ""
}
