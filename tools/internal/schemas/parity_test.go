package schemas_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aks-gitops/platform/tools/internal/crdvalidate"
	"github.com/aks-gitops/platform/tools/internal/schemas"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

const (
	caseKey       = "test.aks-gitops.io/case"
	validKey      = "test.aks-gitops.io/valid"
	divergenceKey = "test.aks-gitops.io/divergence"
)

// TestParityWithAPIServer validates every object of testdata/parity.yaml
// with the tool (the shipped built-in schemas, the generated Flux CRDs)
// and with a real kube-apiserver (dry-run create, strict field validation,
// the Flux CRDs installed) and checks both verdicts: they agree with each
// other and with the case's expectation, except for the listed
// divergences, where the test checks they really disagree.
func TestParityWithAPIServer(t *testing.T) {
	builtin, err := schemas.Builtin("1.36")
	if err != nil {
		t.Fatal(err)
	}
	flux, err := schemas.Flux()
	if err != nil {
		t.Fatal(err)
	}
	v, errs := crdvalidate.New(flux.Objects(), nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	v.WithSchemas(builtin)

	env := testenv.Start(t)
	c := env.Client(t)
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, u := range flux.Objects() {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
			t.Fatal(err)
		}
		crds = append(crds, crd)
	}
	testenv.CreateCRDs(t, c, crds...)

	divergences := 0
	for _, obj := range readCorpus(t, filepath.Join("testdata", "parity.yaml")) {
		ann := obj.GetAnnotations()
		t.Run(ann[caseKey], func(t *testing.T) {
			valid := ann[validKey] == "true"
			divergence := ann[divergenceKey]
			ours := v.Validate(t.Context(), obj)
			if !v.Known(obj.GroupVersionKind()) {
				t.Fatalf("no schema for %s", obj.GroupVersionKind())
			}
			serverErr := c.Create(t.Context(), obj.DeepCopy(), client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
			if (serverErr == nil) != valid {
				t.Fatalf("API server: want valid=%v, got %v", valid, serverErr)
			}
			oursValid := len(ours) == 0
			switch {
			case divergence == "" && oursValid != valid:
				t.Errorf("tool: want valid=%v, got %q (API server: %v)", valid, ours, serverErr)
			case divergence != "" && oursValid == valid:
				t.Errorf("listed as a divergence (%s) but the tool agrees with the API server now (%q): remove the annotation", divergence, ours)
			case divergence != "":
				divergences++
			}
		})
	}
	t.Logf("known divergences: %d", divergences)
}

func readCorpus(t *testing.T, path string) []*unstructured.Unstructured {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		t.Fatal("empty corpus")
	}
	return out
}
