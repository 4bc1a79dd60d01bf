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
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

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
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/memo"
	"github.com/aks-gitops/platform/tools/internal/object"
)

// Validator validates objects of the kinds its CRDs define. CRDs are
// compiled on first use: a render carries many more CRDs (charts ship their
// whole API) than kinds it has objects of, and compiling large schemas and
// their CEL rules dominates the run. Kinds compile concurrently, each once.
// Safe for concurrent use.
type Validator struct {
	crds map[schema.GroupKind]*unstructured.Unstructured
	// schemas provides the kinds no CRD of the render defines (built-in
	// kinds, a cluster's CRDs).
	schemas Schemas
	cache   *Cache
	// kinds compiles each group-version-kind once.
	kinds memo.Map[schema.GroupVersionKind, *version]
	// kept keeps results by object and schema (see Keep); nil: none.
	kept *diskcache.Pack
	// digests identifies each CRD's content, once.
	digests memo.Map[schema.GroupKind, string]
}

// Cache holds compiled schemas for the Validators of one run: the clusters
// of a run carry the same charts' CRDs, and compiling a schema and its CEL
// rules costs far more than hashing it. CRDs are keyed by content; each
// served version compiles on first use (charts' CRDs serve several
// versions, Gateway API's v1 and v1beta1 with many CEL rules each, of which
// a render uses one). Compiled schemas are read-only. Safe for concurrent
// use.
type Cache struct {
	crds    memo.Map[string, *crdVersions]
	schemas memo.Map[schemasKey, *version]
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{} }

// Schemas is a source of schemas in CRD form for kinds that have no CRD in
// the render: the built-in kinds of a Kubernetes version, or whatever a
// cluster serves (see package schemas).
type Schemas interface {
	Has(gvk schema.GroupVersionKind) bool
	Schema(gvk schema.GroupVersionKind) (*apiextensions.JSONSchemaProps, bool, error)
}

type version struct {
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator
	// builtin: a kind the API server decodes into Go types, which ignore
	// null values and check metadata as strictly as the rest (custom
	// resources keep unknown metadata fields out of pruning).
	builtin bool
}

