package drift

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
	"github.com/aks-gitops/platform/tools/internal/object"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sampleReport() *Report {
	return &Report{
		Cluster: "clusters/test",
		Server:  "https://127.0.0.1:6443",
		Results: []Result{
			{ID: object.ID{Kind: "Namespace", Name: "apps"}, APIVersion: "v1", Status: Unchanged, Producer: "Kustomization/flux-system/apps"},
			{ID: object.ID{Kind: "ConfigMap", Namespace: "apps", Name: "new"}, APIVersion: "v1", Status: Created, Producer: "Kustomization/flux-system/apps"},
			{
				ID: object.ID{Group: "apps", Kind: "Deployment", Namespace: "apps", Name: "web"}, APIVersion: "apps/v1", Status: Drifted, Producer: "Kustomization/flux-system/apps",
				Fields: []diff.FieldDiff{
					{Path: "spec.replicas", Op: diff.OpChanged, Old: "5", New: "2"},
					{Path: "spec.template.metadata.annotations", Op: diff.OpAdded, New: "team: web\n"},
				},
			},
			{
				ID: object.ID{Kind: "Secret", Namespace: "apps", Name: "db"}, APIVersion: "v1", Status: Drifted, Producer: "Kustomization/flux-system/apps",
				Fields: []diff.FieldDiff{{Path: "data.password", Op: diff.OpChanged, Masked: true}},
			},
			{
				ID: object.ID{Kind: "ConfigMap", Namespace: "apps", Name: "old"}, APIVersion: "v1", Status: Prune, Producer: "Kustomization/flux-system/apps",
				Notes: []diff.Note{{Level: diff.Danger, Rule: "prune", Message: "Flux deletes it (garbage collection)"}},
			},
			{
				ID: object.ID{Kind: "Service", Namespace: "apps", Name: "web"}, APIVersion: "v1", Status: Failed, Producer: "Kustomization/flux-system/apps",
				Reason: "immutable field change, the API server rejects it: spec.clusterIPs[0]: may not change once set",
			},
			{
				ID: object.ID{Group: "batch", Kind: "Job", Namespace: "apps", Name: "migrate"}, APIVersion: "batch/v1", Status: Skipped, Producer: "HelmRelease/apps/web",
				Reason: "Helm hook (pre-upgrade): run by Helm, not kept live",
			},
		},
		Warnings: []string{"Kustomization/flux-system/apps is not live: no inventory to find prune candidates in"},
	}
}

// TestWriteGolden pins the three formats of one report.
func TestWriteGolden(t *testing.T) {
	rep := sampleReport()
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := rep.Write(&buf, format, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "report."+format+".golden")
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
	if err := rep.Write(&bytes.Buffer{}, "yaml", WriteOptions{}); err == nil || !strings.Contains(err.Error(), `unknown format "yaml"`) {
		t.Errorf("format yaml: %v", err)
	}
}

// TestWriteMarkdownFitsAComment: thousands of drifted objects still make
// one GitHub comment, saying it was clipped.
func TestWriteMarkdownFitsAComment(t *testing.T) {
	rep := &Report{Cluster: "clusters/big", Server: "https://x"}
	for i := range 3000 {
		rep.Results = append(rep.Results, Result{
			ID: object.ID{Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("cm-%04d", i)}, Status: Drifted,
			Fields: []diff.FieldDiff{{Path: "data.key", Op: diff.OpChanged, Old: "a", New: "b"}},
		})
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, "markdown", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 65536 || !strings.Contains(buf.String(), "clipped to fit a comment") {
		t.Errorf("%d characters; clipped note: %v", buf.Len(), strings.Contains(buf.String(), "clipped"))
	}
}
