package synth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/crdvalidate"
	"github.com/aks-gitops/platform/tools/internal/object"
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

// TestPlatformCRDs checks the platform chart's CRDs are as large as real
// operators' and compile (structural, CEL rules included), and that every
// application's object of their kinds is valid — and would be refused if
// it broke a rule.
func TestPlatformCRDs(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, Size{Kustomizations: 14, HelmReleases: 2, Charts: 1, CRDs: 3}, 0); err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	crds, err := filepath.Glob(filepath.Join(dir, ChartsDir, "platform", "crds", "*.yaml"))
	if err != nil || len(crds) != 3 {
		t.Fatalf("CRD files: %v (%v), want 3", crds, err)
	}
	widgets, err := filepath.Glob(filepath.Join(dir, "apps", "*", "widget.yaml"))
	if err != nil || len(widgets) != 4 {
		t.Fatalf("widgets: %v (%v), want one per application (4)", widgets, err)
	}
	for _, p := range append(crds, widgets...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(filepath.Dir(p), "crds") && (len(data) < 200<<10 || len(data) > 1<<20) {
			t.Errorf("%s: %d bytes, want 200 kB to 1 MB", p, len(data))
		}
		got, err := object.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		objs = append(objs, got...)
	}
	v, errs := crdvalidate.New(objs, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, w := range objs[len(crds):] {
		if err := v.Compile(w.GroupVersionKind()); err != nil {
			t.Fatal(err)
		}
		if msgs := v.Validate(t.Context(), w); len(msgs) > 0 {
			t.Errorf("%s: %q", w.GetKind(), msgs)
		}
		bad := w.DeepCopy()
		if err := unstructured.SetNestedField(bad.Object, int64(-1), "spec", "field05"); err != nil {
			t.Fatal(err)
		}
		msgs := strings.Join(v.Validate(t.Context(), bad), "\n")
		for _, want := range []string{"should be greater than or equal to 0", "field05 of spec must not be negative"} {
			if !strings.Contains(msgs, want) {
				t.Errorf("%s with spec.field05 -1: findings lack %q:\n%s", w.GetKind(), want, msgs)
			}
		}
	}
}
