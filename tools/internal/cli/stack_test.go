package cli

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/gatekeeperenv"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// repoRoot is this checkout, from the package directory.
const repoRoot = "../../.."

// TestStackAdmission runs Gatekeeper as each cluster runs it — its manager
// built at the version our HelmRelease pins, configured by the render of that
// release with the cluster's values — as the validating webhook of a real API
// server, loads our constraint templates and the cluster's constraints, and
// sends every object of the policy and apps layers through admission: in
// production (deny, fail closed) each must be admitted, in staging (warn)
// each must be admitted without a warning. A refusal names the object and
// the constraint.
func TestStackAdmission(t *testing.T) {
	chartsDir := filepath.Join(controllersDir(t), "charts")
	for _, cluster := range []struct {
		name          string
		failurePolicy string
		deny          bool
	}{
		{"staging", "Ignore", false},
		{"production", "Fail", true},
	} {
		t.Run(cluster.name, func(t *testing.T) {
			gatekeeper := renderLayer(t, cluster.name, chartsDir, releaseEntry(t, cluster.name, "gatekeeper"))
			for _, u := range gatekeeper {
				if u.GetKind() != "ValidatingWebhookConfiguration" {
					continue
				}
				hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
				for _, h := range hooks {
					// The validation webhook's policy is ours to set; the
					// chart's namespace-label check always fails closed.
					if m, ok := h.(map[string]any); ok && m["name"] == "validation.gatekeeper.sh" && m["failurePolicy"] != cluster.failurePolicy {
						t.Errorf("webhook %s: failurePolicy %v, want %s", m["name"], m["failurePolicy"], cluster.failurePolicy)
					}
				}
			}
			layers := renderLayer(t, cluster.name, chartsDir, clusterLayers(t, cluster.name, "policy-templates", "policy-constraints", "infra-configs", "apps"))
			// What helm-controller installs for each release whose chart
			// the harness has goes through admission with the rest (the
			// controllers' pods are the cluster's too), Gatekeeper's own
			// but its webhook configurations: the harness runs those
			// pointed at its own server by URL (gatekeeperenv), and an
			// apply of the chart's, by service, would hold both.
			var releases []*unstructured.Unstructured
			for _, u := range gatekeeper {
				if !strings.HasSuffix(u.GetKind(), "WebhookConfiguration") {
					releases = append(releases, u)
				}
			}
			for _, release := range admittedReleases {
				releases = append(releases, renderLayer(t, cluster.name, chartsDir, releaseAlone(t, cluster.name, release))...)
			}

			env := testenv.Start(t)
			gk := gatekeeperenv.Start(t, env, gatekeeper)
			var policies, rest []*unstructured.Unstructured
			for _, u := range layers {
				if g := u.GroupVersionKind().Group; g == "templates.gatekeeper.sh" || g == "constraints.gatekeeper.sh" {
					policies = append(policies, u)
				} else {
					rest = append(rest, u)
				}
			}
			// The operators run before the constraints exist, as they
			// may on a cluster's first reconciliation; what they made is
			// sent through admission with everything else below.
			var configs []*unstructured.Unstructured
			for _, u := range rest {
				if u.GetLabels()["kustomize.toolkit.fluxcd.io/name"] == "infra-configs" {
					configs = append(configs, u)
				}
			}
			made := startOperators(t, cluster.name, chartsDir, env, configs)
			for _, u := range made {
				t.Logf("made by an operator: %s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
			}

			n := gk.ApplyPolicies(t, policies)
			t.Logf("%d constraints enforced", n)

			admitted, unknown := 0, map[string]bool{}
			for _, r := range gk.Admit(t, env, slices.Concat(rest, releases, made)) {
				gatekeeperWarnings, others := splitWarnings(r.Warnings)
				switch {
				case r.NoKind:
					unknown[r.Kind] = true
				case r.Err != nil:
					t.Errorf("%s %s/%s refused: %v", r.Kind, r.Namespace, r.Name, r.Err)
				case len(gatekeeperWarnings) > 0:
					t.Errorf("%s %s/%s admitted with warnings: %s", r.Kind, r.Namespace, r.Name, strings.Join(gatekeeperWarnings, "; "))
				default:
					admitted++
				}
				// Pod Security admission's warnings (crAPI runs as root
				// on purpose; its namespace warns, docs/crapi.md).
				for _, w := range others {
					t.Logf("%s %s/%s: %s", r.Kind, r.Namespace, r.Name, w)
				}
			}
			if admitted == 0 {
				t.Error("no object went through admission")
			}
			t.Logf("%d objects admitted; not sent (their CRDs come with charts the harness does not install): %s",
				admitted, strings.Join(slices.Sorted(maps.Keys(unknown)), ", "))

			// The webhook can refuse: a privileged container is refused
			// in production and warned about in staging, naming the
			// constraint (in default: crapi's Pod Security level would
			// refuse it before the webhook sees it).
			planted := gk.Admit(t, env, []*unstructured.Unstructured{privilegedPod(t)})[0]
			want := "[privileged-containers]"
			gatekeeperWarnings, _ := splitWarnings(planted.Warnings)
			switch {
			case cluster.deny && (planted.Err == nil || !strings.Contains(planted.Err.Error(), want)):
				t.Errorf("a privileged Pod: err %v, want a refusal naming %s", planted.Err, want)
			case !cluster.deny && (planted.Err != nil || !strings.Contains(strings.Join(gatekeeperWarnings, "\n"), want)):
				t.Errorf("a privileged Pod: err %v, warnings %q, want it admitted with a warning naming %s", planted.Err, planted.Warnings, want)
			}
		})
	}
}

// releaseAlone is releaseEntry without the release's dependsOn (see
// withoutDependsOn).
func releaseAlone(t *testing.T, cluster, release string) string {
	t.Helper()
	repo := t.TempDir()
	entry := filepath.Join(repo, "entry")
	writeReleaseEntry(t, repo, entry, cluster, release, withoutDependsOn)
	return entry
}

// withoutDependsOn is the kustomize patch (a patches list item) that drops
// the dependsOn of every HelmRelease, a no-op where there is none: the
// releases one waits for are not all in the harness (cert-manager waits for
// Envoy Gateway and kube-prometheus-stack, whose chart is in no module), and
// ordering is not what these tests decide.
const withoutDependsOn = `  - target: {kind: HelmRelease}
    patch: |
      apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata: {name: any}
      spec: {dependsOn: null}
`

// admittedReleases are the HelmReleases of infra-controllers whose charts
// scripts/controllers.sh copies (Falco's, Fluent Bit's,
// kube-prometheus-stack's and Gatekeeper Policy Manager's are in no module).
var admittedReleases = []string{"cert-manager", "envoy-gateway", "eck-operator"}

// splitWarnings separates Gatekeeper's warnings ("[constraint] message")
// from the API server's own (Pod Security admission's, say).
func splitWarnings(all []string) (gatekeeper, others []string) {
	for _, w := range all {
		if strings.HasPrefix(w, "[") {
			gatekeeper = append(gatekeeper, w)
		} else {
			others = append(others, w)
		}
	}
	return gatekeeper, others
}

// privilegedPod is a Pod that breaks the privileged-containers constraint
// and no other: a pinned image of an allowed registry, limits, probes,
// non-root, read-only root filesystem, labels.
func privilegedPod(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	objs, err := utils.ReadObjects(strings.NewReader(`apiVersion: v1
kind: Pod
metadata:
  name: planted-privileged
  namespace: default
  labels: {app.kubernetes.io/name: planted, app.kubernetes.io/part-of: crapi}
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/azurelinux/base/core:3.0
      securityContext: {privileged: true}
`))
	if err != nil || len(objs) != 1 {
		t.Fatalf("planted Pod: %v", err)
	}
	return objs[0]
}

func controllersDir(t *testing.T) string {
	t.Helper()
	dir, err := testenv.ControllersDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// renderLayer renders entry (a directory in a scratch repository made by
// releaseEntry or clusterLayers) offline with the charts in chartsDir.
func renderLayer(t *testing.T, cluster, chartsDir, entry string) []*unstructured.Unstructured {
	t.Helper()
	repo := filepath.Dir(entry)
	code, out, stderr := run("render", "--offline", "--charts", chartsDir,
		"--repo", repo, "--cache-dir", t.TempDir(), entry)
	if code != ExitOK {
		t.Fatalf("%s: render %s: exit %d\n%s", cluster, entry, code, stderr)
	}
	objs, err := utils.ReadObjects(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// releaseEntry is a scratch repository whose entry is our HelmRelease of
// infrastructure (see releaseDirs) with the cluster's values: the base and
// the cluster's <release>-values.yaml patch where it has one, as the
// cluster's overlay combines them.
func releaseEntry(t *testing.T, cluster, release string) string {
	t.Helper()
	repo := t.TempDir()
	entry := filepath.Join(repo, "entry")
	writeReleaseEntry(t, repo, entry, cluster, release, "")
	return entry
}

// clusterLayers is a scratch repository holding apps/, policies/ and
// infrastructure/ and an entry with the cluster's cluster-vars and the Flux
// Kustomizations named (from clusters/<cluster>), their dependencies on
// layers not in the entry dropped.
func clusterLayers(t *testing.T, cluster string, layers ...string) string {
	t.Helper()
	repo := t.TempDir()
	for _, dir := range []string{"apps", "policies", "infrastructure"} {
		if err := os.CopyFS(filepath.Join(repo, dir), os.DirFS(filepath.Join(repoRoot, dir))); err != nil {
			t.Fatal(err)
		}
	}
	entry := filepath.Join(repo, "entry")
	src := filepath.Join(repoRoot, "clusters", cluster)
	copyFile(t, filepath.Join(src, "cluster-vars.yaml"), entry)
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ks []*unstructured.Unstructured
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := utils.ReadObjects(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, o := range objs {
			if o.GetKind() == "Kustomization" && slices.Contains(layers, o.GetName()) {
				ks = append(ks, o)
			}
		}
	}
	if len(ks) != len(layers) {
		t.Fatalf("clusters/%s: want Kustomizations %v, found %d", cluster, layers, len(ks))
	}
	names := map[string]bool{}
	for _, k := range ks {
		names[k.GetName()] = true
	}
	var docs []string
	for _, k := range ks {
		deps, _, _ := unstructured.NestedSlice(k.Object, "spec", "dependsOn")
		deps = slices.DeleteFunc(deps, func(d any) bool {
			m, ok := d.(map[string]any)
			name, _ := m["name"].(string)
			return ok && !names[name]
		})
		if len(deps) == 0 {
			unstructured.RemoveNestedField(k.Object, "spec", "dependsOn")
		} else if err := unstructured.SetNestedSlice(k.Object, deps, "spec", "dependsOn"); err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(k.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	writeFile(t, filepath.Join(entry, "flux.yaml"), strings.Join(docs, "---\n"))
	return entry
}

// copyFile copies the file src into the directory dir.
func copyFile(t *testing.T, src, dir string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, filepath.Base(src)), string(b))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
