// Package check runs every check of the tool over one render — the
// validate checks, the cluster's Gatekeeper policies and the repository
// rules — and groups the findings per cluster and per layer (the Flux
// Kustomization that applies the objects), for `tools check`.
package check

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/policy"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/reporules"
	"github.com/aks-gitops/platform/tools/internal/validate"
)

// Options configure the checks.
type Options struct {
	Validate validate.Options
	Policy   policy.Options
	// FailOn is the weakest enforcement action whose violations (policy,
	// repository rules) are errors ("deny", "warn" or "dryrun").
	FailOn string
	// Rules are the repository rules; nil runs none.
	Rules *reporules.Rules
	// Checks chooses the checks to run (Validate, Policy, RepoRules);
	// none means all.
	Checks   []string
	RepoRoot string
	// Progress, when set, is told what runs now.
	Progress func(string)
	// Changed, when not nil, checks only what these repository files
	// (slash-separated, relative to the root) can change: the objects of
	// the Flux objects whose inputs they touch (render.ChangedScope). The
	// findings are those of a whole check on these objects; where the
	// inputs are not known, the whole render is checked.
	Changed []string
}

// Report is the result of a check run.
type Report struct {
	Clusters []Cluster `json:"clusters"`
}

// Cluster is the result for one cluster entry.
type Cluster struct {
	Path     string            `json:"path"`
	Objects  int               `json:"objects"`
	Errors   int               `json:"errors"`
	Warnings int               `json:"warnings"`
	Layers   []Layer           `json:"layers"`
	Findings []finding.Finding `json:"findings"`
	// Durations of the checks, for the summary line.
	Durations map[string]time.Duration `json:"-"`
	// Policy is what the policy check reviewed (nil when it did not run).
	Policy *policy.Result `json:"-"`
	// Scope says what a changed-only check (Options.Changed) reviewed.
	Scope *Scope `json:"scope,omitempty"`
}

// Scope is what a changed-only check reviewed of one cluster.
type Scope struct {
	// Units are the Flux objects checked, of Of (Kustomizations and
	// HelmReleases).
	Units int `json:"units"`
	Of    int `json:"of"`
	// Whole says why the whole render was checked instead.
	Whole string `json:"whole,omitempty"`
}

// Layer counts one Flux Kustomization's objects and findings.
type Layer struct {
	Name     string `json:"name"`
	Objects  int    `json:"objects"`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
}

// The checks, by name.
const (
	Validate  = "validate"
	Policy    = "policy"
	RepoRules = "repo-rules"
)

// Error is a check that could not run on one cluster.
type Error struct {
	Cluster string
	// Check is Validate, Policy or RepoRules.
	Check string
	Err   error
}

