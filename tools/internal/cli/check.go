package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/check"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/policy"
	"github.com/aks-gitops/platform/tools/internal/report"
	"github.com/aks-gitops/platform/tools/internal/reporules"
	"github.com/aks-gitops/platform/tools/internal/revision"
)

// defaultRules is where the repository rules live, below the repository root.
const defaultRules = "policies/repo"

func newCheckCmd(stdout, stderr io.Writer) *cobra.Command {
	var flags renderFlags
	var vflags validateFlags
	var cf checkFlags
	cmd := &cobra.Command{
		Use:   "check [PATH...]",
		Short: "Render once, then validate, policy-check and rule-check every cluster: one report per cluster and layer",
		Long: `Check renders every cluster entry once (with the render flags, see tools
render --help) and runs on that render what validate, policy and the
repository rules check:

- validate: strict schemas, API lifecycle, values lint, PrometheusRules,
  dashboards, Falco rules (see tools validate --help);
- policy: the cluster's own Gatekeeper ConstraintTemplates and constraints
  with Gatekeeper's engine (see tools policy --help); violations of
  constraints at --fail-on or stronger are errors, weaker ones warnings;
- repository rules: the Rego rules under --rules (default ` + defaultRules + `,
  "none" to skip) on the render and on the repository files it read.

The report has one section per cluster: its verdict, a table of its layers
(the Flux Kustomizations, with the objects of their HelmReleases) with
object, error and warning counts, and the findings. --format markdown is
for pull-request comments (--markdown-dir DIR also writes it as
check.part-N.md files, each under GitHub's comment limit, as diff does);
junit and sarif for CI test and code-scanning reports; html one
self-contained page (no network, no script: per cluster its dependency
graph, layers and findings with the file each came from, every part
collapsible) to keep as a CI artifact. On a terminal, a progress line on
stderr says what runs.

--changed-since REV checks only what the changes since REV (the working
tree against it, untracked files included) can change: the objects of the
Flux objects whose inputs a changed file touches — what kustomize read for
a Kustomization, the ConfigMaps and Secrets it substitutes from, a
HelmRelease's file, values sources and local chart. The findings are
those a whole check finds on those objects; the whole render is checked
where the inputs are not known (a Kustomization built from another
source), and the summary line says which.

Exit codes: 0 clean (warnings allowed), 1 errors found, 2 the render or a
check failed to run, or bad usage.`,
		Example: `  tools check                                   # both clusters: validate, policy, repository rules
  tools check clusters/production --format markdown
  tools check --format html > check.html        # one page to open in a browser
  tools check --changed-since origin/main       # only what the branch's changes can change
  tools check --charts charts/ --offline --fail-on warn`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, &flags, &vflags, &cf, args, stdout, stderr)
		},
	}
	flags.bind(cmd)
	vflags.bind(cmd)
	cmd.Flags().StringVar(&cf.format, "format", "text", "output format: "+strings.Join(report.CheckFormats, ", "))
	cmd.Flags().StringVar(&cf.markdownDir, "markdown-dir", "", "also write the Markdown report as check.part-N.md files, each under GitHub's comment limit")
	cmd.Flags().StringVar(&cf.changedSince, "changed-since", "", "check only the objects of the Flux objects whose inputs changed since this revision (the working tree against it; the whole render where inputs are not known)")
	bindFailOn(cmd, &cf.failOn, &cf.rulesDir)
	return cmd
}

// checkFlags are the flags of check besides the render and validate flags.
type checkFlags struct {
	format, failOn, rulesDir, markdownDir string
	changedSince                          string
}

// runCheck renders, runs every check and writes the report.
func runCheck(cmd *cobra.Command, flags *renderFlags, vflags *validateFlags, cf *checkFlags, args []string, stdout, stderr io.Writer) error {
	if err := oneOf("format", cf.format, report.CheckFormats); err != nil {
		return err
	}
	if err := oneOf("fail-on", cf.failOn, finding.Actions); err != nil {
		return err
	}
	vopts, err := vflags.options(cmd, flags)
	if err != nil {
		return err
	}
	var changed []string
	if cf.changedSince != "" {
		ropts, err := flags.options()
		if err != nil {
			return err
		}
		if changed, err = changedFiles(cmd.Context(), ropts.RepoRoot, cf.changedSince); err != nil {
			return err
		}
	}
	progress := newProgress(stderr)
	defer progress.done()
	flags.progress = progress
	start := time.Now()
	run, err := flags.render(cmd.Context(), args)
	if err != nil {
		return err
	}
	if err := run.finish(stderr); err != nil {
		return err
	}
	opts := check.Options{
		Validate: vopts,
		Policy:   policy.Options{Concurrency: flags.concurrency},
		FailOn:   cf.failOn,
		RepoRoot: run.opts.RepoRoot,
		Progress: progress.set,
		Changed:  changed,
	}
	opts.Validate.RepoRoot, opts.Validate.Cache = run.opts.RepoRoot, run.opts.Cache
	if opts.Rules, err = loadRules(cmd, cf.rulesDir, run.opts.RepoRoot); err != nil {
		return err
	}
	rep, err := check.Run(cmd.Context(), run.clusters, opts)
	progress.done()
	if err != nil {
		return err
	}
	report.CheckSummary(stderr, rep, time.Since(start))
	if cf.format == "html" {
		err = report.CheckHTML(stdout, rep, run.clusters, report.HTMLOptions{Version: cmd.Root().Version})
	} else {
		err = report.Check(stdout, cf.format, report.CheckOptions{Verb: "check", Layers: true, Color: colorOn(cmd, stdout)}, rep)
	}
	if err != nil {
		return err
	}
	if cf.markdownDir != "" {
		if err := writeMarkdownDir(cf.markdownDir, []comment{{file: "check", name: "check", parts: report.CheckParts(rep, 0)}}); err != nil {
			return err
		}
	}
	if rep.Failed() {
		return failed{ExitFindings}
	}
	return nil
}

// changedFiles lists the files of the repository at root that differ
// between rev and the working tree (never nil: no change is an empty
// scope, not a whole check).
func changedFiles(ctx context.Context, root, rev string) ([]string, error) {
	git := revision.Git{Dir: root}
	commit, err := git.Resolve(ctx, rev)
	if err != nil {
		return nil, fmt.Errorf("--changed-since: %w", err)
	}
	files, err := git.Changed(ctx, commit)
	if err != nil {
		return nil, fmt.Errorf("--changed-since %s: %w", rev, err)
	}
	if files == nil {
		files = []string{}
	}
	return files, nil
}

// loadRules compiles the repository rules: the directory given (relative
// to the working directory), or policies/repo below the repository root
// when it exists.
func loadRules(cmd *cobra.Command, dir, repoRoot string) (*reporules.Rules, error) {
	switch dir {
	case "none":
		return nil, nil
	case "":
		dir = filepath.Join(repoRoot, filepath.FromSlash(defaultRules))
		if _, err := os.Stat(dir); err != nil {
			return nil, nil
		}
	default:
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("--rules: %w", err)
		}
	}
	rules, err := reporules.Load(cmd.Context(), dir)
	if err != nil {
		return nil, fmt.Errorf("--rules %s: %w", dir, err)
	}
	return rules, nil
}
