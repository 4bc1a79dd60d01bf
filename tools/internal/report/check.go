package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/check"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/report/md"
)

// CheckOptions say how a check run is written.
type CheckOptions struct {
	// Verb names the run: in JSON, JUnit and SARIF.
	Verb string
	// Layers heads each cluster's text with its verdict and a table of its
	// layers (check); without, the text is the findings alone (validate,
	// policy).
	Layers bool
	// Color uses ANSI colours (text only): errors red, warnings yellow.
	Color bool
}

// Check writes a check run (check, or validate and policy, which are check
// with some of the checks) in one of FindingFormats: text, Markdown for
// pull-request comments (per cluster its verdict, layers and findings),
// JSON (the envelope, per cluster its counts, layers and findings), GitHub
// annotations, JUnit or SARIF (the findings of every cluster).
func Check(w io.Writer, format string, o CheckOptions, r *check.Report) error {
	switch format {
	case "text":
		if !o.Layers {
			return findings(w, format, o.Verb, r.Findings(), painter(o.Color))
		}
		return checkText(w, r, painter(o.Color))
	case "json":
		clusters := make([]check.Cluster, len(r.Clusters))
		copy(clusters, r.Clusters)
		for i := range clusters {
			if clusters[i].Findings == nil {
				clusters[i].Findings = []finding.Finding{}
			}
		}
		return writeJSON(w, envelope{Verb: o.Verb, Clusters: clusters})
	case "markdown":
		return checkMarkdown(w, r)
	case "junit", "sarif", "github":
		return findings(w, format, o.Verb, r.Findings(), painter(o.Color && format == "github"))
	}
	return &UnknownFormatError{format, FindingFormats}
}

// checkText writes per cluster its verdict, the table of its layers, then
// its findings.
func checkText(w io.Writer, r *check.Report, p painter) error {
	for i, c := range r.Clusters {
		if i > 0 {
			fmt.Fprintln(w)
		}
		color := ansiGreen
		if c.Errors > 0 {
			color = ansiBold + ansiRed
		}
		fmt.Fprintf(w, "%s: %s\n", p.paint(ansiBold, c.Path), p.paint(color, counts(c)))
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
			if err := text(w, c.Findings, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func counts(c check.Cluster) string {
	verdict := "passed"
	if c.Errors > 0 {
		verdict = "failed"
	}
	return fmt.Sprintf("%s: %d objects, %d errors, %d warnings", verdict, c.Objects, c.Errors, c.Warnings)
}

// CheckParts is the Markdown of a check run as parts of at most limit
// bytes each (0: md.CommentLimit), like DiffParts; at the default limit
// they concatenate to what Check writes as Markdown.
func CheckParts(r *check.Report, limit int) []string {
	return parts(limit, func(b int) []string { return checkBlocks(r, b) })
}

func checkMarkdown(w io.Writer, r *check.Report) error {
	_, err := io.WriteString(w, strings.Join(checkBlocks(r, md.Room), ""))
	return err
}

// checkBlocks is a check run in Markdown, one section per cluster: a
// verdict line and the layer table, then the findings (errors first) in a
// collapsible table, open when there are errors. A table too long for one
// block of blockLimit bytes goes on in "(continued)" blocks.
func checkBlocks(r *check.Report, blockLimit int) []string {
	var blocks []string
	for i, c := range r.Clusters {
		var b strings.Builder
		if i > 0 {
			b.WriteString("\n")
		}
		icon := ":white_check_mark:"
		if c.Errors > 0 {
			icon = ":x:"
		} else if c.Warnings > 0 {
			icon = ":warning:"
		}
		fmt.Fprintf(&b, "#### %s `%s` — %s\n\n", icon, c.Path, counts(c))
		b.WriteString("| Layer | Objects | Errors | Warnings |\n|---|---:|---:|---:|\n")
		for _, l := range c.Layers {
			fmt.Fprintf(&b, "| `%s` | %d | %d | %d |\n", l.Name, l.Objects, l.Errors, l.Warnings)
		}
		blocks = append(blocks, b.String())
		if len(c.Findings) > 0 {
			blocks = append(blocks, findingBlocks(c, blockLimit)...)
		}
	}
	return blocks
}

// findingBlocks is one cluster's findings table in <details> blocks of at
// most limit bytes each (0: one block).
func findingBlocks(c check.Cluster, limit int) []string {
	open := ""
	if c.Errors > 0 {
		open = " open"
	}
	head := func(cont bool) string {
		more := ""
		if cont {
			more = " (continued)"
		}
		return fmt.Sprintf("\n<details%s><summary>%d findings%s</summary>\n\n| | Object | Check | Message | From |\n|---|---|---|---|---|\n", open, len(c.Findings), more)
	}
	const closing = "\n</details>\n"
	ordered := make([]finding.Finding, 0, len(c.Findings))
	for _, warning := range []bool{false, true} {
		for _, f := range c.Findings {
			if f.Warning == warning {
				ordered = append(ordered, f)
			}
		}
	}
	var blocks []string
	var b strings.Builder
	b.WriteString(head(false))
	rows := 0
	for _, f := range ordered {
		level := ":x:"
		if f.Warning {
			level = ":warning:"
		}
		from := f.Where
		if f.File != "" {
			from = "`" + f.File + "`"
		}
		row := fmt.Sprintf("| %s | `%s` | %s | %s | %s |\n", level, f.Object, md.Cell(checkName(f)), md.Cell(f.Message), md.Cell(from))
		if limit > 0 && rows > 0 && b.Len()+len(row)+len(closing) > limit {
			blocks = append(blocks, b.String()+closing)
			b.Reset()
			b.WriteString(head(true))
			rows = 0
		}
		b.WriteString(row)
		rows++
	}
	return append(blocks, b.String()+closing)
}