// New indexes the CRDs among objs, compiling into cache (nil: a cache of
// its own). It returns the CRDs that cannot be read; one that does not
// compile (not structural, a CEL rule that does not compile) is reported
// when an object of its kind is validated.
func New(objs []*unstructured.Unstructured, cache *Cache) (*Validator, []error) {
	if cache == nil {
		cache = NewCache()
	}
	v := &Validator{crds: map[schema.GroupKind]*unstructured.Unstructured{}, cache: cache}
	var errs []error
	for _, u := range objs {
		if u.GetKind() != "CustomResourceDefinition" || u.GetAPIVersion() != apiextensionsv1.SchemeGroupVersion.String() {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		if group == "" || kind == "" {
			errs = append(errs, fmt.Errorf("CustomResourceDefinition %s: no spec.group or spec.names.kind", u.GetName()))
			continue
		}
		v.crds[schema.GroupKind{Group: group, Kind: kind}] = u
	}
	return v, errs
}

// lookup returns gvk's compiled schema, compiling it on first use; ok is
// false when v has no schema for gvk.
func (v *Validator) lookup(gvk schema.GroupVersionKind) (ver *version, ok bool, err error) {
	if !v.Known(gvk) {
		return nil, false, nil
	}
	ver, _, err = v.kinds.Do(gvk, func() (*version, error) { return v.compileKind(gvk) })
	return ver, true, err
}

func (v *Validator) compileKind(gvk schema.GroupVersionKind) (*version, error) {
	if crd, ok := v.crds[gvk.GroupKind()]; ok {
		digest, err := v.crdDigest(gvk.GroupKind())
		if err != nil {
			return nil, fmt.Errorf("CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
		ver, err := v.cache.compileCRD(crd, digest, gvk)
		if _, ok := errors.AsType[*notServed](err); err != nil && !ok {
			return nil, fmt.Errorf("CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
		return ver, err
	}
	ver, _, err := v.cache.schemas.Do(schemasKey{v.schemas, gvk}, func() (*version, error) {
		s, _, err := v.schemas.Schema(gvk)
		if err != nil {
			return nil, err
		}
		ver, err := compileSchema(s)
		if err != nil {
			return nil, err
		}
		ver.builtin = true
		return ver, nil
	})
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", gvk, err)
	}
	return ver, nil
}

// crdVersions compiles the served versions of one CRD, each once.
type crdVersions struct {
	versions map[string]func() (*version, error)
}

// notServed is the error for an object of a version its CRD does not serve.
type notServed struct{ gvk schema.GroupVersionKind }

func (e *notServed) Error() string {
	return fmt.Sprintf("the CustomResourceDefinition of %s does not serve version %s", e.gvk.Kind, e.gvk.Version)
}

// crdDigest identifies the content of the CRD v has for gk.
func (v *Validator) crdDigest(gk schema.GroupKind) (string, error) {
	digest, _, err := v.digests.Do(gk, func() (string, error) {
		digest, err := object.Digest(v.crds[gk].Object)
		return digest, err
	})
	return digest, err
}

// compileCRD returns the compiled schema of version gvk.Version of crd,
// whose content digest identifies.
func (c *Cache) compileCRD(crd *unstructured.Unstructured, digest string, gvk schema.GroupVersionKind) (*version, error) {
	cv, _, err := c.crds.Do(digest, func() (*crdVersions, error) {
		return readCRD(crd.DeepCopy())
	})
	if err != nil {
		return nil, err
	}
	compile, ok := cv.versions[gvk.Version]
	if !ok {
		return nil, &notServed{gvk}
	}
	return compile()
}

// readCRD converts a CRD as the API server does and checks every served
// version's schema is structural (cheap; the API server refuses a CRD that
// is not); CEL rules compile with the version.
func readCRD(u *unstructured.Unstructured) (*crdVersions, error) {
	external := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, external); err != nil {
		return nil, err
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(external)
	crd := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(external, crd, nil); err != nil {
		return nil, err
	}
	out := &crdVersions{versions: map[string]func() (*version, error){}}
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
		if _, err := structuralschema.NewStructural(validation.OpenAPIV3Schema); err != nil {
			return nil, fmt.Errorf("version %s: %w", ver.Name, err)
		}
		name, s := ver.Name, validation.OpenAPIV3Schema
		out.versions[name] = sync.OnceValues(func() (*version, error) {
			c, err := compileSchema(s)
			if err != nil {
				return nil, fmt.Errorf("version %s: %w", name, err)
			}
			return c, nil
		})
	}
	return out, nil
}

func compileSchema(s *apiextensions.JSONSchemaProps) (*version, error) {
	structural, err := structuralschema.NewStructural(s)
	if err != nil {
		return nil, err
	}
	sv, _, err := apiservervalidation.NewSchemaValidator(s)
	if err != nil {
		return nil, err
	}
	return &version{structural: structural, schema: sv, cel: cel.NewValidator(structural, true, celconfig.PerCallLimit)}, nil
}

// WithSchemas makes v validate kinds no CRD of the render defines from s.
func (v *Validator) WithSchemas(s Schemas) *Validator {
	v.schemas = s
	return v
}

// Compile compiles gvk's schema (from a CRD of the render or from the
// Schemas) and reports whether it can be used.
func (v *Validator) Compile(gvk schema.GroupVersionKind) error {
	_, ok, err := v.lookup(gvk)
	if !ok {
		return fmt.Errorf("no schema for %s", gvk)
	}
	return err
}

// schemasKey is a kind of one Schemas source (a bundle).
type schemasKey struct {
	src Schemas
	gvk schema.GroupVersionKind
}

// Has reports whether a CRD of the render defines gvk's group and kind.
func (v *Validator) Has(gvk schema.GroupVersionKind) bool {
	_, ok := v.crds[gvk.GroupKind()]
	return ok
}

// Known reports whether v can validate gvk: a CRD of the render defines
// it, or its Schemas have it.
func (v *Validator) Known(gvk schema.GroupVersionKind) bool {
	return v.Has(gvk) || (v.schemas != nil && v.schemas.Has(gvk))
}

// Keep makes v keep each object's result in cache and reuse it: keyed by
// the object's content and its kind's schema (the CRD's content, or the
// schema bundle's), so an unchanged object is not validated again and a
// kind whose objects are all unchanged is not even compiled — compiling
// the schemas of large CRDs and their CEL rules is most of a warm run.
// Secrets are never kept. The results of one scope (a cluster) share one
// entry, a pack, read once; Save stores it.
func (v *Validator) Keep(cache *diskcache.Cache, scope string) *Validator {
	if key, err := diskcache.Key("validate-pack", scope); err == nil && cache != nil {
		v.kept = cache.Pack(key)
	}
	return v
}

// Save stores the results kept (validated again next time is the worst
// outcome of a failure).
func (v *Validator) Save() {
	if v.kept != nil {
		_ = v.kept.Save()
	}
}

// keptKey is the key of obj's result in v.kept; "" when it is not kept.
func (v *Validator) keptKey(obj *unstructured.Unstructured) string {
	gvk := obj.GroupVersionKind()
	if v.kept == nil || (gvk.Group == "" && gvk.Kind == "Secret") {
		return ""
	}
	var source string
	switch {
	case v.Has(gvk):
		digest, err := v.crdDigest(gvk.GroupKind())
		if err != nil {
			return ""
		}
		source = "crd/" + digest
	case v.schemas != nil && v.schemas.Has(gvk):
		id, ok := v.schemas.(interface{ ID() string })
		if !ok || id.ID() == "" {
			return ""
		}
		source = "schemas/" + id.ID()
	default:
		return ""
	}
	digest, err := object.Digest(obj.Object)
	if err != nil {
		return ""
	}
	key, err := diskcache.Key("validate", source, gvk.String(), digest)
	if err != nil {
		return ""
	}
	return key
}

// Validate returns what the API server would reject obj for, sorted; nil
// when it is valid or no CRD of the render defines its kind (see Has).
func (v *Validator) Validate(ctx context.Context, obj *unstructured.Unstructured) []string {
	key := v.keptKey(obj)
	var out []string
	if key != "" {
		if data, ok := v.kept.Get(key); ok && json.Unmarshal(data, &out) == nil {
			return out
		}
	}
	out = v.validate(ctx, obj)
	if key != "" && ctx.Err() == nil {
		if data, err := json.Marshal(out); err == nil {
			v.kept.Put(key, data)
		}
	}
	return out
}

func (v *Validator) validate(ctx context.Context, obj *unstructured.Unstructured) []string {
	ver, ok, err := v.lookup(obj.GroupVersionKind())
	switch {
	case !ok:
		return nil
	case err != nil:
		return []string{err.Error()}
	}
	// Defaulting and pruning change the object: work on a copy. The
	// render's objects hold JSON types only (package object), as the
	// server's decoder makes them.
	u := runtime.DeepCopyJSON(obj.Object)
	if ver.builtin {
		dropNulls(u)
	}
	structuraldefaulting.Default(u, ver.structural)
	var out []string
	for _, p := range structuralpruning.PruneWithOptions(u, ver.structural, !ver.builtin, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
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

// dropNulls removes null values from maps, as decoding into Go types
// ignores them (`creationTimestamp: null` in generated manifests).
func dropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			dropNulls(e)
		}
	case []any:
		for _, e := range t {
			dropNulls(e)
		}
	}
}
