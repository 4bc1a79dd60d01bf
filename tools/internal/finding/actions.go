package finding

import "slices"

// Actions are the Gatekeeper enforcement actions a violation can carry,
// strictest first: the webhook refuses on deny and admits with a warning or
// an audit record on warn and dryrun.
var Actions = []string{"deny", "warn", "dryrun"}

// Strictness ranks an enforcement action: higher is stricter, 0 for one
// that is not in Actions.
func Strictness(action string) int {
	if i := slices.Index(Actions, action); i >= 0 {
		return len(Actions) - i
	}
	return 0
}
