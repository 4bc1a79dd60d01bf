package render

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/flux"
)

func scopeObject(kind, apiVersion, ns, name string, spec map[string]any, producer flux.Ref, file string) Object {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "spec": spec}}
	u.SetName(name)
	u.SetNamespace(ns)
	return Object{Object: u, Origin: Origin{Producer: producer, File: file}}
}

// TestChangedScope: a Flux object is in scope when a changed file is one
// of its inputs or lies in a directory it read, or when the Flux object
// that applies it is; a Kustomization built from another source makes the
// scope the whole render.
func TestChangedScope(t *testing.T) {
	entry := flux.RefTo(flux.KustomizationKind, "flux-system", "flux-system")
	apps := flux.RefTo(flux.KustomizationKind, "flux-system", "apps")
	web := flux.RefTo(flux.HelmReleaseKind, "web", "web")
	self := flux.RefTo(flux.GitRepositoryKind, "flux-system", "flux-system")
	c := &Cluster{Path: "clusters/a", SelfSource: self, Units: []*Unit{
		{Ref: entry, File: "clusters/a", Inputs: []string{"clusters/a"}, Objects: []Object{
			scopeObject(flux.KustomizationKind, "kustomize.toolkit.fluxcd.io/v1", "flux-system", "apps", map[string]any{
				"sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system"},
				"postBuild": map[string]any{"substituteFrom": []any{map[string]any{"kind": "ConfigMap", "name": "vars"}}},
			}, entry, "clusters/a/apps.yaml"),
			scopeObject("ConfigMap", "v1", "flux-system", "vars", nil, entry, "clusters/a/vars.yaml"),
		}},
		{Ref: apps, File: "clusters/a/apps.yaml", Inputs: []string{"apps/base", "apps/base/kustomization.yaml", "apps/prod/kustomization.yaml"}, Objects: []Object{
			scopeObject(flux.HelmReleaseKind, "helm.toolkit.fluxcd.io/v2", "web", "web", map[string]any{
				"chart": map[string]any{"spec": map[string]any{"chart": "./charts/web", "sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"}}},
			}, apps, "apps/base/release.yaml"),
		}},
		{Ref: web, File: "apps/base/release.yaml"},
	}}
	for _, tt := range []struct {
		files []string
		want  []flux.Ref
	}{
		{files: nil},
		{files: []string{"README.md", "tools/main.go"}},
		// The entry defines the variables: everything it applies, down
		// the tree, is in scope with it.
		{files: []string{"clusters/a/vars.yaml"}, want: []flux.Ref{entry, apps, web}},
		// A Kustomization in scope takes the HelmReleases it applies.
		{files: []string{"apps/base/new.yaml"}, want: []flux.Ref{apps, web}},
		{files: []string{"apps/prod/kustomization.yaml"}, want: []flux.Ref{apps, web}},
		{files: []string{"apps/base/release.yaml"}, want: []flux.Ref{apps, web}},
		{files: []string{"charts/web/templates/deployment.yaml"}, want: []flux.Ref{web}},
		{files: []string{"apps/baseline.yaml"}},
	} {
		s, whole := ChangedScope(c, tt.files)
		if whole != "" || s == nil {
			t.Fatalf("%v: whole render: %s", tt.files, whole)
		}
		if s.Units() != len(tt.want) {
			t.Errorf("%v: %d units in scope, want %v", tt.files, s.Units(), tt.want)
		}
		for _, ref := range tt.want {
			if !s.Unit(ref) {
				t.Errorf("%v: %s not in scope", tt.files, ref)
			}
		}
	}

	// apps built from another source: what it read is not known.
	c.Units[1].Inputs = nil
	if s, whole := ChangedScope(c, []string{"README.md"}); s != nil || whole == "" {
		t.Errorf("a Kustomization from another source: scope %v, want the whole render with a reason", s)
	}
	var all *Scope
	if !all.Unit(apps) || all.Units() != -1 {
		t.Error("a nil scope is not the whole render")
	}
}
