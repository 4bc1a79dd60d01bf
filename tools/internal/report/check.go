package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/aks-gitops/platform/tools/internal/check"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/report/md"
)

// CheckFormats are the formats of Check.
var CheckFormats = []string{"text", "json", "markdown", "junit", "sarif", "github"}

// Check writes a check report: per cluster its counts, a table of its
// layers and its findings (text, Markdown for pull-request comments, JSON);
// JUnit, SARIF and GitHub annotations list the findings as Findings does.
func Check(w io.Writer, format string, r *check.Report) error {
	switch format {
	case "text", "":
		for i, c := range r.Clusters {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s: %s\n", c.Path, counts(c))
			width := len("layer")
			for _, l := range c.Layers {
				width = max(width, len(l.Name))
			}
			fmt.Fprintf(w, "  %-*s  %7s  %6s  %8s\n", width, "layer", "objects", "errors", "warnings")
			for _, l := range c.Layers {
				fmt.Fprintf(w, "  %-*s  %7d  %6d  %8d\n", width, l.Name, l.Objects, l.Errors, l.Warnings)
			}
			if len(c.Findings) > 0 {
				fmt.Fprintln(w)
				if err := text(w, c.Findings); err != nil {
					return err
				}
			}
		}
		return nil
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		for i := range r.Clusters {
			if r.Clusters[i].Findings == nil {
				r.Clusters[i].Findings = []finding.Finding{}
			}
		}
		if r.Clusters == nil {
			r.Clusters = []check.Cluster{}
		}
		return enc.Encode(r)
	case "markdown":
		return checkMarkdown(w, r)
	case "junit", "sarif", "github":
		return Findings(w, format, "check", r.Findings())
	}
	return &UnknownFormatError{format, CheckFormats}
}

func counts(c check.Cluster) string {
	verdict := "passed"
	if c.Errors > 0 {
		verdict = "failed"
	}
	return fmt.Sprintf("%s: %d objects, %d errors, %d warnings", verdict, c.Objects, c.Errors, c.Warnings)
}

// checkMarkdown writes one section per cluster: a verdict line, the layer
// table, then the findings in a collapsible table (errors first).
func checkMarkdown(w io.Writer, r *check.Report) error {
	for i, c := range r.Clusters {
		if i > 0 {
			fmt.Fprintln(w)
		}
		icon := ":white_check_mark:"
		if c.Errors > 0 {
			icon = ":x:"
		} else if c.Warnings > 0 {
			icon = ":warning:"
		}
		fmt.Fprintf(w, "#### %s `%s` — %s\n\n", icon, c.Path, counts(c))
		fmt.Fprintln(w, "| Layer | Objects | Errors | Warnings |")
		fmt.Fprintln(w, "|---|---:|---:|---:|")
		for _, l := range c.Layers {
			fmt.Fprintf(w, "| `%s` | %d | %d | %d |\n", l.Name, l.Objects, l.Errors, l.Warnings)
		}
		if len(c.Findings) == 0 {
			continue
		}
		open := ""
		if c.Errors > 0 {
			open = " open"
		}
		fmt.Fprintf(w, "\n<details%s><summary>%d findings</summary>\n\n", open, len(c.Findings))
		fmt.Fprintln(w, "| | Object | Check | Message | From |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		ordered := make([]finding.Finding, 0, len(c.Findings))
		for _, warning := range []bool{false, true} {
			for _, f := range c.Findings {
				if f.Warning == warning {
					ordered = append(ordered, f)
				}
			}
		}
		for _, f := range ordered {
			level := ":x:"
			if f.Warning {
				level = ":warning:"
			}
			from := f.Where
			if f.File != "" {
				from = "`" + f.File + "`"
			}
			fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s |\n", level, f.Object, md.Cell(checkName(f)), md.Cell(f.Message), md.Cell(from))
		}
		fmt.Fprintln(w, "\n</details>")
	}
	return nil
}
