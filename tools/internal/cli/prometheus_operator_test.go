package cli

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// The kube-prometheus-stack chart is in no Go module and cannot be
// downloaded here, so the harness cannot render it. What its Prometheus and
// Alertmanager objects hold is modelled below from its templates at 88.5.3
// (templates/prometheus/prometheus.yaml, templates/alertmanager/
// alertmanager.yaml, templates/prometheus-operator/deployment.yaml) and the
// defaults of its values.yaml, with our HelmRelease's values on top. Only
// what shapes the pods is modelled; a value of ours the model does not know
// fails the test, so a new value cannot slip past it unproven. The operator
// itself is real: prometheus-operator v0.93.1, the chart's app version,
// built by scripts/controllers.sh, makes the StatefulSets.

// kpsRelease is the chart's release name, which its object names derive
// from (the chart's fullname: the release name, as it holds the chart
// name).
const kpsRelease = "kube-prometheus-stack"

// kpsDefaults are the chart defaults (values.yaml at 88.5.3) of the keys
// the model reads.
var kpsDefaults = struct {
	prometheusImage, alertmanagerImage, configReloader, thanos string
	securityContext                                            map[string]any
}{
	prometheusImage:   "quay.io/prometheus/prometheus:v3.14.0-distroless",
	alertmanagerImage: "quay.io/prometheus/alertmanager:v0.34.0",
	// prometheusOperator.prometheusConfigReloader.image: the chart's
	// appVersion when no tag is set.
	configReloader: "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1",
	thanos:         "quay.io/thanos/thanos:v0.42.4",
	// prometheusSpec.securityContext and alertmanagerSpec.securityContext.
	securityContext: map[string]any{
		"runAsGroup": int64(2000), "runAsNonRoot": true, "runAsUser": int64(1000), "fsGroup": int64(2000),
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	},
}

// kpsPassThrough are the keys of prometheusSpec / alertmanagerSpec the
// chart's templates copy to the object's spec unchanged; kpsSelectors the
// Prometheus selectors the chart sets from the <selector>NilUsesHelmValues
// switches (true, the default: the release's label; false: everything).
// With a selector set the operator writes Prometheus's configuration, a
// Secret the pod mounts.
var (
	kpsPassThrough = []string{
		"replicas", "retention", "retentionSize", "externalLabels", "externalUrl", "resources",
		"securityContext", "secrets", "configMaps", "nodeSelector", "tolerations", "affinity",
		"containers", "initContainers", "volumes", "volumeMounts", "priorityClassName", "podMetadata",
	}
	kpsSelectors = []string{"serviceMonitorSelector", "podMonitorSelector", "probeSelector", "ruleSelector", "scrapeConfigSelector"}
)

