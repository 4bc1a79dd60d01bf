package render

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/kustomize"
	"github.com/aks-gitops/platform/tools/internal/secrets"
	"github.com/aks-gitops/platform/tools/internal/source"
)

// run is the state of rendering one cluster entry. Its maps are only
// touched between parallel phases, by the goroutine that drives the run.
type run struct {
	r         *Renderer
	cluster   *Cluster
	entryRef  flux.Ref
	ks        map[flux.Ref]*ksNode
	hrs       map[flux.Ref]*hrNode
	pending   []flux.Ref
	inventory []*unstructured.Unstructured
	// fluxObjects indexes the Flux objects of the inventory (the first of a
	// name wins, as for Kustomizations) for source lookups.
	fluxObjects map[flux.Ref]*unstructured.Unstructured
	// observations are what checking the render cache saw on disk, shared
	// by the run's builds.
	observations *kustomize.Observations
}

func newRun(r *Renderer, rel string) *run {
	return &run{
		r:           r,
		cluster:     &Cluster{Path: rel},
		ks:          map[flux.Ref]*ksNode{},
		hrs:         map[flux.Ref]*hrNode{},
		fluxObjects: map[flux.Ref]*unstructured.Unstructured{},
		// One per run: a render of the same checkout later (a long-lived
		// Renderer, a diff's two sides) sees the files as they are then.
		observations: &kustomize.Observations{},
	}
}

func (run *run) fail(u *Unit, file string, err error) {
	if u != nil {
		u.Failed = true
	}
	ref := flux.Ref{}
	if u != nil {
		ref = u.Ref
	}
	run.cluster.Errors = append(run.cluster.Errors, &UnitError{Ref: ref, File: file, Err: err})
}

func (run *run) warn(u *Unit, msgs ...string) {
	for _, m := range msgs {
		run.cluster.Warnings = append(run.cluster.Warnings, fmt.Sprintf("%s: %s", u.Ref, m))
	}
}

// entry builds the entry path as the sync Kustomization Flux creates for it
// (no spec of its own) and decides which GitRepository is this checkout.
func (run *run) entry(ctx context.Context) error {
	pseudo := &kustomizev1.Kustomization{}
	pseudo.Spec.Path = run.cluster.Path
	root, err := run.r.selfRoot(ctx, nil)
	if err != nil {
		return err
	}
	// Cached like any build: a warm render then runs no krusty at all,
	// whose first build parses kyaml's built-in OpenAPI schema (a tenth of
	// a warm render).
	opts := kustomize.Options{Cache: run.r.opts.Cache, Observations: run.observations}
	res, err := kustomize.Build(ctx, root, pseudo, run.cluster.Path, opts)
	if err != nil {
		return err
	}
	self, err := run.selfSource(res.Objects)
	if err != nil {
		return err
	}
	run.cluster.SelfSource = self
	run.entryRef = flux.RefTo(flux.KustomizationKind, self.Namespace, self.Name)
	// On a bootstrapped cluster the self GitRepository is the one the entry
	// declares: with a spec.ignore of its own, that, not the default
	// exclusions, decides what the entry is built from.
	if ignore := selfIgnore(res.Objects, self); ignore != nil {
		if root, err = run.r.selfRoot(ctx, ignore); err != nil {
			return err
		}
		if res, err = kustomize.Build(ctx, root, pseudo, run.cluster.Path, opts); err != nil {
			return err
		}
	}
	objs := make([]*unstructured.Unstructured, len(res.Objects))
	for i, o := range res.Objects {
		objs[i] = o.Object
		// A Kustomization named like the sync Kustomization but building
		// another path is a root committed for bootstrapping (the entry is
		// then applied by hand, not by Flux): it is rendered like any
		// other, and the entry takes a name of its own.
		if flux.RefOf(o.Object) == run.entryRef && flux.IsFlux(o.Object) {
			p, _, _ := unstructured.NestedString(o.Object.Object, "spec", "path")
			if cleanPath(p) != run.cluster.Path {
				run.entryRef.Name += "-entry"
			}
		}
	}
	kustomize.SetOwnerLabels(objs, run.entryRef.Name, run.entryRef.Namespace)
	unit := &Unit{Ref: run.entryRef, File: run.cluster.Path, Inputs: res.Inputs}
	run.cluster.Units = append(run.cluster.Units, unit)
	run.absorb(unit, res.Objects, "")
	return nil
}

