// Package object is the object model the render hands out: Kubernetes
// objects holding JSON types only (string, bool, int64, float64, nil,
// map[string]any, []any), decoded from YAML the way Flux's controllers
// decode what they apply. kustomize-controller reads krusty's YAML with
// fluxcd/pkg/ssa's ReadObjects and helm-controller reads a release manifest
// with cli-runtime's stream visitor; both go through apimachinery's YAML or
// JSON decoder into unstructured objects. Decoding the same way makes the
// render's objects the ones the controllers apply (block scalars included)
// and safe for every consumer's deep copy.
package object

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
)

// Decode decodes a YAML (or JSON) stream into objects as the controllers
// do: empty and null documents are skipped and Lists expanded into their
// items. It does not check that an object has a kind or a name; callers
// say what they require.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for n := 1; ; n++ {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		js := bytes.TrimSpace(raw.Raw)
		if len(js) == 0 || bytes.Equal(js, []byte("null")) {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		if !u.IsList() {
			out = append(out, u)
			continue
		}
		if err := u.EachListItem(func(item runtime.Object) error {
			out = append(out, item.(*unstructured.Unstructured))
			return nil
		}); err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
	}
}

// HasKind says whether obj names its kind, which an Unstructured needs
// to be decoded from JSON: what decides whether a cache entry's objects,
// decoded as plain maps, are what decoding Unstructureds would have made.
func HasKind(obj map[string]any) bool {
	kind, _ := obj["kind"].(string)
	return kind != ""
}

// Check returns an error naming the first field (in sorted order) that
// holds anything but a JSON type. The render checks every object it hands
// out, so a decoder that leaves Go ints or non-string keys behind is a
// reported error, never a panic in a consumer's deep copy.
func Check(obj map[string]any) error {
	if jsonOnly(obj) {
		return nil
	}
	return firstBad(obj, "")
}

// jsonOnly is the fast walk; firstBad, run only when it fails, names the
// field in a stable order.
func jsonOnly(v any) bool {
	switch t := v.(type) {
	case nil, string, bool, int64, float64:
		return true
	case map[string]any:
		for _, e := range t {
			if !jsonOnly(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range t {
			if !jsonOnly(e) {
				return false
			}
		}
		return true
	}
	return false
}

func firstBad(v any, path string) error {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := firstBad(t[k], path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for i, e := range t {
			if err := firstBad(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if jsonOnly(v) {
		return nil
	}
	if path == "" {
		path = "."
	}
	return fmt.Errorf("field %s holds a %T, not a JSON value", path, v)
}
