package diff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/revision"
)

// Revisions is the pull-request diff as an action: the cluster entries of
// two revisions of a repository rendered and compared.
type Revisions struct {
	// Render configures both renders; Render.RepoRoot is the checkout.
	Render render.Options
	// Base is the base revision; "" is the merge base with the default
	// branch. Head is the head revision; "" is the working tree.
	Base, Head string
	// Paths are the cluster entries to compare (absolute, relative to the
	// working directory or to the root); none means every directory under
	// clusters/ at either revision.
	Paths []string
	// Compare configures the comparison.
	Compare Options
	// Explain rewords a unit's render error for the reader (nil: as it is).
	Explain func(error) error
	// KeepHeads keeps the head renders in the result (RevisionsResult.Heads),
	// for a report that draws them; otherwise they are dropped once compared.
	KeepHeads bool
	// CheckoutDir keeps the checkouts of the revisions, and the render's
	// snapshots of them, between runs (revision.CheckoutKept); "" writes
	// temporary ones.
	CheckoutDir string
}

// RevisionsResult is what a Revisions run found.
type RevisionsResult struct {
	// Base and Head say what was compared: a short commit (after the
	// revision asked for, when it was not a commit), or "working tree".
	Base, Head string
	// Reports holds one report per entry, in path order; a report with a
	// Failure stands for an entry one side failed to render.
	Reports []*Report
	// Errors are the render failures, one line each, as the Failures say.
	Errors []string
	// Heads are the head renders by entry path (an entry head does not
	// have is missing), for reports that draw the cluster; only with
	// Revisions.KeepHeads.
	Heads map[string]*render.Cluster
}

// side is one side of the comparison: a tree to render.
type side struct {
	name      string // "base" or "head"
	label     string // what it is: a short commit, or "working tree"
	dir       string
	snapshots string // where the render keeps its snapshots of dir ("": none)
}

// Run renders and compares. The error is for a comparison that could not
// be made at all (a revision that does not resolve, no entries); render
// failures are in the result.
func (a *Revisions) Run(ctx context.Context) (*RevisionsResult, error) {
	root := a.Render.RepoRoot
	git := revision.Git{Dir: root}
	base, cleanBase, err := checkout(ctx, git, "base", a.Base, true, a.CheckoutDir)
	if err != nil {
		return nil, err
	}
	defer cleanBase()
	head := side{name: "head", label: "working tree", dir: root, snapshots: a.Render.SnapshotDir}
	if a.Head != "" {
		h, cleanHead, err := checkout(ctx, git, "head", a.Head, false, a.CheckoutDir)
		if err != nil {
			return nil, err
		}
		defer cleanHead()
		head = h
	}
	paths, err := entryPaths(root, []string{base.dir, head.dir}, a.Paths)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if !exists(filepath.Join(base.dir, p)) && !exists(filepath.Join(head.dir, p)) {
			return nil, fmt.Errorf("%s: no such entry at base (%s) or head (%s)", p, base.label, head.label)
		}
	}
	// One chart memo, source fetcher and render cache for both sides: a
	// chart or Kustomization unchanged between them renders once.
	renderers := map[string]*render.Renderer{}
	for _, s := range []side{base, head} {
		o := a.Render
		o.RepoRoot, o.SnapshotDir = s.dir, s.snapshots
		r := render.New(o)
		// Failing to remove a temporary snapshot is not worth failing for.
		defer func() { _ = r.Close() }()
		renderers[s.name] = r
	}
	res := &RevisionsResult{Base: base.label, Head: head.label, Heads: map[string]*render.Cluster{}}
	for _, p := range paths {
		rep := &Report{Title: p}
		// Both sides at once: what one leaves idle (reading the cache,
		// waiting for kustomize's lock) the other uses. Each goroutine
		// writes only its own index.
		var sides [2]*render.Cluster
		var errs [2]error
		var g errgroup.Group
		for i, s := range []side{base, head} {
			g.Go(func() error {
				sides[i], errs[i] = a.renderSide(ctx, renderers[s.name], s, p)
				return nil
			})
		}
		_ = g.Wait() // errors are in errs
		for i, s := range []side{base, head} {
			if errs[i] == nil {
				continue
			}
			msg := fmt.Sprintf("%s (%s): %v", s.name, s.label, errs[i])
			if s.dir != root {
				// The temporary checkout means nothing to the reader.
				msg = strings.ReplaceAll(msg, s.dir+string(filepath.Separator), "")
			}
			res.Errors = append(res.Errors, msg)
			if rep.Failure == "" {
				rep.Failure = msg
			}
		}
		if rep.Failure == "" {
			rep = Compare(sides[0].Objects(), sides[1].Objects(), a.Compare)
			rep.Title = p
			if a.KeepHeads && sides[1] != nil {
				res.Heads[p] = sides[1]
			}
		}
		res.Reports = append(res.Reports, rep)
	}
	if err := ctx.Err(); err != nil {
		// Interrupted: the reports compare partial renders.
		return nil, context.Cause(ctx)
	}
	return res, nil
}

