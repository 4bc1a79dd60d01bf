package cli

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkJSON runs check --format json in dir and returns its one cluster.
func checkJSON(t *testing.T, dir, cache string, args ...string) (scope map[string]any, findings []map[string]any) {
	t.Helper()
	code, stdout, stderr := runIn(t, dir, append([]string{
		"check", "--format", "json", "--rules", "none", "--repo", dir,
		"--cache-dir", cache, "--offline", "--charts", filepath.Join(dir, "testdata/example/charts"),
		"testdata/example/clusters/demo",
	}, args...)...)
	if code == ExitError {
		t.Fatalf("check %v: exit 2:\n%s", args, stderr)
	}
	var out struct {
		Clusters []struct {
			Scope    map[string]any   `json:"scope"`
			Findings []map[string]any `json:"findings"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || len(out.Clusters) != 1 {
		t.Fatalf("check %v: %v\n%s", args, err, stdout)
	}
	return out.Clusters[0].Scope, out.Clusters[0].Findings
}

// TestCheckChangedSince: with one base file changed since a commit, check
// --changed-since reviews only the Flux objects whose inputs it touches
// and finds exactly what a whole check finds on their objects; a finding
// committed earlier elsewhere is not reported again. No change is an empty
// scope; a file no render reads changes nothing.
func TestCheckChangedSince(t *testing.T) {
	base := exampleTree(t)
	// Committed before: a finding in infra-controllers' Namespace.
	base["testdata/example/infrastructure/controllers/namespace.yaml"] += "spec:\n  finalizerz: [x]\n"
	head := maps.Clone(base)
	// The change: the apps layer's base Deployment.
	breakDeployment(head, "1.29.1")
	dir := commitTrees(t, base, base)
	writeTree(t, dir, head)

	// One render cache for every run: the first renders cold, the rest
	// read what kustomize read from the cache.
	cache := t.TempDir()
	_, whole := checkJSON(t, dir, cache)
	scope, changed := checkJSON(t, dir, cache, "--changed-since", "HEAD")
	if want := map[string]any{"units": 1.0, "of": 4.0}; !cmp.Equal(scope, want) {
		t.Errorf("scope %v, want %v (the apps Kustomization of the entry, infra-controllers and the HelmRelease)", scope, want)
	}
	var wantFindings []map[string]any
	for _, f := range whole {
		if f["layer"] == "flux-system/apps" {
			wantFindings = append(wantFindings, f)
		}
	}
	if len(wantFindings) != 1 || len(whole) != 2 {
		t.Fatalf("the whole check found %d findings (%d in apps), want 2 (1): %v", len(whole), len(wantFindings), whole)
	}
	if diff := cmp.Diff(wantFindings, changed); diff != "" {
		t.Errorf("changed-only findings differ from the whole check's on the changed objects (-whole +changed):\n%s", diff)
	}

	// Once the change is committed, nothing changed since HEAD: an empty
	// scope and no findings.
	diffGit(t, dir, "add", "-A")
	diffGit(t, dir, "commit", "-q", "-m", "change")
	scope, changed = checkJSON(t, dir, cache, "--changed-since", "HEAD")
	if scope["units"] != 0.0 || len(changed) != 0 {
		t.Errorf("no change: scope %v, findings %v", scope, changed)
	}
	// A file no render reads: nothing to check either.
	if err := os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("# notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if scope, _ := checkJSON(t, dir, cache, "--changed-since", "HEAD"); scope["units"] != 0.0 {
		t.Errorf("a file no render reads: scope %v", scope)
	}
	// The cluster's variables, defined in the entry: the entry and
	// everything it applies, down the tree.
	vars := "testdata/example/clusters/demo/cluster-vars.yaml"
	if err := os.WriteFile(filepath.Join(dir, vars), []byte(strings.Replace(head[vars], `REPLICAS: "2"`, `REPLICAS: "3"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if scope, _ := checkJSON(t, dir, cache, "--changed-since", "HEAD"); scope["units"] != 4.0 {
		t.Errorf("cluster-vars changed: scope %v, want all 4 Flux objects", scope)
	}

	code, _, stderr := runIn(t, dir, "check", "--repo", dir, "--changed-since", "no-such-rev", "testdata/example/clusters/demo")
	if code != ExitError || !strings.Contains(stderr, `--changed-since: revision "no-such-rev": no such commit`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("a bad revision: exit %d, stderr %q", code, stderr)
	}
}
