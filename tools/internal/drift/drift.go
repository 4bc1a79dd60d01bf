// Package drift compares a rendered cluster entry with a live cluster the way
// Flux would reconcile it: every rendered object goes through a server-side
// apply dry-run with the field manager of the controller that applies it
// (kustomize-controller or helm-controller), and the result is compared with
// the live object. Objects the cluster holds for a Flux owner of the render
// but the render no longer has are prune candidates.
//
// A per-object outcome is data (created, drifted, unchanged, skipped,
// prune, failed); an error from Check means the cluster could not be
// evaluated (unreachable API server, authentication, throttling that did not
// end), never "in sync".
package drift

import (
	"cmp"
	"slices"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/object"
)

// Status is the outcome for one object.
type Status string

// Statuses, in the order reports list them.
const (
	// Created: the object is not live; Flux creates it.
	Created Status = "created"
	// Drifted: the live object differs from what the apply would leave.
	Drifted Status = "drifted"
	// Prune: a live object of a Flux owner in the render that the render
	// no longer has; Flux deletes it (unless a note says otherwise).
	Prune Status = "prune"
	// Failed: the API server rejects the apply (an immutable field without
	// force, an admission denial, an invalid object): Flux would fail too.
	Failed Status = "failed"
	// Skipped: not compared, for the reason given.
	Skipped Status = "skipped"
	// Unchanged: the apply would change nothing.
	Unchanged Status = "unchanged"
)

// Statuses lists the statuses in report order.
var Statuses = []Status{Created, Drifted, Prune, Failed, Skipped, Unchanged}

// actions are the revision diff's actions of the statuses that have one.
var actions = map[Status]diff.Action{Created: diff.Added, Drifted: diff.Changed, Prune: diff.Removed}

// Result is the outcome for one object: the change as the revision diff
// has it (identity, origin — for a prune candidate, the producer whose
// inventory holds it —, field differences between the live object (old)
// and the dry-run result (new), Secret values masked, notes), its status,
// and why it was skipped or failed. The change's action is Added for
// created, Changed for drifted and Removed for prune; the other statuses
// have none.
type Result struct {
	diff.Change
	Status Status
	Reason string
}

// Report is the live diff of one cluster entry.
type Report struct {
	// Cluster is the entry path, Server the API server compared with.
	Cluster string
	Server  string
	// Results holds one result per rendered object and prune candidate,
	// sorted by namespace, kind, name, group, then producer.
	Results []Result
	// Warnings are limits of this comparison (e.g. Flux not installed, so
	// no inventory), sorted.
	Warnings []string
}

// Drifted reports whether the cluster differs from the render: anything
// created, drifted, to prune or failing.
func (r *Report) Drifted() bool {
	for _, res := range r.Results {
		switch res.Status {
		case Created, Drifted, Prune, Failed:
			return true
		}
	}
	return false
}

// Counts returns how many results have each status.
func (r *Report) Counts() map[Status]int {
	out := map[Status]int{}
	for _, res := range r.Results {
		out[res.Status]++
	}
	return out
}

func sortResults(rs []Result) {
	slices.SortStableFunc(rs, func(a, b Result) int {
		return cmp.Or(object.Compare(a.ID, b.ID), cmp.Compare(a.Origin.Producer.String(), b.Origin.Producer.String()), cmp.Compare(a.APIVersion, b.APIVersion))
	})
}
