package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/ssa/utils"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aks-gitops/platform/tools/internal/fluxenv"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// fluxFixtures are the render fixtures Flux's own controllers reconcile in
// TestRenderMatchesFlux. The others cannot converge on a cluster, by design:
// they need a HelmRelease's output (helm-controller does not run here),
// other sources or charts (helm, chart-options, local-charts, shared-chart,
// sources, output-dir, crd-integers), they are meant to fail (errors,
// strict, dependencies: a dependsOn cycle; substitution: a quoted "${VAR}"
// in ConfigMap data becomes the number 3 in Flux's substitution as in the
// render, and the API server refuses it), they substitute from a Secret
// the cluster must provide, which the render replaces with placeholders
// (secrets), or they render with a flag Flux has no counterpart for
// (nonstrict: --strict-substitution=false; kustomize-controller is strict),
// or their entry is applied by hand (bootstrap-root: the live root carries
// no kustomize-controller labels, which the render's synthetic entry gives
// it).
var fluxFixtures = []string{"kustomizations", "sourceignore", "show-secrets"}

// TestRenderMatchesFlux is the render checked against Flux itself: each
// fixture is served from a Git server on loopback and reconciled by
// source-controller and kustomize-controller (real processes, the versions
// of our Flux API modules, kustomize-controller with the multi-tenancy the
// AKS extension enforces) on a real API server, until every Kustomization
// the render has is Ready. Then the live diff of the same entry must find
// every rendered object unchanged and nothing to prune: the objects
// kustomize-controller applied (its inventories) are exactly the render's,
// and each live object, defaulted by the server, equals what applying the
// rendered one would leave, field for field.
func TestRenderMatchesFlux(t *testing.T) {
	e := localEnv(t)
	for _, name := range fluxFixtures {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, filepath.Join("testdata", "render", name+".txtar"), e)
			entry := f.args[len(f.args)-1]
			rel, err := filepath.Rel(f.repo, entry)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Fatalf("fixture %s: the entry %s is not in the repository", name, entry)
			}
			// --show-secrets is render's alone.
			flags := append([]string{"--repo", f.repo, "--cache-dir", t.TempDir()},
				slices.DeleteFunc(slices.Clone(f.args[:len(f.args)-1]), func(a string) bool { return a == "--show-secrets" })...)

			code, rendered, stderr := run(append(append([]string{"render", "--show-secrets"}, flags...), entry)...)
			if code != ExitOK {
				t.Fatalf("render: exit %d\n%s", code, stderr)
			}
			objs, err := utils.ReadObjects(strings.NewReader(rendered))
			if err != nil {
				t.Fatal(err)
			}
			want, namespaces := renderedKustomizations(objs)

			env := testenv.Start(t)
			flux := fluxenv.Start(t, env, fluxenv.AKSExtension())
			// The fixtures, like many entries, apply into namespaces
			// they do not create: a real cluster has them beforehand.
			flux.CreateNamespaces(t, namespaces...)
			url := flux.ServeRepo(t, f.repo, name)
			flux.Sync(t, url, "./"+filepath.ToSlash(rel), objs)
			start := time.Now()
			flux.WaitReady(t, "Kustomization", want, 2*time.Minute)
			t.Logf("%d Kustomizations Ready in %s", len(want), time.Since(start).Round(time.Millisecond))

			liveDiff := func() (int, []liveResult) {
				t.Helper()
				code, out, stderr := run(append(append([]string{"diff", "--live", "--kubeconfig", env.Kubeconfig(), "--format", "json"}, flags...), entry)...)
				var doc struct {
					Clusters []struct{ Results []liveResult }
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Clusters) != 1 {
					t.Fatalf("diff --live: exit %d, %v\n%s%s", code, err, out, stderr)
				}
				// Nothing reconciles HelmReleases here.
				return code, slices.DeleteFunc(doc.Clusters[0].Results, func(r liveResult) bool { return strings.HasPrefix(r.Origin, "HelmRelease/") })
			}
			code, results := liveDiff()
			if code != ExitOK {
				t.Errorf("diff --live right after reconciliation: exit %d, want %d", code, ExitOK)
			}
			for _, r := range results {
				if r.Status != "unchanged" {
					t.Errorf("%s %s/%s/%s (%s): %s %s %+v", r.Status, r.ID.Kind, r.ID.Namespace, r.ID.Name, r.Origin, r.Reason, r.ID.Group, r.Fields)
				}
			}
			n := len(results)
			if n == 0 {
				t.Error("the live diff compared no object")
			}
			if name != "kustomizations" {
				t.Logf("%d objects applied by Flux equal to the render", n)
				return
			}

			// Drift planted behind Flux's back: a value Flux applied is
			// changed; the live diff names the object and the field.
			id, path := plantDrift(t, env, results)
			code, results = liveDiff()
			i := slices.IndexFunc(results, func(r liveResult) bool { return r.ID == id })
			switch {
			case code != ExitFindings:
				t.Errorf("diff --live after planting drift: exit %d, want %d", code, ExitFindings)
			case i < 0 || results[i].Status != "drifted" || len(results[i].Fields) != 1 || results[i].Fields[0].Path != path:
				t.Errorf("diff --live after planting drift in ConfigMap %s/%s %s: %+v", id.Namespace, id.Name, path, results)
			}
			t.Logf("%d objects applied by Flux equal to the render", n)
		})
	}
}

