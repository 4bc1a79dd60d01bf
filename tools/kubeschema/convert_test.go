package main

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestFileName(t *testing.T) {
	tests := []struct{ apiVersion, kind, want string }{
		{"v1", "ConfigMap", "configmap-v1.json"},
		{"apps/v1", "Deployment", "deployment-apps-v1.json"},
		{"networking.k8s.io/v1", "Ingress", "ingress-networking-v1.json"},
		{"helm.toolkit.fluxcd.io/v2", "HelmRelease", "helmrelease-helm-v2.json"},
	}
	for _, tt := range tests {
		if got := FileName(tt.apiVersion, tt.kind); got != tt.want {
			t.Errorf("FileName(%q, %q) = %q, want %q", tt.apiVersion, tt.kind, got, tt.want)
		}
	}
}

// onlySchema fails unless file is the only schema in got, and decodes it.
func onlySchema(t *testing.T, got map[string][]byte, file string) map[string]any {
	t.Helper()
	if diff := cmp.Diff([]string{file}, slices.Sorted(maps.Keys(got))); diff != "" {
		t.Fatalf("files (-want +got):\n%s", diff)
	}
	var schema map[string]any
	if err := json.Unmarshal(got[file], &schema); err != nil {
		t.Fatal(err)
	}
	return schema
}

const openapi = `{
  "definitions": {
    "io.k8s.api.apps.v1.Deployment": {
      "type": "object",
      "properties": {
        "apiVersion": {"type": "string"},
        "spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"}
      },
      "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    },
    "io.k8s.api.apps.v1.DeploymentSpec": {
      "type": "object",
      "properties": {
        "replicas": {"type": "integer", "format": "int32"},
        "maxSurge": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
        "selector": {"$ref": "#/definitions/io.k8s.api.apps.v1.Selector"}
      }
    },
    "io.k8s.api.apps.v1.Selector": {
      "type": "object",
      "properties": {"nested": {"$ref": "#/definitions/io.k8s.api.apps.v1.Selector"}}
    },
    "io.k8s.api.core.v1.Unused": {"type": "object"},
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"}
  }
}`

func TestFromOpenAPIV2(t *testing.T) {
	got, err := FromOpenAPIV2([]byte(openapi))
	if err != nil {
		t.Fatal(err)
	}
	schema := onlySchema(t, got, "deployment-apps-v1.json")
	want := map[string]any{
		"$schema": "http://json-schema.org/draft-07/schema#",
		"type":    "object",
		"properties": map[string]any{
			"apiVersion": map[string]any{"type": []any{"string", "null"}},
			"spec":       map[string]any{"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"},
		},
		"x-kubernetes-group-version-kind": []any{map[string]any{"group": "apps", "kind": "Deployment", "version": "v1"}},
		"definitions": map[string]any{
			"io.k8s.api.apps.v1.DeploymentSpec": map[string]any{
				"type": []any{"object", "null"},
				"properties": map[string]any{
					"replicas": map[string]any{"type": []any{"integer", "null"}, "format": "int32"},
					"maxSurge": map[string]any{"oneOf": []any{
						map[string]any{"type": "string"}, map[string]any{"type": "integer"}, map[string]any{"type": "null"},
					}},
					"selector": map[string]any{"$ref": "#/definitions/io.k8s.api.apps.v1.Selector"},
				},
			},
			"io.k8s.api.apps.v1.Selector": map[string]any{
				"type":       []any{"object", "null"},
				"properties": map[string]any{"nested": map[string]any{"$ref": "#/definitions/io.k8s.api.apps.v1.Selector"}},
			},
		},
	}
	if diff := cmp.Diff(want, schema); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}
}

func TestFromOpenAPIV2Errors(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":       "{",
		"no definitions": `{"definitions": {}}`,
		"dangling ref":   `{"definitions": {"a.B": {"properties": {"x": {"$ref": "#/definitions/missing"}}, "x-kubernetes-group-version-kind": [{"group": "", "kind": "B", "version": "v1"}]}}}`,
	} {
		if _, err := FromOpenAPIV2([]byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestFromCRD(t *testing.T) {
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                port: {x-kubernetes-int-or-string: true}
                note: {type: string, nullable: true}
    - name: v0
      served: false
      storage: false
      schema:
        openAPIV3Schema: {type: object}
`), &obj); err != nil {
		t.Fatal(err)
	}
	got, err := FromCRD(&unstructured.Unstructured{Object: obj})
	if err != nil {
		t.Fatal(err)
	}
	schema := onlySchema(t, got, "widget-example-v1.json")
	spec := schema["properties"].(map[string]any)["spec"].(map[string]any)
	props := spec["properties"].(map[string]any)
	if _, ok := props["port"].(map[string]any)["oneOf"]; !ok {
		t.Errorf("int-or-string port: %v", props["port"])
	}
	if diff := cmp.Diff([]any{"string", "null"}, props["note"].(map[string]any)["type"]); diff != "" {
		t.Errorf("note type (-want +got):\n%s", diff)
	}
	if schema["type"] != "object" {
		t.Errorf("root type %v, want object", schema["type"])
	}
}
