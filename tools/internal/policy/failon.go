package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/finding"
)

// Actions are the enforcement actions a violation can carry, strongest
// first: deny fails a run by default, warn and dryrun are warnings.
var Actions = []string{"deny", "warn", "dryrun"}

// CheckFailOn returns a usage error for a --fail-on that is not an action.
func CheckFailOn(failOn string) error {
	if !slices.Contains(Actions, failOn) {
		return fmt.Errorf("--fail-on %q: want one of %s", failOn, strings.Join(Actions, ", "))
	}
	return nil
}

// FailOn makes every finding with an enforcement action of failOn or a
// stronger one an error and every weaker one a warning, in place. Findings
// without an action are left as they are.
func FailOn(findings []finding.Finding, failOn string) {
	bar := slices.Index(Actions, failOn)
	for i, f := range findings {
		if rank := slices.Index(Actions, f.Action); rank >= 0 && bar >= 0 {
			findings[i].Warning = rank > bar
		}
	}
}
