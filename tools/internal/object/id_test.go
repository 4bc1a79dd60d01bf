package object

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestID(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "apps"},
	}}
	id := IDOf(u)
	if id != (ID{Group: "apps", Kind: "Deployment", Namespace: "apps", Name: "web"}) {
		t.Fatalf("IDOf = %+v", id)
	}
	for _, tc := range []struct {
		id               ID
		short, qualified string
	}{
		{id, "Deployment/apps/web", "Deployment.apps/apps/web"},
		{ID{Kind: "Namespace", Name: "apps"}, "Namespace/apps", "Namespace/apps"},
		{ID{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}, "CustomResourceDefinition", "CustomResourceDefinition.apiextensions.k8s.io"},
	} {
		if got := tc.id.String(); got != tc.short {
			t.Errorf("String() = %q, want %q", got, tc.short)
		}
		if got := tc.id.Qualified(); got != tc.qualified {
			t.Errorf("Qualified() = %q, want %q", got, tc.qualified)
		}
	}
	// Two kinds of one name in different groups are different objects,
	// ordered by group last.
	ids := []ID{
		{Group: "kustomize.toolkit.fluxcd.io", Kind: "Kustomization", Namespace: "flux-system", Name: "apps"},
		{Group: "kustomize.config.k8s.io", Kind: "Kustomization", Namespace: "flux-system", Name: "apps"},
		{Kind: "Namespace", Name: "z"},
		{Kind: "ConfigMap", Namespace: "apps", Name: "a"},
	}
	slices.SortFunc(ids, Compare)
	want := []string{"Namespace/z", "ConfigMap/apps/a", "Kustomization.kustomize.config.k8s.io/flux-system/apps", "Kustomization.kustomize.toolkit.fluxcd.io/flux-system/apps"}
	var got []string
	for _, id := range ids {
		got = append(got, id.Qualified())
	}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %q, want %q", got, want)
	}
}
