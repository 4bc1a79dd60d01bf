package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/aks-gitops/platform/tools/internal/check"
	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/graph"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// The HTML report is one self-contained page: its style inline, the
// dependency graphs as inline SVG, no script, no font, no image, nothing
// fetched (its Content-Security-Policy forbids any request), so it opens
// from a CI artifact on any machine and reads the same with JavaScript off.
// Every part is a <details> element: collapsible without a script.

//go:embed html/page.html.tmpl
var pageTemplate string

// page is parsed on first use, not at start-up: most runs write no HTML.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageTemplate))
})

// HTMLOptions head an HTML report.
type HTMLOptions struct {
	// Version is the tool's version, in the footer.
	Version string
	// Base and Head say what a diff compared.
	Base, Head string
}

// htmlPage is what the template shows.
type htmlPage struct {
	Verb, Title, Summary, Version string
	Clusters                      []htmlCluster
}

type htmlCluster struct {
	Path, ID, Status, Summary string
	// Graph is the cluster's Kustomization graph as SVG (empty when the
	// render failed).
	Graph template.HTML
	// Layers, for check: every layer, with its findings.
	Layers []htmlLayer
	// Failure, for diff: why there is no comparison.
	Failure string
	Counts  *htmlCounts
	Notes   []htmlNote
	Groups  []htmlGroup
}

type htmlLayer struct {
	Name, ID                  string
	Objects, Errors, Warnings int
	Findings                  []htmlFinding
}

type htmlFinding struct {
	Level, Object, Check, Message, From string
}

type htmlCounts struct{ Added, Removed, Changed, Danger int }

type htmlNote struct {
	Level, Object, Rule, Message, Anchor string
}

// htmlGroup is the changes of one layer.
type htmlGroup struct {
	Layer, ID string
	Changes   []htmlChange
}

type htmlChange struct {
	ID, Sign, Object, Action, Origin string
	Danger                           bool
	Notes                            []htmlNote
	Lines                            []htmlLine
}

type htmlLine struct{ Class, Text string }

var nonAnchor = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// anchor is an id for an element of the page.
func anchor(parts ...string) string {
	return strings.Trim(nonAnchor.ReplaceAllString(strings.Join(parts, "-"), "-"), "-")
}

// CheckHTML writes a check run as an HTML page: per cluster its verdict,
// its dependency graph (layers with errors or warnings marked), the table
// of its layers, and per layer its findings with the file each came from.
// clusters are the renders the run checked, for the graphs.
func CheckHTML(w io.Writer, r *check.Report, clusters []*render.Cluster, o HTMLOptions) error {
	renders := byPath(clusters)
	p := htmlPage{Verb: "check", Title: "tools check", Version: o.Version}
	failed := 0
	for _, c := range r.Clusters {
		hc := htmlCluster{Path: c.Path, ID: anchor("cluster", c.Path), Status: "passed", Summary: counts(c)}
		switch {
		case c.Errors > 0:
			hc.Status = "failed"
			failed++
		case c.Warnings > 0:
			hc.Status = "warnings"
		}
		marks := map[flux.Ref]string{}
		for _, l := range c.Layers {
			hl := htmlLayer{Name: l.Name, ID: anchor(hc.ID, "layer", l.Name), Objects: l.Objects, Errors: l.Errors, Warnings: l.Warnings}
			for _, warning := range []bool{false, true} {
				for _, f := range c.Findings {
					if f.Layer == l.Name && f.Warning == warning {
						hl.Findings = append(hl.Findings, newHTMLFinding(f))
					}
				}
			}
			if ref, ok := layerRef(l.Name); ok {
				switch {
				case l.Errors > 0:
					marks[ref] = "error"
				case l.Warnings > 0:
					marks[ref] = "warning"
				}
			}
			hc.Layers = append(hc.Layers, hl)
		}
		var err error
		if hc.Graph, err = svgOf(renders[c.Path], marks); err != nil {
			return err
		}
		p.Clusters = append(p.Clusters, hc)
	}
	p.Summary = fmt.Sprintf("%s, %d failed", plural(len(r.Clusters), "cluster"), failed)
	return page().Execute(w, p)
}

func newHTMLFinding(f finding.Finding) htmlFinding {
	level := "error"
	if f.Warning {
		level = "warning"
	}
	from := f.Where
	if f.File != "" {
		from = f.File
	}
	return htmlFinding{Level: level, Object: f.Object.Qualified(), Check: checkName(f), Message: f.Message, From: from}
}

