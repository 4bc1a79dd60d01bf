package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/report/md"
)

// Diff writes the revision diff, one report per cluster entry: text and
// Markdown one after the other, JSON as one envelope.
func Diff(w io.Writer, format string, reports []*diff.Report, o ChangeOptions) error {
	switch format {
	case "json":
		clusters := make([]diffJSON, 0, len(reports))
		for _, r := range reports {
			clusters = append(clusters, newDiffJSON(r))
		}
		return writeJSON(w, envelope{Verb: "diff", Clusters: clusters})
	case "text", "markdown":
	default:
		return &UnknownFormatError{format, ChangeFormats}
	}
	var b strings.Builder
	for i, r := range reports {
		if format == "text" {
			diffText(&b, r, o)
			continue
		}
		if i > 0 {
			b.WriteString("\n")
		}
		// The blocks DiffParts packs, so its parts concatenate to exactly
		// this.
		for _, bl := range diffBlocks(r, o, md.Room) {
			b.WriteString(bl)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DiffParts is one report's Markdown as parts of at most limit bytes each
// (0: md.CommentLimit), each leaving room for its PartHeader. At the
// default limit the parts concatenate to what Diff writes as Markdown.
func DiffParts(r *diff.Report, limit int, o ChangeOptions) []string {
	return parts(limit, func(b int) []string { return diffBlocks(r, o, b) })
}

// diffJSON is one cluster entry of the revision diff in JSON.
type diffJSON struct {
	Path    string         `json:"path"`
	Failure string         `json:"failure,omitempty"`
	Summary map[string]int `json:"summary"`
	Changes []changeJSON   `json:"changes"`
}

// changeJSON is one changed object in JSON, its origins on one line each.
type changeJSON struct {
	ID         object.ID        `json:"id"`
	APIVersion string           `json:"apiVersion"`
	Action     diff.Action      `json:"action,omitempty"`
	Origin     string           `json:"origin,omitempty"`
	BaseOrigin string           `json:"baseOrigin,omitempty"`
	Fields     []diff.FieldDiff `json:"fields,omitempty"`
	YAML       string           `json:"yaml,omitempty"`
	Notes      []diff.Note      `json:"notes,omitempty"`
}

func newChangeJSON(c diff.Change) changeJSON {
	out := changeJSON{
		ID: c.ID, APIVersion: c.APIVersion, Action: c.Action, Origin: c.Origin.String(),
		Fields: c.Fields, YAML: c.YAML, Notes: c.Notes,
	}
	if c.BaseOrigin != nil {
		out.BaseOrigin = c.BaseOrigin.String()
	}
	return out
}

func newDiffJSON(r *diff.Report) diffJSON {
	a, rm, ch, d := r.Counts()
	out := diffJSON{
		Path: r.Title, Failure: r.Failure,
		Summary: map[string]int{"added": a, "removed": rm, "changed": ch, "danger": d},
		Changes: make([]changeJSON, 0, len(r.Changes)),
	}
	for _, c := range r.Changes {
		out.Changes = append(out.Changes, newChangeJSON(c))
	}
	return out
}

// diffSummary is "1 added, 2 changed, 1 danger note" or "no changes".
func diffSummary(r *diff.Report) string {
	if r.Failure != "" {
		return "failed: " + r.Failure
	}
	a, rm, ch, d := r.Counts()
	if a+rm+ch == 0 {
		return "no changes"
	}
	s := fmt.Sprintf("%d added, %d removed, %d changed", a, rm, ch)
	switch d {
	case 0:
	case 1:
		s += ", 1 danger note"
	default:
		s += fmt.Sprintf(", %d danger notes", d)
	}
	return s
}

var actionSign = map[diff.Action]string{diff.Added: "+", diff.Removed: "-", diff.Changed: "~"}

func diffTitle(r *diff.Report) string {
	if r.Title == "" {
		return "diff"
	}
	return r.Title
}

// diffHeading is a change's first line: sign, object, action and origin.
func diffHeading(c diff.Change) string {
	s := fmt.Sprintf("%s %s %s", actionSign[c.Action], c.ID.Qualified(), c.Action)
	if c.BaseOrigin != nil {
		return s + fmt.Sprintf(" (%s, was %s)", c.Origin, c.BaseOrigin)
	}
	if o := c.Origin.String(); o != "" {
		s += " (" + o + ")"
	}
	return s
}

func diffText(b *strings.Builder, r *diff.Report, o ChangeOptions) {
	p := painter(o.Color)
	fmt.Fprintf(b, "%s: %s\n", p.paint(ansiBold, diffTitle(r)), diffSummary(r))
	for _, c := range r.Changes {
		color := map[diff.Action]string{diff.Added: ansiGreen, diff.Removed: ansiRed, diff.Changed: ansiYellow}[c.Action]
		b.WriteString(p.paint(color, diffHeading(c)) + "\n")
		writeChangeText(b, c, o)
	}
}

// diffBlocks is the report in Markdown as blocks of at most blockLimit
// bytes each (0: no limit): the summary, the notes (danger first), then one
// collapsible <details> per object.
func diffBlocks(r *diff.Report, o ChangeOptions, blockLimit int) []string {
	var b strings.Builder
	if r.Failure != "" {
		f := md.Fence([]string{r.Failure})
		fmt.Fprintf(&b, "### `%s`: no diff, a render failed\n\n%s\n%s\n%s\n", diffTitle(r), f, clip(r.Failure), f)
		return []string{b.String()}
	}
	fmt.Fprintf(&b, "### `%s`: %s\n\n", diffTitle(r), diffSummary(r))
	a, rm, ch, d := r.Counts()
	if a+rm+ch > 0 {
		fmt.Fprintf(&b, "| danger notes | added | removed | changed |\n|---:|---:|---:|---:|\n| %d | %d | %d | %d |\n\n", d, a, rm, ch)
	}
	blocks := []string{b.String()}
	for _, level := range []diff.Level{diff.Danger, diff.Warning} {
		var items []string
		for _, c := range r.Changes {
			for _, n := range c.Notes {
				if n.Level != level {
					continue
				}
				icon := ":warning:"
				if level == diff.Danger {
					icon = ":rotating_light:"
				}
				items = append(items, fmt.Sprintf("- %s **%s** `%s` %s: %s\n", icon, level, c.ID.Qualified(), n.Rule, md.Text(n.Message)))
			}
		}
		blocks = append(blocks, listBlocks(items, blockLimit)...)
	}
	for _, c := range r.Changes {
		summary := fmt.Sprintf("<code>%s %s</code> %s", actionSign[c.Action], md.Text(c.ID.Qualified()), c.Action)
		if c.Danger() {
			summary = ":rotating_light: " + summary
		}
		if origin := c.Origin.String(); origin != "" {
			summary += " — " + md.Text(origin)
		}
		blocks = append(blocks, detailsBlocks(summary, c, false, o, blockLimit)...)
	}
	return blocks
}

// listBlocks packs list items into blocks of at most limit bytes (0: one
// block), each ending in a blank line so the list ends there.
func listBlocks(items []string, limit int) []string {
	var blocks []string
	var b strings.Builder
	for _, it := range items {
		if limit > 0 && b.Len() > 0 && b.Len()+len(it) > limit {
			blocks = append(blocks, b.String())
			b.Reset()
		}
		b.WriteString(it)
	}
	if b.Len() > 0 {
		b.WriteString("\n")
		blocks = append(blocks, b.String())
	}
	return blocks
}