// selfIgnore is the spec.ignore of the self GitRepository among objs, or
// nil when objs do not hold it or it has none.
func selfIgnore(objs []kustomize.Object, self flux.Ref) *string {
	for _, o := range objs {
		if flux.RefOf(o.Object) != self || !flux.IsFlux(o.Object) {
			continue
		}
		if repo, err := flux.DecodeGitRepository(o.Object); err == nil {
			return repo.Spec.Ignore
		}
	}
	return nil
}

// selfSource returns --self-source; else the source of the Kustomization in
// the entry that applies the entry path itself (flux bootstrap's sync
// Kustomization); else the one GitRepository the entry's Kustomizations use
// (flux-system/flux-system when they use none).
func (run *run) selfSource(objs []kustomize.Object) (flux.Ref, error) {
	if run.r.opts.SelfSource.Name != "" {
		return run.r.opts.SelfSource, nil
	}
	seen := map[flux.Ref]bool{}
	for _, o := range objs {
		u := o.Object
		if u.GetKind() != flux.KustomizationKind || !flux.IsFlux(u) {
			continue
		}
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "kind")
		name, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "name")
		ns, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "namespace")
		p, _, _ := unstructured.NestedString(u.Object, "spec", "path")
		if kind != flux.GitRepositoryKind || name == "" {
			continue
		}
		if ns == "" {
			ns = u.GetNamespace()
		}
		ref := flux.RefTo(kind, ns, name)
		if cleanPath(p) == run.cluster.Path {
			return ref, nil
		}
		seen[ref] = true
	}
	refs := make([]string, 0, len(seen))
	var only flux.Ref
	for ref := range seen {
		refs = append(refs, ref.String())
		only = ref
	}
	switch len(refs) {
	case 0:
		return flux.RefTo(flux.GitRepositoryKind, "flux-system", "flux-system"), nil
	case 1:
		return only, nil
	}
	sort.Strings(refs)
	return flux.Ref{}, &AmbiguousSelfError{Sources: refs}
}

// AmbiguousSelfError is an entry whose Kustomizations use several
// GitRepositories, so which one is this checkout must be said.
type AmbiguousSelfError struct{ Sources []string }

func (e *AmbiguousSelfError) Error() string {
	return fmt.Sprintf("the entry's Kustomizations use several GitRepositories (%s): which one is this checkout?", strings.Join(e.Sources, ", "))
}

// cleanPath normalises a Kustomization spec.path relative to its source root.
func cleanPath(p string) string {
	return path.Clean(strings.TrimPrefix(p, "/"))
}

