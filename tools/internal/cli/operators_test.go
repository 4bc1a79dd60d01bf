package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/podenv"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// operator is one of the controllers whose workloads our constraints must
// admit: its HelmRelease (infrastructure/controllers/base/<release>),
// rendered with the cluster's values from the chart copy
// scripts/controllers.sh made, and run as that render's workload would run.
type operator struct {
	release string
	// controller is the binary scripts/controllers.sh builds.
	controller string
	// workload is the rendered Deployment or StatefulSet that runs it.
	workload schema.GroupKind
	name     string
	// args edits its arguments, with the reason next to it.
	args func([]string) []string
	// jobs of the render that run to completion before it (Helm hooks).
	jobs []string
	// makes: the kind and label selector of what it creates from the
	// custom resources of infra-configs.
	makes    schema.GroupKind
	selector client.MatchingLabels
	// want: how many it makes at least (0: one).
	want int
	// writable: paths every container of what it makes writes to, which
	// must be emptyDir mounts where the root file system is read-only.
	writable []string
	// start runs an operator whose chart the harness cannot render
	// (prometheus_operator_test.go), instead of the workload of the
	// release's render; it returns the operator and the objects it
	// reconciles, to apply.
	start func(t *testing.T, cluster, chartsDir string, env *testenv.Env) (*testenv.Controller, []*unstructured.Unstructured)
}

var operators = []operator{
	{
		release: "envoy-gateway", controller: "envoy-gateway",
		workload: schema.GroupKind{Group: "apps", Kind: "Deployment"}, name: "envoy-gateway",
		// The chart's certgen hook Job writes the certificates of the
		// xDS server and the proxies (Secrets envoy-gateway, envoy, ...).
		jobs: []string{"envoy-gateway-gateway-helm-certgen"},
		// One proxy Deployment per Gateway.
		makes:    schema.GroupKind{Group: "apps", Kind: "Deployment"},
		selector: client.MatchingLabels{"app.kubernetes.io/managed-by": "envoy-gateway", "app.kubernetes.io/component": "proxy"},
		// Envoy's temporary files and the shutdown-manager's
		// /tmp/shutdown-ready (envoyproxy/gateway#8911).
		writable: []string{"/tmp"},
	},
	{
		release: "eck-operator", controller: "eck-operator",
		workload: schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, name: "elastic-operator",
		// The operator's validating webhook is off: the chart registers
		// it with failurePolicy Ignore (on a cluster, an unreachable
		// webhook changes nothing), and serving it would need its
		// Service's endpoint and certificate made as for Gatekeeper's.
		args: func(args []string) []string { return append(args, "--enable-webhook=false") },
		// One StatefulSet per node set.
		makes:    schema.GroupKind{Group: "apps", Kind: "StatefulSet"},
		selector: client.MatchingLabels{"common.k8s.elastic.co/type": "elasticsearch"},
	},
	{
		release: kpsRelease, controller: "prometheus-operator", start: startPrometheusOperator,
		// The Prometheus and the Alertmanager StatefulSets.
		makes:    schema.GroupKind{Group: "apps", Kind: "StatefulSet"},
		selector: client.MatchingLabels{"app.kubernetes.io/managed-by": "prometheus-operator"},
		want:     2,
	},
}

