package synth

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, Size{Name: "tiny", Kustomizations: 14, HelmReleases: 3, Charts: 2}, 7); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{Entry + "/groups.yaml", "apps/003/kustomization.yaml", "charts/app01/charts/common/templates/_helpers.tpl", "groups/09/apps.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	if err := Generate(dir, Size{Kustomizations: 5, Charts: 1}, 0); err == nil {
		t.Error("a size with fewer Kustomizations than groups was accepted")
	}
}
