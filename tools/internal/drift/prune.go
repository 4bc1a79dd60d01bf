package drift

import (
	"context"
	"fmt"
	"sort"

	cliobject "github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// inventory is what a live Kustomization's status says it applied.
type inventory struct {
	prod    *producer
	entries []inventoryEntry
}

type inventoryEntry struct {
	key     object.ID
	mapping *meta.RESTMapping // nil: the kind is no longer served
}

// inventories reads status.inventory of the live Kustomization of every
// Kustomization producer. Without Flux's CRD in the cluster there is none,
// and prune candidates come from owner labels only.
func (ch *checker) inventories(ctx context.Context) ([]inventory, error) {
	var prods []*producer
	for _, p := range ch.prods {
		if p.ref.Kind == flux.KustomizationKind {
			prods = append(prods, p)
		}
	}
	if len(prods) == 0 {
		return nil, nil
	}
	sort.Slice(prods, func(i, j int) bool { return prods[i].ref.String() < prods[j].ref.String() })
	gvk := kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind)
	m, err := ch.cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		ch.warnings = append(ch.warnings, fmt.Sprintf("the cluster serves no %s: Flux is not installed, prune candidates come from owner labels only", gvk.GroupVersion()))
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", gvk, err)
	}
	out := make([]inventory, len(prods))
	missing := make([]bool, len(prods))
	g, gctx := ch.group(ctx)
	for i, p := range prods {
		g.Go(func() error {
			out[i].prod = p
			live, err := ch.get(gctx, m, p.ref.Namespace, p.ref.Name)
			if err != nil {
				return fmt.Errorf("get %s: %w", p.ref, err)
			}
			if live == nil {
				missing[i] = true
				return nil
			}
			var ks kustomizev1.Kustomization
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(live.Object, &ks); err != nil {
				return fmt.Errorf("live %s: %w", p.ref, err)
			}
			if !p.pruneKnown {
				// Not in the render (the entry's own Kustomization, made by
				// the bootstrap): the live spec is what Flux goes by.
				p.prune, p.pruneKnown, p.force = ks.Spec.Prune, true, ks.Spec.Force
				if p.ignore, err = compileIgnore(kustomizeRules(ks.Spec.Ignore)); err != nil {
					return fmt.Errorf("live %s: spec.ignore: %w", p.ref, err)
				}
			}
			if ks.Status.Inventory == nil {
				return nil
			}
			for _, e := range ks.Status.Inventory.Entries {
				id, err := cliobject.ParseObjMetadata(e.ID)
				if err != nil {
					return fmt.Errorf("live %s: inventory: %w", p.ref, err)
				}
				entry := inventoryEntry{key: object.ID{Group: id.GroupKind.Group, Kind: id.GroupKind.Kind, Namespace: id.Namespace, Name: id.Name}}
				em, err := ch.cl.mapper.RESTMapping(id.GroupKind, e.Version)
				switch {
				case meta.IsNoMatchError(err):
				case err != nil:
					return fmt.Errorf("live %s: inventory: resolve %s: %w", p.ref, id.GroupKind, err)
				default:
					entry.mapping = em
				}
				out[i].entries = append(out[i].entries, entry)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, p := range prods {
		if missing[i] {
			ch.warnings = append(ch.warnings, fmt.Sprintf("%s is not live: no inventory to find prune candidates in", p.ref))
		}
	}
	return out, nil
}

// ownerOf returns the producer of the render whose owner labels u carries.
func (ch *checker) ownerOf(u *unstructured.Unstructured) *producer {
	l := u.GetLabels()
	for _, kind := range []string{flux.KustomizationKind, flux.HelmReleaseKind} {
		group := flux.OwnerGroup(kind)
		name, ns := l[group+"/name"], l[group+"/namespace"]
		if name == "" || ns == "" {
			continue
		}
		if p := ch.prods[flux.RefTo(kind, ns, name)]; p != nil {
			return p
		}
	}
	return nil
}

// controlled reports whether a controller owns u (an EndpointSlice copies
// its Service's labels, for instance): Flux did not apply it.
func controlled(u *unstructured.Unstructured) bool {
	for _, ref := range u.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return true
		}
	}
	return false
}

// pruneCandidates returns the live objects a producer of the render owns,
// by owner labels or by its Kustomization's inventory, that the render no
// longer has.
func (ch *checker) pruneCandidates(ctx context.Context, inv []inventory) ([]Result, error) {
	found := ch.labelled()
	if err := ch.fromInventories(ctx, inv, found); err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(found))
	for _, c := range found {
		out = append(out, pruneResult(c))
	}
	return out, nil
}