// startOperators renders each operator's release for cluster, installs what
// the release installs but its workloads (CRDs first), runs its hook Jobs
// and then the operator as processes, applies the objects of infra-configs whose
// kinds are served (the Gateway, the Elasticsearch cluster, ...), and waits
// until each operator has made its workloads, which it returns (as the API
// server holds them, ready to be sent through admission again).
func startOperators(t *testing.T, cluster, chartsDir string, env *testenv.Env, configs []*unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	c := env.Client(t)
	running := map[string]*testenv.Controller{}
	var reconciled []*unstructured.Unstructured
	for _, op := range operators {
		if op.start != nil {
			var objs []*unstructured.Unstructured
			running[op.release], objs = op.start(t, cluster, chartsDir, env)
			reconciled = append(reconciled, objs...)
			continue
		}
		rendered := renderLayer(t, cluster, chartsDir, releaseEntry(t, cluster, op.release))
		// What helm-controller installs, but the workloads, which the
		// harness runs as processes: the CRDs, then the rest (RBAC,
		// configuration, webhook configurations the Jobs patch).
		var crds, rest []*unstructured.Unstructured
		for _, u := range rendered {
			switch gk := u.GroupVersionKind().GroupKind(); {
			case gk == schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
				crds = append(crds, u)
			case gk.Group == "apps" || gk.Group == "batch" || strings.HasSuffix(gk.Group, ".toolkit.fluxcd.io"):
			default:
				rest = append(rest, u)
			}
		}
		testenv.CreateUnstructuredCRDs(t, c, crds...)
		for _, namespaces := range []bool{true, false} {
			for _, u := range rest {
				if (u.GetKind() == "Namespace") == namespaces {
					applyAs(t, c, flux.HelmController, u)
				}
			}
		}
		workload := findObject(rendered, op.workload, op.name)
		if workload == nil {
			t.Fatalf("%s: the render of %s has no %s %s", cluster, op.release, op.workload.Kind, op.name)
		}
		for _, name := range op.jobs {
			job := findObject(rendered, schema.GroupKind{Group: "batch", Kind: "Job"}, name)
			if job == nil {
				t.Fatalf("%s: the render of %s has no Job %s", cluster, op.release, name)
			}
			opts := podenv.Options{Controller: op.controller, Workload: job, Objects: rendered}
			if err := podenv.Complete(t, env, opts, time.Minute); err != nil {
				t.Fatalf("%s: Job %s: %v", cluster, name, err)
			}
		}
		running[op.release] = podenv.Run(t, env, podenv.Options{
			Controller: op.controller, Workload: workload, Objects: rendered, Args: op.args,
		})
	}

	// What the operators reconcile, as kustomize-controller applies it
	// (and helm-controller, the chart's objects of the chartless ones);
	// kinds without a CRD here (cert-manager's) are left out. Secrets
	// External Secrets would make are made with test values: the
	// operators read them.
	applied := append(externalSecretTargets(t, configs), configs...)
	applied = append(applied, reconciled...)
	testenv.CreateNamespaces(t, c, testenv.NamespacesOf(applied)...)
	for _, u := range applied {
		if err := c.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(u.DeepCopy()),
			client.FieldOwner(flux.KustomizeController), client.ForceOwnership); err != nil && !meta.IsNoMatchError(err) {
			t.Fatalf("%s: apply %s %s/%s: %v", cluster, u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}

	var made []*unstructured.Unstructured
	for _, op := range operators {
		objs := waitMade(t, c, op, running[op.release])
		for _, u := range objs {
			for _, problem := range unwritable(u, op.writable) {
				t.Errorf("%s %s/%s (made by %s): %s", u.GetKind(), u.GetNamespace(), u.GetName(), op.controller, problem)
			}
		}
		made = append(made, objs...)
	}
	return made
}

// unwritable names each container of a workload with a read-only root file
// system but no emptyDir mounted at one of paths.
func unwritable(u *unstructured.Unstructured, paths []string) []string {
	var problems []string
	spec, _, _ := unstructured.NestedMap(u.Object, "spec", "template", "spec")
	emptyDirs := map[string]bool{}
	volumes, _, _ := unstructured.NestedSlice(spec, "volumes")
	for _, v := range volumes {
		if m, ok := v.(map[string]any); ok && m["emptyDir"] != nil {
			emptyDirs[fmt.Sprint(m["name"])] = true
		}
	}
	containers, _, _ := unstructured.NestedSlice(spec, "containers")
	for _, c := range containers {
		m, _ := c.(map[string]any)
		if ro, _, _ := unstructured.NestedBool(m, "securityContext", "readOnlyRootFilesystem"); !ro {
			continue
		}
		mounts, _, _ := unstructured.NestedSlice(m, "volumeMounts")
		for _, path := range paths {
			found := false
			for _, mount := range mounts {
				mm, _ := mount.(map[string]any)
				found = found || (mm["mountPath"] == path && emptyDirs[fmt.Sprint(mm["name"])])
			}
			if !found {
				problems = append(problems, fmt.Sprintf("container %v has a read-only root file system and no emptyDir at %s, which it writes to", m["name"], path))
			}
		}
	}
	return problems
}

// waitMade waits until op has made at least op.want objects of its kind
// (one when unset) and returns them, stripped of what the server keeps (status, managed fields).
func waitMade(t *testing.T, c client.Client, op operator, running *testenv.Controller) []*unstructured.Unstructured {
	t.Helper()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(schema.GroupVersionKind{Group: op.makes.Group, Version: "v1", Kind: op.makes.Kind + "List"})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		err := c.List(t.Context(), list, op.selector)
		if err == nil && len(list.Items) >= max(op.want, 1) {
			break
		}
		if err := running.Exited(); err != nil {
			t.Fatalf("%s: %v", op.controller, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s made %d of %d %s matching %v in 3 minutes (list: %v)\n%s", op.controller, len(list.Items), max(op.want, 1), op.makes.Kind, op.selector, err, running.Tail(30))
		}
		time.Sleep(time.Second)
	}
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		u := &list.Items[i]
		unstructured.RemoveNestedField(u.Object, "status")
		for _, f := range []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"} {
			unstructured.RemoveNestedField(u.Object, "metadata", f)
		}
		out = append(out, u)
	}
	return out
}

