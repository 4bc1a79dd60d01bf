package render

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/helm"
	"github.com/aks-gitops/platform/tools/internal/secrets"
	"github.com/aks-gitops/platform/tools/internal/source"
)

// helmReleases renders every discovered HelmRelease in parallel. Charts are
// resolved first, so that the CRDs every chart ships count as API versions
// for all of them; when templates add CRDs of their own, the releases are
// rendered once more with those too.
func (run *run) helmReleases(ctx context.Context) {
	nodes := run.activeReleases()
	charts := make([]*helm.Chart, len(nodes))
	errs := make([]error, len(nodes))
	run.parallel(ctx, len(nodes), func(ctx context.Context, i int) {
		errs[i] = safely(func() (err error) {
			charts[i], err = run.chart(ctx, nodes[i])
			return err
		})
	})
	rendered, produced := run.renderReleases(ctx, nodes, charts, errs)
	scopes := newScopes(run.inventory, produced)
	for i, node := range nodes {
		if errs[i] != nil {
			run.fail(node.unit, node.file, errs[i])
			continue
		}
		run.absorbRelease(node, charts[i], rendered[i], scopes)
	}
}

// activeReleases adds every HelmRelease to the cluster's units, in order,
// and returns those not suspended.
func (run *run) activeReleases() []*hrNode {
	refs := sortedRefs(run.hrs)
	nodes := make([]*hrNode, 0, len(refs))
	for _, ref := range refs {
		node := run.hrs[ref]
		run.cluster.Units = append(run.cluster.Units, node.unit)
		if node.obj.Spec.Suspend {
			node.unit.Skipped = "suspended"
			continue
		}
		nodes = append(nodes, node)
	}
	return nodes
}

// renderReleases renders the releases whose chart resolved, in parallel,
// with the API versions of every CRD the render and the charts ship; when
// templates add CRDs of their own, once more with those too. It returns
// each release's render and every object the releases produced.
func (run *run) renderReleases(ctx context.Context, nodes []*hrNode, charts []*helm.Chart, errs []error) ([]*helm.Rendered, []*unstructured.Unstructured) {
	store := secrets.NewStore(run.inventory, run.r.opts.ShowSecrets)
	apiVersions := crdAPIVersions(run.inventory)
	for _, ch := range charts {
		if ch != nil {
			run.addCRDVersions(apiVersions, ch)
		}
	}
	rendered := make([]*helm.Rendered, len(nodes))
	renderAll := func(versions map[string]bool) {
		list := slices.Sorted(maps.Keys(versions))
		run.parallel(ctx, len(nodes), func(ctx context.Context, i int) {
			if charts[i] == nil {
				return
			}
			errs[i] = safely(func() (err error) {
				rendered[i], err = helm.RenderRelease(ctx, nodes[i].obj, charts[i], helm.ReleaseOptions{
					KubeVersion: run.r.opts.KubeVersion, APIVersions: list, Store: store, Cache: run.r.opts.Cache,
				})
				return err
			})
		})
	}
	renderAll(apiVersions)
	var produced []*unstructured.Unstructured
	for _, r := range rendered {
		if r != nil {
			for _, d := range r.Docs {
				produced = append(produced, d.Object)
			}
		}
	}
	grew := false
	for v := range crdAPIVersions(produced) {
		if !apiVersions[v] {
			apiVersions[v], grew = true, true
		}
	}
	if grew {
		renderAll(apiVersions)
	}
	return rendered, produced
}

// absorbRelease records one rendered release in its unit: chart, values,
// warnings and objects with their origins.
func (run *run) absorbRelease(node *hrNode, ch *helm.Chart, rendered *helm.Rendered, scopes scopes) {
	node.unit.Chart = ch.Name + "-" + ch.Version
	node.unit.HelmChart, node.unit.Values, node.unit.Annotations = ch, rendered.Values, node.obj.Annotations
	run.warn(node.unit, rendered.Warnings...)
	ns := node.obj.GetReleaseNamespace()
	for _, d := range rendered.Docs {
		if d.Object.GetNamespace() == "" && !scopes.clusterScoped(d.Object) {
			// helm-controller installs namespaced objects without a
			// namespace into the release namespace.
			d.Object.SetNamespace(ns)
		}
		node.unit.Objects = append(node.unit.Objects, Object{Object: d.Object, Origin: Origin{
			Producer: node.unit.Ref, File: node.file, Chart: node.unit.Chart,
			Template: d.Template, Hook: d.Hook, HookEvents: d.HookEvents, Random: d.Random, ChartCRD: d.CRD,
		}})
	}
}