// liveResult is one result of `diff --live --format json`.
type liveResult struct {
	Status, Origin, Reason string
	ID                     liveID
	Fields                 []struct{ Path, Op, Old, New string }
}

type liveID struct{ Group, Kind, Namespace, Name string }

// plantDrift changes the first data value of the first ConfigMap among
// results that has data, as a person with kubectl edit would, and returns
// the ConfigMap and the field's path.
func plantDrift(t *testing.T, env *testenv.Env, results []liveResult) (id liveID, path string) {
	t.Helper()
	c := env.Client(t)
	for _, r := range results {
		if r.ID.Kind != "ConfigMap" || r.ID.Group != "" {
			continue
		}
		cm := &corev1.ConfigMap{}
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: r.ID.Namespace, Name: r.ID.Name}, cm); err != nil {
			t.Fatal(err)
		}
		keys := slices.Sorted(maps.Keys(cm.Data))
		if len(keys) == 0 {
			continue
		}
		cm.Data[keys[0]] += "-changed-behind-flux"
		if err := c.Update(t.Context(), cm); err != nil {
			t.Fatal(err)
		}
		return r.ID, "data." + keys[0]
	}
	t.Fatal("no ConfigMap with data to plant drift in")
	return liveID{}, ""
}

// renderedKustomizations names (namespace/name) the sync Kustomization and
// every Flux Kustomization in a rendered stream, and the namespaces its
// objects are in that it does not create.
func renderedKustomizations(objs []*unstructured.Unstructured) (kustomizations, namespaces []string) {
	kustomizations = []string{fluxenv.Namespace + "/flux-system"}
	created := map[string]bool{fluxenv.Namespace: true}
	for _, o := range objs {
		if o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" {
			created[o.GetName()] = true
		}
	}
	for _, o := range objs {
		if o.GetKind() == "Kustomization" && strings.HasPrefix(o.GetAPIVersion(), "kustomize.toolkit.fluxcd.io/") {
			kustomizations = append(kustomizations, fmt.Sprintf("%s/%s", o.GetNamespace(), o.GetName()))
		}
		if ns := o.GetNamespace(); ns != "" && !created[ns] {
			created[ns] = true
			namespaces = append(namespaces, ns)
		}
	}
	slices.Sort(kustomizations)
	slices.Sort(namespaces)
	return slices.Compact(kustomizations), namespaces
}
