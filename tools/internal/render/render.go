// Package render renders a Flux cluster entry the way Flux's controllers
// would apply it: the entry path as the sync Kustomization builds it, every
// Flux Kustomization found recursively, and every HelmRelease. Each object
// keeps where it came from. Failures are collected per Flux object; one
// failing object does not stop the others.
package render

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/gofrs/flock"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/helm"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/secrets"
	"github.com/aks-gitops/platform/tools/internal/source"
)

// Options configures a Renderer.
type Options struct {
	// RepoRoot is the checkout the cluster entries live in.
	RepoRoot string
	// SelfSource names the GitRepository that is this checkout; zero means
	// "the one the entry's Kustomizations reference".
	SelfSource flux.Ref
	// Sources maps other sources to local directories.
	Sources map[flux.Ref]string
	// Fetcher fetches the other sources found in the render.
	Fetcher *source.Fetcher
	// KubeVersion is the target Kubernetes version for charts.
	KubeVersion string
	Charts      *helm.Charts
	// ShowSecrets lets secret values flow into the render unmasked.
	ShowSecrets bool
	// StrictSubstitution fails on variables without value or default.
	StrictSubstitution bool
	// Decryptor decrypts SOPS-encrypted objects (nil: leave them encrypted).
	Decryptor *secrets.Decryptor
	// Cache keeps what each Kustomization and HelmRelease rendered to
	// between runs (nil: none). It is not used with ShowSecrets, so secret
	// values never reach the disk.
	Cache *diskcache.Cache
	// Concurrency bounds parallel work (at least 1).
	Concurrency int
	// SnapshotDir keeps the snapshots of RepoRoot between runs, brought up
	// to date at each (empty: a temporary one each run). Making one afresh
	// is a directory created per directory of the checkout, and removed
	// again: on a slow disk a third of a warm render.
	SnapshotDir string
}

// Origin says where a rendered object came from.
type Origin struct {
	// Producer is the Flux Kustomization or HelmRelease that applies it.
	Producer flux.Ref
	// File is the repository file it was read from (Kustomization output)
	// or that defines the HelmRelease (HelmRelease output).
	File string
	// Source names the source the file is in, when it is not this checkout.
	Source string
	// Chart and Template are set for HelmRelease output.
	Chart    string
	Template string
	// Hook marks Helm hooks, with their events.
	Hook       bool
	HookEvents []string
	// Random lists fields whose values come from chart randomness: they
	// change on every install, so diffs ignore them.
	Random []string
	// ChartCRD marks a CRD of the chart's crds/ folders, which Helm
	// installs outside the release.
	ChartCRD bool
}

// String renders the origin on one line.
func (o Origin) String() string {
	var b strings.Builder
	b.WriteString(o.Producer.String())
	if o.Chart != "" {
		fmt.Fprintf(&b, " chart %s template %s", o.Chart, o.Template)
		if o.Hook {
			fmt.Fprintf(&b, " (hook: %s)", strings.Join(o.HookEvents, ","))
		}
		if o.File != "" {
			fmt.Fprintf(&b, " defined in %s", o.File)
		}
		return b.String()
	}
	if o.File != "" {
		b.WriteString(" from ")
		if o.Source != "" {
			b.WriteString(o.Source + ":")
		}
		b.WriteString(o.File)
	}
	return b.String()
}

// Object is a rendered object and its origin.
type Object struct {
	Object *unstructured.Unstructured
	Origin Origin
}

// Unit is one Flux Kustomization or HelmRelease and what it renders to.
type Unit struct {
	Ref flux.Ref
	// File defines the Flux object ("" for the entry itself).
	File string
	// Skipped says why it was not rendered (e.g. suspended).
	Skipped string
	// Chart is name-version for a HelmRelease.
	Chart   string
	Objects []Object
	Failed  bool
	// HelmChart and Values are, for a rendered HelmRelease, the chart and
	// the values the HelmRelease sets (before the chart's defaults).
	HelmChart *helm.Chart
	Values    map[string]any
	// Annotations are the Flux object's own.
	Annotations map[string]string
	// Inputs are, for a Kustomization built from this checkout, the
	// repository paths (slash-separated, relative to the root) its build
	// read, listed or tested (kustomize.Result.Inputs); nil otherwise.
	Inputs []string
}

