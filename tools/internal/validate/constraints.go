package validate

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// constraintCRDs returns, for each Gatekeeper ConstraintTemplate among
// objs, the CustomResourceDefinition Gatekeeper creates for its constraint
// kind: group constraints.gatekeeper.sh, versions v1beta1 (storage), v1 and
// v1alpha1, with the template's parameters schema under spec.parameters
// (kept open when the template asks for the legacy schema), the
// enforcement actions, and spec.match left to Gatekeeper. Constraints are
// then checked like any custom resource.
func constraintCRDs(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, t := range objs {
		if t.GetKind() != "ConstraintTemplate" || !strings.HasPrefix(t.GetAPIVersion(), "templates.gatekeeper.sh/") {
			continue
		}
		kind, _, _ := unstructured.NestedString(t.Object, "spec", "crd", "spec", "names", "kind")
		if kind == "" {
			continue
		}
		params := map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
		if s, ok, _ := unstructured.NestedMap(t.Object, "spec", "crd", "spec", "validation", "openAPIV3Schema"); ok {
			legacy, _, _ := unstructured.NestedBool(t.Object, "spec", "crd", "spec", "validation", "legacySchema")
			if legacy {
				s["x-kubernetes-preserve-unknown-fields"] = true
			}
			params = s
		}
		schema := map[string]any{
			"type": "object",
			"properties": map[string]any{
				"spec": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"enforcementAction":        map[string]any{"type": "string"},
						"scopedEnforcementActions": map[string]any{"type": "array", "items": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
						"match":                    map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
						"parameters":               params,
					},
				},
				"status": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
			},
		}
		var versions []any
		for _, v := range []string{"v1beta1", "v1", "v1alpha1"} {
			versions = append(versions, map[string]any{
				"name": v, "served": true, "storage": v == "v1beta1",
				"schema": map[string]any{"openAPIV3Schema": schema},
			})
		}
		lower := strings.ToLower(kind)
		out = append(out, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": lower + ".constraints.gatekeeper.sh"},
			"spec": map[string]any{
				"group":    "constraints.gatekeeper.sh",
				"scope":    "Cluster",
				"names":    map[string]any{"kind": kind, "listKind": kind + "List", "plural": lower, "singular": lower},
				"versions": versions,
			},
		}})
	}
	return out
}
