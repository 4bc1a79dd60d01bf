package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/check"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/report/md"
)

// TestCheckParts: a check run with thousands of findings makes parts that
// each fit a comment with its header, start as valid Markdown (a cluster's
// heading or a findings table of its own) and concatenate to the whole
// Markdown report.
func TestCheckParts(t *testing.T) {
	r := &check.Report{}
	for _, path := range []string{"clusters/production", "clusters/staging"} {
		c := check.Cluster{Path: path, Layers: []check.Layer{{Name: "flux-system/apps", Objects: 3000}}}
		for i := range 3000 {
			c.Findings = append(c.Findings, finding.Finding{
				Cluster: path, Object: object.ID{Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("cm-%04d", i)},
				Check: "schema", Message: "unknown field \"spec\" | with a pipe", Warning: i%2 == 1, File: "apps/cm.yaml",
			})
		}
		c.Errors, c.Warnings, c.Objects = 1500, 1500, 3000
		r.Clusters = append(r.Clusters, c)
	}
	var whole bytes.Buffer
	if err := Check(&whole, "markdown", CheckOptions{Verb: "check", Layers: true}, r); err != nil {
		t.Fatal(err)
	}
	parts := CheckParts(r, 0)
	if len(parts) < 4 {
		t.Fatalf("%d parts for %d bytes", len(parts), whole.Len())
	}
	for i, p := range parts {
		if n := len(PartHeader("check", i+1, len(parts)) + p); n > md.CommentLimit {
			t.Errorf("part %d: %d characters with its header", i+1, n)
		}
		start := strings.TrimPrefix(p, "\n")
		if !strings.HasPrefix(start, "#### ") && !strings.HasPrefix(start, "<details open><summary>3000 findings") {
			t.Errorf("part %d starts mid-block: %.80q", i+1, p)
		}
		if strings.Count(p, "<details") != strings.Count(p, "</details>") {
			t.Errorf("part %d leaves a <details> open", i+1)
		}
	}
	if got := strings.Join(parts, ""); got != whole.String() {
		t.Errorf("the parts do not concatenate to the report (%d and %d bytes)", len(got), whole.Len())
	}
	if !strings.Contains(whole.String(), `unknown field "spec" \| with a pipe`) {
		t.Error("a pipe in a message is not escaped in its table cell")
	}
}
