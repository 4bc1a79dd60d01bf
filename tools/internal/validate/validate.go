// Package validate runs the checks of `tools validate` over rendered
// clusters and returns their findings as data: the HelmRelease values lint,
// custom resources against the render's CRDs (Gatekeeper constraints
// against the CRDs their templates define), PrometheusRules, Grafana
// dashboards and built-in API versions for the target Kubernetes version.
package validate

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/aks-gitops/platform/tools/internal/apilifecycle"
	"github.com/aks-gitops/platform/tools/internal/crdvalidate"
	"github.com/aks-gitops/platform/tools/internal/dashboards"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/promrules"
	"github.com/aks-gitops/platform/tools/internal/render"
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
}

// Run checks every cluster.
func Run(ctx context.Context, clusters []*render.Cluster, opts Options) []Finding {
	var out []Finding
	for _, c := range clusters {
		out = append(out, cluster(ctx, c, opts)...)
	}
	return out
}

func cluster(ctx context.Context, c *render.Cluster, opts Options) []Finding {
	var out []Finding
	for _, u := range c.Units {
		if u.HelmChart == nil {
			continue
		}
		allowed := valueslint.Allowed(u.Annotations)
		for _, f := range valueslint.Lint(u.HelmChart.Chart, u.Values) {
			if !allowed[f.Path] {
				out = append(out, Finding{Cluster: c.Path, Object: u.Ref.String(), File: u.File, Where: u.File, Check: "values-lint", Message: f.String()})
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
		return Finding{Cluster: c.Path, Object: flux.RefOf(o.Object).String(), File: o.Origin.File, Where: o.Origin.String(), Check: check, Message: msg}
	}
	for _, f := range dashboards.Check(all) {
		out = append(out, newFinding(byObject[f.Object], "dashboard", f.Message))
	}
	crds, errs := crdvalidate.New(append(all, constraintCRDs(all)...))
	for _, err := range errs {
		out = append(out, Finding{Cluster: c.Path, Object: "CustomResourceDefinition", Where: "render", Check: "crd", Message: err.Error()})
	}
	for _, o := range objects {
		for _, msg := range crds.Validate(ctx, o.Object) {
			out = append(out, newFinding(o, "schema", msg))
		}
		for _, msg := range promrules.Check(o.Object) {
			out = append(out, newFinding(o, "prometheus-rule", msg))
		}
		if msg := noSchema(o.Object, crds, opts.SkipKinds); msg != "" {
			out = append(out, newFinding(o, "schema", msg))
		}
		if f := apilifecycle.Check(o.Object.GroupVersionKind(), opts.Target); f != nil {
			lf := newFinding(o, "api-lifecycle", f.Message)
			lf.Warning = f.Severity == apilifecycle.Warning
			out = append(out, lf)
		}
	}
	return out
}

// noSchema says why an object of a custom kind cannot be checked: no CRD of
// the render defines it (a typo in apiVersion or kind, or a CRD the cluster
// provides, which --skip-kind names). Built-in kinds are apilifecycle's,
// Flux kinds are decoded strictly by the renderer.
func noSchema(u *unstructured.Unstructured, crds *crdvalidate.Validator, skip map[string]bool) string {
	gvk := u.GroupVersionKind()
	if flux.IsFlux(u) || scheme.Scheme.IsGroupRegistered(gvk.Group) || crds.Has(gvk) || skip[gvk.Group+"/"+gvk.Kind] {
		return ""
	}
	return fmt.Sprintf("no CustomResourceDefinition in the render defines %s %s (if the cluster provides it, pass --skip-kind %s/%s)", gvk.GroupVersion(), gvk.Kind, gvk.Group, gvk.Kind)
}