// checkout resolves a revision (the default base when rev is empty and
// defaultBase) and writes its tree to a directory: a slot under dir, kept
// between runs, or a temporary one when dir is "".
func checkout(ctx context.Context, git revision.Git, name, rev string, defaultBase bool, dir string) (side, func(), error) {
	var sha string
	var err error
	if rev == "" && defaultBase {
		sha, err = git.DefaultBase(ctx)
		rev = "merge base"
	} else {
		sha, err = git.Resolve(ctx, rev)
	}
	if err != nil {
		return side{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	var co *revision.Checkout
	if dir != "" {
		co, err = git.CheckoutKept(ctx, sha, dir)
	} else {
		co, err = git.Checkout(ctx, sha)
	}
	if err != nil {
		return side{}, nil, fmt.Errorf("%s %s: %w", name, rev, err)
	}
	label := revision.Short(sha)
	if rev != sha {
		label = rev + " " + label
	}
	// Failing to remove a temporary directory or to free a slot (freed
	// when the process ends) is not worth failing for.
	return side{name: name, label: label, dir: co.Dir, snapshots: co.Snapshots}, func() { _ = co.Close() }, nil
}

// entryPaths returns the entry paths to compare, relative to the
// repository root: the arguments (absolute, relative to the working
// directory, or to the root), or every directory under clusters/ at either
// side.
func entryPaths(root string, dirs, args []string) ([]string, error) {
	if len(args) > 0 {
		var out []string
		wd, _ := os.Getwd()
		for _, a := range args {
			abs := a
			if !filepath.IsAbs(abs) {
				abs = filepath.Join(wd, a)
				if _, err := os.Stat(abs); err != nil {
					abs = filepath.Join(root, a)
				}
			}
			rel, err := filepath.Rel(root, abs)
			if err != nil || !filepath.IsLocal(rel) {
				return nil, fmt.Errorf("%s: not inside the repository %s", a, root)
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		entries, err := os.ReadDir(filepath.Join(d, "clusters"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() {
				seen["clusters/"+e.Name()] = true
			}
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no PATH given and no cluster directory under %s at either revision", filepath.Join(root, "clusters"))
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// renderSide renders one entry on one side. An entry that does not exist
// there renders to nothing (a cluster added or removed); a render that
// fails is an error, never an empty side.
func (a *Revisions) renderSide(ctx context.Context, r *render.Renderer, s side, rel string) (*render.Cluster, error) {
	if _, err := os.Stat(filepath.Join(s.dir, filepath.FromSlash(rel))); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	c, err := r.Render(ctx, filepath.Join(s.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	if len(c.Errors) > 0 {
		msgs := make([]string, 0, len(c.Errors))
		for _, e := range c.Errors {
			if a.Explain != nil {
				e = a.Explain(e)
			}
			msgs = append(msgs, e.Error())
		}
		return nil, fmt.Errorf("%s: %s", rel, strings.Join(msgs, "; "))
	}
	return c, nil
}
