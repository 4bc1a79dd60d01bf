package report

import (
	"strings"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/check"
	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/object"
)

// TestHTMLEscapes: what a repository puts in a report (a message, a file
// name, a failure) is text on the page, never markup; a masked Secret
// value stays masked. (The page in a browser: TestHTMLReportsInChromium.)
func TestHTMLEscapes(t *testing.T) {
	hostile := `<script>alert("x")</script><img src=https://example.com/x>`
	r := &check.Report{Clusters: []check.Cluster{{
		Path: "clusters/<b>", Errors: 1, Objects: 1,
		Layers: []check.Layer{{Name: "flux-system/apps", Objects: 1, Errors: 1}},
		Findings: []finding.Finding{{
			Cluster: "clusters/<b>", Object: object.ID{Kind: "ConfigMap", Namespace: "a", Name: "b"},
			Check: "schema", Message: hostile, File: "apps/<i>.yaml", Layer: "flux-system/apps",
		}},
	}}}
	var b strings.Builder
	if err := CheckHTML(&b, r, nil, HTMLOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") || strings.Contains(page, "<img") || strings.Contains(page, "<i>") || strings.Contains(page, "<b>") {
		t.Errorf("markup from the input reached the page:\n%s", page)
	}
	for _, want := range []string{"&lt;script&gt;", "apps/&lt;i&gt;.yaml", `class="layer" open`} {
		if !strings.Contains(page, want) {
			t.Errorf("no %s in the page", want)
		}
	}

	reports := []*diff.Report{
		{Title: "clusters/failed", Failure: "head: " + hostile},
		{Title: "clusters/secret", Changes: []diff.Change{{
			ID: object.ID{Kind: "Secret", Namespace: "a", Name: "s"}, Action: diff.Changed,
			Fields: []diff.FieldDiff{{Path: "data.password", Op: diff.OpChanged, Masked: true}},
		}}},
	}
	b.Reset()
	if err := DiffHTML(&b, reports, nil, HTMLOptions{Base: "main", Head: "working tree"}, ChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	page = b.String()
	if strings.Contains(page, "<script") || strings.Contains(page, "<img") {
		t.Errorf("markup from a failure reached the page:\n%s", page)
	}
	for _, want := range []string{`data-section="failure"`, "data.password: (secret value changed, not shown)", "2 clusters, 1 changed"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %s in the page:\n%s", want, page)
		}
	}
}
