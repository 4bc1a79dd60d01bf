// This file converts Kubernetes OpenAPI definitions — the
// kube-apiserver's /openapi/v2 document and CustomResourceDefinitions — into
// standalone JSON schemas laid out the way kubeconform reads local schemas
// (<kind>-<group>-<version>.json), for the benchmark that runs kubeconform
// offline against the same server version our own validation uses.
//
// A schema is standalone: the definitions it references travel with it
// under "definitions", so no file refers to another. Like kubeconform's
// published schemas, every property also accepts null (charts render empty
// values as null and the API server accepts them), and int-or-string and
// quantity fields accept integers and numbers as well as strings.

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	defPrefix    = "#/definitions/"
	intOrString  = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	quantity     = "io.k8s.apimachinery.pkg.api.resource.Quantity"
	gvkExtension = "x-kubernetes-group-version-kind"
)

// FileName is the file kubeconform looks up for an object of apiVersion and
// kind: the lowercased kind, the first label of the group and the version.
func FileName(apiVersion, kind string) string {
	group, version, found := strings.Cut(apiVersion, "/")
	suffix := "-" + strings.ToLower(strings.Split(group, ".")[0])
	if found {
		suffix += "-" + strings.ToLower(version)
	}
	return strings.ToLower(kind) + suffix + ".json"
}

// FromOpenAPIV2 returns one schema per group/version/kind the document
// defines, keyed by FileName.
func FromOpenAPIV2(doc []byte) (map[string][]byte, error) {
	var spec struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		return nil, fmt.Errorf("openapi v2 document: %w", err)
	}
	if len(spec.Definitions) == 0 {
		return nil, errors.New("openapi v2 document: no definitions")
	}
	out := map[string][]byte{}
	for _, name := range slices.Sorted(maps.Keys(spec.Definitions)) {
		def := spec.Definitions[name]
		gvks, _ := def[gvkExtension].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			if version == "" || kind == "" {
				continue
			}
			apiVersion := version
			if group != "" {
				apiVersion = group + "/" + version
			}
			file := FileName(apiVersion, kind)
			if _, dup := out[file]; dup {
				continue // e.g. two groups sharing a first label: the first wins
			}
			schema, err := standalone(name, spec.Definitions)
			if err != nil {
				return nil, fmt.Errorf("definition %s: %w", name, err)
			}
			out[file] = schema
		}
	}
	return out, nil
}

// standalone is definition name with the closure of the definitions it
// references, converted.
func standalone(name string, defs map[string]map[string]any) ([]byte, error) {
	closure := map[string]any{}
	selfRef := false
	var visit func(n string) error
	visit = func(n string) error {
		if _, seen := closure[n]; seen {
			return nil
		}
		def, ok := defs[n]
		if !ok {
			return fmt.Errorf("reference to undefined %s", n)
		}
		var refs []string
		// Set before recursing: definitions are recursive.
		closure[n] = convert(def, &refs, true)
		for _, r := range refs {
			selfRef = selfRef || r == name
			if err := visit(r); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(name); err != nil {
		return nil, err
	}
	root, _ := closure[name].(map[string]any)
	root = maps.Clone(root)
	// The root object itself is never null.
	if t, ok := root["type"].([]any); ok && len(t) == 2 {
		root["type"] = t[0]
	}
	if !selfRef {
		// Kept when the definition refers to itself (e.g. JSONSchemaProps).
		delete(closure, name)
	}
	if len(closure) > 0 {
		root["definitions"] = closure
	}
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	return json.MarshalIndent(root, "", "  ")
}

// convert copies an OpenAPI schema node as JSON schema, collecting the
// definitions it references into refs. nullable makes typed nodes accept
// null.
func convert(node any, refs *[]string, nullable bool) any {
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok {
			target := strings.TrimPrefix(ref, defPrefix)
			switch target {
			case intOrString:
				return intOrStringSchema()
			case quantity:
				return quantitySchema()
			}
			*refs = append(*refs, target)
			return map[string]any{"$ref": ref}
		}
		if n["format"] == "int-or-string" || n["x-kubernetes-int-or-string"] == true {
			return intOrStringSchema()
		}
		out := make(map[string]any, len(n))
		for k, v := range n {
			switch k {
			case "properties", "patternProperties", "definitions":
				props, _ := v.(map[string]any)
				conv := make(map[string]any, len(props))
				for p, s := range props {
					conv[p] = convert(s, refs, true)
				}
				out[k] = conv
			case "items", "additionalProperties", "not":
				if b, ok := v.(bool); ok {
					out[k] = b
				} else {
					out[k] = convert(v, refs, true)
				}
			case "allOf", "anyOf", "oneOf":
				list, _ := v.([]any)
				conv := make([]any, len(list))
				for i, s := range list {
					// Branches are constraints on the value, not values.
					conv[i] = convert(s, refs, false)
				}
				out[k] = conv
			case "nullable":
				// OpenAPI's nullable becomes a null type below.
			default:
				out[k] = v
			}
		}
		if t, ok := out["type"].(string); ok && (nullable || n["nullable"] == true) {
			out["type"] = []any{t, "null"}
		}
		return out
	default:
		return node
	}
}

func intOrStringSchema() map[string]any {
	return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}, map[string]any{"type": "null"}}}
}

func quantitySchema() map[string]any {
	return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}, map[string]any{"type": "null"}}}
}

// FromCRD returns one schema per served version of a
// CustomResourceDefinition (apiextensions.k8s.io/v1) that has one, keyed by
// FileName.
func FromCRD(crd *unstructured.Unstructured) (map[string][]byte, error) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	if group == "" || kind == "" {
		return nil, fmt.Errorf("CustomResourceDefinition %s: no spec.group or spec.names.kind", crd.GetName())
	}
	out := map[string][]byte{}
	for _, v := range versions {
		ver, _ := v.(map[string]any)
		name, _ := ver["name"].(string)
		served, _ := ver["served"].(bool)
		schema, ok, _ := unstructured.NestedMap(ver, "schema", "openAPIV3Schema")
		if name == "" || !served || !ok {
			continue
		}
		var refs []string
		root, _ := convert(schema, &refs, false).(map[string]any)
		root["$schema"] = "http://json-schema.org/draft-07/schema#"
		b, err := json.MarshalIndent(root, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("CustomResourceDefinition %s version %s: %w", crd.GetName(), name, err)
		}
		out[FileName(group+"/"+name, kind)] = b
	}
	return out, nil
}
