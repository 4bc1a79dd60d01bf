// Package schemas holds the OpenAPI schemas of the kinds a Kubernetes API
// server serves, taken from the server itself (/openapi/v3), in a compact
// bundle: the schemas of the built-in kinds of each Kubernetes minor this
// tool ships (generated from a real kube-apiserver of that version), or of
// any cluster — CRDs installed there included — through `tools schemas`.
//
// A bundle keeps only what validation needs (types, formats, enums,
// required fields, list and map types, defaults, CEL rules) and keeps
// shared definitions once, by name; Schema inlines them for one kind into
// the CustomResourceDefinition schema form, so the API server's own
// validation code (see crdvalidate) checks built-in kinds the way it checks
// custom resources.
package schemas

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// Bundle is the schemas one API server serves.
type Bundle struct {
	// Kubernetes is the server's version (e.g. v1.36.3).
	Kubernetes string `json:"kubernetes"`
	// Kinds maps "group/version/Kind" ("/v1/ConfigMap" for the core group)
	// to the name of its schema in Schemas.
	Kinds map[string]string `json:"kinds"`
	// Schemas are the OpenAPI v3 component schemas, trimmed, by name;
	// references between them are by name ("$ref": "NAME").
	Schemas map[string]map[string]any `json:"schemas"`

	// id identifies the bundle's content (see ID).
	id string
}

// ID identifies the bundle's content: the hash of the file Read read, so
// results computed from its schemas may be kept and reused. Empty for a
// bundle not read from a file (Fetch): nothing to key on.
func (b *Bundle) ID() string { return b.id }

// kindKey is the key of gvk in Bundle.Kinds.
func kindKey(gvk schema.GroupVersionKind) string {
	return gvk.Group + "/" + gvk.Version + "/" + gvk.Kind
}

// Has reports whether the bundle has a schema for gvk.
func (b *Bundle) Has(gvk schema.GroupVersionKind) bool {
	_, ok := b.Kinds[kindKey(gvk)]
	return ok
}

// Minor is the bundle's Kubernetes minor version, "1.36".
func (b *Bundle) Minor() string {
	v := strings.TrimPrefix(b.Kubernetes, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
}

// Fetch reads every group-version's OpenAPI v3 document the server at cfg
// serves (CRDs included) into a bundle.
func Fetch(ctx context.Context, cfg *rest.Config) (*Bundle, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("api server %s: %w", cfg.Host, err)
	}
	info, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("api server %s: version: %w", cfg.Host, err)
	}
	paths, err := dc.OpenAPIV3().Paths()
	if err != nil {
		return nil, fmt.Errorf("api server %s: /openapi/v3: %w", cfg.Host, err)
	}
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	b := &Bundle{Kubernetes: info.GitVersion, Kinds: map[string]string{}, Schemas: map[string]map[string]any{}}
	for _, p := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := paths[p].Schema("application/json")
		if err != nil {
			return nil, fmt.Errorf("api server %s: /openapi/v3/%s: %w", cfg.Host, p, err)
		}
		if err := b.add(data); err != nil {
			return nil, fmt.Errorf("api server %s: /openapi/v3/%s: %w", cfg.Host, p, err)
		}
	}
	return b, nil
}

// add takes the component schemas of one OpenAPI v3 document.
func (b *Bundle) add(data []byte) error {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	for name, s := range doc.Components.Schemas {
		if gvks, ok := s["x-kubernetes-group-version-kind"].([]any); ok {
			for _, g := range gvks {
				m, _ := g.(map[string]any)
				group, _ := m["group"].(string)
				version, _ := m["version"].(string)
				kind, _ := m["kind"].(string)
				if kind == "" || version == "" || isMetaKind(kind) {
					continue
				}
				b.Kinds[kindKey(schema.GroupVersionKind{Group: group, Version: version, Kind: kind})] = name
			}
		}
		b.Schemas[name] = trim(s).(map[string]any)
	}
	return nil
}

// isMetaKind names the kinds every group-version lists that are not
// objects anyone writes in a repository.
func isMetaKind(kind string) bool {
	switch kind {
	case "DeleteOptions", "WatchEvent", "Status", "APIGroup", "APIGroupList", "APIResourceList", "APIVersions":
		return true
	}
	return false
}

// kept are the schema keywords validation uses; everything else
// (descriptions, patch strategies, unions) is dropped.
var kept = map[string]bool{
	"type": true, "format": true, "enum": true, "required": true, "properties": true,
	"additionalProperties": true, "items": true, "default": true, "nullable": true,
	"allOf": true, "oneOf": true, "anyOf": true, "not": true, "$ref": true,
	"maximum": true, "minimum": true, "exclusiveMaximum": true, "exclusiveMinimum": true,
	"maxLength": true, "minLength": true, "pattern": true, "maxItems": true, "minItems": true,
	"uniqueItems": true, "maxProperties": true, "minProperties": true, "multipleOf": true,
	"x-kubernetes-list-type": true, "x-kubernetes-list-map-keys": true, "x-kubernetes-map-type": true,
	"x-kubernetes-preserve-unknown-fields": true, "x-kubernetes-int-or-string": true,
	"x-kubernetes-embedded-resource": true, "x-kubernetes-validations": true,
}

const refPrefix = "#/components/schemas/"

// trim drops unused keywords and shortens references to bare names.
func trim(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range t {
			switch {
			case k == "properties":
				props := map[string]any{}
				for name, p := range val.(map[string]any) {
					props[name] = trim(p)
				}
				out[k] = props
			case k == "$ref":
				s, _ := val.(string)
				out[k] = strings.TrimPrefix(s, refPrefix)
			case k == "default" || k == "enum" || k == "x-kubernetes-validations":
				out[k] = val
			case kept[k]:
				out[k] = trim(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = trim(e)
		}
		return out
	}
	return v
}

// Write writes the bundle as gzipped JSON: keys sorted, so the same
// server gives the same bytes.
func (b *Bundle) Write(w io.Writer) error {
	return writeGzipJSON(w, b)
}

func writeGzipJSON(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	return zw.Close()
}

// Read reads a bundle Write wrote.
func Read(r io.Reader) (*Bundle, error) {
	h := sha256.New()
	zr, err := gzip.NewReader(io.TeeReader(r, h))
	if err != nil {
		return nil, fmt.Errorf("not a schema bundle: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("not a schema bundle: %w", err)
	}
	b := &Bundle{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(b); err != nil {
		return nil, fmt.Errorf("not a schema bundle: %w", err)
	}
	if b.Kubernetes == "" || len(b.Kinds) == 0 {
		return nil, fmt.Errorf("not a schema bundle: no version or no kinds")
	}
	// gzip stops at the end of its stream: hash what may follow too.
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("not a schema bundle: %w", err)
	}
	b.id = hex.EncodeToString(h.Sum(nil))
	return b, nil
}
