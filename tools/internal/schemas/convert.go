package schemas

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Schema returns gvk's schema in the form a CustomResourceDefinition
// carries it (references inlined, structural), for the API server's own
// validation code. ok is false when the bundle does not have the kind.
//
// OpenAPI describes built-in types less strictly than CRD schemas must be:
// a schema the Go types accept anything for (RawExtension, JSON, an object
// with no properties) becomes one that preserves unknown fields; an
// IntOrString becomes x-kubernetes-int-or-string; a recursive reference
// (JSONSchemaProps in CustomResourceDefinition) stops at the second level
// as an object that preserves unknown fields.
func (b *Bundle) Schema(gvk schema.GroupVersionKind) (s *apiextensions.JSONSchemaProps, ok bool, err error) {
	name, ok := b.Kinds[kindKey(gvk)]
	if !ok {
		return nil, false, nil
	}
	root, ok := b.Schemas[name]
	if !ok {
		return nil, true, fmt.Errorf("schema bundle %s: %s refers to missing schema %s", b.Kubernetes, kindKey(gvk), name)
	}
	inlined, err := b.inline(root, []string{name})
	if err != nil {
		return nil, true, fmt.Errorf("schema bundle %s: %s: %w", b.Kubernetes, kindKey(gvk), err)
	}
	data, err := json.Marshal(inlined)
	if err != nil {
		return nil, true, err
	}
	external := &apiextensionsv1.JSONSchemaProps{}
	if err := json.Unmarshal(data, external); err != nil {
		return nil, true, fmt.Errorf("schema bundle %s: %s: %w", b.Kubernetes, kindKey(gvk), err)
	}
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(external, internal, nil); err != nil {
		return nil, true, err
	}
	return internal, true, nil
}

// Base64Pattern matches standard, padded base64, the empty string included.
const Base64Pattern = `^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`

var preserveUnknownObject = map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}

// inline resolves references in s; stack holds the schemas being inlined,
// to stop recursion.
func (b *Bundle) inline(s map[string]any, stack []string) (map[string]any, error) {
	if ref := reference(s); ref != "" {
		return b.inlineRef(s, ref, stack)
	}
	out := make(map[string]any, len(s))
	maps.Copy(out, s)
	if isZero(out["default"]) {
		// OpenAPI publishes Go zero values as defaults ("" for a
		// container's name); applying them would hide a missing required
		// field the API server's Go validation reports.
		delete(out, "default")
	}
	if out["format"] == "byte" {
		// []byte: the server decodes base64 with encoding/json, which
		// takes an empty string; the schema format "byte" does not.
		delete(out, "format")
		out["pattern"] = Base64Pattern
	}
	if out["format"] == "int-or-string" {
		// IntOrString: {format: int-or-string, oneOf: [integer, string]}.
		delete(out, "format")
		delete(out, "oneOf")
		delete(out, "type")
		out["x-kubernetes-int-or-string"] = true
		return out, nil
	}
	if err := b.inlineChildren(out, stack); err != nil {
		return nil, err
	}
	_, hasProps := out["properties"]
	_, hasAdditional := out["additionalProperties"]
	switch {
	case out["type"] == "object" && !hasProps && !hasAdditional:
		// RawExtension, FieldsV1: any object.
		out["x-kubernetes-preserve-unknown-fields"] = true
	case out["type"] == nil && !hasProps:
		// JSON, Quantity (oneOf string, number): no single type; the
		// value validations that remain still apply.
		out["x-kubernetes-preserve-unknown-fields"] = true
	}
	return out, nil
}

// reference returns the schema s refers to, bare or as the single member
// of allOf (how OpenAPI v3 attaches a default or description to a
// referenced type), or "".
func reference(s map[string]any) string {
	ref, _ := s["$ref"].(string)
	if all, ok := s["allOf"].([]any); ok && len(all) == 1 {
		if m, ok := all[0].(map[string]any); ok && len(m) == 1 {
			ref, _ = m["$ref"].(string)
		}
	}
	return ref
}

// inlineRef replaces a reference by what it refers to; keywords next to it
// (default) win. A reference back into the stack (a recursive type) is any
// object.
func (b *Bundle) inlineRef(s map[string]any, ref string, stack []string) (map[string]any, error) {
	if slices.Contains(stack, ref) {
		return maps.Clone(preserveUnknownObject), nil
	}
	target, ok := b.Schemas[ref]
	if !ok {
		return nil, fmt.Errorf("reference to missing schema %s", ref)
	}
	out, err := b.inline(target, append(stack, ref))
	if err != nil {
		return nil, err
	}
	for k, v := range s {
		if k != "$ref" && k != "allOf" && (k != "default" || !isZero(v)) {
			out[k] = v
		}
	}
	return out, nil
}

// inlineChildren inlines, in place, the schemas of out's properties,
// additionalProperties and items.
func (b *Bundle) inlineChildren(out map[string]any, stack []string) error {
	if props, ok := out["properties"].(map[string]any); ok {
		inlined := make(map[string]any, len(props))
		for name, p := range props {
			m, ok := p.(map[string]any)
			if !ok {
				return fmt.Errorf("property %s is not a schema", name)
			}
			v, err := b.inline(m, stack)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			inlined[name] = v
		}
		out["properties"] = inlined
		if out["type"] == nil {
			out["type"] = "object"
		}
	}
	switch ap := out["additionalProperties"].(type) {
	case map[string]any:
		v, err := b.inline(ap, stack)
		if err != nil {
			return err
		}
		out["additionalProperties"] = v
	case bool:
		delete(out, "additionalProperties")
		if ap {
			out["x-kubernetes-preserve-unknown-fields"] = true
		}
	}
	if items, ok := out["items"].(map[string]any); ok {
		v, err := b.inline(items, stack)
		if err != nil {
			return err
		}
		out["items"] = v
	}
	return nil
}

// isZero reports whether a default is a Go zero value.
func isZero(v any) bool {
	switch t := v.(type) {
	case string:
		return t == ""
	case float64:
		return t == 0
	case bool:
		return !t
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}
