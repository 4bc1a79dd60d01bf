package crdvalidate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// gadgetCRD exercises what the API server checks of a custom resource:
// types, required fields, enums, ranges, patterns, int-or-string, a default,
// preserve-unknown-fields, a list-map and CEL rules at two levels.
const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.test.aks-gitops.io
spec:
  group: test.aks-gitops.io
  scope: Namespaced
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget}
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
              required: [size]
              x-kubernetes-validations:
                - rule: "self.size <= 10 || self.colour == 'red'"
                  message: only red gadgets are larger than 10
              properties:
                size: {type: integer, minimum: 1, maximum: 100}
                colour: {type: string, enum: [red, blue], default: blue}
                name: {type: string, pattern: '^[a-z]+$'}
                port: {x-kubernetes-int-or-string: true}
                extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
                ports:
                  type: array
                  x-kubernetes-list-type: map
                  x-kubernetes-list-map-keys: [name]
                  items:
                    type: object
                    required: [name]
                    properties:
                      name: {type: string}
                      number:
                        type: integer
                        x-kubernetes-validations:
                          - rule: self > 1024
                            message: unprivileged ports only
`

// TestParityWithAPIServer validates a corpus of custom resources with the
// package and with a real kube-apiserver (dry-run create, strict field
// validation, the CRD installed) and checks that both verdicts agree.
func TestParityWithAPIServer(t *testing.T) {
	var crdObj unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(gadgetCRD), &crdObj.Object); err != nil {
		t.Fatal(err)
	}
	v, errs := New([]*unstructured.Unstructured{&crdObj}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}

	env := testenv.Start(t)
	c := env.Client(t)
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(crdObj.Object, crd); err != nil {
		t.Fatal(err)
	}
	testenv.CreateCRD(t, c, crd)

	cases := []struct {
		name, spec string
		valid      bool
	}{
		{name: "minimal", spec: "size: 3", valid: true},
		{name: "everything", spec: "{size: 50, colour: red, name: abc, port: http, extra: {any: [thing]}, ports: [{name: a, number: 8080}, {name: b}]}", valid: true},
		{name: "int-or-string as int", spec: "{size: 2, port: 8080}", valid: true},
		{name: "unknown field", spec: "{size: 3, sizee: 4}"},
		{name: "unknown nested field", spec: "{size: 3, ports: [{name: a, numbr: 2000}]}"},
		{name: "wrong type", spec: "{size: three}"},
		{name: "missing required", spec: "{colour: red}"},
		{name: "enum", spec: "{size: 3, colour: green}"},
		{name: "maximum", spec: "{size: 101, colour: red}"},
		{name: "pattern", spec: "{size: 3, name: ABC}"},
		{name: "CEL rule with the default applied", spec: "{size: 20}"},
		{name: "CEL rule on a list item", spec: "{size: 3, ports: [{name: a, number: 80}]}"},
		{name: "duplicate list-map key", spec: "{size: 3, ports: [{name: a}, {name: a}]}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{}
			obj.SetAPIVersion("test.aks-gitops.io/v1")
			obj.SetKind("Gadget")
			obj.SetNamespace("default")
			obj.SetName("g")
			// Decoded as the render hands objects out: whole numbers as
			// int64 (package object), as the server's decoder makes them.
			js, err := yaml.YAMLToJSON([]byte(tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			var spec map[string]any
			if err := utiljson.Unmarshal(js, &spec); err != nil {
				t.Fatal(err)
			}
			obj.Object["spec"] = spec

			ours := v.Validate(t.Context(), obj)
			serverErr := c.Create(t.Context(), obj.DeepCopy(), client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
			if (len(ours) == 0) != tc.valid || (serverErr == nil) != tc.valid {
				t.Fatalf("want valid=%v; package: %q; API server: %v", tc.valid, ours, serverErr)
			}
		})
	}
}

// TestMessages pins the wording of the package's findings.
func TestMessages(t *testing.T) {
	var crdObj unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(gadgetCRD), &crdObj.Object); err != nil {
		t.Fatal(err)
	}
	v, _ := New([]*unstructured.Unstructured{&crdObj}, nil)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "test.aks-gitops.io/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "g"},
		"spec":     map[string]any{"size": int64(20), "sizee": int64(1)},
	}}
	got := strings.Join(v.Validate(context.Background(), obj), "\n")
	for _, want := range []string{`unknown field "spec.sizee"`, "only red gadgets are larger than 10"} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
}

// TestKeep checks results kept by content: the same findings from a cold
// and a warm cache, the kept result read back (not validated again), and a
// changed object or a changed CRD validated afresh; Secrets are never kept.
func TestKeep(t *testing.T) {
	crdOf := func(maximum string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(strings.Replace(gadgetCRD, "maximum: 100", "maximum: "+maximum, 1)), &u.Object); err != nil {
			t.Fatal(err)
		}
		return u
	}
	gadget := func(size int64) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "test.aks-gitops.io/v1", "kind": "Gadget",
			"metadata": map[string]any{"name": "g"},
			"spec":     map[string]any{"size": size, "colour": "red", "sizee": int64(1)},
		}}
	}
	cache := diskcache.New(t.TempDir())
	validator := func(crd *unstructured.Unstructured) *Validator {
		v, errs := New([]*unstructured.Unstructured{crd}, nil)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return v.Keep(cache, "clusters/test")
	}
	ctx := t.Context()
	// validate is one run: it validates obj and saves what it kept.
	validate := func(crd, obj *unstructured.Unstructured) []string {
		v := validator(crd)
		defer v.Save()
		return v.Validate(ctx, obj)
	}
	big := gadget(50)
	cold := validate(crdOf("100"), big)
	if want := []string{`unknown field "spec.sizee"`}; !slices.Equal(cold, want) {
		t.Fatalf("cold: got %q, want %q", cold, want)
	}
	if warm := validate(crdOf("100"), big); !slices.Equal(warm, cold) {
		t.Fatalf("warm: got %q, want %q", warm, cold)
	}

	// The warm result is the kept one.
	key := validator(crdOf("100")).keptKey(big)
	if key == "" {
		t.Fatal("no key for a Gadget")
	}
	packKey, err := diskcache.Key("validate-pack", "clusters/test")
	if err != nil {
		t.Fatal(err)
	}
	p := cache.Pack(packKey)
	p.Put(key, []byte(`["kept"]`))
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	if got := validate(crdOf("100"), big); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("the kept result was not used: %q", got)
	}

	// A changed CRD and a changed object are validated afresh.
	if got := validate(crdOf("10"), big); !slices.ContainsFunc(got, func(m string) bool { return strings.Contains(m, "less than or equal to 10") }) {
		t.Fatalf("changed CRD: got %q, want the new maximum", got)
	}
	if got := validate(crdOf("100"), gadget(101)); !slices.ContainsFunc(got, func(m string) bool { return strings.Contains(m, "less than or equal to 100") }) {
		t.Fatalf("changed object: got %q, want the maximum", got)
	}

	// Secrets are never kept; nor objects of a schema source with no identity.
	secret := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}}}
	v := validator(crdOf("100")).WithSchemas(anonymous{})
	if key := v.keptKey(secret); key != "" {
		t.Errorf("a Secret is kept under %s", key)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}}}
	if key := v.keptKey(cm); key != "" {
		t.Errorf("an object of a schema source with no identity is kept under %s", key)
	}
}

// anonymous is a schema source with no identity that knows every kind.
type anonymous struct{}

func (anonymous) Has(schema.GroupVersionKind) bool { return true }
func (anonymous) Schema(schema.GroupVersionKind) (*apiextensions.JSONSchemaProps, bool, error) {
	return &apiextensions.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}, true, nil
}
