package policy

import (
	"github.com/aks-gitops/platform/tools/internal/finding"
)

// FailOn makes every finding with an enforcement action of failOn or a
// stronger one an error and every weaker one a warning, in place. Findings
// without an action, or a failOn that is not an action, leave them as
// they are.
func FailOn(findings []finding.Finding, failOn string) {
	bar := finding.Strictness(failOn)
	for i, f := range findings {
		if rank := finding.Strictness(f.Action); rank > 0 && bar > 0 {
			findings[i].Warning = rank < bar
		}
	}
}
