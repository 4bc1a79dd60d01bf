package drift

import (
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// producer is a Flux Kustomization or HelmRelease of the render, with what
// decides how its output is applied and compared.
type producer struct {
	ref     flux.Ref
	manager string // field manager
	// force: spec.force of a Kustomization.
	force bool
	// prune: spec.prune of a Kustomization; pruneKnown is false when
	// neither the render nor the cluster has the Kustomization object (then
	// force, prune and ignore are unknown and taken as unset).
	prune, pruneKnown bool
	// helmDrift is a HelmRelease's spec.driftDetection.mode.
	helmDrift helmv2.DriftDetectionMode
	// release is a HelmRelease's Helm release (name and namespace, as
	// helm-controller derives them), empty when the render lacks it.
	release struct{ name, namespace string }
	// ignore holds spec.ignore (Kustomization) or
	// spec.driftDetection.ignore (HelmRelease).
	ignore jsondiff.CompiledIgnoreRules
	// randomKinds are kinds of which the HelmRelease renders an object
	// with a random name: live ones of those kinds cannot be matched.
	randomKinds map[string]bool
}

// producers returns the Flux objects that rendered output in c (suspended
// or failed ones apply nothing and own nothing here), keyed by reference.
func producers(c *render.Cluster) (map[flux.Ref]*producer, error) {
	rendered := map[flux.Ref]*unstructured.Unstructured{}
	for _, o := range c.Objects() {
		if flux.IsFlux(o.Object) {
			rendered[flux.RefOf(o.Object)] = o.Object
		}
	}
	out := map[flux.Ref]*producer{}
	for _, u := range c.Units {
		if u.Skipped != "" || u.Failed {
			continue
		}
		p := &producer{ref: u.Ref, manager: flux.Applier(u.Ref.Kind)}
		obj := rendered[u.Ref]
		switch u.Ref.Kind {
		case flux.KustomizationKind:
			if obj != nil {
				ks, err := flux.DecodeKustomization(obj)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", u.Ref, err)
				}
				p.force, p.prune, p.pruneKnown = ks.Spec.Force, ks.Spec.Prune, true
				if p.ignore, err = compileIgnore(kustomizeRules(ks.Spec.Ignore)); err != nil {
					return nil, fmt.Errorf("%s: spec.ignore: %w", u.Ref, err)
				}
			}
		case flux.HelmReleaseKind:
			p.helmDrift = helmv2.DriftDetectionDisabled
			if obj != nil {
				hr, err := flux.DecodeHelmRelease(obj)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", u.Ref, err)
				}
				p.release.name, p.release.namespace = hr.GetReleaseName(), hr.GetReleaseNamespace()
				dd := hr.GetDriftDetection()
				p.helmDrift = dd.GetMode()
				if p.ignore, err = compileIgnore(helmRules(dd.Ignore)); err != nil {
					return nil, fmt.Errorf("%s: spec.driftDetection.ignore: %w", u.Ref, err)
				}
			}
			p.randomKinds = map[string]bool{}
			for _, o := range u.Objects {
				for _, r := range o.Origin.Random {
					if r == "*" {
						p.randomKinds[o.Object.GetKind()] = true
					}
				}
			}
		default:
			return nil, fmt.Errorf("%s: not a Kustomization or HelmRelease", u.Ref)
		}
		out[u.Ref] = p
	}
	return out, nil
}

type rule struct {
	paths  []string
	target *kustomize.Selector
}

func kustomizeRules(in []kustomizev1.IgnoreRule) []rule {
	out := make([]rule, len(in))
	for i, r := range in {
		out[i] = rule{paths: r.Paths, target: r.Target}
	}
	return out
}

func helmRules(in []helmv2.IgnoreRule) []rule {
	out := make([]rule, len(in))
	for i, r := range in {
		out[i] = rule{paths: r.Paths, target: r.Target}
	}
	return out
}

func compileIgnore(rules []rule) (jsondiff.CompiledIgnoreRules, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	in := make([]jsondiff.IgnoreRule, len(rules))
	for i, r := range rules {
		in[i].Paths = r.paths
		if t := r.target; t != nil {
			in[i].Selector = &jsondiff.Selector{
				Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name, Namespace: t.Namespace,
				AnnotationSelector: t.AnnotationSelector, LabelSelector: t.LabelSelector,
			}
		}
	}
	return jsondiff.CompileIgnoreRules(in)
}

// ignoredPaths returns the JSON pointers p's rules ignore for obj, and
// whether one of them is the whole object.
func (p *producer) ignoredPaths(obj *unstructured.Unstructured) (paths []string, whole bool) {
	for sel, ps := range p.ignore {
		if !sel.MatchUnstructured(obj) {
			continue
		}
		for _, path := range ps {
			if path == jsondiff.IgnorePathRoot {
				whole = true
			}
			paths = append(paths, path)
		}
	}
	return paths, whole
}
