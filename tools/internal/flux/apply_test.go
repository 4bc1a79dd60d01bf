package flux

import (
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestMetadataKeys holds the spelt-out keys to the Flux API modules.
func TestMetadataKeys(t *testing.T) {
	g := kustomizev1.GroupVersion.Group
	for got, want := range map[string]string{
		ReconcileKey: g + "/reconcile", SSAKey: g + "/ssa", ForceKey: g + "/force", PruneKey: g + "/prune",
		HelmDriftKey: helmv2.DriftDetectionMetadataKey,
	} {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
}

// TestKeptBy holds the deletion opt-outs to what the controllers read:
// kustomize-controller's prune key as a label or an annotation, any case
// (ssa's AnyInMetadata); Helm's keep policy as an annotation with the exact
// value (pkg/kube Client.Update on upgrade); neither the other's.
func TestKeptBy(t *testing.T) {
	obj := func(labels, annotations map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{}}
		u.SetLabels(labels)
		u.SetAnnotations(annotations)
		return u
	}
	for _, tc := range []struct {
		name     string
		producer string
		u        *unstructured.Unstructured
		want     string
	}{
		{"prune annotation", KustomizationKind, obj(nil, map[string]string{PruneKey: "disabled"}), PruneKey},
		{"prune label", KustomizationKind, obj(map[string]string{PruneKey: "disabled"}, nil), PruneKey},
		{"prune any case", KustomizationKind, obj(nil, map[string]string{PruneKey: "Disabled"}), PruneKey},
		{"prune other value", KustomizationKind, obj(nil, map[string]string{PruneKey: "enabled"}), ""},
		{"keep on a Kustomization's object", KustomizationKind, obj(nil, map[string]string{HelmKeepKey: "keep"}), ""},
		{"keep", HelmReleaseKind, obj(nil, map[string]string{HelmKeepKey: "keep"}), HelmKeepKey},
		{"keep as a label", HelmReleaseKind, obj(map[string]string{HelmKeepKey: "keep"}, nil), ""},
		{"keep other case", HelmReleaseKind, obj(nil, map[string]string{HelmKeepKey: "Keep"}), ""},
		{"prune on a release's object", HelmReleaseKind, obj(nil, map[string]string{PruneKey: "disabled"}), ""},
		{"nothing", KustomizationKind, obj(nil, nil), ""},
	} {
		if got := KeptBy(tc.producer, tc.u); got != tc.want {
			t.Errorf("%s: KeptBy = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAppliers(t *testing.T) {
	if got := ServiceAccount(HelmReleaseKind); got != "system:serviceaccount:flux-system:helm-controller" {
		t.Errorf("ServiceAccount(HelmRelease) = %q", got)
	}
	if got := Applier(KustomizationKind); got != "kustomize-controller" {
		t.Errorf("Applier(Kustomization) = %q", got)
	}
	if got := OwnerLabels(HelmReleaseKind, "apps", "web"); got["helm.toolkit.fluxcd.io/name"] != "web" || got["helm.toolkit.fluxcd.io/namespace"] != "apps" {
		t.Errorf("OwnerLabels(HelmRelease) = %v", got)
	}
}
