package reporules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// writeFixture writes a txtar archive's files into a new temporary
// repository and returns its root.
func writeFixture(t *testing.T, path string) string {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, f := range ar.Files {
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func renderCluster(t *testing.T, root, path string) *render.Cluster {
	t.Helper()
	r := render.New(render.Options{RepoRoot: root, Concurrency: 2})
	t.Cleanup(func() { _ = r.Close() })
	c, err := r.Render(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCheck renders a fixture repository where each rule has one violating
// object (apps/bad) and one passing one (apps/good), and checks the
// findings: rendered objects for the rendered-view rules, committed files
// for the plaintext Secret rule, each reported once.
func TestCheck(t *testing.T) {
	root := writeFixture(t, "testdata/fixture.txtar")
	c := renderCluster(t, root, "clusters/test")
	if len(c.Errors) > 0 {
		t.Fatalf("render errors: %v", c.Errors)
	}
	got, err := loadRepoRules(t).Check(context.Background(), root, c)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Object, Rule, Action string
		Warning              bool
		File, Where          string
	}
	var rows []row
	for _, f := range got {
		if f.Cluster != "clusters/test" || f.Check != Check {
			t.Errorf("finding %+v: want cluster clusters/test, check %s", f, Check)
		}
		if strings.Contains(f.Message, "hunter2") {
			t.Errorf("finding carries a secret value: %q", f.Message)
		}
		rows = append(rows, row{f.Object.String(), f.Rule, f.Action, f.Warning, f.File, f.Where})
	}
	bad := "Kustomization/flux-system/bad from "
	want := []row{
		{"Namespace/bad", "namespace_pod_security", "deny", false, "apps/bad/namespace.yaml", bad + "apps/bad/namespace.yaml"},
		{"Namespace/bad-privileged", "namespace_pod_security", "warn", true, "apps/bad/namespace.yaml", bad + "apps/bad/namespace.yaml"},
		{"CronJob/bad/backup", "image_pinned", "deny", false, "apps/bad/workloads.yaml", bad + "apps/bad/workloads.yaml"},
		{"HelmRelease/bad/app", "chart_version_pinned", "deny", false, "apps/bad/release.yaml", bad + "apps/bad/release.yaml"},
		{"HelmRelease/bad/app", "cross_namespace_ref", "deny", false, "apps/bad/release.yaml", bad + "apps/bad/release.yaml"},
		{"HelmRepository/bad/charts", "source_scheme", "deny", false, "apps/bad/sources.yaml", bad + "apps/bad/sources.yaml"},
		{"OCIRepository/bad/gateway", "chart_version_pinned", "deny", false, "apps/bad/sources.yaml", bad + "apps/bad/sources.yaml"},
		{"Secret/bad/db", "secret_encrypted", "deny", false, "apps/bad/secret.yaml", "apps/bad/secret.yaml (as committed)"},
		{"Kustomization/flux-system/bad", "kustomization_prune_timeout", "deny", false, "clusters/test/sync.yaml", "Kustomization/flux-system/flux-system from clusters/test/sync.yaml"},
		{"Kustomization/flux-system/bad", "kustomization_prune_timeout", "deny", false, "clusters/test/sync.yaml", "Kustomization/flux-system/flux-system from clusters/test/sync.yaml"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if !finding.Failed(got) {
		t.Error("deny findings do not fail the run")
	}
}

// TestCheckFiles checks committed files with the git-view rules only, and
// names the file of one that is not YAML.
func TestCheckFiles(t *testing.T) {
	root := writeFixture(t, "testdata/fixture.txtar")
	rules := loadRepoRules(t)
	got, err := rules.CheckFiles(context.Background(), root, []string{"apps/good/secret.yaml", "apps/bad/secret.yaml", "apps/bad/workloads.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	var objects []string
	for _, f := range got {
		objects = append(objects, f.Object.String()+" "+f.Rule)
	}
	if diff := cmp.Diff([]string{"Secret/bad/db secret_encrypted"}, objects); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := os.WriteFile(filepath.Join(root, "broken.yaml"), []byte("kind: Secret\n  data: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = rules.CheckFiles(context.Background(), root, []string{"broken.yaml"})
	if err == nil || !strings.Contains(err.Error(), "broken.yaml: document 1") {
		t.Errorf("error %v does not name broken.yaml, document 1", err)
	}
}
