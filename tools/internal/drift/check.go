package drift

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// Options configures Check.
type Options struct {
	// Concurrency bounds the requests in flight (at least 1).
	Concurrency int
	// QPS and Burst set the client's rate limit.
	QPS   float32
	Burst int
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
	// Backoff paces retries of throttled (429) or timed-out requests.
	Backoff wait.Backoff
	// Diff configures the field comparison (noise rules).
	Diff diff.Options
	// Progress, when set, is called (from several goroutines) as objects
	// are checked.
	Progress func(done, total int)
}

// DefaultOptions suit a remote cluster as well as a local API server.
func DefaultOptions() Options {
	return Options{
		Concurrency:    16,
		QPS:            1000,
		Burst:          2000,
		RequestTimeout: 30 * time.Second,
		Backoff:        wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 7, Cap: 5 * time.Second},
		Diff:           diff.DefaultOptions(),
	}
}

// item is one rendered object on its way to a result.
type item struct {
	obj     render.Object
	desired *unstructured.Unstructured // a copy, namespace fixed for the kind's scope
	mapping *meta.RESTMapping          // nil: the kind is not served
	prod    *producer
	res     Result
}

// checker holds one run of Check.
type checker struct {
	cl       *clients
	opts     Options
	cluster  *render.Cluster
	prods    map[flux.Ref]*producer
	desired  map[object.ID]bool
	crdKinds map[schema.GroupKind]bool // kinds CRDs in the render define
	// namespaces the render creates.
	namespaces map[string]bool
	// live objects owned (by labels) by any Flux controller, by resource.
	owned map[schema.GroupVersionResource]map[object.ID]*unstructured.Unstructured
	// resources whose owned list failed for lack of permission: fall back
	// to one GET per object and no label scan.
	unlisted map[schema.GroupVersionResource]bool
	warnings []string
}

