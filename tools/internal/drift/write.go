package drift

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/report/md"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// Formats are the output formats Write accepts.
var Formats = []string{"text", "json", "markdown"}

// CheckFormat fails on a format Write does not know.
func CheckFormat(format string) error {
	for _, f := range Formats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// WriteOptions tune the human formats.
type WriteOptions struct {
	// Color marks removed and added values red and green (text only).
	Color bool
	// Unchanged lists unchanged objects too (text and markdown; JSON
	// always has them).
	Unchanged bool
}

// Write writes the report: text for a terminal, json for machines (every
// result, unchanged ones too), markdown for a pull request comment.
func (r *Report) Write(w io.Writer, format string, opts WriteOptions) error {
	bw := bufio.NewWriter(w)
	switch format {
	case "text":
		r.writeText(bw, opts)
	case "markdown":
		r.writeMarkdown(bw, opts)
	case "json":
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		out := struct {
			*Report
			Summary map[Status]int `json:"summary"`
			Drifted bool           `json:"drifted"`
		}{r, r.Counts(), r.Drifted()}
		if out.Results == nil {
			out.Results = []Result{}
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	default:
		return CheckFormat(format)
	}
	return bw.Flush()
}

// Summary is the one-line count of results, in report order.
func (r *Report) Summary() string {
	counts := r.Counts()
	parts := make([]string, 0, len(statuses))
	for _, s := range statuses {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	return strings.Join(parts, ", ")
}

func (r *Report) shown(opts WriteOptions) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status != Unchanged || opts.Unchanged {
			out = append(out, res)
		}
	}
	return out
}

const (
	red   = "\033[31m"
	green = "\033[32m"
	reset = "\033[0m"
)

func (r *Report) writeText(w *bufio.Writer, opts WriteOptions) {
	paint := func(color, s string) string {
		if !opts.Color {
			return s
		}
		return color + s + reset
	}
	fmt.Fprintf(w, "%s: live diff against %s\n", r.Cluster, r.Server)
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	for _, res := range r.shown(opts) {
		fmt.Fprintf(w, "%-9s %s", res.Status, res.ID.Qualified())
		if res.Producer != "" {
			fmt.Fprintf(w, " (%s)", res.Producer)
		}
		if res.Reason != "" {
			fmt.Fprintf(w, ": %s", res.Reason)
		}
		fmt.Fprintln(w)
		for _, n := range res.Notes {
			fmt.Fprintf(w, "    %s %s: %s\n", n.Level, n.Rule, n.Message)
		}
		for _, f := range res.Fields {
			writeField(w, f, "    ", func(s string) string { return paint(red, s) }, func(s string) string { return paint(green, s) })
		}
	}
	fmt.Fprintf(w, "%s: %s\n", r.Cluster, r.Summary())
}

// writeField writes one field difference: a scalar on one line, a block
// value or multi-line string as -/+ lines.
func writeField(w *bufio.Writer, f diff.FieldDiff, indent string, del, add func(string) string) {
	switch {
	case f.Masked:
		fmt.Fprintf(w, "%s%s: %s (%s)\n", indent, f.Path, secrets.Mask, f.Op)
	case f.Multiline():
		fmt.Fprintf(w, "%s%s: %s\n", indent, f.Path, f.Op)
		for _, l := range lines(f.Old) {
			fmt.Fprintf(w, "%s  %s\n", indent, del("- "+l))
		}
		for _, l := range lines(f.New) {
			fmt.Fprintf(w, "%s  %s\n", indent, add("+ "+l))
		}
	case f.Op == diff.OpAdded:
		fmt.Fprintf(w, "%s%s: %s\n", indent, f.Path, add("+ "+f.New))
	case f.Op == diff.OpRemoved:
		fmt.Fprintf(w, "%s%s: %s\n", indent, f.Path, del("- "+f.Old))
	default:
		fmt.Fprintf(w, "%s%s: %s -> %s\n", indent, f.Path, del(f.Old), add(f.New))
	}
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func (r *Report) writeMarkdown(w *bufio.Writer, opts WriteOptions) {
	var b strings.Builder
	fmt.Fprintf(&b, "### Live diff of `%s`\n\n", r.Cluster)
	fmt.Fprintf(&b, "Against `%s`: %s.\n\n", r.Server, r.Summary())
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "> **Warning:** %s\n\n", md.Cell(warn))
	}
	shown := r.shown(opts)
	if len(shown) == 0 {
		b.WriteString("In sync.\n")
		_, _ = w.WriteString(b.String())
		return
	}
	// The table first, then the details while they fit; the table alone is
	// clipped the same way.
	blocks := []string{"| Status | Object | Applied by | Why |\n|---|---|---|---|\n"}
	for _, res := range shown {
		blocks = append(blocks, fmt.Sprintf("| %s | `%s` | %s | %s |\n", res.Status, res.ID.Qualified(), md.Cell(res.Producer), md.Cell(res.Reason)))
	}
	for _, res := range shown {
		if len(res.Fields) == 0 && len(res.Notes) == 0 {
			continue
		}
		var d strings.Builder
		fmt.Fprintf(&d, "\n<details><summary>%s <code>%s</code></summary>\n\n", res.Status, res.ID.Qualified())
		for _, n := range res.Notes {
			fmt.Fprintf(&d, "- **%s** %s: %s\n", n.Level, n.Rule, md.Cell(n.Message))
		}
		if len(res.Fields) > 0 {
			if len(res.Notes) > 0 {
				d.WriteString("\n")
			}
			d.WriteString("```diff\n")
			for _, f := range res.Fields {
				writeMarkdownField(&d, f)
			}
			d.WriteString("```\n")
		}
		d.WriteString("\n</details>\n")
		blocks = append(blocks, d.String())
	}
	for i, blk := range blocks {
		if b.Len()+len(blk) > md.Room {
			fmt.Fprintf(&b, "\n_… clipped to fit a comment: %d more parts; see `tools diff --live --format text`._\n", len(blocks)-i)
			break
		}
		b.WriteString(blk)
	}
	_, _ = w.WriteString(b.String())
}

// writeMarkdownField writes one field difference as diff lines: GitHub
// colours the live value red and the applied one green.
func writeMarkdownField(b *strings.Builder, f diff.FieldDiff) {
	side := func(sign, v string) {
		ls := lines(v)
		if len(ls) == 1 && !strings.HasSuffix(v, "\n") {
			fmt.Fprintf(b, "%s %s: %s\n", sign, f.Path, ls[0])
			return
		}
		fmt.Fprintf(b, "%s %s:\n", sign, f.Path)
		for _, l := range ls {
			fmt.Fprintf(b, "%s   %s\n", sign, l)
		}
	}
	switch {
	case f.Masked:
		fmt.Fprintf(b, "  %s: %s (%s)\n", f.Path, secrets.Mask, f.Op)
	case f.Op == diff.OpAdded:
		side("+", f.New)
	case f.Op == diff.OpRemoved:
		side("-", f.Old)
	default:
		side("-", f.Old)
		side("+", f.New)
	}
}
