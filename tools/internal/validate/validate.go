// Package validate runs the checks of `tools validate` over rendered
// clusters and returns their findings as data: the HelmRelease values lint,
// custom resources against the render's CRDs (Gatekeeper constraints
// against the CRDs their templates define), PrometheusRules, Grafana
// dashboards and built-in API versions for the target Kubernetes version.
package validate

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/aks-gitops/platform/tools/internal/apilifecycle"
	"github.com/aks-gitops/platform/tools/internal/crdvalidate"
	"github.com/aks-gitops/platform/tools/internal/dashboards"
	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/promrules"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/schemas"
	"github.com/aks-gitops/platform/tools/internal/valueslint"
)

// Finding is one problem a check found.
type Finding = finding.Finding

// Options tune the checks.
type Options struct {
	// Target is the Kubernetes version of the clusters.
	Target apilifecycle.Version
	// SkipKinds are custom kinds ("group/Kind") whose CRD the cluster
	// provides itself, outside the render: not reported as having no schema.
	SkipKinds map[string]bool
	// Compiled holds the schemas compiled for the clusters of one run
	// (nil: each cluster compiles its own).
	Compiled *crdvalidate.Cache
	// SkipHint says, for a custom kind no CRD defines, how to skip it
	// (nil: nothing is said).
	SkipHint func(group, kind string) string
	// Schemas are the schemas of the kinds the cluster serves besides the
	// render's CRDs: the built-in kinds of the target version, or a bundle
	// fetched from a cluster (package schemas).
	Schemas crdvalidate.Schemas
	// RepoRoot is the checkout rendered, to point findings in generated
	// ConfigMaps at the repository files they came from.
	RepoRoot string
	// Cache keeps each object's validation by its content and schema, and
	// reuses it (nil: every object is validated).
	Cache *diskcache.Cache
	// Scope limits the objects and HelmRelease values checked (nil: all);
	// the CRDs of the whole render still make the schemas.
	Scope *render.Scope
}

// Run checks every cluster.
func Run(ctx context.Context, clusters []*render.Cluster, opts Options) []Finding {
	// Clusters run concurrently: schemas compile once for all of them, and
	// one cluster's objects fill the cores while the other waits on a
	// schema compiling.
	per := make([][]Finding, len(clusters))
	var g errgroup.Group
	for i, c := range clusters {
		g.Go(func() error {
			per[i] = cluster(ctx, c, opts)
			return nil
		})
	}
	_ = g.Wait() // the workers return no errors
	var out []Finding
	for _, fs := range per {
		out = append(out, fs...)
	}
	return out
}

func cluster(ctx context.Context, c *render.Cluster, opts Options) []Finding {
	var out []Finding
	for _, u := range c.Units {
		if u.HelmChart == nil || !opts.Scope.Unit(u.Ref) {
			continue
		}
		allowed := valueslint.Allowed(u.Annotations)
		for _, f := range valueslint.Lint(u.HelmChart.Chart, u.Values) {
			if !allowed[f.Path] {
				out = append(out, Finding{Cluster: c.Path, Object: u.Ref, File: u.File, Where: u.File, Check: "values-lint", Message: f.String()})
			}
		}
	}
	objects := c.Objects()
	all := make([]*unstructured.Unstructured, len(objects))
	byObject := map[*unstructured.Unstructured]render.Object{}
	for i, o := range objects {
		all[i] = o.Object
		byObject[o.Object] = o
	}
	newFinding := func(o render.Object, check, msg string) Finding {
		return Finding{Cluster: c.Path, Object: object.IDOf(o.Object), File: o.Origin.File, Where: o.Origin.String(), Check: check, Message: msg}
	}
	out = append(out, falcoRules(objects, opts.RepoRoot, newFinding)...)
	for _, f := range dashboards.Check(all) {
		out = append(out, newFinding(byObject[f.Object], "dashboard", f.Message))
	}
	// The Flux CRDs generated from the Flux API types come first, so a
	// render that ships its own Flux CRDs validates against those.
	var defs []*unstructured.Unstructured
	if flux, err := schemas.Flux(); err != nil {
		out = append(out, Finding{Cluster: c.Path, Object: object.ID{Kind: "CustomResourceDefinition"}, Where: "tool", Check: "crd", Message: err.Error()})
	} else {
		defs = flux.Objects()
	}
	defs = append(defs, all...)
	crds, errs := crdvalidate.New(append(defs, constraintCRDs(all)...), opts.Compiled)
	if opts.Schemas != nil {
		crds.WithSchemas(opts.Schemas)
	}
	crds.Keep(opts.Cache, c.Path)
	defer func() {
		if ctx.Err() == nil { // an interrupted run used only some of the results
			crds.Save()
		}
	}()
	for _, err := range errs {
		out = append(out, Finding{Cluster: c.Path, Object: object.ID{Kind: "CustomResourceDefinition"}, Where: "render", Check: "crd", Message: err.Error()})
	}
	// Objects are independent: validate them in parallel, each into its own
	// slot, and keep the input order.
	per := make([][]Finding, len(objects))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, o := range objects {
		if !opts.Scope.Object(o) {
			continue
		}
		g.Go(func() error {
			per[i] = checkObject(ctx, o, crds, opts, newFinding)
			return nil
		})
	}
	_ = g.Wait() // the workers return no errors
	for _, fs := range per {
		out = append(out, fs...)
	}
	return out
}

// checkObject runs the per-object checks.
func checkObject(ctx context.Context, o render.Object, crds *crdvalidate.Validator, opts Options, newFinding func(render.Object, string, string) Finding) []Finding {
	var out []Finding
	for _, msg := range crds.Validate(ctx, o.Object) {
		msg = strings.ReplaceAll(msg, "should match '"+schemas.Base64Pattern+"'", "must be base64")
		out = append(out, newFinding(o, "schema", msg))
	}
	for _, msg := range promrules.Check(o.Object) {
		out = append(out, newFinding(o, "prometheus-rule", msg))
	}
	lifecycle := apilifecycle.Check(o.Object.GroupVersionKind(), opts.Target)
	if lifecycle != nil {
		lf := newFinding(o, "api-lifecycle", lifecycle.Message)
		lf.Warning = lifecycle.Severity == apilifecycle.Warning
		out = append(out, lf)
	}
	if lifecycle == nil || lifecycle.Severity == apilifecycle.Warning {
		if msg := noSchema(o.Object, crds, opts); msg != "" {
			out = append(out, newFinding(o, "schema", msg))
		}
	}
	return out
}

// noSchema says why an object cannot be checked: no CRD of the render
// defines its kind (a typo in apiVersion or kind, or a CRD the cluster
// provides, which --skip-kind names), or the target Kubernetes version does
// not serve that built-in group-version-kind.
func noSchema(u *unstructured.Unstructured, crds *crdvalidate.Validator, opts Options) string {
	gvk := u.GroupVersionKind()
	if crds.Known(gvk) || opts.SkipKinds[gvk.Group+"/"+gvk.Kind] {
		return ""
	}
	if scheme.Scheme.IsGroupRegistered(gvk.Group) {
		if opts.Schemas == nil {
			return ""
		}
		return fmt.Sprintf("Kubernetes %s serves no %s %s (no schema; check apiVersion and kind)", opts.Target, gvk.GroupVersion(), gvk.Kind)
	}
	msg := fmt.Sprintf("no CustomResourceDefinition in the render defines %s %s", gvk.GroupVersion(), gvk.Kind)
	if opts.SkipHint != nil {
		msg += " (" + opts.SkipHint(gvk.Group, gvk.Kind) + ")"
	}
	return msg
}
