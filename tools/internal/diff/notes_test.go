package diff_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aks-gitops/platform/tools/internal/diff"
)

// TestNotes: one base/head pair per danger note, with the notes it must
// raise (rule and level) and nothing else. The Kustomization apps (the
// producer of every object here) prunes unless a case says otherwise.
func TestNotes(t *testing.T) {
	const ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec: {prune: true}\n---\n"
	const noPrune = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec: {prune: false}\n---\n"
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop%s}\nspec:\n  replicas: %s\n  selector: {matchLabels: {app: %s}}\n"
	rules := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: falco-rules, namespace: falco}\ndata:\n  rules.yaml: |\n%s"
	tests := []struct {
		name       string
		base, head string
		want       []string // level rule
	}{
		{name: "selector", base: ks + fmt.Sprintf(deploy, "", "1", "web"), head: ks + fmt.Sprintf(deploy, "", "1", "web2"), want: []string{"danger immutable-field"}},
		{name: "replicas are mutable", base: ks + fmt.Sprintf(deploy, "", "1", "web"), head: ks + fmt.Sprintf(deploy, "", "2", "web")},
		{
			name: "forced selector", base: ks + fmt.Sprintf(deploy, ", annotations: {kustomize.toolkit.fluxcd.io/force: enabled}", "1", "web"),
			head: ks + fmt.Sprintf(deploy, ", annotations: {kustomize.toolkit.fluxcd.io/force: enabled}", "1", "web2"), want: []string{"warning immutable-field"},
		},
		{
			name: "statefulset service name", base: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: x}\nspec: {serviceName: a}\n",
			head: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: x}\nspec: {serviceName: b}\n", want: []string{"danger immutable-field"},
		},
		{
			name: "service clusterIP", base: "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec: {clusterIP: None}\n",
			head: "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec: {clusterIP: 10.0.0.1}\n", want: []string{"danger immutable-field"},
		},
		{
			name: "pvc storage class and shrink", base: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p, namespace: x}\nspec: {storageClassName: a, resources: {requests: {storage: 1Gi}}}\n",
			head: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p, namespace: x}\nspec: {storageClassName: b, resources: {requests: {storage: 512Mi}}}\n", want: []string{"danger immutable-field", "danger volume-shrink"},
		},
		{
			name: "pvc grows", base: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p, namespace: x}\nspec: {resources: {requests: {storage: 1Gi}}}\n",
			head: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p, namespace: x}\nspec: {resources: {requests: {storage: 2Gi}}}\n",
		},
		{
			name: "immutable configmap", base: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\nimmutable: true\ndata: {a: b}\n",
			head: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\nimmutable: true\ndata: {a: c}\n", want: []string{"danger immutable-field"},
		},
		{name: "prune a pvc", base: ks + "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p, namespace: x}\n", head: ks, want: []string{"danger prune"}},
		{name: "prune a namespace", base: ks + "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", head: ks, want: []string{"danger prune"}},
		{name: "prune a crd", base: ks + "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\n", head: ks, want: []string{"danger prune"}},
		{name: "prune off keeps the pvc", base: noPrune + "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p, namespace: x}\n", head: noPrune, want: []string{"warning prune"}},
		{name: "prune disabled by annotation", base: ks + "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}}\n", head: ks, want: []string{"warning prune"}},
		{name: "prune a configmap", base: ks + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\n", head: ks, want: []string{"warning prune"}},
		{
			name: "chart major", base: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: h, namespace: x}\nspec: {chart: {spec: {chart: c, version: 1.9.0}}}\n",
			head: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: h, namespace: x}\nspec: {chart: {spec: {chart: c, version: 2.0.0}}}\n", want: []string{"danger chart-major"},
		},
		{
			name: "chart minor", base: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: h, namespace: x}\nspec: {chart: {spec: {chart: c, version: 1.9.0}}}\n",
			head: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: h, namespace: x}\nspec: {chart: {spec: {chart: c, version: 1.10.0}}}\n",
		},
		{
			name: "suspend", base: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: g, namespace: x}\nspec: {url: u}\n",
			head: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: g, namespace: x}\nspec: {url: u, suspend: true}\n", want: []string{"danger suspend"},
		},
		{
			name: "resume", base: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: g, namespace: x}\nspec: {url: u, suspend: true}\n",
			head: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: g, namespace: x}\nspec: {url: u, suspend: false}\n", want: []string{"warning suspend"},
		},
		{
			name: "enforcement deny to warn", base: "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sX\nmetadata: {name: c}\nspec: {}\n",
			head: "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sX\nmetadata: {name: c}\nspec: {enforcementAction: warn}\n", want: []string{"danger enforcement-loosened"},
		},
		{
			name: "enforcement tightened", base: "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sX\nmetadata: {name: c}\nspec: {enforcementAction: dryrun}\n",
			head: "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sX\nmetadata: {name: c}\nspec: {enforcementAction: deny}\n",
		},
		{
			name: "falco rule removed", base: fmt.Sprintf(rules, "    - rule: A\n      condition: x\n    - rule: B\n      condition: y\n"),
			head: fmt.Sprintf(rules, "    - rule: A\n      condition: x\n"), want: []string{"danger falco-rule"},
		},
		{
			name: "falco rule disabled", base: fmt.Sprintf(rules, "    - rule: A\n      condition: x\n"),
			head: fmt.Sprintf(rules, "    - rule: A\n      condition: x\n      enabled: false\n"), want: []string{"danger falco-rule"},
		},
		{
			name: "falco rule edited", base: fmt.Sprintf(rules, "    - rule: A\n      condition: x\n"),
			head: fmt.Sprintf(rules, "    - rule: A\n      condition: x and y\n"),
		},
		{
			name: "not falco rules", base: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\ndata:\n  a.yaml: |\n    - name: A\n      rule: x\n",
			head: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\ndata:\n  a.yaml: |\n    - name: B\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := diff.Compare(objects(t, tt.base), objects(t, tt.head), diff.DefaultOptions())
			var got []string
			for _, c := range r.Changes {
				for _, n := range c.Notes {
					got = append(got, string(n.Level)+" "+n.Rule)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("notes (-want +got):\n%s\n%s", diff, text(t, r))
			}
		})
	}
}