// absorb records a unit's objects and discovers the Flux objects among them.
func (run *run) absorb(unit *Unit, objs []kustomize.Object, source string) {
	for _, o := range objs {
		u := o.Object
		unit.Objects = append(unit.Objects, Object{Object: u, Origin: Origin{Producer: unit.Ref, File: o.File, Source: source}})
		run.inventory = append(run.inventory, u)
		if !flux.IsFlux(u) {
			continue
		}
		ref := flux.RefOf(u)
		if _, ok := run.fluxObjects[ref]; !ok {
			run.fluxObjects[ref] = u
		}
		where := o.File
		if source != "" {
			where = source + ":" + o.File
		}
		switch ref.Kind {
		case flux.KustomizationKind:
			ks, err := flux.DecodeKustomization(u)
			if err != nil {
				run.fail(&Unit{Ref: ref}, where, err)
				continue
			}
			if ref == unit.Ref || ref == run.entryRef {
				// A Kustomization that applies itself (flux bootstrap commits
				// the entry's own sync Kustomization): already rendered.
				if _, ok := run.ks[ref]; !ok {
					run.ks[ref] = &ksNode{obj: ks, file: where, unit: unit}
				}
				continue
			}
			if prev, ok := run.ks[ref]; ok {
				run.fail(&Unit{Ref: ref}, where, fmt.Errorf("defined twice: also in %s", prev.file))
				continue
			}
			run.ks[ref] = &ksNode{obj: ks, file: where, unit: &Unit{Ref: ref, File: where}}
			run.pending = append(run.pending, ref)
		case flux.HelmReleaseKind:
			hr, err := flux.DecodeHelmRelease(u)
			if err != nil {
				run.fail(&Unit{Ref: ref}, where, err)
				continue
			}
			if prev, ok := run.hrs[ref]; ok {
				run.fail(&Unit{Ref: ref}, where, fmt.Errorf("defined twice: also in %s", prev.file))
				continue
			}
			run.hrs[ref] = &hrNode{obj: hr, file: where, unit: &Unit{Ref: ref, File: where}}
		default:
			// Sources and other Flux kinds are decoded strictly too, so a
			// typo there is reported even if nothing reads the object.
			if err := flux.Validate(u); err != nil {
				run.fail(&Unit{Ref: ref}, where, err)
			}
		}
	}
}

// kustomizations renders discovered Kustomizations in waves until no new
// ones appear. A Kustomization waits while a ConfigMap or Secret it
// substitutes from is not yet in the render and another wave may add it.
func (run *run) kustomizations(ctx context.Context) {
	for len(run.pending) > 0 {
		store := secrets.NewStore(run.inventory, run.r.opts.ShowSecrets)
		batch, rest := run.ready(store)
		run.pending = rest
		type result struct {
			res    *kustomize.Result
			source string
			err    error
		}
		results := make([]result, len(batch))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(run.r.opts.Concurrency)
		for i, ref := range batch {
			node := run.ks[ref]
			g.Go(func() error {
				results[i].err = safely(func() (err error) {
					results[i].res, results[i].source, err = run.buildKustomization(gctx, node, store)
					return err
				})
				return nil
			})
		}
		_ = g.Wait() // workers record errors in results
		for i, ref := range batch {
			node := run.ks[ref]
			run.cluster.Units = append(run.cluster.Units, node.unit)
			res := results[i]
			switch {
			case res.err != nil:
				run.fail(node.unit, node.file, res.err)
			case res.res == nil:
				node.unit.Skipped = "suspended"
			default:
				if res.source == "" {
					// Read from this checkout: what it read is known.
					node.unit.Inputs = res.res.Inputs
				}
				run.warn(node.unit, res.res.Warnings...)
				run.absorb(node.unit, res.res.Objects, res.source)
			}
		}
	}
}

// ready splits the pending Kustomizations into those that can be built now
// and those waiting for substitution sources. When none is ready, all are.
func (run *run) ready(store *secrets.Store) (batch, rest []flux.Ref) {
	sort.Slice(run.pending, func(i, j int) bool { return refLess(run.pending[i], run.pending[j]) })
	for _, ref := range run.pending {
		ks := run.ks[ref].obj
		waiting := false
		if pb := ks.Spec.PostBuild; pb != nil && !ks.Spec.Suspend {
			for _, s := range pb.SubstituteFrom {
				if !store.Has(s.Kind, ks.Namespace, s.Name) {
					waiting = true
				}
			}
		}
		if waiting {
			rest = append(rest, ref)
		} else {
			batch = append(batch, ref)
		}
	}
	if len(batch) == 0 {
		return rest, nil
	}
	return batch, rest
}

