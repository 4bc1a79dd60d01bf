package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/chartserver"
	"github.com/aks-gitops/platform/tools/internal/fluxenv"
	"github.com/aks-gitops/platform/tools/internal/gatekeeperenv"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// helmReleases are our HelmReleases whose charts scripts/controllers.sh
// copies from served modules (the chart directory of each): the others'
// charts (Falco, kube-prometheus-stack, Fluent Bit, Gatekeeper Policy
// Manager, External Secrets at our version) cannot be fetched here.
var helmReleases = map[string]string{
	"gatekeeper":    "gatekeeper",
	"envoy-gateway": "gateway-helm",
	"eck-operator":  "eck-operator",
	"cert-manager":  "cert-manager",
}

// TestReleasesMatchHelmController is the render of our HelmReleases checked
// against Flux's own helm-controller: for each cluster, the releases with
// the cluster's values are committed to a Git server on loopback, applied
// by kustomize-controller, their charts fetched by source-controller from a
// chart repository on loopback and installed by helm-controller (real
// processes, with the AKS extension's multi-tenancy). The render of the same
// entry fetches the same charts from the same repository. Then the live
// diff must find every object helm-controller installed equal to the
// render, field for field, and nothing the render lacks.
//
// Two changes to the releases, both in the entry (so the render and Flux
// see the same objects): the HelmRepositories point at the loopback
// repository; the releases neither wait for their workloads nor run their
// hooks (install and upgrade disableWait, disableHooks): no pod ever runs
// here, so Helm would wait forever (hooks are left out of the live
// comparison in any case: Helm does not keep them). Drift detection, without
// which neither helm-controller nor the live diff compares a release's
// objects with the cluster, is on in the releases as committed (the
// helm-release component's defaults).
func TestReleasesMatchHelmController(t *testing.T) {
	chartsDir := filepath.Join(controllersDir(t), "charts")
	var dirs []string
	for _, chart := range helmReleases {
		dirs = append(dirs, filepath.Join(chartsDir, chart))
	}
	for _, cluster := range []string{"staging", "production"} {
		t.Run(cluster, func(t *testing.T) {
			charts := chartserver.Start(t, dirs...)
			repo := t.TempDir()
			entry := filepath.Join(repo, "entry")
			var resources, want []string
			for release := range helmReleases {
				writeReleaseEntry(t, repo, filepath.Join(entry, release), cluster, release, harnessPatches(charts.URL())+withoutDependsOn)
				resources = append(resources, release)
			}
			writeFile(t, filepath.Join(entry, "kustomization.yaml"),
				"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: ["+strings.Join(resources, ", ")+"]\n")

			flags := []string{"--repo", repo, "--cache-dir", t.TempDir()}
			code, rendered, stderr := run(append(append([]string{"render"}, flags...), entry)...)
			if code != ExitOK {
				t.Fatalf("render: exit %d\n%s", code, stderr)
			}
			objs, err := utils.ReadObjects(strings.NewReader(rendered))
			if err != nil {
				t.Fatal(err)
			}
			var namespaces []string
			for _, u := range objs {
				if u.GetKind() == "HelmRelease" {
					want = append(want, u.GetNamespace()+"/"+u.GetName())
					namespaces = append(namespaces, u.GetNamespace())
				}
			}
			if len(want) != len(helmReleases) {
				t.Fatalf("the render has HelmReleases %v, want %d", want, len(helmReleases))
			}

			env := testenv.Start(t)
			// cert-manager's ServiceMonitor needs kube-prometheus-stack's
			// CRDs, whose chart the harness does not install.
			installPrometheusCRDs(t, chartsDir, env)
			opts := fluxenv.AKSExtension()
			opts.HelmController = true
			flux := fluxenv.Start(t, env, opts)
			flux.CreateNamespaces(t, namespaces...)
			flux.Sync(t, flux.ServeRepo(t, repo, cluster), "./entry", objs)
			start := time.Now()
			flux.WaitReady(t, "Kustomization", []string{"flux-system/flux-system"}, 2*time.Minute)
			// Gatekeeper's webhooks are registered with its release and
			// fail closed (the namespace label check always, validation in
			// production) until its pods serve them: its manager starts as
			// soon as the release's Deployment exists, as its pods would.
			// The releases installed beside it may fail meanwhile and are
			// retried, as on a cluster.
			host, err := testenv.HostIP()
			if err != nil {
				t.Fatal(err)
			}
			var gatekeeper []*unstructured.Unstructured
			for _, u := range objs {
				if u.GetLabels()["helm.toolkit.fluxcd.io/name"] == "gatekeeper" {
					gatekeeper = append(gatekeeper, u)
				}
			}
			gatekeeperenv.ServeRelease(t, env, gatekeeper, host)
			flux.WaitReady(t, "HelmRelease", want, 4*time.Minute)
			t.Logf("%d HelmReleases installed by helm-controller in %s", len(want), time.Since(start).Round(time.Millisecond))

			code, out, stderr := run(append(append([]string{"diff", "--live", "--kubeconfig", env.Kubeconfig(), "--format", "json"}, flags...), entry)...)
			var doc struct {
				Clusters []struct{ Results []liveResult }
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Clusters) != 1 {
				t.Fatalf("diff --live: exit %d, %v\n%s%s", code, err, out, stderr)
			}
			if code != ExitOK {
				t.Errorf("diff --live right after the install: exit %d, want %d\n%s", code, ExitOK, stderr)
			}
			fromReleases := 0
			for _, r := range doc.Clusters[0].Results {
				if r.Status != "unchanged" && r.Status != "skipped" {
					t.Errorf("%s %s %s/%s (%s): %s %+v", r.Status, r.ID.Kind, r.ID.Namespace, r.ID.Name, r.Origin, r.Reason, r.Fields)
				}
				if strings.HasPrefix(r.Origin, "HelmRelease/") && r.Status == "unchanged" {
					fromReleases++
				}
			}
			if fromReleases == 0 {
				t.Error("the live diff compared no object of a HelmRelease")
			}
			t.Logf("%d objects installed by helm-controller equal to the render", fromReleases)
		})
	}
}