// Check compares the cluster entry c with the cluster cfg points at.
func Check(ctx context.Context, cfg *rest.Config, c *render.Cluster, opts Options) (*Report, error) {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if err := ping(ctx, cfg); err != nil {
		return nil, err
	}
	cl, err := newClients(cfg, opts)
	if err != nil {
		return nil, err
	}
	prods, err := producers(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	ch := &checker{
		cl: cl, opts: opts, cluster: c, prods: prods,
		desired: map[object.ID]bool{}, crdKinds: map[schema.GroupKind]bool{}, namespaces: map[string]bool{},
		owned:    map[schema.GroupVersionResource]map[object.ID]*unstructured.Unstructured{},
		unlisted: map[schema.GroupVersionResource]bool{},
	}
	items, err := ch.prepare()
	if err != nil {
		return nil, err
	}
	inv, err := ch.inventories(ctx)
	if err != nil {
		return nil, err
	}
	if err := ch.listOwned(ctx, items, inv); err != nil {
		return nil, err
	}
	if err := ch.checkAll(ctx, items); err != nil {
		return nil, err
	}
	pruned, err := ch.pruneCandidates(ctx, inv)
	if err != nil {
		return nil, err
	}
	rep := &Report{Cluster: c.Path, Server: cfg.Host}
	for _, it := range items {
		rep.Results = append(rep.Results, it.res)
	}
	rep.Results = append(rep.Results, pruned...)
	for i := range rep.Results {
		rep.Results[i].Action = actions[rep.Results[i].Status]
	}
	sortResults(rep.Results)
	sort.Strings(ch.warnings)
	rep.Warnings = ch.warnings
	return rep, nil
}

// prepare resolves every rendered object's resource and scope.
func (ch *checker) prepare() ([]*item, error) {
	objs := ch.cluster.Objects()
	for _, o := range objs {
		u := o.Object
		switch gvk := u.GroupVersionKind(); {
		case gvk.Group == "" && gvk.Kind == "Namespace":
			ch.namespaces[u.GetName()] = true
		case gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition":
			group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
			ch.crdKinds[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	items := make([]*item, len(objs))
	for i, o := range objs {
		it := &item{obj: o, desired: o.Object.DeepCopy(), prod: ch.prods[o.Origin.Producer]}
		items[i] = it
		gvk := it.desired.GroupVersionKind()
		m, err := ch.cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case meta.IsNoMatchError(err):
			// Decided per object in check: created after its CRD, or failed.
		case err != nil:
			return nil, fmt.Errorf("%s: resolve %s: %w", ch.cluster.Path, gvk, err)
		default:
			it.mapping = m
			if m.Scope.Name() == meta.RESTScopeNameRoot {
				// The API server ignores a namespace on a cluster-scoped
				// object; so does the comparison.
				it.desired.SetNamespace("")
			}
		}
		ch.desired[object.IDOf(it.desired)] = true
		it.res = Result{Change: diff.Change{ID: object.IDOf(it.desired), APIVersion: it.desired.GetAPIVersion(), Origin: o.Origin}}
	}
	return items, nil
}

// listOwned lists, for every resource of the render and the inventories,
// the live objects carrying a Flux controller's owner labels: they are the
// live side of the comparison (one request per resource instead of one per
// object) and the prune candidates.
func (ch *checker) listOwned(ctx context.Context, items []*item, inv []inventory) error {
	gvrs := map[schema.GroupVersionResource]bool{}
	for _, it := range items {
		if it.mapping != nil {
			gvrs[it.mapping.Resource] = true
		}
	}
	for _, in := range inv {
		for _, e := range in.entries {
			if e.mapping != nil {
				gvrs[e.mapping.Resource] = true
			}
		}
	}
	type listed struct {
		objs []*unstructured.Unstructured
		err  error
	}
	var list []schema.GroupVersionResource
	for gvr := range gvrs {
		list = append(list, gvr)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].String() < list[j].String() })
	// One list per resource and owner label, all in parallel; each writes
	// its own slot.
	groups := []string{flux.OwnerGroup(flux.KustomizationKind), flux.OwnerGroup(flux.HelmReleaseKind)}
	parts := make([]listed, len(list)*len(groups))
	g, gctx := ch.group(ctx)
	for i, gvr := range list {
		for j, group := range groups {
			p := &parts[i*len(groups)+j]
			g.Go(func() error {
				objs, err := ch.list(gctx, gvr, group+"/name")
				if err != nil {
					if apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err) {
						p.err = err
						return nil
					}
					return fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
				}
				p.objs = objs
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, gvr := range list {
		var err error
		m := map[object.ID]*unstructured.Unstructured{}
		for _, p := range parts[i*len(groups) : (i+1)*len(groups)] {
			if p.err != nil && err == nil {
				err = p.err
			}
			for _, u := range p.objs {
				m[object.IDOf(u)] = u
			}
		}
		if err != nil {
			ch.unlisted[gvr] = true
			ch.warnings = append(ch.warnings, fmt.Sprintf("cannot list %s across namespaces (%v): compared one by one, no prune candidates found by owner labels", gvr.GroupResource(), err))
			continue
		}
		ch.owned[gvr] = m
	}
	return nil
}

// list returns every live object of gvr that has the label key, page by page.
func (ch *checker) list(ctx context.Context, gvr schema.GroupVersionResource, label string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	opts := metav1.ListOptions{LabelSelector: label, Limit: 500}
	for {
		var l *unstructured.UnstructuredList
		err := ch.cl.retry(ctx, func(ctx context.Context) error {
			var err error
			l, err = ch.cl.dyn.Resource(gvr).List(ctx, opts)
			return err
		})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			return out, nil
		}
	}
}

// resource returns the client for m in namespace ns.
func (ch *checker) resource(m *meta.RESTMapping, ns string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameRoot {
		return ch.cl.dyn.Resource(m.Resource)
	}
	return ch.cl.dyn.Resource(m.Resource).Namespace(ns)
}

// get returns the live object, nil when there is none.
func (ch *checker) get(ctx context.Context, m *meta.RESTMapping, ns, name string) (*unstructured.Unstructured, error) {
	var u *unstructured.Unstructured
	err := ch.cl.retry(ctx, func(ctx context.Context) error {
		var err error
		u, err = ch.resource(m, ns).Get(ctx, name, metav1.GetOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// live returns the live counterpart of it: from the owned lists, else
// fetched (an object not labelled by Flux, or of an unlisted resource).
func (ch *checker) live(ctx context.Context, it *item) (*unstructured.Unstructured, error) {
	if m, ok := ch.owned[it.mapping.Resource]; ok {
		if u := m[object.IDOf(it.desired)]; u != nil {
			return u, nil
		}
	}
	u, err := ch.get(ctx, it.mapping, it.desired.GetNamespace(), it.desired.GetName())
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", it.res.ID.Qualified(), err)
	}
	return u, nil
}

// checkAll checks every item with bounded concurrency; each writes only
// its own item.
func (ch *checker) checkAll(ctx context.Context, items []*item) error {
	var done atomic.Int64
	g, gctx := ch.group(ctx)
	for _, it := range items {
		g.Go(func() error {
			if err := ch.check(gctx, it); err != nil {
				return fmt.Errorf("%s: %s (%s): %w", ch.cluster.Path, it.res.ID.Qualified(), it.obj.Origin, err)
			}
			if ch.opts.Progress != nil {
				ch.opts.Progress(int(done.Add(1)), len(items))
			}
			return nil
		})
	}
	return g.Wait()
}

// group returns an errgroup bounded by the run's concurrency.
func (ch *checker) group(ctx context.Context) (*errgroup.Group, context.Context) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ch.opts.Concurrency)
	return g, gctx
}

// note builds a diff.Note.
func note(level diff.Level, rule, msg string) diff.Note {
	return diff.Note{Level: level, Rule: rule, Message: msg}
}
