package helm

import (
	"context"
	"crypto/sha256"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/chartutil"
	"github.com/go-logr/logr"
	"helm.sh/helm/v4/pkg/action"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// ReleaseOptions are the run-wide inputs to rendering a HelmRelease.
type ReleaseOptions struct {
	KubeVersion string
	APIVersions []string
	// Store serves valuesFrom ConfigMaps and Secrets.
	Store *secrets.Store
	// Cache keeps rendered releases between runs (nil: none).
	Cache *diskcache.Cache
}

// Rendered is a rendered HelmRelease.
type Rendered struct {
	Docs     []Doc    `json:"docs"`
	Warnings []string `json:"warnings,omitempty"`
	// Values are what the HelmRelease sets (valuesFrom merged with values,
	// before the chart's defaults), for checks such as the values lint.
	Values map[string]any `json:"-"`
}

// entry is a Rendered as its cache entry is decoded: each object straight
// into the map an *unstructured.Unstructured holds, in the one pass over
// the entry (an Unstructured decodes its own JSON again).
type entry struct {
	Docs []struct {
		Object   map[string]any `json:"object"`
		plainDoc                // the rest of a Doc
	} `json:"docs"`
	Warnings []string `json:"warnings,omitempty"`
}

type plainDoc = Doc

// valid says whether every object has a kind (an Unstructured refuses to
// decode one without).
func (e *entry) valid() bool {
	for _, d := range e.Docs {
		if !object.HasKind(d.Object) {
			return false
		}
	}
	return true
}

func (e *entry) rendered(values map[string]any) *Rendered {
	out := &Rendered{Docs: make([]Doc, len(e.Docs)), Warnings: e.Warnings, Values: values}
	for i, d := range e.Docs {
		out.Docs[i] = d.plainDoc
		out.Docs[i].Object = &unstructured.Unstructured{Object: d.Object}
	}
	return out
}

// RenderRelease renders hr with chart ch as helm-controller would install it.
func RenderRelease(ctx context.Context, hr *helmv2.HelmRelease, ch *Chart, opts ReleaseOptions) (*Rendered, error) {
	values, warnings, err := Values(ctx, hr, opts.Store)
	if err != nil {
		return nil, err
	}
	var key string
	if opts.Cache != nil {
		// Everything the render reads: the HelmRelease, its merged values,
		// the chart's content and the cluster's capabilities.
		if key, err = diskcache.Key("helmrelease", hr, values, ch.Digest, opts.KubeVersion, opts.APIVersions, warnings); err != nil {
			return nil, err
		}
		var cached entry
		if opts.Cache.Load(key, &cached, cached.valid) {
			return cached.rendered(values), nil
		}
	}
	install := hr.GetInstall()
	crdPolicy := install.CRDs
	if crdPolicy == "" {
		crdPolicy = helmv2.Create
	}
	rel := Release{
		Name:                 ShortenName(hr.GetReleaseName()),
		Namespace:            hr.GetReleaseNamespace(),
		Values:               values,
		KubeVersion:          opts.KubeVersion,
		APIVersions:          opts.APIVersions,
		IncludeCRDs:          crdPolicy != helmv2.Skip,
		CRDLabels:            OriginLabels(hr),
		DisableHooks:         install.DisableHooks,
		IncludeTests:         hr.GetTest().Enable,
		SkipSchemaValidation: install.DisableSchemaValidation,
		PostRenderer:         PostRenderers(ctx, hr),
		PostRenderStrategy:   action.PostRenderStrategy(hr.GetPostRenderStrategy()),
	}
	docs, err := Template(ctx, ch.Copy(), rel)
	if err != nil {
		return nil, fmt.Errorf("chart %s-%s: %w", ch.Name, ch.Version, err)
	}
	if hr.Spec.TargetNamespace != "" && install.CreateNamespace {
		// Helm creates the release namespace itself, outside the manifest
		// and the post-renderers, labelled with its name.
		ns := &unstructured.Unstructured{}
		ns.SetAPIVersion("v1")
		ns.SetKind("Namespace")
		ns.SetName(rel.Namespace)
		ns.SetLabels(map[string]string{"name": rel.Namespace})
		docs = append([]Doc{{Object: ns, Template: "(install.createNamespace)"}}, docs...)
	}
	out := &Rendered{Docs: docs, Warnings: warnings, Values: values}
	if key != "" {
		_ = opts.Cache.Store(key, out) // a cache miss next time is the worst outcome
	}
	return out, nil
}

// Values merges a HelmRelease's valuesFrom and values in helm-controller's
// order with fluxcd/pkg/chartutil. Required Secrets that are missing from the
// render or SOPS-encrypted are stood in for with placeholders, reported as
// warnings.
func Values(ctx context.Context, hr *helmv2.HelmRelease, store *secrets.Store) (map[string]any, []string, error) {
	requests := map[string]secrets.Request{}
	for _, ref := range hr.Spec.ValuesFrom {
		if ref.Kind != "Secret" {
			continue
		}
		req, ok := requests[ref.Name]
		if !ok {
			req = secrets.Request{Keys: map[string]string{}, Optional: true}
		}
		// One required reference makes the Secret required.
		req.Optional = req.Optional && ref.Optional
		requests[ref.Name] = req
		content := "{}"
		if ref.TargetPath != "" {
			content = secrets.Placeholder(hr.Namespace, ref.Name, ref.GetValuesKey())
		}
		req.Keys[ref.GetValuesKey()] = content
	}
	view := store.View(hr.Namespace, requests)
	values, err := chartutil.ChartValuesFromReferences(ctx, logr.Discard(), view, hr.Namespace, hr.GetValues(), hr.Spec.ValuesFrom...)
	if err != nil {
		return nil, nil, fmt.Errorf("values: %w", err)
	}
	return values, view.Warnings(), nil
}

// ShortenName shortens a release name longer than Helm's 53 characters the
// way helm-controller does: a 40-character prefix, a hyphen and the first 12
// hex digits of the name's SHA-256.
func ShortenName(name string) string {
	const maxLength, hashLength = 53, 12
	if len(name) <= maxLength {
		return name
	}
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return name[:maxLength-hashLength-1] + "-" + sum[:hashLength]
}