// harnessPatches are the kustomize patches that point a release's
// HelmRepository at the chart repository url and keep Helm from waiting
// for pods or running hooks (see TestReleasesMatchHelmController).
func harnessPatches(url string) string {
	return `  - target: {kind: HelmRepository}
    patch: |
      - {op: add, path: /spec/url, value: "` + url + `"}
      - {op: add, path: /spec/type, value: default}
  - target: {kind: HelmRelease}
    patch: |
      - {op: add, path: /spec/install/disableWait, value: true}
      - {op: add, path: /spec/install/disableHooks, value: true}
      - {op: add, path: /spec/upgrade/disableWait, value: true}
      - {op: add, path: /spec/upgrade/disableHooks, value: true}
`
}

// releaseDirs are the directories under infrastructure/ of a release's base
// and of the cluster's overlay: Gatekeeper has a layer of its own
// (gatekeeper/base, gatekeeper/<cluster>), the other releases share
// controllers/ (controllers/base/<release>, controllers/<cluster>).
func releaseDirs(release, cluster string) (base, overlay string) {
	if release == "gatekeeper" {
		return "gatekeeper/base", "gatekeeper/" + cluster
	}
	return "controllers/base/" + release, "controllers/" + cluster
}

// writeReleaseEntry writes into dir (a directory of the scratch repository
// repo) a kustomization of our HelmRelease of
// infrastructure (see releaseDirs) with the cluster's values, as
// releaseEntry does, and the patches given (kustomization patches list
// items, YAML). The repository gets a copy of infrastructure/ (the
// releases include shared components).
func writeReleaseEntry(t *testing.T, repo, dir, cluster, release, patches string) {
	t.Helper()
	infra := filepath.Join(repo, "infrastructure")
	if _, err := os.Stat(infra); os.IsNotExist(err) {
		if err := os.CopyFS(infra, os.DirFS(filepath.Join(repoRoot, "infrastructure"))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	baseDir, overlayDir := releaseDirs(release, cluster)
	base, err := filepath.Rel(dir, filepath.Join(infra, baseDir))
	if err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(repoRoot, "infrastructure", overlayDir, release+"-values.yaml")
	if _, err := os.Stat(values); err == nil {
		copyFile(t, values, dir)
		patches = "  - path: " + release + "-values.yaml\n" + patches
	}
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [" + filepath.ToSlash(base) + "]\n"
	if patches != "" {
		kustomization += "patches:\n" + patches
	}
	writeFile(t, filepath.Join(dir, "kustomization.yaml"), kustomization)
}