// Cluster is the render of one cluster entry.
type Cluster struct {
	// Path is the entry path relative to the repository root.
	Path       string
	SelfSource flux.Ref
	Units      []*Unit
	Warnings   []string
	Errors     []error
	Duration   time.Duration
}

// Objects returns every rendered object sorted by namespace, kind, name
// (then producer, for objects rendered by more than one unit); nothing for
// no cluster (an entry one side of a diff does not have).
func (c *Cluster) Objects() []Object {
	if c == nil {
		return nil
	}
	var out []Object
	for _, u := range c.Units {
		out = append(out, u.Objects...)
	}
	SortObjects(out)
	return out
}

// SortObjects sorts by identity (object.Compare), then producer, template
// and API version.
func SortObjects(objs []Object) {
	slices.SortStableFunc(objs, func(a, b Object) int {
		return cmp.Or(
			object.Compare(object.IDOf(a.Object), object.IDOf(b.Object)),
			object.Compare(a.Origin.Producer, b.Origin.Producer),
			cmp.Compare(a.Origin.Template, b.Origin.Template),
			cmp.Compare(a.Object.GetAPIVersion(), b.Object.GetAPIVersion()),
		)
	})
}

// UnitError is a failure of one Flux object.
type UnitError struct {
	Ref  flux.Ref
	File string
	Err  error
}

func (e *UnitError) Error() string {
	where := ""
	if e.File != "" {
		where = " (" + e.File + ")"
	}
	// One line per failure, whatever the library said.
	msg := strings.Join(strings.Fields(e.Err.Error()), " ")
	return fmt.Sprintf("%s%s: %s", e.Ref, where, msg)
}

func (e *UnitError) Unwrap() error { return e.Err }

// Renderer renders cluster entries. Close removes its snapshots.
type Renderer struct {
	opts Options

	// snapshots of the checkout as source-controller would package it, by
	// spec.ignore ("" for the defaults); guarded by mu (clusters render one
	// at a time, but the map outlives them).
	mu        sync.Mutex
	snapshots map[string]string
	// kept are the locks of the kept snapshots in use, by directory (see
	// Options.SnapshotDir).
	kept map[string]*flock.Flock
}

// Close removes the temporary snapshots the renderer made and releases
// the kept ones.
func (r *Renderer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, dir := range r.snapshots {
		if lock, ok := r.kept[dir]; ok {
			errs = append(errs, lock.Unlock())
		} else {
			errs = append(errs, os.RemoveAll(dir))
		}
	}
	r.snapshots, r.kept = nil, nil
	return errors.Join(errs...)
}

