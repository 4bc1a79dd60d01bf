package graph

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/flux"
)

func ks(name string) flux.Ref { return flux.RefTo(flux.KustomizationKind, "flux-system", name) }

// svgBoxes parses an SVG drawing: the x of each node's box by its title,
// and whether the document is well-formed XML.
func svgBoxes(t *testing.T, svg string) map[string]float64 {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
	}
	out := map[string]float64{}
	re := regexp.MustCompile(`<g class="[^"]*"><title>([^<]*)</title><rect x="([0-9.]+)"`)
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		x, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		out[m[1]] = x
	}
	return out
}

// TestSVG: every dependency stands left of what waits for it, marks become
// classes, text is escaped, a cycle is still drawn, and the drawing is the
// same on every run.
func TestSVG(t *testing.T) {
	g := Graph{
		Cluster: "clusters/<test>",
		Nodes: []Node{
			{Ref: ks("apps"), Detail: "./apps"},
			{Ref: ks("flux-system")},
			{Ref: ks("infra"), Detail: "./infra & <co>"},
			{Ref: ks("policies")},
		},
		Edges: []Edge{
			{From: ks("flux-system"), To: ks("apps"), Kind: Applies},
			{From: ks("flux-system"), To: ks("infra"), Kind: Applies},
			{From: ks("flux-system"), To: ks("policies"), Kind: Applies},
			{From: ks("infra"), To: ks("apps"), Kind: DependsOn},
			{From: ks("policies"), To: ks("infra"), Kind: DependsOn},
		},
	}
	var b strings.Builder
	if err := g.SVG(&b, map[flux.Ref]string{ks("infra"): "error"}); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	x := svgBoxes(t, svg)
	if len(x) != 4 {
		t.Fatalf("%d nodes drawn, want 4:\n%s", len(x), svg)
	}
	name := func(n string) string { return ks(n).String() }
	if !(x[name("flux-system")] < x[name("policies")] && x[name("policies")] < x[name("infra")] && x[name("infra")] < x[name("apps")]) {
		t.Errorf("columns %v: want flux-system, policies, infra, apps from left to right", x)
	}
	for _, want := range []string{`class="node ks error"`, `./infra &amp; &lt;co&gt;`, `clusters/&lt;test&gt;`, `class="edge applies"`, `class="edge dependsOn"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %s in\n%s", want, svg)
		}
	}
	if n := strings.Count(svg, "<path class=\"edge"); n != 5 {
		t.Errorf("%d edges drawn, want 5", n)
	}
	var again strings.Builder
	if err := g.SVG(&again, map[flux.Ref]string{ks("infra"): "error"}); err != nil || again.String() != svg {
		t.Error("a second drawing differs")
	}

	// A dependency cycle (bad input) is drawn all the same.
	g.Edges = append(g.Edges, Edge{From: ks("apps"), To: ks("policies"), Kind: DependsOn})
	b.Reset()
	if err := g.SVG(&b, nil); err != nil {
		t.Fatal(err)
	}
	if x := svgBoxes(t, b.String()); len(x) != 4 {
		t.Errorf("a cycle: %d nodes drawn, want 4", len(x))
	}
}