// kpsObjects renders our kube-prometheus-stack HelmRelease for cluster (the
// object, with the cluster's values, not the chart) and returns the
// operator's arguments and the Prometheus and Alertmanager objects the
// chart would make of its values.
func kpsObjects(t *testing.T, cluster string) (args []string, objs []*unstructured.Unstructured) {
	t.Helper()
	entry := releaseEntry(t, cluster, kpsRelease)
	// The chart is not there: the render fails for the release, and
	// --partial still writes the HelmRelease object itself.
	code, out, stderr := run("render", "--offline", "--partial", "--charts", t.TempDir(),
		"--repo", filepath.Dir(entry), "--cache-dir", t.TempDir(), entry)
	if code != ExitError && code != ExitOK {
		t.Fatalf("%s: render %s: exit %d\n%s", cluster, kpsRelease, code, stderr)
	}
	rendered, err := utils.ReadObjects(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	for _, u := range rendered {
		if u.GetKind() == "HelmRelease" && u.GetName() == kpsRelease {
			values, _, _ = unstructured.NestedMap(u.Object, "spec", "values")
		}
	}
	if values == nil {
		t.Fatalf("%s: the render has no HelmRelease %s:\n%s", cluster, kpsRelease, stderr)
	}

	reloader, _, _ := unstructured.NestedMap(values, "prometheusOperator", "prometheusConfigReloader", "resources")
	quantity := func(kind, resource string) string {
		if v, ok, _ := unstructured.NestedFieldNoCopy(reloader, kind, resource); ok {
			return fmt.Sprint(v)
		}
		return "0"
	}
	// templates/prometheus-operator/deployment.yaml with our values (none
	// of the prometheusOperator keys it reads is set but the reloader's
	// resources).
	args = []string{
		"--kubelet-service=kube-system/" + kpsRelease + "-kubelet",
		"--kubelet-endpoints=true",
		"--kubelet-endpointslice=false",
		"--localhost=127.0.0.1",
		"--prometheus-config-reloader=" + kpsDefaults.configReloader,
		"--config-reloader-cpu-request=" + quantity("requests", "cpu"),
		"--config-reloader-cpu-limit=" + quantity("limits", "cpu"),
		"--config-reloader-memory-request=" + quantity("requests", "memory"),
		"--config-reloader-memory-limit=" + quantity("limits", "memory"),
		"--thanos-default-base-image=" + kpsDefaults.thanos,
		"--secret-field-selector=type!=kubernetes.io/dockercfg,type!=kubernetes.io/service-account-token,type!=helm.sh/release.v1",
		// Here, not in the chart: the metrics port of a process on the
		// test host.
		"--web.listen-address=127.0.0.1:0",
	}

	for _, c := range []struct {
		kind, key, suffix, image, port string
	}{
		{"Prometheus", "prometheus", "-prometheus", kpsDefaults.prometheusImage, "http-web"},
		{"Alertmanager", "alertmanager", "-alertmanager", kpsDefaults.alertmanagerImage, "http-web"},
	} {
		given, _, _ := unstructured.NestedMap(values, c.key, c.key+"Spec")
		_, version, _ := strings.Cut(c.image, ":")
		spec := map[string]any{
			"image":              c.image,
			"version":            version,
			"replicas":           int64(1),
			"serviceAccountName": kpsRelease + c.suffix,
			"portName":           c.port,
			"securityContext":    kpsDefaults.securityContext,
			"podMetadata":        map[string]any{"labels": map[string]any{"app.kubernetes.io/name": c.key}},
		}
		if c.kind == "Prometheus" {
			for _, sel := range kpsSelectors {
				spec[sel] = map[string]any{"matchLabels": map[string]any{"release": kpsRelease}}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(given)) {
			sel, nilUsesHelm := strings.CutSuffix(k, "NilUsesHelmValues")
			switch {
			case slices.Contains(kpsPassThrough, k):
				spec[k] = given[k]
			case k == "storageSpec" || k == "storage":
				// Both become spec.storage.
				spec["storage"] = given[k]
			case c.kind == "Prometheus" && nilUsesHelm && slices.Contains(kpsSelectors, sel):
				if given[k] == false {
					spec[sel] = map[string]any{}
				}
			default:
				t.Fatalf("%s: %s.%sSpec.%s: a value the model of the chart does not know (tools/internal/cli/prometheus_operator_test.go)", cluster, c.key, c.key, k)
			}
		}
		u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
		u.SetAPIVersion("monitoring.coreos.com/v1")
		u.SetKind(c.kind)
		u.SetName(kpsRelease + c.suffix)
		u.SetNamespace("monitoring")
		u.SetLabels(map[string]string{"app": kpsRelease + c.suffix, "release": kpsRelease, "app.kubernetes.io/managed-by": "Helm"})
		objs = append(objs, u)
	}
	return args, objs
}

// startPrometheusOperator installs the operator's CRDs (those of its
// module at the chart's app version, the ones the chart installs), runs it
// as the chart's Deployment would with our values, and returns it with the
// Prometheus and Alertmanager objects to apply.
func startPrometheusOperator(t *testing.T, cluster, chartsDir string, env *testenv.Env) (*testenv.Controller, []*unstructured.Unstructured) {
	t.Helper()
	installPrometheusCRDs(t, chartsDir, env)
	args, objs := kpsObjects(t, cluster)
	// The operator refuses storage of a class that does not exist; AKS
	// has managed-csi built in (Azure Disk CSI, StandardSSD_LRS).
	objs = append(objs, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
		"metadata":    map[string]any{"name": "managed-csi"},
		"provisioner": "disk.csi.azure.com", "parameters": map[string]any{"skuname": "StandardSSD_LRS"},
		"reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true,
	}})
	return env.StartController(t, "prometheus-operator", nil, args...), objs
}

// installPrometheusCRDs installs prometheus-operator's CRDs, the ones
// kube-prometheus-stack installs (scripts/controllers.sh copies them from the
// operator's module): other releases' ServiceMonitors need them.
func installPrometheusCRDs(t *testing.T, chartsDir string, env *testenv.Env) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartsDir, "prometheus-operator-crd", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no prometheus-operator CRDs in %s (scripts/controllers.sh copies them): %v", chartsDir, err)
	}
	var crds []*unstructured.Unstructured
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := utils.ReadObjects(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		crds = append(crds, objs...)
	}
	testenv.CreateUnstructuredCRDs(t, env.Client(t), crds...)
}