// candidate is a live object the render no longer has, and the producer
// that applied it.
type candidate struct {
	live *unstructured.Unstructured
	prod *producer
}

// labelled finds the candidates by the owner labels of the objects listed
// live: not in the render, not controlled by another object, of a producer
// of the render whose chart does not name this kind at random.
func (ch *checker) labelled() map[object.ID]candidate {
	found := map[object.ID]candidate{}
	for _, objs := range ch.owned {
		for k, u := range objs {
			if ch.desired[k] || controlled(u) {
				continue
			}
			p := ch.ownerOf(u)
			if p == nil || p.randomKinds[u.GetKind()] {
				continue
			}
			found[k] = candidate{u, p}
		}
	}
	return found
}

// fromInventories adds the inventory entries the labels did not turn up
// (labels removed by hand, or a resource that could not be listed),
// fetching those not listed live; an entry no longer live is no candidate.
func (ch *checker) fromInventories(ctx context.Context, inv []inventory, found map[object.ID]candidate) error {
	type lookup struct {
		entry inventoryEntry
		prod  *producer
		live  *unstructured.Unstructured
	}
	var lookups []*lookup
	for _, in := range inv {
		for _, e := range in.entries {
			if ch.desired[e.key] || e.mapping == nil {
				continue
			}
			if _, ok := found[e.key]; ok {
				continue
			}
			if u := ch.owned[e.mapping.Resource][e.key]; u != nil {
				found[e.key] = candidate{u, in.prod}
				continue
			}
			lookups = append(lookups, &lookup{entry: e, prod: in.prod})
		}
	}
	g, gctx := ch.group(ctx)
	for _, l := range lookups {
		g.Go(func() error {
			u, err := ch.get(gctx, l.entry.mapping, l.entry.key.Namespace, l.entry.key.Name)
			if err != nil {
				return fmt.Errorf("get %s %s/%s of the inventory of %s: %w", l.entry.key.Kind, l.entry.key.Namespace, l.entry.key.Name, l.prod.ref, err)
			}
			l.live = u
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, l := range lookups {
		if _, ok := found[l.entry.key]; l.live != nil && !ok {
			found[l.entry.key] = candidate{l.live, l.prod}
		}
	}
	return nil
}

// pruneResult is a candidate as a result, with the note that says whether
// its producer deletes it: Helm's keep policy, a HelmRelease's objects
// (Helm deletes them), the Flux prune-disabled key, a Kustomization with
// prune off, else garbage collection.
func pruneResult(c candidate) Result {
	r := Result{Status: Prune, Change: diff.Change{
		ID: object.IDOf(c.live), APIVersion: c.live.GetAPIVersion(), Origin: render.Origin{Producer: c.prod.ref},
	}}
	kept := flux.KeptBy(c.prod.ref.Kind, c.live)
	switch {
	case kept == flux.HelmKeepKey:
		r.Notes = append(r.Notes, note(diff.Warning, "kept", flux.HelmKeepKey+": keep: Helm leaves it in the cluster"))
	case c.prod.manager == flux.HelmController:
		r.Notes = append(r.Notes, note(diff.Danger, "prune", "Helm deletes it when the release is upgraded"))
	case kept == flux.PruneKey:
		r.Notes = append(r.Notes, note(diff.Warning, "kept", flux.PruneKey+": disabled: Flux leaves it in the cluster"))
	case c.prod.pruneKnown && !c.prod.prune:
		r.Notes = append(r.Notes, note(diff.Warning, "kept", fmt.Sprintf("%s has spec.prune false: Flux leaves it in the cluster", c.prod.ref)))
	default:
		r.Notes = append(r.Notes, note(diff.Danger, "prune", "Flux deletes it (garbage collection)"))
	}
	return r
}
