package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/revision"
)

// diffFlags are the flags of `tools diff` besides the render flags.
type diffFlags struct {
	base, head     string
	format         string
	color          string
	ignore         []string
	ignoreFile     string
	noIgnore       bool
	markdownDir    string
	maxObjectLines int
	live           bool
	liveOpts       liveOptions
}

func newDiffCmd(stdout, stderr io.Writer) *cobra.Command {
	var rf renderFlags
	var df diffFlags
	cmd := &cobra.Command{
		Use:   "diff [--base REV] [--head REV] [PATH...]",
		Short: "Render two revisions and show what a pull request changes, object by object",
		Long: `Diff renders each cluster entry (default: every directory under clusters/,
at either revision) at two revisions and compares the objects by identity
(group, kind, namespace, name): added, removed, and changed field by field,
lists of named items (containers, ports, env, volumes ...) matched by name or
key, multi-line strings as line diffs. Head is the working tree (uncommitted
changes included) unless --head names a revision; base is the merge base of
HEAD and the default branch (origin/HEAD, else main, else master) unless
--base names one. Revisions are checked out into temporary directories
through a temporary index: the working tree and index are never touched.

Noise is left out unless --no-ignore: the helm.sh/chart, chart and
app.kubernetes.io/version labels and annotations, checksum/* annotations,
and fields the chart fills at random. Add rules with --ignore or
--ignore-file (one per line): label:GLOB, annotation:GLOB, metadata:GLOB,
field:PATH or field:KIND:PATH (PATH as the diff prints it, * within one
segment). Secret values are never shown: only which keys were added,
removed or changed.

Danger notes flag immutable-field changes, deletions prune carries out
(PersistentVolumeClaims, Namespaces and CRDs loudly), HelmRelease chart
major bumps, suspend flips on Flux objects, Gatekeeper enforcement loosened
or constraints removed, and Falco rules removed or disabled.

--format markdown writes one section per cluster for pull-request comments;
--markdown-dir DIR also writes one file per cluster and part
(CLUSTER.part-N.md), split to fit GitHub's 65,536-character comments.

Exit codes: 0 no change, 1 changes, 2 a side failed to render or bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if df.live {
				return runDiffLive(cmd.Context(), &rf, &df, args, stdout, stderr)
			}
			return runDiff(cmd.Context(), &rf, &df, args, stdout, stderr)
		},
	}
	rf.bind(cmd)
	fs := cmd.Flags()
	fs.StringVar(&df.base, "base", "", "base revision (default: the merge base of HEAD and the default branch)")
	fs.StringVar(&df.head, "head", "", "head revision (default: the working tree)")
	fs.StringVar(&df.format, "format", "text", "output format: "+strings.Join(diff.Formats, ", "))
	fs.StringVar(&df.color, "color", "auto", "colour text output: auto (when stdout is a terminal), always, never")
	fs.StringArrayVar(&df.ignore, "ignore", nil, "noise rule, added to the defaults: label:GLOB, annotation:GLOB, metadata:GLOB, field:[KIND:]PATH (repeatable)")
	fs.StringVar(&df.ignoreFile, "ignore-file", "", "file of noise rules, one a line (# comments)")
	fs.BoolVar(&df.noIgnore, "no-ignore", false, "show everything: no noise rules, chart randomness included")
	fs.StringVar(&df.markdownDir, "markdown-dir", "", "also write the Markdown report as one file per cluster and part, each under GitHub's comment limit")
	fs.IntVar(&df.maxObjectLines, "max-object-lines", diff.DefaultMaxObjectLines, "longest added or removed object shown as YAML (-1: none)")
	fs.BoolVar(&df.live, "live", false, "compare the render of one entry (the working tree) with the live cluster instead of another revision")
	fs.StringVar(&df.liveOpts.kubeconfig, "kubeconfig", "", "with --live: kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&df.liveOpts.context, "context", "", "with --live: kube context (default: the current one)")
	fs.IntVar(&df.liveOpts.concurrency, "live-concurrency", 0, "with --live: parallel dry-runs (0: the default)")
	return cmd
}

// runDiffLive renders the working tree and hands it to the live drift.
func runDiffLive(ctx context.Context, rf *renderFlags, df *diffFlags, args []string, stdout, stderr io.Writer) error {
	if df.base != "" || df.head != "" {
		return errors.New("--live compares the working tree with the cluster: --base and --head do not apply")
	}
	opts, wo, err := df.options(stdout)
	if err != nil {
		return err
	}
	run, err := rf.render(ctx, args)
	if err != nil {
		return err
	}
	run.summary(stderr)
	lo := df.liveOpts
	lo.format, lo.color, lo.diff = df.format, wo.Color, &opts
	return runLive(ctx, run, lo, stdout, stderr)
}

// options turns the diff flags into compare and write options.
func (df *diffFlags) options(stdout io.Writer) (diff.Options, diff.WriteOptions, error) {
	if err := oneOf("format", df.format, diff.Formats); err != nil {
		return diff.Options{}, diff.WriteOptions{}, err
	}
	wo := diff.WriteOptions{MaxObjectLines: df.maxObjectLines}
	if df.maxObjectLines == 0 {
		wo.MaxObjectLines = -1
	}
	switch df.color {
	case "always":
		wo.Color = true
	case "never":
	case "auto":
		f, ok := fileOf(stdout)
		wo.Color = ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
	default:
		return diff.Options{}, diff.WriteOptions{}, fmt.Errorf("--color %q: want auto, always or never", df.color)
	}
	wo.Color = wo.Color && df.format == "text"
	rules := append([]string(nil), df.ignore...)
	if df.ignoreFile != "" {
		more, err := readRules(df.ignoreFile)
		if err != nil {
			return diff.Options{}, diff.WriteOptions{}, err
		}
		rules = append(rules, more...)
	}
	extra, err := diff.ParseRules(rules)
	if err != nil {
		return diff.Options{}, diff.WriteOptions{}, err
	}
	if df.noIgnore {
		return diff.NoIgnore(), wo, nil
	}
	opts := diff.DefaultOptions()
	opts.Ignore = append(opts.Ignore, extra...)
	return opts, wo, nil
}

// readRules reads noise rules, one a line; blank lines and # comments are
// skipped.
func readRules(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--ignore-file: %w", err)
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if _, err := diff.ParseRules([]string{l}); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--ignore-file %s: %w", path, err)
	}
	return out, nil
}

// diffSide is one side of the comparison: a tree to render.
type diffSide struct {
	name  string // "base" or "head"
	label string // what it is: a short commit, or "working tree"
	dir   string
}

func runDiff(ctx context.Context, rf *renderFlags, df *diffFlags, args []string, stdout, stderr io.Writer) error {
	opts, wo, err := df.options(stdout)
	if err != nil {
		return err
	}
	ropts, err := rf.options()
	if err != nil {
		return err
	}
	start := time.Now()
	git := revision.Git{Dir: ropts.RepoRoot}
	base, cleanBase, err := checkoutSide(ctx, git, "base", df.base, true)
	if err != nil {
		return err
	}
	defer cleanBase()
	head := diffSide{name: "head", label: "working tree", dir: ropts.RepoRoot}
	if df.head != "" {
		h, cleanHead, err := checkoutSide(ctx, git, "head", df.head, false)
		if err != nil {
			return err
		}
		defer cleanHead()
		head = h
	}
	paths, err := diffPaths(ropts.RepoRoot, []string{base.dir, head.dir}, args)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if !exists(filepath.Join(base.dir, p)) && !exists(filepath.Join(head.dir, p)) {
			return fmt.Errorf("%s: no such entry at base (%s) or head (%s)", p, base.label, head.label)
		}
	}
	// One chart memo, source fetcher and render cache for both sides: a
	// chart or Kustomization unchanged between them renders once.
	renderers := map[string]*render.Renderer{}
	for _, s := range []diffSide{base, head} {
		o := ropts
		o.RepoRoot = s.dir
		r := render.New(o)
		// Failing to remove a temporary snapshot is not worth failing for.
		defer func() { _ = r.Close() }()
		renderers[s.name] = r
	}
	var reports []*diff.Report
	failedSides := false
	for _, p := range paths {
		rep := &diff.Report{Title: p}
		// Both sides at once: what one leaves idle (reading the cache,
		// waiting for kustomize's lock) the other uses. Each goroutine
		// writes only its own index.
		var objs [2][]render.Object
		var errs [2]error
		var g errgroup.Group
		for i, s := range []diffSide{base, head} {
			g.Go(func() error {
				objs[i], errs[i] = renderSide(ctx, renderers[s.name], s, p)
				return nil
			})
		}
		_ = g.Wait() // errors are in errs
		for i, s := range []diffSide{base, head} {
			if errs[i] != nil {
				failedSides = true
				msg := fmt.Sprintf("%s (%s): %v", s.name, s.label, errs[i])
				if s.dir != ropts.RepoRoot {
					// The temporary checkout means nothing to the reader.
					msg = strings.ReplaceAll(msg, s.dir+string(filepath.Separator), "")
				}
				fmt.Fprintf(stderr, "error: %s\n", msg)
				if rep.Failure == "" {
					rep.Failure = msg
				}
			}
		}
		if rep.Failure == "" {
			rep = diff.Compare(objs[0], objs[1], opts)
			rep.Title = p
		}
		reports = append(reports, rep)
	}
	if err := ctx.Err(); err != nil {
		// Interrupted: the reports compare partial renders (Run reports
		// the interruption).
		return err
	}
	if err := writeReports(stdout, df.format, reports, wo); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if df.markdownDir != "" {
		if err := writeMarkdownDir(df.markdownDir, reports, wo); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "diff: base %s, head %s: %s in %.1fs\n", base.label, head.label, countClusters(reports), time.Since(start).Seconds())
	if failedSides {
		return failed{ExitError}
	}
	for _, r := range reports {
		if r.Changed() {
			return failed{ExitFindings}
		}
	}
	return nil
}

func countClusters(reports []*diff.Report) string {
	changed := 0
	for _, r := range reports {
		if r.Changed() {
			changed++
		}
	}
	return fmt.Sprintf("%d of %d cluster entries changed", changed, len(reports))
}

// checkoutSide resolves a revision (the default base when rev is empty
// and defaultBase) and writes its tree to a temporary directory.
func checkoutSide(ctx context.Context, git revision.Git, name, rev string, defaultBase bool) (diffSide, func(), error) {
	var sha string
	var err error
	if rev == "" && defaultBase {
		sha, err = git.DefaultBase(ctx)
		rev = "merge base"
		if errors.Is(err, revision.ErrNoDefaultBranch) {
			err = &hinted{err, "pass --base"}
		}
	} else {
		sha, err = git.Resolve(ctx, rev)
	}
	if err != nil {
		return diffSide{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	co, err := git.Checkout(ctx, sha)
	if err != nil {
		return diffSide{}, nil, fmt.Errorf("%s %s: %w", name, rev, err)
	}
	label := revision.Short(sha)
	if rev != sha {
		label = rev + " " + label
	}
	// Failing to remove a temporary directory is not worth failing for.
	return diffSide{name: name, label: label, dir: co.Dir}, func() { _ = co.Close() }, nil
}

// diffPaths returns the entry paths to compare, relative to the repository
// root: the arguments (absolute, relative to the working directory, or to
// the root), or every directory under clusters/ at either side.
func diffPaths(root string, dirs, args []string) ([]string, error) {
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
func renderSide(ctx context.Context, r *render.Renderer, s diffSide, rel string) ([]render.Object, error) {
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
			msgs = append(msgs, withHint(e).Error())
		}
		return nil, fmt.Errorf("%s: %s", rel, strings.Join(msgs, "; "))
	}
	return c.Objects(), nil
}

// writeReports writes every cluster's report: text and Markdown one after
// the other, JSON as one array.
func writeReports(w io.Writer, format string, reports []*diff.Report, wo diff.WriteOptions) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if reports == nil {
			reports = []*diff.Report{}
		}
		return enc.Encode(reports)
	}
	for i, r := range reports {
		if i > 0 && format == "markdown" {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if err := r.Write(w, format, wo); err != nil {
			return err
		}
	}
	return nil
}

// writeMarkdownDir writes each cluster's Markdown report as
// CLUSTER.part-N.md files (CLUSTER with / as _), each a header (the hidden
// marker the pull-request workflow finds the comment by, and "part i/n")
// followed by a part; the parts without their headers concatenate to the
// cluster's Markdown report. Files of an earlier run are replaced.
func writeMarkdownDir(dir string, reports []*diff.Report, wo diff.WriteOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--markdown-dir: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.part-*.md"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("--markdown-dir: %w", err)
		}
	}
	for _, r := range reports {
		parts := r.MarkdownParts(0, wo)
		slug := strings.ReplaceAll(r.Title, "/", "_")
		for i, p := range parts {
			name := filepath.Join(dir, fmt.Sprintf("%s.part-%d.md", slug, i+1))
			data := diff.MarkdownPartHeader(r.Title, i+1, len(parts)) + p
			if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
				return fmt.Errorf("--markdown-dir: %w", err)
			}
		}
	}
	return nil
}
