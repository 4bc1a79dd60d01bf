// Package fluxenv runs Flux's own source-controller and kustomize-controller
// (built from the Go module proxy by scripts/controllers.sh, at the versions
// of the Flux API modules in go.mod) against a testenv API server, with a Git
// server on loopback, so that a test can have Flux reconcile a cluster entry
// for real and compare what Flux applied with what the tool renders.
//
// kustomize-controller (and helm-controller, when asked for) run with the
// flags the AKS microsoft.flux extension sets for multi-tenancy when asked
// (AKSExtension).
package fluxenv

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	fluxmeta "github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/gittestserver"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/schemas"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// Namespace is where the controllers run and the sync objects live.
const Namespace = "flux-system"

// AKSExtension returns how the AKS microsoft.flux extension runs the controllers
// by default (multiTenancy.enforce true): no cross-namespace references, and
// every Kustomization without spec.serviceAccountName applied as the
// ServiceAccount flux-applier of its own namespace, which the extension
// creates in the fluxConfiguration's namespace bound to cluster-admin
// (ClusterRoleBinding flux-applier-binding). Sources: the extension's
// documentation (learn.microsoft.com, "GitOps Flux v2 configurations with
// AKS and Azure Arc-enabled Kubernetes", multi-tenancy; opting out is
// multiTenancy.enforce=false) and fluxcd/flux2#3182, where a release in
// namespace default is refused as system:serviceaccount:default:flux-applier
// while flux-applier-binding binds flux-system's flux-applier to
// cluster-admin.
func AKSExtension() Options {
	return Options{DefaultServiceAccount: "flux-applier", NoCrossNamespaceRefs: true}
}

// Options configure the controllers.
type Options struct {
	// DefaultServiceAccount, when set, is the appliers'
	// --default-service-account: Kustomizations and HelmReleases without
	// spec.serviceAccountName apply as that ServiceAccount of their own
	// namespace. Start creates it in Namespace, bound to cluster-admin
	// (the extension does no more: other namespaces need their own).
	DefaultServiceAccount string
	// NoCrossNamespaceRefs is the appliers' --no-cross-namespace-refs.
	NoCrossNamespaceRefs bool
	// HelmController also runs helm-controller, with the same two
	// flags: HelmReleases are installed for real.
	HelmController bool
}

// Flux is source-controller and kustomize-controller (and helm-controller)
// running against an API server, and a Git server they can clone from.
type Flux struct {
	Client client.Client
	git    *gittestserver.GitServer
	// controllers by name: source-controller, kustomize-controller, ...
	controllers map[string]*testenv.Controller
}

// Start installs the Flux CRDs (those the tool validates against, generated
// from the Flux API modules) and the flux-system namespace, starts the Git
// server and both controllers, and stops everything when t ends.
func Start(t testing.TB, env *testenv.Env, opts Options) *Flux {
	t.Helper()
	f := &Flux{Client: env.Client(t)}
	f.installCRDs(t)
	f.CreateNamespaces(t, Namespace)
	if opts.DefaultServiceAccount != "" {
		f.createApplier(t, opts.DefaultServiceAccount)
	}

	git, err := gittestserver.NewTempGitServer()
	if err != nil {
		t.Fatalf("fluxenv: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(git.Root()) })
	if err := git.StartHTTP(); err != nil {
		t.Fatalf("fluxenv: %v", err)
	}
	t.Cleanup(git.StopHTTP)
	f.git = git

	common := []string{
		"--enable-leader-election=false",
		"--metrics-addr=127.0.0.1:0",
		"--health-addr=127.0.0.1:0",
		"--log-encoding=console",
		"--watch-all-namespaces=true",
		// Dependencies are re-checked every 2 s instead of 30 s: the test
		// waits for a chain of Kustomizations.
		"--requeue-dependency=2s",
	}
	runtimeNS := []string{"RUNTIME_NAMESPACE=" + Namespace}
	ports, err := testenv.FreePorts(1)
	if err != nil {
		t.Fatalf("fluxenv: %v", err)
	}
	storage := "127.0.0.1:" + strconv.Itoa(ports[0])
	f.controllers = map[string]*testenv.Controller{
		sourceController: env.StartController(t, sourceController, runtimeNS, append(slices.Clone(common),
			"--storage-path="+t.TempDir(),
			"--storage-addr="+storage,
			"--storage-adv-addr="+storage,
		)...),
	}
	appliers := []string{flux.KustomizeController}
	if opts.HelmController {
		appliers = append(appliers, flux.HelmController)
	}
	for _, name := range appliers {
		args := slices.Clone(common)
		if opts.NoCrossNamespaceRefs {
			args = append(args, "--no-cross-namespace-refs=true")
		}
		if opts.DefaultServiceAccount != "" {
			args = append(args, "--default-service-account="+opts.DefaultServiceAccount)
		}
		f.controllers[name] = env.StartController(t, name, runtimeNS, args...)
	}
	return f
}

const sourceController = "source-controller"

// createApplier creates the ServiceAccount name in Namespace and binds it
// to cluster-admin, as the AKS extension does for flux-applier.
func (f *Flux) createApplier(t testing.TB, name string) {
	t.Helper()
	objs := []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace}},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-binding"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: Namespace}},
		},
	}
	for _, o := range objs {
		if err := f.Client.Create(t.Context(), o); err != nil {
			t.Fatalf("fluxenv: %v", err)
		}
	}
}

