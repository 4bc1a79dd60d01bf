// Package graph draws the Flux objects of a rendered cluster entry: each
// Kustomization (and, on request, each HelmRelease) is a node; an edge runs
// from each dependency to what depends on it (spec.dependsOn: the order
// Flux reconciles in) and, dashed, from each Kustomization to the Flux
// objects it applies. Written as Mermaid (for Markdown) or Graphviz DOT.
package graph

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// Node is one Flux object.
type Node struct {
	Ref flux.Ref
	// Detail is the Kustomization's path or the HelmRelease's chart.
	Detail string
}

// Edge kinds.
const (
	DependsOn = "dependsOn" // From must be ready before To
	Applies   = "applies"   // From applies To
)

// Edge joins two nodes.
type Edge struct {
	From, To flux.Ref
	Kind     string
}

// Graph is the drawing of one cluster entry.
type Graph struct {
	Cluster string
	Nodes   []Node
	Edges   []Edge
}

// Build returns the graph of a rendered cluster entry, nodes and edges
// sorted; releases adds the HelmReleases.
func Build(c *render.Cluster, releases bool) Graph {
	g := Graph{Cluster: c.Path}
	nodes := map[flux.Ref]Node{}
	var edges []Edge
	for _, o := range c.Objects() {
		u := o.Object
		gvk := u.GroupVersionKind()
		ref := flux.RefOf(u)
		var detail string
		switch {
		case gvk.Kind == flux.KustomizationKind && flux.IsFlux(u):
			detail, _, _ = unstructured.NestedString(u.Object, "spec", "path")
		case gvk.Kind == flux.HelmReleaseKind && flux.IsFlux(u) && releases:
			chart, _, _ := unstructured.NestedString(u.Object, "spec", "chart", "spec", "chart")
			version, _, _ := unstructured.NestedString(u.Object, "spec", "chart", "spec", "version")
			detail = strings.TrimSpace(chart + " " + version)
		default:
			continue
		}
		nodes[ref] = Node{Ref: ref, Detail: detail}
		if p := o.Origin.Producer; p.Kind == flux.KustomizationKind && p != ref {
			edges = append(edges, Edge{From: p, To: ref, Kind: Applies})
			if _, ok := nodes[p]; !ok {
				nodes[p] = Node{Ref: p}
			}
		}
		deps, _, _ := unstructured.NestedSlice(u.Object, "spec", "dependsOn")
		for _, d := range deps {
			m, _ := d.(map[string]any)
			name, _ := m["name"].(string)
			ns, _ := m["namespace"].(string)
			if ns == "" {
				ns = u.GetNamespace()
			}
			edges = append(edges, Edge{From: flux.RefTo(gvk.Kind, ns, name), To: ref, Kind: DependsOn})
		}
	}
	// The entry's own Kustomization, known only as a producer, keeps the
	// details it has; a dependency that is not rendered is drawn all the same.
	for _, e := range edges {
		if _, ok := nodes[e.From]; !ok {
			nodes[e.From] = Node{Ref: e.From}
		}
	}
	for _, n := range nodes {
		g.Nodes = append(g.Nodes, n)
	}
	slices.SortFunc(g.Nodes, func(a, b Node) int { return object.Compare(a.Ref, b.Ref) })
	slices.SortFunc(edges, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), object.Compare(a.From, b.From), object.Compare(a.To, b.To))
	})
	g.Edges = slices.Compact(edges)
	return g
}

var nonID = regexp.MustCompile(`[^A-Za-z0-9]+`)

// id is a node's identifier in Mermaid.
func id(r flux.Ref) string {
	kind := "ks"
	if r.Kind == flux.HelmReleaseKind {
		kind = "hr"
	}
	return kind + "_" + nonID.ReplaceAllString(r.Namespace+"_"+r.Name, "_")
}

// label is what a node shows: its name (namespace/name for objects outside
// flux-system), then its detail.
func label(n Node) string {
	name := n.Ref.Name
	if n.Ref.Namespace != "flux-system" {
		name = n.Ref.Namespace + "/" + name
	}
	if n.Ref.Kind == flux.HelmReleaseKind {
		name = "HelmRelease " + name
	}
	if n.Detail == "" {
		return name
	}
	return name + "\n" + n.Detail
}

// Mermaid writes the graph as a Mermaid flowchart, left to right.
func (g Graph) Mermaid(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%%%% %s\nflowchart LR\n", g.Cluster)
	for _, n := range g.Nodes {
		shape := `["%s"]`
		if n.Ref.Kind == flux.HelmReleaseKind {
			shape = `(["%s"])`
		}
		text := strings.ReplaceAll(strings.ReplaceAll(label(n), `"`, "#quot;"), "\n", "<br/>")
		fmt.Fprintf(&b, "  %s"+shape+"\n", id(n.Ref), text)
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Kind == Applies {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", id(e.From), arrow, id(e.To))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DOT writes the graph in Graphviz's DOT language, left to right.
func (g Graph) DOT(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  rankdir=LR;\n  node [shape=box];\n", g.Cluster)
	for _, n := range g.Nodes {
		attrs := fmt.Sprintf("label=%q", label(n))
		if n.Ref.Kind == flux.HelmReleaseKind {
			attrs += ", style=rounded"
		}
		fmt.Fprintf(&b, "  %q [%s];\n", n.Ref.String(), attrs)
	}
	for _, e := range g.Edges {
		style := ""
		if e.Kind == Applies {
			style = " [style=dashed]"
		}
		fmt.Fprintf(&b, "  %q -> %q%s;\n", e.From.String(), e.To.String(), style)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