// DiffHTML writes the revision diff as an HTML page: per cluster entry the
// counts, the danger notes first (each linked to its change), the head's
// dependency graph (layers with changes marked), then the changes grouped
// by layer, each collapsible, open when it has a danger note. heads are
// the head renders by entry path, for the graphs and layers.
func DiffHTML(w io.Writer, reports []*diff.Report, heads map[string]*render.Cluster, o HTMLOptions, co ChangeOptions) error {
	p := htmlPage{Verb: "diff", Title: "tools diff", Version: o.Version}
	if o.Base != "" || o.Head != "" {
		p.Title = fmt.Sprintf("tools diff: %s → %s", o.Base, o.Head)
	}
	changed := 0
	for _, r := range reports {
		hc := htmlCluster{Path: diffTitle(r), ID: anchor("cluster", diffTitle(r)), Status: "unchanged", Summary: diffSummary(r)}
		if r.Failure != "" {
			hc.Status, hc.Failure = "failed", r.Failure
			p.Clusters = append(p.Clusters, hc)
			continue
		}
		a, rm, ch, d := r.Counts()
		hc.Counts = &htmlCounts{a, rm, ch, d}
		if a+rm+ch > 0 {
			hc.Status = "changed"
			changed++
		}
		if d > 0 {
			hc.Status = "danger"
		}
		head := heads[r.Title]
		var layerOf map[object.ID]string
		if head != nil {
			layerOf = check.LayerOf(head)
		}
		groups := map[string]int{}
		marks := map[flux.Ref]string{}
		for _, c := range r.Changes {
			layer, ok := layerOf[c.ID]
			if !ok {
				layer = check.NoLayer
				if c.Origin.Producer.Kind == flux.KustomizationKind {
					layer = c.Origin.Producer.Namespace + "/" + c.Origin.Producer.Name
				}
			}
			gi, ok := groups[layer]
			if !ok {
				gi = len(hc.Groups)
				groups[layer] = gi
				hc.Groups = append(hc.Groups, htmlGroup{Layer: layer, ID: anchor(hc.ID, "layer", layer)})
			}
			hch := newHTMLChange(c, hc.ID, co)
			g := &hc.Groups[gi]
			g.Changes = append(g.Changes, hch)
			if ref, ok := layerRef(layer); ok && marks[ref] != "danger" {
				marks[ref] = "changed"
				if hch.Danger {
					marks[ref] = "danger"
				}
			}
		}
		for _, level := range []diff.Level{diff.Danger, diff.Warning} {
			for _, g := range hc.Groups {
				for _, c := range g.Changes {
					for _, n := range c.Notes {
						if n.Level == string(level) {
							hc.Notes = append(hc.Notes, n)
						}
					}
				}
			}
		}
		var err error
		if hc.Graph, err = svgOf(head, marks); err != nil {
			return err
		}
		p.Clusters = append(p.Clusters, hc)
	}
	p.Summary = fmt.Sprintf("%s, %d changed", plural(len(reports), "cluster"), changed)
	return page().Execute(w, p)
}

func newHTMLChange(c diff.Change, cluster string, co ChangeOptions) htmlChange {
	hc := htmlChange{
		ID: anchor(cluster, "object", c.ID.String()), Sign: actionSign[c.Action], Object: c.ID.Qualified(),
		Action: string(c.Action), Origin: c.Origin.String(), Danger: c.Danger(),
	}
	if c.BaseOrigin != nil {
		hc.Origin += ", was " + c.BaseOrigin.String()
	}
	for _, n := range c.Notes {
		hc.Notes = append(hc.Notes, htmlNote{Level: string(n.Level), Object: hc.Object, Rule: n.Rule, Message: n.Message, Anchor: hc.ID})
	}
	for _, l := range changeLines(c, false, co) {
		class := map[byte]string{'+': "add", '-': "del"}[l.op]
		hc.Lines = append(hc.Lines, htmlLine{Class: class, Text: l.textLine()})
	}
	return hc
}

// layerRef is the Kustomization a layer name ("namespace/name") stands for.
func layerRef(name string) (flux.Ref, bool) {
	ns, n, ok := strings.Cut(name, "/")
	if !ok {
		return flux.Ref{}, false
	}
	return flux.RefTo(flux.KustomizationKind, ns, n), true
}

// svgOf draws a render's Kustomization graph, nodes marked with classes;
// nothing for no render.
func svgOf(c *render.Cluster, marks map[flux.Ref]string) (template.HTML, error) {
	if c == nil {
		return "", nil
	}
	var b strings.Builder
	if err := graph.Build(c, false).SVG(&b, marks); err != nil {
		return "", err
	}
	// The SVG escapes every text it holds (graph.SVG).
	return template.HTML(b.String()), nil //nolint:gosec // built by graph.SVG, which escapes every text
}

func byPath(clusters []*render.Cluster) map[string]*render.Cluster {
	out := make(map[string]*render.Cluster, len(clusters))
	for _, c := range clusters {
		out[c.Path] = c
	}
	return out
}
