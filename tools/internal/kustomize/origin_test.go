package kustomize

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// TestWithOriginAnnotations: originAnnotations ends up in buildMetadata
// once, whether the generated file had no buildMetadata, another entry, or
// it already; the rest of the file is kept.
func TestWithOriginAnnotations(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		keep     bool
		want     []string
	}{
		{"none", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- a.yaml\n", false, []string{"originAnnotations"}},
		{"no trailing newline", "resources:\n- a.yaml", false, []string{"originAnnotations"}},
		{"another", "buildMetadata:\n- managedByLabel\nresources:\n- a.yaml\n", false, []string{"managedByLabel", "originAnnotations"}},
		{"already", "buildMetadata: [originAnnotations]\nresources:\n- a.yaml\n", true, []string{"originAnnotations"}},
		{"nested key only", "patches:\n- patch: |\n    buildMetadata: x\nresources:\n- a.yaml\n", false, []string{"originAnnotations"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keep, out, err := withOriginAnnotations([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var k kustypes.Kustomization
			if err := yaml.UnmarshalStrict(out, &k); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if keep != tt.keep || !cmp.Equal(k.BuildMetadata, tt.want) || len(k.Resources) != 1 {
				t.Errorf("keep %v, buildMetadata %v, resources %v; want %v, %v:\n%s", keep, k.BuildMetadata, k.Resources, tt.keep, tt.want, out)
			}
		})
	}
}
