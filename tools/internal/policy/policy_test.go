package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator/reader"

	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// cluster builds a rendered cluster from YAML streams, one unit per
// stream, each object from file "in.yaml".
func cluster(t testing.TB, streams ...string) *render.Cluster {
	t.Helper()
	c := &render.Cluster{Path: "clusters/test"}
	for _, s := range streams {
		objs, err := reader.ReadK8sResources(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		u := &render.Unit{Ref: flux.RefTo(flux.KustomizationKind, "flux-system", "flux-system")}
		for _, o := range objs {
			u.Objects = append(u.Objects, render.Object{Object: o, Origin: render.Origin{Producer: u.Ref, File: "in.yaml"}})
		}
		c.Units = append(c.Units, u)
	}
	return c
}

const labelTemplate = `
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: testlabel
spec:
  crd:
    spec:
      names:
        kind: TestLabel
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: K8sNativeValidation
          source:
            validations:
              - expression: has(variables.anyObject.metadata.labels) && "team" in variables.anyObject.metadata.labels
                messageExpression: '"no team on " + variables.anyObject.metadata.name'
`

const configMaps = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: ghost
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
  namespace: ghost
`

// teamConstraint is a deny TestLabel on every ConfigMap.
const teamConstraint = `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: TestLabel
metadata:
  name: team
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: [ConfigMap]
`

// messages returns "Rule action: message" per finding.
func messages(fs []finding.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s %s warning=%v", f.Object, f.Rule, f.Action, f.Message, f.Warning))
	}
	return out
}

// TestEvaluate covers what the CLI fixtures do not: scoped enforcement
// actions (the webhook's), a namespace missing from the render, the
// inventory limited by a Config's syncOnly.
func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		name, constraint string
		extra            string
		want             []string
		assumed          []string
	}{
		{
			name: "scoped: the webhook's action, not audit's",
			constraint: `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: TestLabel
metadata:
  name: team
spec:
  enforcementAction: scoped
  scopedEnforcementActions:
    - action: warn
      enforcementPoints:
        - name: validation.gatekeeper.sh
    - action: deny
      enforcementPoints:
        - name: audit.gatekeeper.sh
  match:
    kinds:
      - apiGroups: [""]
        kinds: [ConfigMap]
`,
			want: []string{
				"ConfigMap/ghost/a TestLabel/team warn no team on a warning=true",
				"ConfigMap/ghost/b TestLabel/team warn no team on b warning=true",
			},
			assumed: []string{"ghost"},
		},
		{
			name: "scoped to audit only: the webhook says nothing",
			constraint: `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: TestLabel
metadata:
  name: team
spec:
  enforcementAction: scoped
  scopedEnforcementActions:
    - action: deny
      enforcementPoints:
        - name: audit.gatekeeper.sh
  match:
    kinds:
      - apiGroups: [""]
        kinds: [ConfigMap]
`,
			want:    []string{},
			assumed: []string{"ghost"},
		},
		{
			name: "namespace not in the render carries only its name label",
			constraint: `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: TestLabel
metadata:
  name: by-name
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: [ConfigMap]
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: ghost
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: TestLabel
metadata:
  name: by-tier
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: [ConfigMap]
    namespaceSelector:
      matchLabels:
        tier: gold
`,
			want: []string{
				"ConfigMap/ghost/a TestLabel/by-name deny no team on a warning=false",
				"ConfigMap/ghost/b TestLabel/by-name deny no team on b warning=false",
			},
			assumed: []string{"ghost"},
		},
		{
			name:       "a Config's match excludes from the webhook with wildcards",
			constraint: teamConstraint,
			extra: `
apiVersion: config.gatekeeper.sh/v1alpha1
kind: Config
metadata:
  name: config
  namespace: gatekeeper-system
spec:
  match:
    - excludedNamespaces: ["gho*"]
      processes: ["*"]
`,
			want: []string{},
			// The Config itself is reviewed: its namespace is not excluded.
			assumed: []string{"gatekeeper-system"},
		},
		{
			name:       "--exempt-namespace-suffix of the webhook container",
			constraint: teamConstraint,
			extra: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gatekeeper-controller-manager
  namespace: gatekeeper-system
spec:
  template:
    spec:
      containers:
        - name: manager
          args: ["--operation=webhook", "--exempt-namespace-suffix=host"]
`,
			want:    []string{},
			assumed: []string{"gatekeeper-system"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams := []string{labelTemplate, tc.constraint, configMaps}
			if tc.extra != "" {
				streams = append(streams, tc.extra)
			}
			res, err := Run(t.Context(), cluster(t, streams...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, messages(res.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.assumed, res.AssumedNamespaces, cmpEmpty); diff != "" {
				t.Errorf("assumed namespaces (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

const duplicateTemplate = `
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: testonlyone
spec:
  crd:
    spec:
      names:
        kind: TestOnlyOne
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package testonlyone

        violation[{"msg": msg}] {
          other := data.inventory.namespace[_][_]["ConfigMap"][name]
          name != input.review.object.metadata.name
          msg := sprintf("another ConfigMap: %v", [name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: TestOnlyOne
metadata:
  name: only-one
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: [ConfigMap]
`

// TestInventory checks data.inventory: the whole render without a sync
// configuration, only the synced kinds with one, as Gatekeeper's sync.
func TestInventory(t *testing.T) {
	res, err := Run(t.Context(), cluster(t, duplicateTemplate, configMaps), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ConfigMap/ghost/a TestOnlyOne/only-one deny another ConfigMap: b warning=false",
		"ConfigMap/ghost/b TestOnlyOne/only-one deny another ConfigMap: a warning=false",
	}
	if diff := cmp.Diff(want, messages(res.Findings)); diff != "" {
		t.Errorf("no sync config: findings (-want +got):\n%s", diff)
	}
	syncIngressOnly := `
apiVersion: config.gatekeeper.sh/v1alpha1
kind: Config
metadata:
  name: config
  namespace: gatekeeper-system
spec:
  sync:
    syncOnly:
      - group: networking.k8s.io
        version: v1
        kind: Ingress
`
	res, err = Run(t.Context(), cluster(t, duplicateTemplate, configMaps, syncIngressOnly), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || res.Inventory != 0 {
		t.Errorf("ConfigMaps not synced: %d in inventory, findings %v", res.Inventory, messages(res.Findings))
	}
}

// TestConstraintWithoutTemplate is an error naming the constraint.
func TestConstraintWithoutTemplate(t *testing.T) {
	_, err := Run(t.Context(), cluster(t, `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: TestMissing
metadata:
  name: orphan
`, configMaps), Options{})
	if err == nil || !strings.Contains(err.Error(), "TestMissing/orphan") || !strings.Contains(err.Error(), "in.yaml") {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkEvaluate evaluates the repository's templates and base
// constraints against n Deployments, serially and concurrently.
func BenchmarkEvaluate(b *testing.B) {
	var streams []string
	for _, glob := range []string{"../../../policies/templates/*.yaml", "../../../policies/constraints/base/*.yaml"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			if filepath.Base(f) == "kustomization.yaml" {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			streams = append(streams, string(data))
		}
	}
	var apps strings.Builder
	for i := range 400 {
		fmt.Fprintf(&apps, `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: app
          image: docker.io/example/app:latest
`, i)
	}
	c := cluster(b, append(streams, apps.String())...)
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("concurrency-%d", n), func(b *testing.B) {
			for b.Loop() {
				res, err := Run(b.Context(), c, Options{Concurrency: n})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Findings) == 0 {
					b.Fatal("no findings")
				}
			}
		})
	}
}

// BenchmarkEvaluateRender evaluates a rendered YAML stream named by
// POLICY_BENCH_RENDER (tools render -o FILE), e.g. the real stack.
func BenchmarkEvaluateRender(b *testing.B) {
	path := os.Getenv("POLICY_BENCH_RENDER")
	if path == "" {
		b.Skip("POLICY_BENCH_RENDER not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	c := cluster(b, string(data))
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("concurrency-%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Run(b.Context(), c, Options{Concurrency: n}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
