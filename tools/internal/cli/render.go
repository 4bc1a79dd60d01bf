package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/helm"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/report"
	"github.com/aks-gitops/platform/tools/internal/secrets"
	"github.com/aks-gitops/platform/tools/internal/source"
)

// renderFlags are the flags shared by every command that renders.
type renderFlags struct {
	repo        string
	charts      string
	cacheDir    string
	offline     bool
	kubeVersion string
	selfSource  string
	sources     []string
	showSecrets bool
	strict      bool
	concurrency int
	ageKeys     []string
	noCache     bool
	timeout     time.Duration
	// progress, when set, shows on a terminal which entry renders.
	progress *progress
}

func (f *renderFlags) bind(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.repo, "repo", "", "repository root (default: the git top level of the current directory)")
	fs.StringVar(&f.charts, "charts", "", "directory of local chart copies (directories or .tgz), used before any network")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "chart cache directory (default: $XDG_CACHE_HOME/aks-gitops)")
	fs.BoolVar(&f.offline, "offline", false, "never touch the network")
	fs.DurationVar(&f.timeout, "timeout", helm.DefaultTimeout, "bound on each network fetch: a chart repository index or chart, an OCI pull, a Git clone")
	fs.StringVar(&f.kubeVersion, "kube-version", "1.36", "target Kubernetes version")
	fs.StringVar(&f.selfSource, "self-source", "", "NAMESPACE/NAME of the GitRepository that is this checkout (default: the one the entry uses)")
	fs.StringArrayVar(&f.sources, "source", nil, "KIND/NAMESPACE/NAME=DIR: render a source from a local directory (repeatable)")
	fs.BoolVar(&f.strict, "strict-substitution", true, "fail on a postBuild variable with no value and no default (false: render it empty, with a warning)")
	fs.IntVar(&f.concurrency, "concurrency", runtime.GOMAXPROCS(0), "parallel renders")
	fs.BoolVar(&f.noCache, "no-render-cache", false, "render every Kustomization and HelmRelease again instead of reusing unchanged results from the cache")
	fs.StringArrayVar(&f.ageKeys, "sops-age-key", nil, "age identity file: decrypt SOPS-encrypted objects of Kustomizations with spec.decryption (repeatable; never done otherwise)")
}

// options turns flags into render options; it touches only the filesystem
// to find the repository root and the cache directory.
func (f *renderFlags) options() (render.Options, error) {
	if f.timeout <= 0 {
		return render.Options{}, fmt.Errorf("--timeout %s: want a positive duration", f.timeout)
	}
	root := f.repo
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return render.Options{}, err
		}
		root = gitTopLevel(wd)
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return render.Options{}, err
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return render.Options{}, fmt.Errorf("--repo: %w", err)
	}
	opts := render.Options{
		RepoRoot:           root,
		KubeVersion:        f.kubeVersion,
		ShowSecrets:        f.showSecrets,
		StrictSubstitution: f.strict,
		Concurrency:        f.concurrency,
		Sources:            map[flux.Ref]string{},
	}
	if f.selfSource != "" {
		ref, err := flux.ParseRef(f.selfSource, flux.GitRepositoryKind)
		if err != nil {
			return render.Options{}, fmt.Errorf("--self-source: %w", err)
		}
		opts.SelfSource = ref
	}
	for _, s := range f.sources {
		spec, dir, ok := strings.Cut(s, "=")
		if !ok || dir == "" {
			return render.Options{}, fmt.Errorf("--source %q: want KIND/NAMESPACE/NAME=DIR", s)
		}
		ref, err := flux.ParseRef(spec, "")
		if err != nil {
			return render.Options{}, fmt.Errorf("--source: %w", err)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return render.Options{}, err
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return render.Options{}, fmt.Errorf("--source %s: %s is not a directory", spec, dir)
		}
		opts.Sources[ref] = abs
	}
	if len(f.ageKeys) > 0 {
		d, err := secrets.NewDecryptor(f.ageKeys)
		if err != nil {
			return render.Options{}, fmt.Errorf("--sops-age-key: %w", err)
		}
		opts.Decryptor = d
	}
	if f.charts != "" {
		if fi, err := os.Stat(f.charts); err != nil || !fi.IsDir() {
			return render.Options{}, fmt.Errorf("--charts %s: not a directory", f.charts)
		}
	}
	cacheDir, err := f.cacheDirectory()
	if err != nil {
		return render.Options{}, err
	}
	opts.Charts = helm.NewCharts(helm.ChartOptions{Dir: f.charts, CacheDir: cacheDir, Offline: f.offline, Timeout: f.timeout})
	opts.Fetcher = source.NewFetcher(filepath.Join(cacheDir, "sources"), f.offline, source.WithTimeout(f.timeout))
	if !f.noCache {
		opts.Cache = diskcache.New(filepath.Join(cacheDir, "render"))
	}
	// Not a cache of results: a snapshot is brought up to date each run.
	opts.SnapshotDir = filepath.Join(cacheDir, "snapshots")
	return opts, nil
}

