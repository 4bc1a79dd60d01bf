package graph

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/flux"
)

// SVG layout, in pixels: a monospace label's character width and line
// height, a node's padding, the gaps between columns and between rows.
const (
	charWidth  = 7.3
	lineHeight = 16
	padX       = 10
	padY       = 8
	colGap     = 56
	rowGap     = 14
	margin     = 8
)

// box is a laid-out node.
type box struct {
	node       Node
	lines      []string
	x, y, w, h float64
	rank       int
}

// SVG writes the graph as one self-contained SVG element, left to right
// like the Mermaid and DOT drawings: a node's column is the longest chain
// of edges leading to it, so every dependency stands left of what waits
// for it. classes gives a node extra CSS classes (for example "error" or
// "changed"), which the element's own style colours; each node carries a
// <title> with its full reference, a tooltip in a browser. The drawing
// needs no script and no font beyond the browser's monospace.
func (g Graph) SVG(w io.Writer, classes map[flux.Ref]string) error {
	boxes, width, height := g.layout()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" viewBox="0 0 %s %s" width="%s" height="%s">`+"\n",
		num(width), num(height), num(width), num(height))
	fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString("Flux dependency graph of "+g.Cluster))
	marker := "arrow-" + nonID.ReplaceAllString(g.Cluster, "-")
	fmt.Fprintf(&b, `<style>
.graph .node rect{fill:#f6f8fa;stroke:#57606a;stroke-width:1}
.graph .node.hr rect{fill:#fff}
.graph .node.error rect{fill:#ffebe9;stroke:#cf222e;stroke-width:2}
.graph .node.warning rect{fill:#fff8c5;stroke:#9a6700;stroke-width:2}
.graph .node.changed rect{fill:#ddf4ff;stroke:#0969da;stroke-width:2}
.graph .node.danger rect{fill:#ffebe9;stroke:#cf222e;stroke-width:2}
.graph text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;fill:#1f2328}
.graph text .detail{fill:#57606a}
.graph .edge{fill:none;stroke:#57606a;stroke-width:1.2}
.graph .edge.applies{stroke-dasharray:4 3;stroke:#8c959f}
.graph marker path{fill:#57606a}
</style>
<defs><marker id="%s" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>
`, marker)
	at := make(map[flux.Ref]*box, len(boxes))
	for i := range boxes {
		at[boxes[i].node.Ref] = &boxes[i]
	}
	for _, e := range g.Edges {
		from, to := at[e.From], at[e.To]
		x1, y1 := from.x+from.w, from.y+from.h/2
		x2, y2 := to.x, to.y+to.h/2
		if to.rank <= from.rank {
			// A cycle (bad input): leave the bottom, come in from below.
			x1, y1 = from.x+from.w/2, from.y+from.h
			x2, y2 = to.x+to.w/2, to.y+to.h
		}
		bend := max((x2-x1)/2, colGap/2)
		fmt.Fprintf(&b, `<path class="edge %s" d="M%s,%s C%s,%s %s,%s %s,%s" marker-end="url(#%s)"/>`+"\n",
			e.Kind, num(x1), num(y1), num(x1+bend), num(y1), num(x2-bend), num(y2), num(x2), num(y2), marker)
	}
	for _, bx := range boxes {
		class := "node ks"
		if bx.node.Ref.Kind == flux.HelmReleaseKind {
			class = "node hr"
		}
		if extra := classes[bx.node.Ref]; extra != "" {
			class += " " + extra
		}
		rx := 3
		if bx.node.Ref.Kind == flux.HelmReleaseKind {
			rx = 12
		}
		fmt.Fprintf(&b, `<g class="%s"><title>%s</title>`, html.EscapeString(class), html.EscapeString(bx.node.Ref.String()))
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" rx="%d"/>`, num(bx.x), num(bx.y), num(bx.w), num(bx.h), rx)
		for i, l := range bx.lines {
			attr := ""
			if i > 0 {
				attr = ` class="detail"`
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s"><tspan%s>%s</tspan></text>`,
				num(bx.x+padX), num(bx.y+padY+float64(i+1)*lineHeight-4), attr, html.EscapeString(l))
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// num writes a coordinate with at most one decimal.
func num(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}

// layout places every node: its column (rank) the longest chain of edges
// leading to it, its row by the average row of what leads to it (fewer
// crossings), then by reference; it returns the boxes in node order and
// the drawing's size.
func (g Graph) layout() ([]box, float64, float64) {
	index := make(map[flux.Ref]int, len(g.Nodes))
	boxes := make([]box, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n.Ref] = i
		lines := strings.Split(label(n), "\n")
		width := 0
		for _, l := range lines {
			width = max(width, len([]rune(l)))
		}
		boxes[i] = box{node: n, lines: lines, w: float64(width)*charWidth + 2*padX, h: float64(len(lines))*lineHeight + 2*padY}
	}
	preds := make([][]int, len(g.Nodes))
	indegree := make([]int, len(g.Nodes))
	succs := make([][]int, len(g.Nodes))
	for _, e := range g.Edges {
		f, t := index[e.From], index[e.To]
		if f == t {
			continue
		}
		preds[t] = append(preds[t], f)
		succs[f] = append(succs[f], t)
		indegree[t]++
	}
	// Kahn's order gives each node the longest path to it; the nodes of a
	// cycle never come free and go one column right of all the others.
	var queue []int
	for i, d := range indegree {
		if d == 0 {
			queue = append(queue, i)
		}
	}
	done := make([]bool, len(g.Nodes))
	maxRank := 0
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		done[n] = true
		maxRank = max(maxRank, boxes[n].rank)
		for _, s := range succs[n] {
			boxes[s].rank = max(boxes[s].rank, boxes[n].rank+1)
			if indegree[s]--; indegree[s] == 0 {
				queue = append(queue, s)
			}
		}
	}
	for i := range boxes {
		if !done[i] {
			boxes[i].rank = maxRank + 1
		}
	}
	columns := map[int][]int{}
	var ranks []int
	for i, bx := range boxes {
		if _, ok := columns[bx.rank]; !ok {
			ranks = append(ranks, bx.rank)
		}
		columns[bx.rank] = append(columns[bx.rank], i)
	}
	slices.Sort(ranks)
	x := float64(margin)
	height := 0.0
	for _, r := range ranks {
		col := columns[r]
		weight := func(i int) float64 {
			if len(preds[i]) == 0 {
				return -1
			}
			sum := 0.0
			for _, p := range preds[i] {
				sum += boxes[p].y + boxes[p].h/2
			}
			return sum / float64(len(preds[i]))
		}
		slices.SortStableFunc(col, func(a, b int) int { return cmp.Compare(weight(a), weight(b)) })
		y := float64(margin)
		width := 0.0
		for _, i := range col {
			boxes[i].x, boxes[i].y = x, y
			y += boxes[i].h + rowGap
			width = max(width, boxes[i].w)
		}
		height = max(height, y-rowGap+margin)
		x += width + colGap
	}
	return boxes, x - colGap + margin, height
}