// installCRDs creates the Flux CRDs and waits until they are established.
func (f *Flux) installCRDs(t testing.TB) {
	t.Helper()
	b, err := schemas.Flux()
	if err != nil {
		t.Fatalf("fluxenv: %v", err)
	}
	testenv.CreateUnstructuredCRDs(t, f.Client, b.Objects()...)
}

// CreateNamespaces creates the namespaces names.
func (f *Flux) CreateNamespaces(t testing.TB, names ...string) {
	t.Helper()
	testenv.CreateNamespaces(t, f.Client, names...)
}

// ServeRepo commits the tree under dir to branch main of a new repository
// on the Git server and returns its URL.
func (f *Flux) ServeRepo(t testing.TB, dir, name string) string {
	t.Helper()
	if err := f.git.InitRepo(dir, "main", name+".git"); err != nil {
		t.Fatalf("fluxenv: serve %s: %v", dir, err)
	}
	return f.git.HTTPAddress() + "/" + name + ".git"
}

// Sync creates what `flux bootstrap` (or the AKS extension's
// fluxConfiguration) creates to reconcile an entry: the GitRepository
// flux-system/flux-system on url's main branch and the Kustomization
// flux-system/flux-system applying path with prune. When the render of the
// entry holds either object, the cluster has it as the render says (a
// bootstrapped cluster applies its own sync objects): the GitRepository's
// spec.ignore is kept, and a Kustomization flux-system/flux-system that
// builds another path (a bootstrap root applied by hand) replaces the sync
// Kustomization.
func (f *Flux) Sync(t testing.TB, url, path string, rendered []*unstructured.Unstructured) {
	t.Helper()
	repo := map[string]any{"interval": "1m", "url": url, "ref": map[string]any{"branch": "main"}}
	ks := map[string]any{
		"interval": "1m", "retryInterval": "2s", "path": path, "prune": true,
		"sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system"},
	}
	for _, u := range rendered {
		if u.GetNamespace() != Namespace || u.GetName() != "flux-system" {
			continue
		}
		switch u.GroupVersionKind().GroupKind().String() {
		case "GitRepository.source.toolkit.fluxcd.io":
			if ignore, ok, _ := unstructured.NestedString(u.Object, "spec", "ignore"); ok {
				repo["ignore"] = ignore
			}
		case "Kustomization.kustomize.toolkit.fluxcd.io":
			spec, _, _ := unstructured.NestedMap(u.Object, "spec")
			ks = spec
		}
	}
	for _, o := range []struct {
		apiVersion, kind string
		spec             map[string]any
	}{
		{"source.toolkit.fluxcd.io/v1", "GitRepository", repo},
		{"kustomize.toolkit.fluxcd.io/v1", "Kustomization", ks},
	} {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": o.spec}}
		u.SetAPIVersion(o.apiVersion)
		u.SetKind(o.kind)
		u.SetNamespace(Namespace)
		u.SetName("flux-system")
		if err := f.Client.Create(t.Context(), u); err != nil {
			t.Fatalf("fluxenv: create %s: %v", u.GetKind(), err)
		}
	}
}

// Kinds of Flux objects WaitReady waits for, with the API version served.
var apiVersions = map[string]string{
	flux.KustomizationKind: kustomizev1.GroupVersion.String(),
	flux.HelmReleaseKind:   helmv2.GroupVersion.String(),
}

// state is one Flux object's Ready condition.
type state struct {
	Namespace, Name string
	Ready           bool
	Reason, Message string
}

