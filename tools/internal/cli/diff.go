package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/drift"
	"github.com/aks-gitops/platform/tools/internal/report"
	"github.com/aks-gitops/platform/tools/internal/revision"
)

// diffFlags are the flags of `tools diff` besides the render flags.
type diffFlags struct {
	base, head     string
	format         string
	color          bool   // stdout is coloured (--color)
	version        string // the tool's, for the HTML report
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
--base names one. Revisions are checked out under the cache directory
(a few kept between runs, so diffing against the same base again writes
nothing) through an index of their own: the working tree and index are
never touched.

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
(CLUSTER.part-N.md; live_CLUSTER.part-N.md with --live), split to fit
GitHub's 65,536-character comments. --format json is the envelope every
verb writes (docs/json.md). --format html writes one self-contained page
(no network, no script): per cluster entry the danger notes, the head's
dependency graph with the changed layers marked, and the changes by layer,
each collapsible.

Exit codes: 0 no change, 1 changes, 2 a side failed to render or bad usage.`,
		Example: `  tools diff                                    # working tree against the merge base with main
  tools diff --base origin/main --head HEAD --format markdown
  tools diff --format html > diff.html          # one page to open in a browser
  tools diff --live --kubeconfig ~/.kube/config clusters/staging   # the repository against the cluster`,
		RunE: func(cmd *cobra.Command, args []string) error {
			df.color, df.version = colorOn(cmd, stdout), cmd.Root().Version
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
	fs.StringVar(&df.format, "format", "text", "output format: "+strings.Join(report.DiffFormats, ", ")+" (html not with --live)")
	fs.StringArrayVar(&df.ignore, "ignore", nil, "noise rule, added to the defaults: label:GLOB, annotation:GLOB, metadata:GLOB, field:[KIND:]PATH (repeatable)")
	fs.StringVar(&df.ignoreFile, "ignore-file", "", "file of noise rules, one a line (# comments)")
	fs.BoolVar(&df.noIgnore, "no-ignore", false, "show everything: no noise rules, chart randomness included")
	fs.StringVar(&df.markdownDir, "markdown-dir", "", "also write the Markdown report as one file per cluster and part, each under GitHub's comment limit")
	fs.IntVar(&df.maxObjectLines, "max-object-lines", report.DefaultMaxObjectLines, "longest added or removed object shown as YAML (-1: none)")
	fs.BoolVar(&df.live, "live", false, "compare the render of one entry (the working tree) with the live cluster instead of another revision")
	fs.StringVar(&df.liveOpts.kubeconfig, "kubeconfig", "", "with --live: kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&df.liveOpts.context, "context", "", "with --live: kube context (default: the current one)")
	fs.IntVar(&df.liveOpts.concurrency, "live-concurrency", 0, "with --live: parallel dry-runs (0: the default)")
	fs.DurationVar(&df.liveOpts.requestTimeout, "request-timeout", 30*time.Second, "with --live: bound on each API server request")
	fs.DurationVar(&df.liveOpts.timeout, "live-timeout", 0, "with --live: bound on the whole comparison (0: none)")
	return cmd
}

// runDiffLive renders the working tree and hands it to the live drift.
func runDiffLive(ctx context.Context, rf *renderFlags, df *diffFlags, args []string, stdout, stderr io.Writer) error {
	if df.base != "" || df.head != "" {
		return errors.New("--live compares the working tree with the cluster: --base and --head do not apply")
	}
	opts, wo, err := df.options()
	if err != nil {
		return err
	}
	// Usage and the kubeconfig are checked before minutes of rendering.
	ropts, err := rf.options()
	if err != nil {
		return err
	}
	paths, err := clusterPaths(ropts.RepoRoot, args)
	if err != nil {
		return err
	}
	if len(paths) != 1 {
		return fmt.Errorf("--live compares one cluster entry with one cluster: give one PATH (got %d: %s)", len(paths), strings.Join(paths, ", "))
	}
	cfg, err := drift.LoadConfig(df.liveOpts.kubeconfig, df.liveOpts.context)
	if err != nil {
		return err
	}
	rf.progress = newProgress(stderr)
	run, err := rf.render(ctx, paths)
	if err != nil {
		return err
	}
	run.summary(stderr)
	lo := df.liveOpts
	lo.format, lo.write, lo.diff, lo.markdownDir = df.format, wo, &opts, df.markdownDir
	return runLive(ctx, run, cfg, lo, stdout, stderr)
}

// options turns the diff flags into compare and write options.
func (df *diffFlags) options() (diff.Options, report.ChangeOptions, error) {
	formats := report.DiffFormats
	if df.live {
		formats = report.ChangeFormats
	}
	if err := oneOf("format", df.format, formats); err != nil {
		return diff.Options{}, report.ChangeOptions{}, err
	}
	wo := report.ChangeOptions{MaxObjectLines: df.maxObjectLines, Color: df.color && df.format == "text"}
	if df.maxObjectLines == 0 {
		wo.MaxObjectLines = -1
	}
	rules := append([]string(nil), df.ignore...)
	if df.ignoreFile != "" {
		more, err := readRules(df.ignoreFile)
		if err != nil {
			return diff.Options{}, report.ChangeOptions{}, err
		}
		rules = append(rules, more...)
	}
	extra, err := diff.ParseRules(rules)
	if err != nil {
		return diff.Options{}, report.ChangeOptions{}, err
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

func runDiff(ctx context.Context, rf *renderFlags, df *diffFlags, args []string, stdout, stderr io.Writer) error {
	opts, wo, err := df.options()
	if err != nil {
		return err
	}
	ropts, err := rf.options()
	if err != nil {
		return err
	}
	cacheDir, err := rf.cacheDirectory()
	if err != nil {
		return err
	}
	start := time.Now()
	action := &diff.Revisions{
		Render: ropts, Base: df.base, Head: df.head, Paths: args, Compare: opts, Explain: withHint, KeepHeads: df.format == "html",
		CheckoutDir: filepath.Join(cacheDir, "revisions"),
	}
	res, err := action.Run(ctx)
	if errors.Is(err, revision.ErrNoDefaultBranch) {
		err = &hinted{err, "pass --base"}
	}
	if err != nil {
		return err
	}
	for _, msg := range res.Errors {
		fmt.Fprintf(stderr, "error: %s\n", msg)
	}
	if df.format == "html" {
		err = report.DiffHTML(stdout, res.Reports, res.Heads, report.HTMLOptions{Version: df.version, Base: res.Base, Head: res.Head}, wo)
	} else {
		err = report.Diff(stdout, df.format, res.Reports, wo)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if df.markdownDir != "" {
		var comments []comment
		for _, r := range res.Reports {
			comments = append(comments, comment{file: r.Title, name: "diff:" + r.Title, parts: report.DiffParts(r, 0, wo)})
		}
		if err := writeMarkdownDir(df.markdownDir, comments); err != nil {
			return err
		}
	}
	hits, misses := ropts.Cache.Stats()
	report.DiffSummary(stderr, res.Base, res.Head, res.Reports, hits, misses, time.Since(start))
	if len(res.Errors) > 0 {
		return failed{ExitError}
	}
	for _, r := range res.Reports {
		if r.Changed() {
			return failed{ExitFindings}
		}
	}
	return nil
}
