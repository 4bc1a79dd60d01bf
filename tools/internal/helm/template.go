package helm

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/postrenderer"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/aks-gitops/platform/tools/internal/object"
)

// Release says how to render one chart, mirroring the install options
// helm-controller derives from a HelmRelease.
type Release struct {
	Name      string
	Namespace string
	Values    map[string]any
	// KubeVersion is the target Kubernetes version, e.g. "1.36".
	KubeVersion string
	// APIVersions are added to the built-in ones (CRDs of the render).
	APIVersions []string
	// IncludeCRDs renders the chart's crds/ folders (install.crds not Skip).
	IncludeCRDs bool
	// CRDLabels are set on CRDs, which helm-controller applies outside the
	// post-renderers with only its origin labels.
	CRDLabels map[string]string
	// DisableHooks drops hooks other than tests: they would never run.
	DisableHooks bool
	// IncludeTests keeps test hooks (spec.test.enable).
	IncludeTests bool
	// SkipSchemaValidation skips values.schema.json validation.
	SkipSchemaValidation bool
	PostRenderer         postrenderer.PostRenderer
	PostRenderStrategy   action.PostRenderStrategy
}

// Doc is one rendered object and the chart template it came from.
type Doc struct {
	Object   *unstructured.Unstructured `json:"object"`
	Template string                     `json:"template"`
	// Hook is set for Helm hooks; HookEvents lists their events.
	Hook       bool     `json:"hook,omitempty"`
	HookEvents []string `json:"hookEvents,omitempty"`
	// Random lists the fields whose values come from chart randomness
	// (they differ between two renders of the same input).
	Random []string `json:"random,omitempty"`
	// CRD is set for the chart's crds/ files, which Helm creates before
	// the release and keeps out of its manifest (and its metadata).
	CRD bool `json:"crd,omitempty"`
}

// Template renders a chart as a client-only Helm install, like `helm
// template`, and returns its objects in template order: CRDs, then
// manifests, then hooks. A chart that calls randomness functions is
// rendered twice and the fields that differ are marked as random.
func Template(ctx context.Context, ch *chart.Chart, rel Release) ([]Doc, error) {
	random := usesRandomness(ch)
	// Rendering consumes the chart (dependency processing): keep a copy for
	// the second render.
	var again *chart.Chart
	if random {
		again = copyChart(ch)
	}
	docs, err := templateOnce(ctx, ch, rel)
	if err != nil || !random {
		return docs, err
	}
	other, err := templateOnce(ctx, again, rel)
	if err != nil {
		return nil, err
	}
	return docs, markRandom(docs, other)
}

func templateOnce(ctx context.Context, ch *chart.Chart, rel Release) (docs []Doc, err error) {
	// Template functions and kustomize can panic on odd input; a panic is
	// this release's failure, not the run's.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while rendering: %v", r)
		}
	}()
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.DiscardHandler)
	install := action.NewInstall(cfg)
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = rel.Name
	install.Namespace = rel.Namespace
	install.Replace = true
	install.Devel = true
	install.SkipCRDs = true
	install.IncludeCRDs = false
	install.DisableHooks = rel.DisableHooks
	install.SkipSchemaValidation = rel.SkipSchemaValidation
	install.PostRenderer = rel.PostRenderer
	if rel.PostRenderStrategy != "" {
		install.PostRenderStrategy = rel.PostRenderStrategy
	}
	if rel.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(rel.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", rel.KubeVersion, err)
		}
		install.KubeVersion = kv
	}
	install.APIVersions = append(builtinKinds(), rel.APIVersions...)

	out, err := runInstall(ctx, install, ch, rel.Values)
	if err != nil {
		return nil, err
	}
	r, ok := out.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("unexpected release type %T", out)
	}
	if rel.IncludeCRDs {
		for _, crd := range ch.CRDObjects() {
			objs, err := DecodeDocs(string(crd.File.Data))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", crd.Filename, err)
			}
			for _, o := range objs {
				setLabels(o, rel.CRDLabels)
				docs = append(docs, Doc{Object: o, Template: crd.Filename, CRD: true})
			}
		}
	}
	manifests, err := splitManifest(r.Manifest)
	if err != nil {
		return nil, err
	}
	docs = append(docs, manifests...)
	for _, h := range r.Hooks {
		events := make([]string, len(h.Events))
		isTest := false
		for i, e := range h.Events {
			events[i] = string(e)
			isTest = isTest || e == release.HookTest
		}
		// helm-controller runs test hooks only with spec.test.enable, and
		// no other hook with install.disableHooks.
		if (isTest && !rel.IncludeTests) || (!isTest && rel.DisableHooks) {
			continue
		}
		objs, err := DecodeDocs(h.Manifest)
		if err != nil {
			return nil, fmt.Errorf("hook %s: %w", h.Path, err)
		}
		for _, o := range objs {
			docs = append(docs, Doc{Object: o, Template: h.Path, Hook: true, HookEvents: events})
		}
	}
	return docs, nil
}

// splitManifest splits a release manifest into objects, reading each
// document's "# Source:" comment.
func splitManifest(manifest string) ([]Doc, error) {
	parts := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	// SplitManifests keys are "manifest-N": keep the document order.
	sort.Slice(keys, func(i, j int) bool { return manifestIndex(keys[i]) < manifestIndex(keys[j]) })
	var docs []Doc
	for _, k := range keys {
		content := parts[k]
		source := ""
		for _, line := range strings.Split(content, "\n") {
			if s, ok := strings.CutPrefix(line, "# Source: "); ok {
				source = strings.TrimSpace(s)
				break
			}
		}
		objs, err := DecodeDocs(content)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		for _, o := range objs {
			docs = append(docs, Doc{Object: o, Template: source})
		}
	}
	return docs, nil
}

func manifestIndex(k string) int {
	var n int
	_, _ = fmt.Sscanf(k, "manifest-%d", &n)
	return n
}

// DecodeDocs decodes a YAML stream into objects as helm-controller's
// client reads a release manifest (object.Decode), skipping empty
// documents and expanding Lists.
func DecodeDocs(stream string) ([]*unstructured.Unstructured, error) {
	out, err := object.Decode([]byte(stream))
	if err != nil {
		return nil, err
	}
	for _, u := range out {
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("object without apiVersion or kind: %s", firstLine(stream))
		}
	}
	return out, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func setLabels(u *unstructured.Unstructured, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	l := u.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	for k, v := range labels {
		l[k] = v
	}
	u.SetLabels(l)
}

// builtinKinds lists group/version/Kind for every built-in type, as a real
// API server's discovery reports them to Helm (Helm's client-only defaults
// list group/versions only).
var builtinKinds = sync.OnceValue(func() []string {
	var out []string
	for gvk := range scheme.Scheme.AllKnownTypes() {
		if gvk.Version == "__internal" || strings.HasSuffix(gvk.Kind, "List") || strings.HasSuffix(gvk.Kind, "Options") || gvk.Kind == "WatchEvent" {
			continue
		}
		out = append(out, gvk.GroupVersion().String()+"/"+gvk.Kind)
	}
	sort.Strings(out)
	return out
})
