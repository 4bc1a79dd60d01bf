package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/aks-gitops/platform/tools/internal/oci"
	"github.com/aks-gitops/platform/tools/internal/registrytest"
)

// chartArchive packages a test chart with Helm's own code.
func chartArchive(t *testing.T, dir string) []byte {
	t.Helper()
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestOCISources renders, from a real OCI registry on loopback: a
// Kustomization whose source is an OCIRepository (a Flux artifact, resolved
// by semver, with .sourceignore honoured), a HelmRelease from an OCI
// HelmRepository (version constraint over the registry's tags) and one whose
// chartRef is an OCIRepository holding a Helm chart. A second run works
// offline from the cache.
func TestOCISources(t *testing.T) {
	host := registrytest.Start(t)
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		registrytest.Push(t, host+"/manifests/app:"+v, registrytest.TarGz(t, map[string]string{
			"deploy/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-oci, namespace: default}\ndata: {version: '" + v + "'}\n",
			"deploy/ignored.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored, namespace: default}\n",
			".sourceignore":       "deploy/ignored.yaml\n",
		}), oci.FluxContentMediaType, registrytest.FluxConfigMediaType)
	}
	for _, name := range []string{"demo-app-1.0.0", "demo-app-1.2.0"} {
		version := strings.TrimPrefix(name, "demo-app-")
		registrytest.Push(t, host+"/charts/demo-app:"+version, chartArchive(t, filepath.Join(chartsDir, name)), oci.HelmChartMediaType, registrytest.HelmConfigMediaType)
	}

	repo := t.TempDir()
	writeTree(t, repo, map[string]string{"clusters/test/sources.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: manifests, namespace: flux-system}
spec:
  interval: 1h
  url: oci://` + host + `/manifests/app
  ref: {semver: "1.x"}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: from-oci, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./deploy
  sourceRef: {kind: OCIRepository, name: manifests}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: apps}
spec:
  type: oci
  interval: 1h
  url: oci://` + host + `/charts
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: via-repository, namespace: apps}
spec:
  interval: 1h
  chart:
    spec:
      chart: demo-app
      version: "~1.0.0"
      sourceRef: {kind: HelmRepository, name: charts}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: demo-app, namespace: apps}
spec:
  interval: 1h
  url: oci://` + host + `/charts/demo-app
  ref: {tag: "1.2.0"}
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: via-chartref, namespace: apps}
spec:
  interval: 1h
  chartRef: {kind: OCIRepository, name: demo-app}
`})
	cache := t.TempDir()
	args := []string{"render", "--repo", repo, "--cache-dir", cache, filepath.Join(repo, "clusters", "test")}
	code, stdout, stderr := run(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"version: 1.1.0",
		"from OCIRepository/flux-system/manifests@1.1.0@sha256:",
		"HelmRelease/apps/via-repository chart demo-app-1.0.0",
		"HelmRelease/apps/via-chartref chart demo-app-1.2.0",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(stdout, "name: ignored") {
		t.Error("the .sourceignore'd file was rendered")
	}
	code, offline, stderr := run(append([]string{"render", "--offline"}, args[1:]...)...)
	if code != 0 || offline != stdout {
		t.Errorf("offline from the cache: exit %d, same output %v: %s", code, offline == stdout, stderr)
	}
}
