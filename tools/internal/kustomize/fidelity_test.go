package kustomize

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/ssa"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// scalars holds the YAML whose bytes differ between decoders: block scalars
// (folded and literal, more-indented lines, chomping, indentation
// indicators, trailing blank lines), YAML 1.1 words, numbers of every form
// and a CEL expression written over several lines.
const scalars = `apiVersion: v1
kind: ConfigMap
metadata:
  name: scalars
  labels:
    app: ${APP:=demo}
data:
  folded: >
    first line
    same paragraph

      more indented
    back
  folded-strip: >-
    a
      b
    c
  folded-keep: >+
    kept


  literal: |
    line one
      indented
    line three
  literal-strip: |-
    x
    y
  literal-keep: |+
    z

  indicator: |2
      two spaces kept
    none
  words: "yes"
  plain-words: on
  tilde: "~"
  date: "2001-12-14"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replicas
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
  validations:
  - expression: >-
      object.spec.replicas <= 5 &&
        object.metadata.name.startsWith('web') ||
      has(object.metadata.labels)
    message: too many
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: numbers
spec:
  replicas: 3
  revisionHistoryLimit: 0x0A
  progressDeadlineSeconds: 600.0
  selector:
    matchLabels: {app: numbers}
  template:
    metadata:
      labels: {app: numbers}
      annotations:
        big: "9007199254740993"
    spec:
      terminationGracePeriodSeconds: 1e1
      activeDeadlineSeconds: 9007199254740993
      containers:
      - name: c
        image: c:1
        args: [0o17, 0644, 1.50, -0, 12:30, 1_000]
`

// TestBuildMatchesController builds a directory the way the render does and
// the way kustomize-controller does — fluxcd/pkg/kustomize's generator,
// SecureBuild and SubstituteVariables, the ResMap's YAML read back with
// ssa's ReadObjects, then commonMetadata and owner labels — and wants the
// same objects, field for field and byte for byte in every string.
func TestBuildMatchesController(t *testing.T) {
	for _, tc := range []struct {
		name string
		ks   kustomizev1.KustomizationSpec
	}{
		{name: "plain"},
		{name: "substituted", ks: kustomizev1.KustomizationSpec{
			PostBuild: &kustomizev1.PostBuild{Substitute: map[string]string{"APP": "web"}},
		}},
		{name: "common metadata", ks: kustomizev1.KustomizationSpec{
			CommonMetadata:  &kustomizev1.CommonMetadata{Labels: map[string]string{"team": "platform"}},
			TargetNamespace: "apps",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := &kustomizev1.Kustomization{Spec: tc.ks}
			ks.Name, ks.Namespace = "apps", "flux-system"
			ks.Spec.Path = "./app"

			ours := t.TempDir()
			writeApp(t, ours)
			want := controllerBuild(t, ks)
			// Uncached, then with a cache: a miss, then a hit, whose
			// objects come from the entry's JSON (an integer past 2^53
			// must stay an int64, a fraction a float64).
			cacheDir := t.TempDir()
			cache := diskcache.New(cacheDir)
			for _, run := range []struct {
				name  string
				cache *diskcache.Cache
			}{{"uncached", nil}, {"cache miss", cache}, {"cache hit", cache}} {
				res, err := Build(context.Background(), ours, ks, "app", Options{Store: secrets.NewStore(nil, false), Cache: run.cache})
				if err != nil {
					t.Fatal(err)
				}
				var got []map[string]any
				for _, o := range res.Objects {
					got = append(got, o.Object.Object)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: render differs from kustomize-controller (-controller +render):\n%s", run.name, diff)
				}
			}
			if hits, misses := cache.Stats(); hits != 1 || misses != 1 {
				t.Errorf("cache: %d hits, %d misses; want 1 and 1", hits, misses)
			}
			// An entry holding an object without a kind (which an
			// Unstructured would not decode) is a miss, and built again.
			entries, err := filepath.Glob(filepath.Join(cacheDir, "*", "*-*.json"))
			if err != nil || len(entries) != 1 {
				t.Fatalf("cache entries: %v, %v; want one", entries, err)
			}
			data, err := os.ReadFile(entries[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(entries[0], bytes.Replace(data, []byte(`"kind":"ConfigMap"`), []byte(`"kind":""`), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Build(context.Background(), ours, ks, "app", Options{Store: secrets.NewStore(nil, false), Cache: cache})
			if err != nil {
				t.Fatal(err)
			}
			if _, misses := cache.Stats(); misses != 2 || res.Objects[0].Object.GetKind() != "ConfigMap" {
				t.Errorf("an entry with a kindless object: %d misses (want 2), first object %s", misses, res.Objects[0].Object.GetKind())
			}
		})
	}
}

func writeApp(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, "app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scalars.yaml"), []byte(scalars), 0o644); err != nil {
		t.Fatal(err)
	}
}

// controllerBuild is kustomize-controller's build and apply preparation
// (internal/controller/kustomization_controller.go, v1.9.6), on a copy of
// the source it may write its kustomization.yaml into.
func controllerBuild(t *testing.T, ks *kustomizev1.Kustomization) []map[string]any {
	t.Helper()
	root := t.TempDir()
	writeApp(t, root)
	dir := filepath.Join(root, "app")
	u, err := toUnstructured(ks)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fluxkustomize.NewGenerator(root, *u).WriteFile(dir); err != nil {
		t.Fatal(err)
	}
	m, err := fluxkustomize.SecureBuild(root, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if ks.Spec.PostBuild != nil {
		for _, res := range m.Resources() {
			// Dry run: the inline variables only, no cluster to read from.
			if _, err := fluxkustomize.SubstituteVariables(context.Background(), nil, *u, res, fluxkustomize.SubstituteWithDryRun(true)); err != nil {
				t.Fatal(err)
			}
		}
	}
	data, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objects, err := ssautil.ReadObjects(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautil.SetCommonMetadata(objects, cm.Labels, cm.Annotations)
	}
	ssa.NewResourceManager(nil, nil, Owner).SetOwnerLabels(objects, ks.Name, ks.Namespace)
	out := make([]map[string]any, len(objects))
	for i, o := range objects {
		out[i] = o.Object
	}
	return out
}

// TestScalarsAsControllerReadsThem pins what the controller's path makes of
// the folded scalar with a more-indented line, so the comparison above is
// known to cover the case where a plain YAML decoder of the source differs.
func TestScalarsAsControllerReadsThem(t *testing.T) {
	ks := &kustomizev1.Kustomization{}
	ks.Name, ks.Namespace = "apps", "flux-system"
	ks.Spec.Path = "./app"
	objs := controllerBuild(t, ks)
	folded, _, _ := unstructured.NestedString(objs[0], "data", "folded")
	var source map[string]any
	if err := yaml.Unmarshal([]byte(scalars[:bytes.Index([]byte(scalars), []byte("\n---\n"))]), &source); err != nil {
		t.Fatal(err)
	}
	plain, _, _ := unstructured.NestedString(source, "data", "folded")
	t.Logf("controller: %q\nsource:     %q", folded, plain)
}
