package report

import (
	"fmt"
	"io"
	"sort"
)

// Finding is one problem a check found in the render.
type Finding struct {
	Cluster string
	// Object is Kind/namespace/name, File where it is defined.
	Object, File string
	Check        string
	Message      string
}

// Findings writes findings one per line, sorted, then a count.
func Findings(w io.Writer, findings []Finding) {
	sort.Slice(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		return a.Message < b.Message
	})
	for _, f := range findings {
		fmt.Fprintf(w, "%s: %s (%s): %s: %s\n", f.Cluster, f.Object, f.File, f.Check, f.Message)
	}
	fmt.Fprintf(w, "%d findings\n", len(findings))
}
