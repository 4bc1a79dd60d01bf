package render

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/chartserver"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/helm"
	"github.com/aks-gitops/platform/tools/internal/object"
)

// coreRepo is an entry with two Kustomizations (apps depends on infra and
// substitutes a variable), a HelmRelease of a local chart, a Kustomization
// whose path does not exist, and a kustomize.config.k8s.io Kustomization of
// the same name as a Flux one among the applied objects.
var coreRepo = map[string]string{
	"clusters/test/ks.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: infra, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  path: ./infra
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  dependsOn: [{name: infra}]
  sourceRef: {kind: GitRepository, name: flux-system}
  path: ./apps
  postBuild:
    substitute: {cluster: test, replicas: "3"}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: missing, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  path: ./does-not-exist
`,
	"infra/ns.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
`,
	"apps/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: apps}
data:
  cluster: ${cluster}
  rule: >-
    self.a == 1 &&
      self.b == 2
`,
	"apps/release.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: apps}
spec: {interval: 1h, url: "https://charts.invalid/demo"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: apps}
spec:
  interval: 1h
  chart:
    spec:
      chart: demo-app
      version: 2.x
      sourceRef: {kind: HelmRepository, name: charts}
  values:
    replicaCount: ${replicas}
    auth: {password: from-values}
    widget: {enabled: false}
    migrations: {enabled: false}
`,
}

func renderCore(t *testing.T) *Cluster {
	t.Helper()
	root := t.TempDir()
	for name, data := range coreRepo {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := New(Options{
		RepoRoot: root,
		Charts:   helm.NewCharts(helm.ChartOptions{Dir: chartserver.TestCharts(), CacheDir: t.TempDir(), Offline: true}),
	})
	t.Cleanup(func() { _ = r.Close() })
	c, err := r.Render(context.Background(), filepath.Join(root, "clusters", "test"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRenderCore renders an entry with the render package alone: units in
// order with their identities, substitution, the chart's output with its
// origin and helm-controller's labels, one failed unit as a UnitError that
// names it and its file while the rest renders, JSON types only, and the
// same result on a second run.
func TestRenderCore(t *testing.T) {
	c := renderCore(t)

	var units []string
	for _, u := range c.Units {
		units = append(units, u.Ref.Qualified())
	}
	want := []string{
		"Kustomization.kustomize.toolkit.fluxcd.io/flux-system/apps",
		"Kustomization.kustomize.toolkit.fluxcd.io/flux-system/flux-system",
		"Kustomization.kustomize.toolkit.fluxcd.io/flux-system/infra",
		"Kustomization.kustomize.toolkit.fluxcd.io/flux-system/missing",
		"HelmRelease.helm.toolkit.fluxcd.io/apps/web",
	}
	if diff := cmp.Diff(want, units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}

	if len(c.Errors) != 1 {
		t.Fatalf("errors: %v, want one (the missing path)", c.Errors)
	}
	var ue *UnitError
	if !errors.As(c.Errors[0], &ue) || ue.Ref != flux.RefTo(flux.KustomizationKind, "flux-system", "missing") || ue.File != "clusters/test/ks.yaml" {
		t.Errorf("error %v: want a UnitError naming Kustomization/flux-system/missing in clusters/test/ks.yaml", c.Errors[0])
	}

	byID := map[string]Object{}
	for _, o := range c.Objects() {
		if err := object.Check(o.Object.Object); err != nil {
			t.Errorf("%s: %v", object.IDOf(o.Object).Qualified(), err)
		}
		byID[object.IDOf(o.Object).Qualified()] = o
	}
	cm, ok := byID["ConfigMap/apps/settings"]
	if !ok {
		t.Fatalf("no ConfigMap/apps/settings among %v", slices.Sorted(maps.Keys(byID)))
	}
	if got, _, _ := unstructured.NestedString(cm.Object.Object, "data", "cluster"); got != "test" {
		t.Errorf("substituted data.cluster = %q, want test", got)
	}
	// What kustomize-controller applies: kyaml re-emits a folded scalar
	// with a more-indented line with a blank line before it
	// (kustomize.TestBuildMatchesController holds this to the controller).
	if got, _, _ := unstructured.NestedString(cm.Object.Object, "data", "rule"); got != "self.a == 1 &&\n\n  self.b == 2" {
		t.Errorf("data.rule = %q", got)
	}
	if cm.Origin.Producer.Name != "apps" || cm.Origin.File != "apps/cm.yaml" {
		t.Errorf("ConfigMap origin %q", cm.Origin)
	}
	if _, ok := byID["Kustomization.kustomize.config.k8s.io/flux-system/apps"]; !ok {
		t.Error("the kustomize.config.k8s.io Kustomization is not among the objects")
	}

	dep, ok := byID["Deployment.apps/apps/web-demo-app"]
	if !ok {
		t.Fatalf("no chart Deployment among %v", slices.Sorted(maps.Keys(byID)))
	}
	if dep.Origin.Chart != "demo-app-2.0.0" || !strings.HasPrefix(dep.Origin.Template, "demo-app/templates/") {
		t.Errorf("Deployment origin %q", dep.Origin)
	}
	if got, _, _ := unstructured.NestedInt64(dep.Object.Object, "spec", "replicas"); got != 3 {
		t.Errorf("spec.replicas = %d, want 3 (substituted into the HelmRelease's values)", got)
	}
	if diff := cmp.Diff(flux.OwnerLabels(flux.HelmReleaseKind, "apps", "web"), ownerLabels(dep.Object)); diff != "" {
		t.Errorf("owner labels (-want +got):\n%s", diff)
	}

	again := renderCore(t)
	if diff := cmp.Diff(c.Objects(), again.Objects(), cmp.Comparer(func(a, b *unstructured.Unstructured) bool {
		return cmp.Equal(a.Object, b.Object)
	})); diff != "" {
		t.Errorf("a second render differs (-first +second):\n%s", diff)
	}
}

func ownerLabels(u *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for k, v := range u.GetLabels() {
		if strings.HasPrefix(k, "helm.toolkit.fluxcd.io/") {
			out[k] = v
		}
	}
	return out
}
