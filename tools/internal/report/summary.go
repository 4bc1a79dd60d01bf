package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aks-gitops/platform/tools/internal/check"
	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/policy"
	"github.com/aks-gitops/platform/tools/internal/reporules"
)

// The summary lines the verbs write to stderr after their report.

// PolicySummary writes what the policy check and the repository rules of one
// cluster reviewed and found.
func PolicySummary(w io.Writer, c check.Cluster, rules *reporules.Rules) {
	var pol, repo []finding.Finding
	for _, f := range c.Findings {
		if f.Check == reporules.Check {
			repo = append(repo, f)
		} else {
			pol = append(pol, f)
		}
	}
	res := c.Policy
	errs, warns := finding.Count(pol)
	fmt.Fprintf(w, "policy %s: %d templates, %d constraints; %d objects evaluated, %d skipped (not seen by the webhook); %d violations (%d deny, %d warn or dryrun) in %s\n",
		c.Path, res.Templates, res.Constraints, res.Objects, res.Skipped, len(pol), errs, warns, c.Durations[check.Policy].Round(time.Millisecond))
	if len(res.AssumedNamespaces) > 0 {
		fmt.Fprintf(w, "policy %s: namespaces not in the render, taken as unlabelled: %s\n", c.Path, strings.Join(res.AssumedNamespaces, ", "))
	}
	if rules != nil {
		fmt.Fprintf(w, "repository rules %s: %d rules, %d findings in %s\n", c.Path, len(rules.Rules()), len(repo), c.Durations[check.RepoRules].Round(time.Millisecond))
	}
}

// CheckSummary writes how long each check took per cluster, then the run.
func CheckSummary(w io.Writer, r *check.Report, elapsed time.Duration) {
	for _, c := range r.Clusters {
		fmt.Fprintf(w, "check %s: validate %s, policy %s, repo-rules %s\n", c.Path,
			c.Durations[check.Validate].Round(time.Millisecond), c.Durations[check.Policy].Round(time.Millisecond), c.Durations[check.RepoRules].Round(time.Millisecond))
		switch s := c.Scope; {
		case s == nil:
		case s.Whole != "":
			fmt.Fprintf(w, "check %s: changed-only not possible, every object checked: %s\n", c.Path, s.Whole)
		default:
			fmt.Fprintf(w, "check %s: changed only: the objects of %d of %d Flux objects checked\n", c.Path, s.Units, s.Of)
		}
	}
	fmt.Fprintf(w, "check: %d clusters in %s\n", len(r.Clusters), elapsed.Round(time.Millisecond))
}

// DiffSummary writes the revisions compared, how many entries changed and
// how the render cache served both sides.
func DiffSummary(w io.Writer, base, head string, reports []*diff.Report, hits, misses int64, elapsed time.Duration) {
	changed := 0
	for _, r := range reports {
		if r.Changed() {
			changed++
		}
	}
	fmt.Fprintf(w, "diff: base %s, head %s: %d of %d cluster entries changed in %.1fs; render cache: %d hits, %d misses\n",
		base, head, changed, len(reports), elapsed.Seconds(), hits, misses)
}

// VerifySummary writes how many suites ran.
func VerifySummary(w io.Writer, results []policy.SuiteResult, elapsed time.Duration) {
	fmt.Fprintf(w, "policy verify: %d suites in %s\n", len(results), elapsed.Round(time.Millisecond))
}
