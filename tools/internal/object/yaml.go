package object

import (
	"bytes"
	"math"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// MarshalYAML writes an object of JSON types (the object model) as
// sigs.k8s.io/yaml.Marshal does, byte for byte, without its detour: that
// encodes to JSON and parses the JSON back with go-yaml v2 before go-yaml
// v2 writes it, and the parse was most of the cost of writing a render.
// go-yaml v2 writes the JSON types as the detour leaves them (keys sorted
// by the same comparison, strings and most numbers alike) but for two
// values the detour changes: a float64 with an integral value, which JSON
// writes without a fraction and go-yaml then reads as an integer (made an
// integer here first), and a string that is not UTF-8 (JSON replaces the
// bad bytes, go-yaml would write it as !!binary), which takes the detour.
func MarshalYAML(obj map[string]any) ([]byte, error) {
	v, _ := integral(obj)
	out, err := yamlv2.Marshal(v)
	if err != nil || bytes.Contains(out, []byte("!!binary")) {
		return yaml.Marshal(obj)
	}
	return out, nil
}

// integral returns v with every float64 that JSON writes as an integer
// turned into the integer go-yaml reads from it, copying only the maps and
// slices on the way to one; changed says whether there was one.
func integral(v any) (any, bool) {
	switch t := v.(type) {
	case float64:
		// JSON writes integral values below 1e21 without a fraction or an
		// exponent; go-yaml reads those as int64, else uint64, else float.
		if t != math.Trunc(t) || math.Abs(t) >= 1e21 {
			return v, false
		}
		if t >= math.MinInt64 && t < math.MaxInt64 {
			return int64(t), true
		}
		if t >= 0 && t < math.MaxUint64 {
			return uint64(t), true
		}
		return v, false
	case map[string]any:
		var out map[string]any
		for k, e := range t {
			if n, changed := integral(e); changed {
				if out == nil {
					out = make(map[string]any, len(t))
					for k2, e2 := range t {
						out[k2] = e2
					}
				}
				out[k] = n
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range t {
			if n, changed := integral(e); changed {
				if out == nil {
					out = append([]any(nil), t...)
				}
				out[i] = n
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	}
	return v, false
}
