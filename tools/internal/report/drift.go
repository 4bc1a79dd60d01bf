package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/drift"
	"github.com/aks-gitops/platform/tools/internal/report/md"
)

// Drift writes the live diff of one cluster entry: text for a terminal,
// JSON for machines (every result, unchanged ones too), Markdown for a
// pull-request comment (DriftParts splits it into comments).
func Drift(w io.Writer, format string, r *drift.Report, o ChangeOptions) error {
	var b strings.Builder
	switch format {
	case "text":
		driftText(&b, r, o)
	case "markdown":
		for _, bl := range driftBlocks(r, o, md.Room) {
			b.WriteString(bl)
		}
	case "json":
		return writeJSON(w, envelope{Verb: "diff --live", Clusters: []driftJSON{newDriftJSON(r)}})
	default:
		return &UnknownFormatError{format, ChangeFormats}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DriftParts is the Markdown of the live diff as parts of at most limit
// bytes each (0: md.CommentLimit), like DiffParts.
func DriftParts(r *drift.Report, limit int, o ChangeOptions) []string {
	return parts(limit, func(b int) []string { return driftBlocks(r, o, b) })
}

// driftJSON is the live diff of one cluster entry in JSON.
type driftJSON struct {
	Path     string               `json:"path"`
	Server   string               `json:"server"`
	Drifted  bool                 `json:"drifted"`
	Summary  map[drift.Status]int `json:"summary"`
	Warnings []string             `json:"warnings,omitempty"`
	Results  []resultJSON         `json:"results"`
}

// resultJSON is one object of the live diff: its status, the change as the
// revision diff has it, and why it was skipped or failed.
type resultJSON struct {
	Status drift.Status `json:"status"`
	changeJSON
	Reason string `json:"reason,omitempty"`
}

func newDriftJSON(r *drift.Report) driftJSON {
	out := driftJSON{
		Path: r.Cluster, Server: r.Server, Drifted: r.Drifted(), Summary: r.Counts(), Warnings: r.Warnings,
		Results: make([]resultJSON, 0, len(r.Results)),
	}
	for _, res := range r.Results {
		out.Results = append(out.Results, resultJSON{Status: res.Status, changeJSON: newChangeJSON(res.Change), Reason: res.Reason})
	}
	return out
}

// driftSummary is the one-line count of results, in report order.
func driftSummary(r *drift.Report) string {
	counts := r.Counts()
	parts := make([]string, 0, len(drift.Statuses))
	for _, s := range drift.Statuses {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	return strings.Join(parts, ", ")
}

func shown(r *drift.Report, o ChangeOptions) []drift.Result {
	var out []drift.Result
	for _, res := range r.Results {
		if res.Status != drift.Unchanged || o.Unchanged {
			out = append(out, res)
		}
	}
	return out
}

var statusColor = map[drift.Status]string{drift.Created: ansiGreen, drift.Drifted: ansiYellow, drift.Prune: ansiRed, drift.Failed: ansiBold + ansiRed}

func driftText(b *strings.Builder, r *drift.Report, o ChangeOptions) {
	p := painter(o.Color)
	fmt.Fprintf(b, "%s: live diff against %s\n", p.paint(ansiBold, r.Cluster), r.Server)
	for _, warn := range r.Warnings {
		fmt.Fprintf(b, "warning: %s\n", warn)
	}
	for _, res := range shown(r, o) {
		head := fmt.Sprintf("%-9s %s", res.Status, res.ID.Qualified())
		if origin := res.Origin.String(); origin != "" {
			head += " (" + origin + ")"
		}
		if res.Reason != "" {
			head += ": " + res.Reason
		}
		b.WriteString(p.paint(statusColor[res.Status], head) + "\n")
		writeChangeText(b, res.Change, o)
	}
	fmt.Fprintf(b, "%s: %s\n", r.Cluster, driftSummary(r))
}

// driftBlocks is the live diff in Markdown as blocks of at most blockLimit
// bytes each: the summary and warnings, the table of results (split into
// tables of their own, each with the header), then one collapsible <details> per result with
// notes or fields.
func driftBlocks(r *drift.Report, o ChangeOptions, blockLimit int) []string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Live diff of `%s`\n\n", r.Cluster)
	fmt.Fprintf(&b, "Against `%s`: %s.\n\n", r.Server, driftSummary(r))
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "> **Warning:** %s\n\n", md.Cell(warn))
	}
	results := shown(r, o)
	if len(results) == 0 {
		b.WriteString("In sync.\n")
		return []string{b.String()}
	}
	blocks := []string{b.String()}
	const header = "| Status | Object | Applied by | Why |\n|---|---|---|---|\n"
	rows := make([]string, 0, len(results))
	for _, res := range results {
		rows = append(rows, fmt.Sprintf("| %s | `%s` | %s | %s |\n", res.Status, res.ID.Qualified(), md.Cell(res.Origin.String()), md.Cell(res.Reason)))
	}
	var table strings.Builder
	for _, row := range rows {
		if blockLimit > 0 && table.Len() > 0 && table.Len()+len(row)+1 > blockLimit {
			blocks = append(blocks, table.String()+"\n")
			table.Reset()
		}
		if table.Len() == 0 {
			table.WriteString(header)
		}
		table.WriteString(row)
	}
	blocks = append(blocks, table.String()+"\n")
	for _, res := range results {
		if len(res.Fields) == 0 && len(res.Notes) == 0 {
			continue
		}
		summary := fmt.Sprintf("%s <code>%s</code>", res.Status, md.Text(res.ID.Qualified()))
		blocks = append(blocks, detailsBlocks(summary, res.Change, true, o, blockLimit)...)
	}
	return blocks
}