func (e *Error) Error() string {
	what := map[string]string{RepoRules: "repository rules"}[e.Check]
	return fmt.Sprintf("check %s: %s: %v", e.Cluster, cmp.Or(what, e.Check), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// NoLayer names findings no layer's objects carry (a CRD the render
// cannot read, the cluster entry itself).
const NoLayer = "(cluster)"

// Failed reports whether any cluster has an error.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Clusters, func(c Cluster) bool { return c.Errors > 0 })
}

// Findings returns every finding of every cluster.
func (r *Report) Findings() []finding.Finding {
	var out []finding.Finding
	for _, c := range r.Clusters {
		out = append(out, c.Findings...)
	}
	return out
}

// Run checks every cluster. The clusters, and the checks of each, run
// concurrently (each check bounds its own parallelism): the checks have
// serial stretches (a schema compiling, the engine loading templates) that
// the others fill. An error means a check could not run (a
// ConstraintTemplate that does not compile, a rule that fails to evaluate).
func Run(ctx context.Context, clusters []*render.Cluster, opts Options) (*Report, error) {
	rep := &Report{Clusters: make([]Cluster, len(clusters))}
	errs := make([]error, len(clusters))
	var g errgroup.Group
	for i, c := range clusters {
		g.Go(func() error {
			cr, err := cluster(ctx, c, opts)
			errs[i] = err
			rep.Clusters[i] = cr
			return nil
		})
	}
	_ = g.Wait() // errors are kept per cluster
	// The first failing cluster in order, whichever failed first in time.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// checkRun is one check of one cluster.
type checkRun struct {
	name string
	run  func() ([]finding.Finding, error)
}

func cluster(ctx context.Context, c *render.Cluster, opts Options) (Cluster, error) {
	out := Cluster{Path: c.Path, Durations: map[string]time.Duration{}}
	var scope *render.Scope
	if opts.Changed != nil {
		var whole string
		scope, whole = render.ChangedScope(c, opts.Changed)
		out.Scope = &Scope{Units: len(c.Units), Of: len(c.Units), Whole: whole}
		if scope != nil {
			out.Scope.Units = scope.Units()
		}
		opts.Validate.Scope, opts.Policy.Scope = scope, scope
	}
	chosen := func(name string) bool { return len(opts.Checks) == 0 || slices.Contains(opts.Checks, name) }
	var runs []checkRun
	if chosen(Validate) {
		runs = append(runs, checkRun{Validate, func() ([]finding.Finding, error) {
			return validate.Run(ctx, []*render.Cluster{c}, opts.Validate), nil
		}})
	}
	if chosen(Policy) {
		runs = append(runs, checkRun{Policy, func() ([]finding.Finding, error) {
			res, err := policy.Run(ctx, c, opts.Policy)
			if err != nil {
				return nil, err
			}
			out.Policy = res
			return res.Findings, nil
		}})
	}
	if opts.Rules != nil && chosen(RepoRules) {
		runs = append(runs, checkRun{RepoRules, func() ([]finding.Finding, error) {
			return opts.Rules.Check(ctx, opts.RepoRoot, c)
		}})
	}
	results := make([][]finding.Finding, len(runs))
	durations := make([]time.Duration, len(runs))
	errs := make([]error, len(runs))
	var g errgroup.Group
	for i, r := range runs {
		g.Go(func() error {
			if opts.Progress != nil {
				opts.Progress(r.name + " " + c.Path)
			}
			start := time.Now()
			results[i], errs[i] = r.run()
			durations[i] = time.Since(start)
			return nil
		})
	}
	_ = g.Wait() // errors are kept per check
	for i, err := range errs {
		if err != nil {
			return out, &Error{Cluster: c.Path, Check: runs[i].name, Err: err}
		}
	}
	var findings []finding.Finding
	for i, r := range runs {
		out.Durations[r.name] = durations[i]
		findings = append(findings, results[i]...)
	}
	if scope != nil {
		findings = inScope(c, scope, findings)
	}
	policy.FailOn(findings, cmp.Or(opts.FailOn, "deny"))
	layerOf, layers := layering(c)
	for i := range findings {
		l, ok := layerOf[findings[i].Object]
		if !ok {
			l = NoLayer
		}
		findings[i].Layer = l
		lc := layers[l]
		if lc == nil {
			lc = &Layer{Name: l}
			layers[l] = lc
		}
		if findings[i].Warning {
			lc.Warnings++
			out.Warnings++
		} else {
			lc.Errors++
			out.Errors++
		}
	}
	finding.Sort(findings)
	out.Findings = findings
	for _, l := range layers {
		out.Objects += l.Objects
		out.Layers = append(out.Layers, *l)
	}
	slices.SortFunc(out.Layers, func(a, b Layer) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// inScope keeps the findings on objects a scope holds, and those on no
// rendered object (the render's own: a CRD that does not compile).
func inScope(c *render.Cluster, scope *render.Scope, findings []finding.Finding) []finding.Finding {
	rendered, kept := map[object.ID]bool{}, map[object.ID]bool{}
	for _, u := range c.Units {
		if scope.Unit(u.Ref) {
			kept[u.Ref] = true
		}
		for _, o := range u.Objects {
			id := object.IDOf(o.Object)
			rendered[id] = true
			if scope.Unit(u.Ref) {
				kept[id] = true
			}
		}
	}
	return slices.DeleteFunc(findings, func(f finding.Finding) bool { return rendered[f.Object] && !kept[f.Object] })
}

// LayerOf maps every rendered object to its layer, as the findings of a
// check are assigned: the Kustomization ("namespace/name") that applies it
// or the HelmRelease that renders it.
func LayerOf(c *render.Cluster) map[object.ID]string {
	m, _ := layering(c)
	return m
}

// layering maps every rendered object to its layer — the Flux Kustomization that applies it, or
// that applies the HelmRelease that renders it — and counts each layer's
// objects.
func layering(c *render.Cluster) (map[object.ID]string, map[string]*Layer) {
	releaseLayer := map[flux.Ref]string{}
	for _, u := range c.Units {
		if u.Ref.Kind != flux.KustomizationKind {
			continue
		}
		for _, o := range u.Objects {
			if r := object.IDOf(o.Object); r.Kind == flux.HelmReleaseKind {
				releaseLayer[r] = u.Ref.Namespace + "/" + u.Ref.Name
			}
		}
	}
	layerOf := map[object.ID]string{}
	layers := map[string]*Layer{}
	for _, u := range c.Units {
		name := u.Ref.Namespace + "/" + u.Ref.Name
		if u.Ref.Kind != flux.KustomizationKind {
			if l, ok := releaseLayer[u.Ref]; ok {
				name = l
			}
		}
		l := layers[name]
		if l == nil {
			l = &Layer{Name: name}
			layers[name] = l
		}
		for _, o := range u.Objects {
			l.Objects++
			key := object.IDOf(o.Object)
			if _, seen := layerOf[key]; !seen {
				layerOf[key] = name
			}
		}
	}
	return layerOf, layers
}
