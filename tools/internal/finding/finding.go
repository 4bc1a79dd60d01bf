// Package finding is the one shape every check of the tool reports in
// (validate, policy, check): the object, where it came from, which check or
// rule found what, and whether it fails the run.
package finding

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/object"
)

// Finding is one problem a check found.
type Finding struct {
	Cluster string `json:"cluster"`
	// Object is what the finding is about; in JSON, Kind/namespace/name.
	Object object.ID `json:"-"`
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

// MarshalJSON writes the finding with its object as Kind/namespace/name.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding // without this method
	return json.Marshal(struct {
		Cluster string `json:"cluster"`
		Object  string `json:"object"`
		plain
	}{f.Cluster, f.Object.String(), plain(f)})
}

// UnmarshalJSON reads what MarshalJSON writes; the object's group, which
// JSON does not carry, stays empty.
func (f *Finding) UnmarshalJSON(data []byte) error {
	type plain Finding
	var in struct {
		Object string `json:"object"`
		plain
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*f = Finding(in.plain)
	parts := strings.SplitN(in.Object, "/", 3)
	switch len(parts) {
	case 1:
		f.Object = object.ID{Kind: parts[0]}
	case 2:
		f.Object = object.ID{Kind: parts[0], Name: parts[1]}
	default:
		f.Object = object.ID{Kind: parts[0], Namespace: parts[1], Name: parts[2]}
	}
	return nil
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
			object.Compare(a.Object, b.Object),
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
