// Package finding is the one shape every check of the tool reports in
// (validate, policy, check): the object, where it came from, which check or
// rule found what, and whether it fails the run.
package finding

import (
	"cmp"
	"slices"
)

// Finding is one problem a check found.
type Finding struct {
	Cluster string `json:"cluster"`
	// Object is Kind/namespace/name.
	Object string `json:"object"`
	// File is the repository file the object comes from, or that defines
	// the HelmRelease that renders it; Where says the same in words.
	File  string `json:"file,omitempty"`
	Where string `json:"where"`
	// Check is the family of check: schema, values-lint, policy, repo-rule, …
	Check string `json:"check"`
	// Rule names the constraint (Kind/name) or rule within the check, when
	// there is one.
	Rule string `json:"rule,omitempty"`
	// Action is a policy's enforcement action (deny, warn, dryrun).
	Action string `json:"action,omitempty"`
	// Layer is the Flux Kustomization (namespace/name) that applies the
	// object, directly or through a HelmRelease; set by tools check.
	Layer string `json:"layer,omitempty"`
	// Warning findings are reported but do not fail the run.
	Warning bool   `json:"warning,omitempty"`
	Message string `json:"message"`
}

// Level is "error" or "warning".
func (f Finding) Level() string {
	if f.Warning {
		return "warning"
	}
	return "error"
}

// Failed reports whether any finding is an error.
func Failed(findings []Finding) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return !f.Warning })
}

// Sort orders findings by cluster, object, check, rule and message, so
// output is the same on every run.
func Sort(findings []Finding) {
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Cluster, b.Cluster),
			cmp.Compare(a.Object, b.Object),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Count returns the number of errors and warnings.
func Count(findings []Finding) (errors, warnings int) {
	for _, f := range findings {
		if f.Warning {
			warnings++
		} else {
			errors++
		}
	}
	return errors, warnings
}