// states lists every Flux object of kind with its Ready condition.
func (f *Flux) states(t testing.TB, kind string) []state {
	t.Helper()
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion(apiVersions[kind])
	list.SetKind(kind + "List")
	if err := f.Client.List(t.Context(), list); err != nil {
		t.Fatalf("fluxenv: list %ss: %v", kind, err)
	}
	out := make([]state, 0, len(list.Items))
	for _, u := range list.Items {
		k := state{Namespace: u.GetNamespace(), Name: u.GetName()}
		observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == fluxmeta.ReadyCondition {
				k.Ready = m["status"] == string(metav1.ConditionTrue) && observed == u.GetGeneration()
				k.Reason, _ = m["reason"].(string)
				k.Message, _ = m["message"].(string)
			}
		}
		out = append(out, k)
	}
	return out
}

// WaitReady waits until every Flux object of kind (Kustomization or
// HelmRelease) named in want (namespace/name) exists and is Ready for its
// current generation, failing t with each one that is not, its reason and
// message, and the end of the controller's log after timeout. Every few
// seconds it asks for a reconcile of each one that failed, as `flux
// reconcile` does: a Kustomization that ran before what it needs was applied
// (a ConfigMap it substitutes from, say) would otherwise wait for its retry
// interval.
func (f *Flux) WaitReady(t testing.TB, kind string, want []string, timeout time.Duration) {
	t.Helper()
	applier := f.controllers[flux.Applier(kind)]
	if applier == nil || apiVersions[kind] == "" {
		t.Fatalf("fluxenv: no controller reconciles %s here", kind)
	}
	deadline := time.Now().Add(timeout)
	nextRequest := time.Now().Add(retryEvery)
	for {
		objs := f.states(t, kind)
		var waiting []string
		for _, name := range want {
			i := slices.IndexFunc(objs, func(k state) bool { return k.Namespace+"/"+k.Name == name })
			switch {
			case i < 0:
				waiting = append(waiting, name+": not created")
			case !objs[i].Ready:
				waiting = append(waiting, fmt.Sprintf("%s: %s: %s", name, objs[i].Reason, objs[i].Message))
			}
		}
		if len(waiting) == 0 {
			return
		}
		for _, c := range f.controllers {
			if err := c.Exited(); err != nil {
				t.Fatalf("fluxenv: %v", err)
			}
		}
		if time.Now().After(nextRequest) {
			f.requestReconcile(t, kind, slices.DeleteFunc(objs, func(k state) bool {
				return !slices.Contains(want, k.Namespace+"/"+k.Name)
			}))
			nextRequest = time.Now().Add(retryEvery)
		}
		if time.Now().After(deadline) {
			t.Fatalf("fluxenv: after %s, %ss not Ready:\n  %s\n%s:\n%s", timeout, kind, strings.Join(waiting, "\n  "), flux.Applier(kind), applier.Tail(30))
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// retryEvery is how often WaitReady asks for the failed objects to be
// reconciled again.
const retryEvery = 3 * time.Second

// requestReconcile sets the reconcile.fluxcd.io/requestedAt annotation on
// each object of objs whose last reconciliation failed (and resetAt on a
// HelmRelease).
func (f *Flux) requestReconcile(t testing.TB, kind string, objs []state) {
	t.Helper()
	for _, k := range objs {
		if k.Ready || k.Reason == "" || k.Reason == fluxmeta.ProgressingReason || k.Reason == fluxmeta.DependencyNotReadyReason {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersions[kind])
		u.SetKind(kind)
		u.SetNamespace(k.Namespace)
		u.SetName(k.Name)
		// A HelmRelease whose remediation retries ran out waits for a
		// reset as well (`flux reconcile helmrelease --reset`).
		now := time.Now().Format(time.RFC3339Nano)
		annotations := map[string]string{fluxmeta.ReconcileRequestAnnotation: now}
		if kind == flux.HelmReleaseKind {
			annotations[helmv2.ResetRequestAnnotation] = now
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
		if err != nil {
			t.Fatal(err)
		}
		// The request may be refused for a while (a webhook that fails
		// closed before its pods serve it): the next round asks again.
		if err := f.Client.Patch(t.Context(), u, client.RawPatch(types.MergePatchType, patch)); err != nil {
			t.Logf("fluxenv: request a reconcile of %s %s/%s: %v", kind, k.Namespace, k.Name, err)
		}
	}
}
