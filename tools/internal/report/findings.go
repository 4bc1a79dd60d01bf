package report

import (
	"fmt"
	"io"
	"sort"
)

// Finding is one problem a check found in the render.
type Finding struct {
	Cluster string
	// Object is Kind/namespace/name; Where says where it comes from (a
	// file, or a HelmRelease and template).
	Object, Where string
	Check         string
	// Warning findings are reported but do not fail the run.
	Warning bool
	Message string
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
	warnings := 0
	for _, f := range findings {
		level := "error"
		if f.Warning {
			level = "warning"
			warnings++
		}
		fmt.Fprintf(w, "%s: %s: %s (%s): %s: %s\n", level, f.Cluster, f.Object, f.Where, f.Check, f.Message)
	}
	fmt.Fprintf(w, "%d findings (%d errors, %d warnings)\n", len(findings), len(findings)-warnings, warnings)
}