// parallel runs fn for 0..n-1 with the run's concurrency bound.
func (run *run) parallel(ctx context.Context, n int, fn func(context.Context, int)) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(run.r.opts.Concurrency)
	for i := range n {
		g.Go(func() error {
			fn(gctx, i)
			return nil
		})
	}
	_ = g.Wait() // fn records its own errors
}

// chart resolves a HelmRelease's chart from its source.
func (run *run) chart(ctx context.Context, node *hrNode) (*helm.Chart, error) {
	hr := node.obj
	if ref := hr.Spec.ChartRef; ref != nil {
		ns := ref.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		src := flux.RefTo(ref.Kind, ns, ref.Name)
		if dir, ok := run.r.opts.Sources[src]; ok {
			return run.r.opts.Charts.FromPath(ctx, dir)
		}
		if src.Kind != flux.OCIRepositoryKind {
			return nil, &source.UnsupportedError{Source: src.String(), What: "chartRef " + src.String(), Reason: "only OCIRepository is supported"}
		}
		repo, err := sourceObject(run, src, flux.DecodeOCIRepository)
		if err != nil {
			return nil, fmt.Errorf("chartRef: %w", err)
		}
		fetched, err := run.r.opts.Fetcher.OCIChart(ctx, repo)
		if err != nil {
			return nil, err
		}
		return run.r.opts.Charts.FromPath(ctx, filepath.Join(fetched.Dir, source.ChartFile))
	}
	if hr.Spec.Chart == nil {
		return nil, fmt.Errorf("neither spec.chart nor spec.chartRef is set")
	}
	spec := hr.Spec.Chart.Spec
	ns := spec.SourceRef.Namespace
	if ns == "" {
		ns = hr.Namespace
	}
	src := flux.RefTo(spec.SourceRef.Kind, ns, spec.SourceRef.Name)
	switch src.Kind {
	case flux.HelmRepositoryKind:
		repo, err := sourceObject(run, src, flux.DecodeHelmRepository)
		if err != nil {
			return nil, err
		}
		ch, err := run.r.opts.Charts.FromRepository(ctx, repo.Spec.URL, spec.Chart, spec.Version)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src, err)
		}
		return withValuesFiles(ch, spec.ValuesFiles, spec.IgnoreMissingValuesFiles, "")
	case flux.GitRepositoryKind, flux.BucketKind:
		root, _, err := run.sourceRoot(ctx, src)
		if err != nil {
			return nil, err
		}
		ch, err := run.r.opts.Charts.FromPath(ctx, filepath.Join(root, filepath.FromSlash(spec.Chart)))
		if err != nil {
			return nil, err
		}
		return withValuesFiles(ch, spec.ValuesFiles, spec.IgnoreMissingValuesFiles, root)
	default:
		return nil, fmt.Errorf("chart source kind %q is not supported", src.Kind)
	}
}

func withValuesFiles(ch *helm.Chart, files []string, ignoreMissing bool, root string) (*helm.Chart, error) {
	if len(files) == 0 {
		return ch, nil
	}
	return ch.WithValuesFiles(files, ignoreMissing, root)
}

// find returns the object with the given reference from the Kustomization output.
func (run *run) find(ref flux.Ref) *unstructured.Unstructured {
	return run.fluxObjects[ref]
}

// addCRDVersions adds the API versions of the CRDs a chart ships. They are
// kept in the render cache by chart digest: real charts ship megabytes of
// CRDs, and parsing them dominates a warm render.
func (run *run) addCRDVersions(into map[string]bool, ch *helm.Chart) {
	key, err := diskcache.Key("chart-crd-versions", ch.Digest)
	var versions []string
	if err != nil || !run.r.opts.Cache.Lookup(key, &versions) {
		var objs []*unstructured.Unstructured
		for _, crd := range ch.Chart.CRDObjects() {
			docs, err := helm.DecodeDocs(string(crd.File.Data))
			if err != nil {
				continue // reported when the release renders its CRDs
			}
			objs = append(objs, docs...)
		}
		versions = slices.Sorted(maps.Keys(crdAPIVersions(objs)))
		if err == nil {
			_ = run.r.opts.Cache.Store(key, versions) // a miss next time is the worst outcome
		}
	}
	for _, v := range versions {
		into[v] = true
	}
}