// cacheDirectory is --cache-dir, or the user's cache directory's.
func (f *renderFlags) cacheDirectory() (string, error) {
	if f.cacheDir != "" {
		return f.cacheDir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set --cache-dir: %w", err)
	}
	return filepath.Join(base, "aks-gitops"), nil
}

// gitTopLevel returns the nearest directory holding .git, or dir itself.
func gitTopLevel(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// clusterPaths returns the PATH arguments, or every directory under clusters/.
func clusterPaths(root string, args []string) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	entries, err := os.ReadDir(filepath.Join(root, "clusters"))
	if err != nil {
		return nil, fmt.Errorf("no PATH given and no clusters/ directory in %s", root)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(root, "clusters", e.Name()))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PATH given and no cluster directory under %s", filepath.Join(root, "clusters"))
	}
	sort.Strings(out)
	return out, nil
}

func newRenderCmd(stdout, stderr io.Writer) *cobra.Command {
	var flags renderFlags
	var out string
	var partial bool
	cmd := &cobra.Command{
		Use:   "render [PATH...]",
		Short: "Render Flux cluster entries exactly as Flux would apply them",
		Long: `Render builds each cluster entry (default: every directory under clusters/)
as Flux's sync Kustomization would, then every Flux Kustomization and
HelmRelease found in it, recursively, and writes the objects sorted by
namespace, kind and name.

Exit codes: 0 rendered, 2 a Flux object failed (nothing written unless
--partial) or bad usage.`,
		Example: `  tools render                                  # every cluster, YAML stream on stdout
  tools render clusters/staging -o out/         # one file per Flux object
  tools render --charts charts/ --offline       # no network: local chart copies
  tools render --source GitRepository/flux-system/apps=../apps clusters/staging`,
		RunE: func(cmd *cobra.Command, args []string) error {
			flags.progress = newProgress(stderr)
			run, err := flags.render(cmd.Context(), args)
			if err != nil {
				return err
			}
			if err := cmd.Context().Err(); err != nil {
				// Interrupted after the render: write nothing that could
				// pass for it (Run reports the interruption).
				return err
			}
			if run.failed() && !partial {
				// A render with a failed Flux object is not what Flux
				// would apply: nothing is written that could pass for it.
				run.summary(stderr)
				fmt.Fprintln(stderr, "render: nothing written: fix the errors above (--partial writes what did render)")
				return failed{ExitError}
			}
			// The YAML written is kept by content, never what decryption
			// produced or a Secret's value shown.
			wopts := report.WriteOptions{ShowSecrets: flags.showSecrets}
			if run.opts.Decryptor == nil && !flags.showSecrets {
				wopts.Cache = run.opts.Cache
			}
			if err := writeRender(out, stdout, run.clusters, wopts); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			return run.finish(stderr)
		},
	}
	flags.bind(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "-", "output directory (one file per Flux object), a .yaml file (or any existing file, such as /dev/null), or - for a YAML stream on stdout")
	cmd.Flags().BoolVar(&flags.showSecrets, "show-secrets", false, "print secret values (never done otherwise)")
	cmd.Flags().BoolVar(&partial, "partial", false, "when some Flux objects fail, still write the objects that rendered (the exit code is 2 all the same)")
	return cmd
}

// rendered is one run of the renderer over the cluster entries.
type rendered struct {
	clusters []*render.Cluster
	opts     render.Options
	elapsed  time.Duration
}

// render renders the entries named by args (default: every cluster).
func (f *renderFlags) render(ctx context.Context, args []string) (*rendered, error) {
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	paths, err := clusterPaths(opts.RepoRoot, args)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r := render.New(opts)
	// Failing to remove a temporary snapshot is not worth failing for.
	defer func() { _ = r.Close() }()
	out := &rendered{opts: opts}
	if f.progress != nil {
		defer f.progress.done()
	}
	for _, p := range paths {
		if f.progress != nil {
			f.progress.set("rendering " + p)
		}
		c, err := r.Render(ctx, p)
		if err != nil {
			return nil, err
		}
		out.clusters = append(out.clusters, c)
	}
	out.elapsed = time.Since(start)
	return out, nil
}

// summary writes the render's warnings, errors and summary line.
func (r *rendered) summary(w io.Writer) {
	shown := withHints(groupFetchErrors(r.clusters))
	report.Problems(w, shown)
	hits, misses := r.opts.Cache.Stats()
	report.RenderSummary(w, shown, r.opts.Charts.Stats(), hits, misses, r.elapsed)
}