// selfRoot returns the snapshot of the checkout for the self source's
// spec.ignore (nil: the default exclusions), making it on first use.
func (r *Renderer) selfRoot(ctx context.Context, ignore *string) (string, error) {
	key := "\x00default"
	if ignore != nil {
		key = *ignore
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if dir, ok := r.snapshots[key]; ok {
		return dir, nil
	}
	dir, lock := r.keptSnapshot(key)
	if lock == nil {
		var err error
		if dir, err = os.MkdirTemp("", "tools-render-snapshot-*"); err != nil {
			return "", err
		}
	}
	if err := source.Snapshot(ctx, r.opts.RepoRoot, dir, ignore); err != nil {
		if lock != nil {
			_ = lock.Unlock() // the next run brings the snapshot up to date
		} else {
			os.RemoveAll(dir)
		}
		return "", fmt.Errorf("snapshot of %s: %w", r.opts.RepoRoot, err)
	}
	if lock != nil {
		if r.kept == nil {
			r.kept = map[string]*flock.Flock{}
		}
		r.kept[dir] = lock
	}
	if r.snapshots == nil {
		r.snapshots = map[string]string{}
	}
	r.snapshots[key] = dir
	return dir, nil
}

// keptSnapshot returns the directory of the kept snapshot of the checkout
// for an ignore key and the lock that holds it for this renderer; no lock
// when there is none to keep, or another renderer (of this process or
// another) holds it — a temporary snapshot serves then.
func (r *Renderer) keptSnapshot(key string) (string, *flock.Flock) {
	if r.opts.SnapshotDir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(r.opts.RepoRoot)
	if err != nil {
		return "", nil
	}
	k, err := diskcache.Key("snapshot", abs, key)
	if err != nil || os.MkdirAll(r.opts.SnapshotDir, 0o755) != nil {
		return "", nil
	}
	dir := filepath.Join(r.opts.SnapshotDir, k)
	lock := flock.New(dir + ".lock")
	if ok, err := lock.TryLock(); err != nil || !ok {
		return "", nil
	}
	return dir, lock
}

// New returns a Renderer.
func New(opts Options) *Renderer {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if opts.ShowSecrets {
		opts.Cache = nil
	}
	if opts.Fetcher == nil {
		opts.Fetcher = source.NewFetcher(os.TempDir(), true)
	}
	if opts.Charts == nil {
		opts.Charts = helm.NewCharts(helm.ChartOptions{Offline: true})
	}
	return &Renderer{opts: opts}
}

// Render renders the cluster entry at path (relative to the repository
// root). The error is for an entry that cannot be rendered at all; failures
// of single objects are in Cluster.Errors.
func (r *Renderer) Render(ctx context.Context, path string) (c *Cluster, err error) {
	start := time.Now()
	rel, err := r.relative(path)
	if err != nil {
		return nil, err
	}
	// Units recover their own panics; this catches the rest of the core.
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, fmt.Errorf("render %s: %w", rel, panicError(p))
		}
	}()
	run := newRun(r, rel)
	if err := safely(func() error { return run.entry(ctx) }); err != nil {
		return nil, fmt.Errorf("render %s: %w", rel, err)
	}
	run.kustomizations(ctx)
	run.checkDependencies()
	run.helmReleases(ctx)
	run.checkObjects()
	if err := ctx.Err(); err != nil {
		// An interrupted render is no render: its units failed half-way.
		return nil, fmt.Errorf("render %s: %w", rel, context.Cause(ctx))
	}
	c = run.cluster
	sort.Slice(c.Units, func(i, j int) bool { return refLess(c.Units[i].Ref, c.Units[j].Ref) })
	for _, u := range c.Units {
		SortObjects(u.Objects)
	}
	sort.Strings(c.Warnings)
	c.Warnings = dedup(c.Warnings)
	sort.SliceStable(c.Errors, func(i, j int) bool { return c.Errors[i].Error() < c.Errors[j].Error() })
	c.Duration = time.Since(start)
	return c, nil
}

// relative resolves an entry path — absolute, relative to the working
// directory, or else relative to the repository root — to a path relative
// to the repository root.
func (r *Renderer) relative(path string) (string, error) {
	abs := path
	if !filepath.IsAbs(abs) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		abs = filepath.Join(wd, path)
		if _, err := os.Stat(abs); err != nil {
			if _, errRepo := os.Stat(filepath.Join(r.opts.RepoRoot, path)); errRepo == nil {
				abs = filepath.Join(r.opts.RepoRoot, path)
			}
		}
	}
	rel, err := filepath.Rel(r.opts.RepoRoot, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("render %s: path is outside the repository %s", path, r.opts.RepoRoot)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("render %s: %w", path, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("render %s: not a directory", path)
	}
	return filepath.ToSlash(rel), nil
}

func refLess(a, b flux.Ref) bool {
	if a.Kind != b.Kind {
		// Kustomizations first: they apply the HelmReleases.
		return a.Kind > b.Kind
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// ksNode is a discovered Flux Kustomization.
type ksNode struct {
	obj  *kustomizev1.Kustomization
	file string
	unit *Unit
}

// hrNode is a discovered HelmRelease.
type hrNode struct {
	obj  *helmv2.HelmRelease
	file string
	unit *Unit
}

// checkObjects fails a unit holding an object with anything but JSON types
// (package object): a decoder bug reported, instead of a panic in some
// consumer's deep copy; the unit's objects are dropped.
func (run *run) checkObjects() {
	for _, u := range run.cluster.Units {
		for _, o := range u.Objects {
			if err := object.Check(o.Object.Object); err != nil {
				run.fail(u, u.File, fmt.Errorf("%s %s (%s): %w", o.Object.GetKind(), o.Object.GetName(), o.Origin.File, err))
				u.Objects = nil
				break
			}
		}
	}
}

// safely runs fn, turning a panic in it (the libraries it calls take user
// input) into an error.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicError(p)
		}
	}()
	return fn()
}

func panicError(p any) error {
	// One line: the stack is for a debugger, not for the user.
	return fmt.Errorf("internal error (panic): %v", p)
}
