// Package crdvalidate validates custom resources against the
// CustomResourceDefinitions of a render with the API server's own code
// (k8s.io/apiextensions-apiserver): defaulting, unknown fields as strict
// field validation reports them, the OpenAPI schema, list-type rules and the
// CRD's CEL rules (x-kubernetes-validations) — the checks kubeconform cannot
// make.
package crdvalidate

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Validator validates objects of the kinds its CRDs define.
type Validator struct {
	versions map[schema.GroupVersionKind]*version
}

type version struct {
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

// New compiles the served versions of the CRDs among objs. A CRD that does
// not compile (not structural, a CEL rule that does not compile) is returned
// as an error naming it; the others are usable.
func New(objs []*unstructured.Unstructured) (*Validator, []error) {
	v := &Validator{versions: map[schema.GroupVersionKind]*version{}}
	var errs []error
	for _, u := range objs {
		if u.GetKind() != "CustomResourceDefinition" || u.GetAPIVersion() != apiextensionsv1.SchemeGroupVersion.String() {
			continue
		}
		if err := v.add(u); err != nil {
			errs = append(errs, fmt.Errorf("CustomResourceDefinition %s: %w", u.GetName(), err))
		}
	}
	return v, errs
}

func (v *Validator) add(u *unstructured.Unstructured) error {
	external := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, external); err != nil {
		return err
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(external)
	crd := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(external, crd, nil); err != nil {
		return err
	}
	for _, ver := range crd.Spec.Versions {
		if !ver.Served {
			continue
		}
		validation := crd.Spec.Validation
		if ver.Schema != nil {
			validation = ver.Schema
		}
		if validation == nil || validation.OpenAPIV3Schema == nil {
			continue
		}
		structural, err := structuralschema.NewStructural(validation.OpenAPIV3Schema)
		if err != nil {
			return fmt.Errorf("version %s: %w", ver.Name, err)
		}
		sv, _, err := apiservervalidation.NewSchemaValidator(validation.OpenAPIV3Schema)
		if err != nil {
			return fmt.Errorf("version %s: %w", ver.Name, err)
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind}
		v.versions[gvk] = &version{
			structural: structural,
			schema:     sv,
			cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
		}
	}
	return nil
}

// Has reports whether the validator knows gvk.
func (v *Validator) Has(gvk schema.GroupVersionKind) bool {
	_, ok := v.versions[gvk]
	return ok
}

// Validate returns what the API server would reject obj for, sorted; nil
// when it is valid or its kind is unknown (see Has).
func (v *Validator) Validate(ctx context.Context, obj *unstructured.Unstructured) []string {
	ver, ok := v.versions[obj.GroupVersionKind()]
	if !ok {
		return nil
	}
	// Decode a copy as the server does (whole numbers as int64, which CEL
	// and the schema's integer type require; YAML decoding yields float64),
	// then default it before validating.
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return []string{err.Error()}
	}
	var u map[string]any
	if err := utiljson.Unmarshal(data, &u); err != nil {
		return []string{err.Error()}
	}
	structuraldefaulting.Default(u, ver.structural)
	var out []string
	for _, p := range structuralpruning.PruneWithOptions(u, ver.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		out = append(out, fmt.Sprintf("unknown field %q", p))
	}
	errs := apiservervalidation.ValidateCustomResource(nil, u, ver.schema)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, ver.structural, u)...)
	if ver.cel != nil {
		celErrs, _ := ver.cel.Validate(ctx, nil, ver.structural, u, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	for _, e := range errs {
		out = append(out, strings.Join(strings.Fields(e.Error()), " "))
	}
	sort.Strings(out)
	return out
}