func (run *run) buildKustomization(ctx context.Context, node *ksNode, store *secrets.Store) (*kustomize.Result, string, error) {
	ks := node.obj
	if ks.Spec.Suspend {
		return nil, "", nil
	}
	ns := ks.Spec.SourceRef.Namespace
	if ns == "" {
		ns = ks.Namespace
	}
	root, label, err := run.sourceRoot(ctx, flux.RefTo(ks.Spec.SourceRef.Kind, ns, ks.Spec.SourceRef.Name))
	if err != nil {
		return nil, "", err
	}
	dir := cleanPath(ks.Spec.Path)
	res, err := kustomize.Build(ctx, root, ks, dir, kustomize.Options{
		Store: store, Strict: run.r.opts.StrictSubstitution, Decryptor: run.r.opts.Decryptor,
		Cache: run.r.opts.Cache, Observations: run.observations,
	})
	return res, label, err
}

// sourceRoot returns the local directory of a source and, when it is not
// this checkout, a label naming it: a --source mapping, else the source
// object of the render fetched over the network.
func (run *run) sourceRoot(ctx context.Context, ref flux.Ref) (string, string, error) {
	if ref == run.cluster.SelfSource {
		// The checkout as source-controller would package it, with the
		// GitRepository's spec.ignore when the render has it.
		var ignore *string
		if u := run.find(ref); u != nil {
			if repo, err := flux.DecodeGitRepository(u); err == nil {
				ignore = repo.Spec.Ignore
			}
		}
		root, err := run.r.selfRoot(ctx, ignore)
		return root, "", err
	}
	if dir, ok := run.r.opts.Sources[ref]; ok {
		return dir, ref.String(), nil
	}
	if run.find(ref) == nil {
		return "", "", &source.UnsupportedError{Source: ref.String(), What: "source " + ref.String(), Reason: fmt.Sprintf("not this repository (%s), not in the render and not mapped to a local copy", run.cluster.SelfSource)}
	}
	var fetched *source.Fetched
	switch ref.Kind {
	case flux.GitRepositoryKind:
		repo, err := sourceObject(run, ref, flux.DecodeGitRepository)
		if err != nil {
			return "", "", err
		}
		if fetched, err = run.r.opts.Fetcher.GitRepository(ctx, repo); err != nil {
			return "", "", err
		}
	case flux.OCIRepositoryKind:
		repo, err := sourceObject(run, ref, flux.DecodeOCIRepository)
		if err != nil {
			return "", "", err
		}
		if fetched, err = run.r.opts.Fetcher.OCIRepository(ctx, repo); err != nil {
			return "", "", err
		}
	default:
		return "", "", &source.UnsupportedError{Source: ref.String(), What: "source " + ref.String(), Reason: "kind not supported"}
	}
	return fetched.Dir, ref.String() + "@" + fetched.Revision, nil
}

// sourceObject finds a source object in the render and decodes it strictly.
func sourceObject[T any](run *run, ref flux.Ref, decode func(*unstructured.Unstructured) (*T, error)) (*T, error) {
	u := run.find(ref)
	if u == nil {
		return nil, fmt.Errorf("source %s not found in the render", ref)
	}
	obj, err := decode(u)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", ref, err)
	}
	return obj, nil
}

// checkDependencies reports dependsOn references to missing objects and
// dependency cycles, for Kustomizations and HelmReleases.
func (run *run) checkDependencies() {
	ksDeps := map[flux.Ref][]flux.Ref{}
	for ref, node := range run.ks {
		for _, d := range node.obj.Spec.DependsOn {
			ksDeps[ref] = append(ksDeps[ref], depRef(flux.KustomizationKind, d.Namespace, d.Name, ref.Namespace))
		}
	}
	hrDeps := map[flux.Ref][]flux.Ref{}
	for ref, node := range run.hrs {
		for _, d := range node.obj.Spec.DependsOn {
			hrDeps[ref] = append(hrDeps[ref], depRef(flux.HelmReleaseKind, d.Namespace, d.Name, ref.Namespace))
		}
	}
	exists := func(ref flux.Ref) bool {
		_, k := run.ks[ref]
		_, h := run.hrs[ref]
		return k || h
	}
	fileOf := func(ref flux.Ref) (*Unit, string) {
		if n, ok := run.ks[ref]; ok {
			return n.unit, n.file
		}
		n := run.hrs[ref]
		return n.unit, n.file
	}
	for _, deps := range []map[flux.Ref][]flux.Ref{ksDeps, hrDeps} {
		for _, ref := range sortedRefs(deps) {
			for _, d := range deps[ref] {
				if !exists(d) {
					u, f := fileOf(ref)
					run.fail(u, f, fmt.Errorf("dependsOn %s: not found in the render", d))
				}
			}
		}
		for _, cycle := range findCycles(deps) {
			u, f := fileOf(cycle[0])
			names := make([]string, len(cycle))
			for i, c := range cycle {
				names[i] = c.String()
			}
			run.fail(u, f, fmt.Errorf("dependsOn cycle: %s", strings.Join(names, " -> ")))
		}
	}
}

