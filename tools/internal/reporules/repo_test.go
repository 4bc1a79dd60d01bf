package reporules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../../.."

// TestRepositoryPasses checks the repository's own clusters: everything
// their Flux Kustomization layers apply (rendered offline: the HelmReleases
// cannot render here without the upstream charts, but as objects they are
// in the render), and the committed files those layers read. Warnings are
// allowed; a deny finding fails.
func TestRepositoryPasses(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "clusters"))
	if err != nil {
		t.Fatal(err)
	}
	rules := loadRepoRules(t)
	var clusters int
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		clusters++
		path := "clusters/" + e.Name()
		t.Run(e.Name(), func(t *testing.T) {
			c := renderCluster(t, root, path)
			for _, err := range c.Errors {
				// Only a chart that cannot be fetched offline is expected.
				var ue *render.UnitError
				if !errors.As(err, &ue) || ue.Ref.Kind != flux.HelmReleaseKind {
					t.Errorf("render: %v", err)
				}
			}
			kinds := map[string]int{}
			for _, o := range c.Objects() {
				kinds[o.Object.GetKind()]++
			}
			// The render must hold what the rules judge, or passing means nothing.
			for _, k := range []string{"Kustomization", "HelmRelease", "HelmRepository", "Namespace", "Deployment"} {
				if kinds[k] == 0 {
					t.Errorf("render of %s has no %s", path, k)
				}
			}
			findings, err := rules.Check(context.Background(), root, c)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range findings {
				msg := f.Object.String() + " (" + f.Where + "): " + f.Rule + ": " + f.Message
				if f.Warning {
					t.Log("warning: " + msg)
					continue
				}
				t.Error(msg)
			}
		})
	}
	if clusters == 0 {
		t.Fatal("no clusters under clusters/")
	}
}

// TestRepositorySecretsEncrypted checks every committed YAML file under
// clusters/, infrastructure/, apps/ and policies/ (not policies/tests, whose
// objects are policy test cases) with the git-view rules, including files no
// render reads.
func TestRepositorySecretsEncrypted(t *testing.T) {
	var files []string
	for _, dir := range []string{"clusters", "infrastructure", "apps", "policies"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repoRoot, p)
			rel = filepath.ToSlash(rel)
			if d.IsDir() && rel == "policies/tests" {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 20 {
		t.Fatalf("only %d files found", len(files))
	}
	findings, err := loadRepoRules(t).CheckFiles(context.Background(), repoRoot, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if !f.Warning {
			t.Errorf("%s (%s): %s: %s", f.Object, f.Where, f.Rule, f.Message)
		}
	}
}
