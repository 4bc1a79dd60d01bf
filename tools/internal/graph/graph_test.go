package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/render"
)

func obj(t *testing.T, y string, producer flux.Ref) render.Object {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return render.Object{Object: u, Origin: render.Origin{Producer: producer}}
}

func TestBuild(t *testing.T) {
	root := flux.RefTo(flux.KustomizationKind, "flux-system", "flux-system")
	infra := flux.RefTo(flux.KustomizationKind, "flux-system", "infra")
	c := &render.Cluster{Path: "clusters/test", Units: []*render.Unit{
		{Ref: root, Objects: []render.Object{
			obj(t, `{apiVersion: kustomize.toolkit.fluxcd.io/v1, kind: Kustomization, metadata: {name: infra, namespace: flux-system}, spec: {path: ./infra}}`, root),
			obj(t, `{apiVersion: kustomize.toolkit.fluxcd.io/v1, kind: Kustomization, metadata: {name: "apps", namespace: flux-system}, spec: {path: ./apps, dependsOn: [{name: infra}]}}`, root),
		}},
		{Ref: infra, Objects: []render.Object{
			obj(t, `{apiVersion: helm.toolkit.fluxcd.io/v2, kind: HelmRelease, metadata: {name: db, namespace: data}, spec: {chart: {spec: {chart: pg, version: "1.2.3"}}, dependsOn: [{name: operator}]}}`, infra),
			obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: data}}`, infra),
		}},
	}}

	var b strings.Builder
	if err := Build(c, false).Mermaid(&b); err != nil {
		t.Fatal(err)
	}
	want := `%% clusters/test
flowchart LR
  ks_flux_system_apps["apps<br/>./apps"]
  ks_flux_system_flux_system["flux-system"]
  ks_flux_system_infra["infra<br/>./infra"]
  ks_flux_system_flux_system -.-> ks_flux_system_apps
  ks_flux_system_flux_system -.-> ks_flux_system_infra
  ks_flux_system_infra --> ks_flux_system_apps
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Mermaid (-want +got):\n%s", diff)
	}

	b.Reset()
	if err := Build(c, true).DOT(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`digraph "clusters/test" {`,
		`  "HelmRelease/data/db" [label="HelmRelease data/db\npg 1.2.3", style=rounded];`,
		// A dependency that is not in the render is drawn all the same.
		`  "HelmRelease/data/operator" -> "HelmRelease/data/db";`,
		`  "Kustomization/flux-system/infra" -> "HelmRelease/data/db" [style=dashed];`,
	} {
		if !strings.Contains(b.String(), line+"\n") {
			t.Errorf("DOT lacks %s:\n%s", line, b.String())
		}
	}
	if strings.Contains(b.String(), "ConfigMap") {
		t.Errorf("DOT draws a ConfigMap:\n%s", b.String())
	}
}
