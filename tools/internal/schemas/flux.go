package schemas

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FluxBundle is the CustomResourceDefinitions of the Flux kinds the tool
// supports, generated from the Flux API modules' Go types with
// controller-gen (go test ./tools/internal/schemas -run TestFlux -update),
// descriptions dropped.
type FluxBundle struct {
	// Modules are the Flux API modules and versions the CRDs come from.
	Modules map[string]string `json:"modules"`
	// Generator is the controller-gen that generated them.
	Generator string           `json:"generator"`
	CRDs      []map[string]any `json:"crds"`
}

//go:embed flux/crds.json.gz
var fluxData []byte

// Flux returns the generated Flux CRDs. They are embedded, so they are
// decoded once per process and shared read-only.
func Flux() (*FluxBundle, error) { return readFlux() }

var readFlux = sync.OnceValues(func() (*FluxBundle, error) {
	zr, err := gzip.NewReader(bytes.NewReader(fluxData))
	if err != nil {
		return nil, fmt.Errorf("flux schemas: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("flux schemas: %w", err)
	}
	b := &FluxBundle{}
	if err := json.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("flux schemas: %w", err)
	}
	return b, nil
})

// Objects returns the CRDs as objects (fresh copies).
func (b *FluxBundle) Objects() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(b.CRDs))
	for i, crd := range b.CRDs {
		out[i] = (&unstructured.Unstructured{Object: crd}).DeepCopy()
	}
	return out
}

// WriteFlux writes a FluxBundle as gzipped JSON, keys sorted.
func WriteFlux(w io.Writer, b *FluxBundle) error {
	return writeGzipJSON(w, b)
}

// StripDescriptions removes every description from a schema tree, in place.
func StripDescriptions(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "description" {
				if _, ok := e.(string); ok {
					delete(t, k)
					continue
				}
			}
			StripDescriptions(e)
		}
	case []any:
		for _, e := range t {
			StripDescriptions(e)
		}
	}
}