// externalSecretTargets is, for each ExternalSecret in objs, the Secret
// External Secrets would make: its target's name and type, and a key for
// each template data key (or each secretKey) with a value made here.
func externalSecretTargets(t *testing.T, objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, es := range objs {
		if es.GetKind() != "ExternalSecret" || es.GroupVersionKind().Group != "external-secrets.io" {
			continue
		}
		name, _, _ := unstructured.NestedString(es.Object, "spec", "target", "name")
		if name == "" {
			name = es.GetName()
		}
		typ, _, _ := unstructured.NestedString(es.Object, "spec", "target", "template", "type")
		data := map[string]any{}
		tmpl, _, _ := unstructured.NestedMap(es.Object, "spec", "target", "template", "data")
		for k, v := range tmpl {
			s, _ := v.(string)
			if strings.Contains(s, "{{") {
				s = "harness-" + k
			}
			data[k] = s
		}
		if len(tmpl) == 0 {
			refs, _, _ := unstructured.NestedSlice(es.Object, "spec", "data")
			for _, r := range refs {
				if m, ok := r.(map[string]any); ok {
					data[fmt.Sprint(m["secretKey"])] = "harness-" + fmt.Sprint(m["secretKey"])
				}
			}
		}
		s := &unstructured.Unstructured{Object: map[string]any{"stringData": data}}
		s.SetAPIVersion("v1")
		s.SetKind("Secret")
		s.SetName(name)
		s.SetNamespace(es.GetNamespace())
		if typ != "" {
			s.Object["type"] = typ
		}
		out = append(out, s)
	}
	return out
}

func findObject(objs []*unstructured.Unstructured, gk schema.GroupKind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GroupVersionKind().GroupKind() == gk && u.GetName() == name {
			return u
		}
	}
	return nil
}

// applyAs applies u with the field manager of a Flux controller.
func applyAs(t *testing.T, c client.Client, manager string, u *unstructured.Unstructured) {
	t.Helper()
	if err := c.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(u.DeepCopy()),
		client.FieldOwner(manager), client.ForceOwnership); err != nil {
		t.Fatalf("apply %s %s: %v", u.GetKind(), u.GetName(), err)
	}
}
