package falcorules

import (
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/aks-gitops/platform/tools/internal/kustomize"
)

// TestRepositoryConfigMap builds our falco kustomization and checks that the
// generated falco-rules ConfigMap is recognised as Falco rules, carries every
// rule file, and that those pass.
func TestRepositoryConfigMap(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join(repoRulesDir, ".."))
	if err != nil {
		t.Fatal(err)
	}
	m, err := kustomize.Run(t.Context(), filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, r := range m.Resources() {
		obj, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: obj}
		files, ok := FromConfigMap(u)
		if !ok {
			continue
		}
		found = append(found, u.GetNamespace()+"/"+u.GetName())
		if len(files) != len(repoRules(t)) {
			t.Errorf("%s holds %d rule files, the repository %d", u.GetName(), len(files), len(repoRules(t)))
		}
		for _, p := range Check(files) {
			t.Errorf("%s: %s", u.GetName(), p)
		}
	}
	if len(found) != 1 || found[0] != "falco/falco-rules" {
		t.Errorf("Falco rules ConfigMaps = %v, want [falco/falco-rules]", found)
	}
}
