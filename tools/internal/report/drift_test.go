package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/drift"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/report/md"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sampleReport() *drift.Report {
	apps := render.Origin{Producer: flux.RefTo("Kustomization", "flux-system", "apps"), File: "apps/web.yaml"}
	web := render.Origin{Producer: flux.RefTo("HelmRelease", "apps", "web"), Chart: "web", Template: "web/templates/migrate.yaml"}
	return &drift.Report{
		Cluster: "clusters/test",
		Server:  "https://127.0.0.1:6443",
		Results: []drift.Result{
			{Status: drift.Unchanged, Change: diff.Change{ID: object.ID{Kind: "Namespace", Name: "apps"}, APIVersion: "v1", Origin: apps}},
			{Status: drift.Created, Change: diff.Change{ID: object.ID{Kind: "ConfigMap", Namespace: "apps", Name: "new"}, APIVersion: "v1", Origin: apps, Action: diff.Added}},
			{Status: drift.Drifted, Change: diff.Change{
				ID: object.ID{Group: "apps", Kind: "Deployment", Namespace: "apps", Name: "web"}, APIVersion: "apps/v1", Origin: apps, Action: diff.Changed,
				Fields: []diff.FieldDiff{
					{Path: "spec.replicas", Op: diff.OpChanged, Old: "5", New: "2"},
					{Path: "spec.template.metadata.annotations", Op: diff.OpAdded, New: "team: web\n"},
				},
			}},
			{Status: drift.Drifted, Change: diff.Change{
				ID: object.ID{Kind: "ConfigMap", Namespace: "apps", Name: "web"}, APIVersion: "v1", Origin: apps, Action: diff.Changed,
				Fields: []diff.FieldDiff{{Path: `data."app.yaml"`, Op: diff.OpChanged, Old: "a: 1\nb: 2\nc: 3\n", New: "a: 1\nb: 20\nc: 3\n"}},
			}},
			{Status: drift.Drifted, Change: diff.Change{
				ID: object.ID{Kind: "Secret", Namespace: "apps", Name: "db"}, APIVersion: "v1", Origin: apps, Action: diff.Changed,
				Fields: []diff.FieldDiff{{Path: "data.password", Op: diff.OpChanged, Masked: true}},
			}},
			{Status: drift.Prune, Change: diff.Change{
				ID: object.ID{Kind: "ConfigMap", Namespace: "apps", Name: "old"}, APIVersion: "v1", Origin: apps, Action: diff.Removed,
				Notes: []diff.Note{{Level: diff.Danger, Rule: "prune", Message: "Flux deletes it (garbage collection)"}},
			}},
			{Status: drift.Failed, Change: diff.Change{ID: object.ID{Kind: "Service", Namespace: "apps", Name: "web"}, APIVersion: "v1", Origin: apps}, Reason: "immutable field change, the API server rejects it: spec.clusterIPs[0]: may not change once set"},
			{Status: drift.Skipped, Change: diff.Change{ID: object.ID{Group: "batch", Kind: "Job", Namespace: "apps", Name: "migrate"}, APIVersion: "batch/v1", Origin: web}, Reason: "Helm hook (pre-upgrade): run by Helm, not kept live"},
		},
		Warnings: []string{"Kustomization/flux-system/apps is not live: no inventory to find prune candidates in"},
	}
}

// TestWriteGolden pins the three formats of one report.
func TestWriteGolden(t *testing.T) {
	rep := sampleReport()
	for _, format := range ChangeFormats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Drift(&buf, format, rep, ChangeOptions{}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "drift."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), buf.String()); d != "" {
				t.Errorf("%s (-want +got; go test -update rewrites):\n%s", golden, d)
			}
		})
	}
	if err := Drift(&bytes.Buffer{}, "yaml", rep, ChangeOptions{}); err == nil || !strings.Contains(err.Error(), `unknown format "yaml"`) {
		t.Errorf("format yaml: %v", err)
	}
}

// TestDriftParts: thousands of drifted objects make parts that each fit
// a GitHub comment with its header, start as valid Markdown (a heading, a
// table with its header, or a <details> block) and concatenate to the whole
// Markdown report.
func TestDriftParts(t *testing.T) {
	rep := &drift.Report{Cluster: "clusters/big", Server: "https://x"}
	for i := range 3000 {
		rep.Results = append(rep.Results, drift.Result{Status: drift.Drifted, Change: diff.Change{
			ID: object.ID{Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("cm-%04d", i)}, Action: diff.Changed,
			Fields: []diff.FieldDiff{{Path: "data.key", Op: diff.OpChanged, Old: "a", New: "b"}},
		}})
	}
	var whole bytes.Buffer
	if err := Drift(&whole, "markdown", rep, ChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	parts := DriftParts(rep, 0, ChangeOptions{})
	if len(parts) < 2 {
		t.Fatalf("%d parts for %d bytes", len(parts), whole.Len())
	}
	for i, p := range parts {
		if n := len(PartHeader("diff:live/clusters/big", i+1, len(parts)) + p); n > md.CommentLimit {
			t.Errorf("part %d: %d characters with its header", i+1, n)
		}
		if !strings.HasPrefix(p, "### ") && !strings.HasPrefix(p, "| Status |") && !strings.HasPrefix(p, "<details>") {
			t.Errorf("part %d starts mid-block: %.80q", i+1, p)
		}
	}
	if got := strings.Join(parts, ""); got != whole.String() {
		t.Errorf("the parts do not concatenate to the report (%d and %d bytes)", len(got), whole.Len())
	}
}