// groupFetchErrors returns the clusters (shallow copies, the originals
// untouched) with the chart fetches that failed on the same URL reported
// once: the first HelmRelease's error stands for the others, which it
// names, so an unreachable repository is one line, not one per release
// and cluster.
func groupFetchErrors(clusters []*render.Cluster) []*render.Cluster {
	first := map[string]*alsoFailed{}
	out := make([]*render.Cluster, len(clusters))
	for i, c := range clusters {
		cc := *c
		cc.Errors = nil
		for _, err := range c.Errors {
			var fe *helm.FetchError
			if !errors.As(err, &fe) {
				cc.Errors = append(cc.Errors, err)
				continue
			}
			if g, ok := first[fe.URL]; ok {
				what := c.Path
				var ue *render.UnitError
				if errors.As(err, &ue) {
					what = ue.Ref.String() + " in " + c.Path
				}
				g.also = append(g.also, what)
				continue
			}
			g := &alsoFailed{err: err}
			first[fe.URL] = g
			cc.Errors = append(cc.Errors, g)
		}
		out[i] = &cc
	}
	return out
}

// alsoFailed is a failed fetch that other Flux objects failed on too.
type alsoFailed struct {
	err  error
	also []string
}

func (a *alsoFailed) Error() string {
	if len(a.also) == 0 {
		return a.err.Error()
	}
	return a.err.Error() + "; the same fetch failed for " + strings.Join(a.also, ", ")
}
func (a *alsoFailed) Unwrap() error { return a.err }

// renderOK renders, writes the summary to stderr, and returns exit 2 when a
// Flux object failed to render: the start of every verb that checks a
// render.
func (f *renderFlags) renderOK(ctx context.Context, args []string, stderr io.Writer) (*rendered, error) {
	f.progress = newProgress(stderr)
	run, err := f.render(ctx, args)
	if err != nil {
		return nil, err
	}
	if err := run.finish(stderr); err != nil {
		return nil, err
	}
	return run, nil
}

// finish writes the render's summary and returns exit 2 when a Flux object
// failed to render.
func (r *rendered) finish(stderr io.Writer) error {
	r.summary(stderr)
	if r.failed() {
		return failed{ExitError}
	}
	return nil
}

// failed reports whether any Flux object failed to render.
func (r *rendered) failed() bool {
	for _, c := range r.clusters {
		if len(c.Errors) > 0 {
			return true
		}
	}
	return false
}

// writeRender writes the render to stdout ("-"), to one YAML file (a path
// ending in .yaml or .yml, or a file that exists and is no directory, such
// as /dev/null) or to a directory tree.
func writeRender(out string, stdout io.Writer, clusters []*render.Cluster, opts report.WriteOptions) error {
	fi, statErr := os.Stat(out)
	switch {
	case out == "-":
		return report.WriteStream(stdout, clusters, opts)
	case strings.HasSuffix(out, ".yaml") || strings.HasSuffix(out, ".yml") || (statErr == nil && !fi.IsDir()):
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		if err := report.WriteStream(f, clusters, opts); err != nil {
			_ = f.Close() // the write error is the one to report
			return err
		}
		return f.Close()
	default:
		return report.WriteDir(out, clusters, opts)
	}
}

// withHints returns the clusters (shallow copies, the originals untouched)
// with each error that a flag would get past saying so.
func withHints(clusters []*render.Cluster) []*render.Cluster {
	out := make([]*render.Cluster, len(clusters))
	for i, c := range clusters {
		cc := *c
		cc.Errors = make([]error, len(c.Errors))
		for j, err := range c.Errors {
			cc.Errors[j] = withHint(err)
		}
		out[i] = &cc
	}
	return out
}

// hinted is an error with what to do about it.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + " (" + h.hint + ")" }
func (h *hinted) Unwrap() error { return h.err }

// withHint adds to a failed network fetch the flags that render without
// it; other errors are returned as they are.
func withHint(err error) error {
	var chart *helm.FetchError
	var src *source.FetchError
	var unsupported *source.UnsupportedError
	var self *render.AmbiguousSelfError
	switch {
	case errors.As(err, &chart):
		return &hinted{err, "to render without the network: --charts DIR --offline"}
	case errors.Is(err, helm.ErrOffline):
		return &hinted{err, "put the chart in a --charts DIR, or render without --offline"}
	case errors.As(err, &src):
		return &hinted{err, "to render it from a local copy: --source " + src.Source + "=DIR"}
	case errors.As(err, &unsupported):
		return &hinted{err, "to render it from a local copy: --source " + unsupported.Source + "=DIR"}
	case errors.As(err, &self):
		return &hinted{err, "name this checkout with --self-source KIND/NAMESPACE/NAME"}
	}
	return err
}
