package cli

import (
	"cmp"
	"errors"
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
)

func newPolicyCmd(stdout, stderr io.Writer) *cobra.Command {
	var flags renderFlags
	var format, failOn, rulesDir string
	cmd := &cobra.Command{
		Use:   "policy [PATH...]",
		Short: "Render, then check every object against the cluster's Gatekeeper constraints and the repository rules",
		Long: `Policy renders like render (its render flags: tools render --help), then
evaluates each cluster with Gatekeeper's own engine (the constraint
framework with its CEL and Rego drivers, as the admission webhook runs it)
against the ConstraintTemplates and constraints found in that cluster's
render. Every rendered object, Helm hooks included, is reviewed as a CREATE
by the Flux controller that applies it, except what the webhook never sees:
objects in namespaces the rendered Gatekeeper exempts (--exempt-namespace*
flags of its webhook, namespaces labelled admission.gatekeeper.sh/ignore, a
Config excluding them from the webhook). The render is the engine's
data.inventory (only the kinds a rendered Config or SyncSet syncs, when
there is one).

It then runs the repository rules (conftest-style Rego, default
` + defaultRules + ` below the repository root; --rules DIR, or none) on the
render and on the repository files it read.

A deny violation is an error; warn and dryrun ones are warnings, unless
--fail-on lowers the bar (--fail-on dryrun: any violation fails).

Exit codes: 0 no errors, 1 violations that fail, 2 the render failed, a
template or rule does not compile, or bad usage.`,
		Example: `  tools policy                                  # both clusters against their own constraints
  tools policy --fail-on warn --format json clusters/production`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneOf("format", format, report.FindingFormats); err != nil {
				return err
			}
			if err := oneOf("fail-on", failOn, finding.Actions); err != nil {
				return err
			}
			run, err := flags.renderOK(cmd.Context(), args, stderr)
			if err != nil {
				return err
			}
			rules, err := loadRules(cmd, rulesDir, run.opts.RepoRoot)
			if err != nil {
				return err
			}
			rep, err := check.Run(cmd.Context(), run.clusters, check.Options{
				Checks:   []string{check.Policy, check.RepoRules},
				Policy:   policy.Options{Concurrency: flags.concurrency},
				FailOn:   failOn,
				Rules:    rules,
				RepoRoot: run.opts.RepoRoot,
			})
			if ce := (*check.Error)(nil); errors.As(err, &ce) {
				// In this verb's words: the check is the verb.
				what := map[string]string{check.RepoRules: "repository rules"}[ce.Check]
				return fmt.Errorf("%s %s: %w", cmp.Or(what, ce.Check), ce.Cluster, ce.Err)
			}
			if err != nil {
				return err
			}
			for _, c := range rep.Clusters {
				report.PolicySummary(stderr, c, rules)
			}
			if err := report.Check(stdout, format, report.CheckOptions{Verb: "policy", Color: colorOn(cmd, stdout)}, rep); err != nil {
				return err
			}
			if rep.Failed() {
				return failed{ExitFindings}
			}
			return nil
		},
	}
	flags.bind(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(report.FindingFormats, ", "))
	bindFailOn(cmd, &failOn, &rulesDir)
	cmd.AddCommand(newPolicyVerifyCmd(stdout, stderr))
	return cmd
}

// bindFailOn binds the flags policy and check share.
func bindFailOn(cmd *cobra.Command, failOn, rulesDir *string) {
	cmd.Flags().StringVar(failOn, "fail-on", "deny", "weakest enforcement action whose violations fail the run: "+strings.Join(finding.Actions, ", "))
	cmd.Flags().StringVar(rulesDir, "rules", "", "directory of repository rules (Rego); default "+defaultRules+" when it exists, none to skip")
}

func newPolicyVerifyCmd(stdout, stderr io.Writer) *cobra.Command {
	var format string
	var concurrency int
	cmd := &cobra.Command{
		Use:   "verify [DIR...]",
		Short: "Run the gator suites under DIR (default policies/) with Gatekeeper's own test runner",
		Long: `Verify runs every gator Suite (test.gatekeeper.sh/v1alpha1) found under
each DIR (default: policies/ at the repository's top level), or the suite files named, with gator's own
runner and drivers (CEL and Rego), and prints a verdict per suite, test and
case.

Exit codes: 0 every case passed, 1 a case or test failed, 2 a suite could not
be read or bad usage.`,
		Example: `  tools policy verify                           # every suite under policies/
  tools policy verify policies/tests/image-tags/suite.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneOf("format", format, report.SuiteFormats); err != nil {
				return err
			}
			if len(args) == 0 {
				dir, err := defaultPolicies()
				if err != nil {
					return err
				}
				args = []string{dir}
			}
			start := time.Now()
			results, err := policy.Verify(cmd.Context(), args, policy.VerifyOptions{Concurrency: concurrency})
			if err != nil {
				return err
			}
			if err := report.Verify(stdout, format, results, colorOn(cmd, stdout)); err != nil {
				return err
			}
			report.VerifySummary(stderr, results, time.Since(start))
			for _, r := range results {
				if r.Failed() {
					return failed{ExitFindings}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(report.SuiteFormats, ", "))
	cmd.Flags().IntVar(&concurrency, "concurrency", 2, "suites run at once")
	return cmd
}

// defaultPolicies is policies/ at the repository's top level, relative to
// the working directory.
func defaultPolicies() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(gitTopLevel(wd), "policies")
	if rel, err := filepath.Rel(wd, dir); err == nil {
		return rel, nil
	}
	return dir, nil
}