func depRef(kind, ns, name, defaultNS string) flux.Ref {
	if ns == "" {
		ns = defaultNS
	}
	return flux.RefTo(kind, ns, name)
}

func sortedRefs[T any](m map[flux.Ref]T) []flux.Ref {
	out := make([]flux.Ref, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return refLess(out[i], out[j]) })
	return out
}

// findCycles returns each dependency cycle once, starting at its smallest
// member and closed by repeating it.
func findCycles(deps map[flux.Ref][]flux.Ref) [][]flux.Ref {
	const (
		unvisited = iota
		active
		done
	)
	state := map[flux.Ref]int{}
	var stack []flux.Ref
	seen := map[string]bool{}
	var cycles [][]flux.Ref
	var visit func(flux.Ref)
	visit = func(n flux.Ref) {
		state[n] = active
		stack = append(stack, n)
		for _, d := range deps[n] {
			switch state[d] {
			case unvisited:
				visit(d)
			case active:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				cycle := rotate(append([]flux.Ref(nil), stack[i:]...))
				key := fmt.Sprint(cycle)
				if !seen[key] {
					seen[key] = true
					cycles = append(cycles, append(cycle, cycle[0]))
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
	}
	for _, n := range sortedRefs(deps) {
		if state[n] == unvisited {
			visit(n)
		}
	}
	return cycles
}

// rotate starts a cycle at its smallest member so each is reported once.
func rotate(c []flux.Ref) []flux.Ref {
	m := 0
	for i := range c {
		if refLess(c[i], c[m]) {
			m = i
		}
	}
	return append(c[m:], c[:m]...)
}

// crdAPIVersions returns group/version and group/version/Kind for every
// served version of the CustomResourceDefinitions among objs.
func crdAPIVersions(objs []*unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, crd := range crds(objs) {
		for _, v := range crd.versions {
			gv := crd.group + "/" + v
			out[gv] = true
			out[gv+"/"+crd.kind] = true
		}
	}
	return out
}

// crd is what the renderer needs of a CustomResourceDefinition.
type crd struct {
	group, kind   string
	clusterScoped bool
	versions      []string // served
}

// crds reads the CustomResourceDefinitions among objs. Only the few fields
// needed are read: a typed conversion of the large schemas real charts ship
// costs more than the rest of a warm render.
func crds(objs []*unstructured.Unstructured) []crd {
	var out []crd
	for _, u := range objs {
		if u.GetKind() != "CustomResourceDefinition" || u.GetAPIVersion() != "apiextensions.k8s.io/v1" {
			continue
		}
		c := crd{}
		c.group, _, _ = unstructured.NestedString(u.Object, "spec", "group")
		c.kind, _, _ = unstructured.NestedString(u.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
		c.clusterScoped = scope == "Cluster"
		// Not NestedSlice: it copies the versions, schemas and all.
		versions, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "versions")
		list, _ := versions.([]any)
		for _, v := range list {
			vm, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if served, _ := vm["served"].(bool); served {
				if name, _ := vm["name"].(string); name != "" {
					c.versions = append(c.versions, name)
				}
			}
		}
		out = append(out, c)
	}
	return out
}
