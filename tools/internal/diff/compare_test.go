package diff_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/report"
)

var apps = flux.RefTo("Kustomization", "flux-system", "apps")

// objects parses a YAML stream into render objects produced by apps.
func objects(t *testing.T, stream string) []render.Object {
	t.Helper()
	var out []render.Object
	for _, doc := range strings.Split(stream, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%v in:\n%s", err, doc)
		}
		out = append(out, render.Object{Object: &unstructured.Unstructured{Object: m}, Origin: render.Origin{Producer: apps, File: "apps/x.yaml"}})
	}
	return out
}

func text(t *testing.T, r *diff.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.Diff(&b, "text", []*diff.Report{r}, report.ChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    helm.sh/chart: web-1.0.0
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      annotations:
        checksum/config: aaa
    spec:
      containers:
      - name: web
        image: web:1
        ports:
        - containerPort: 80
        - containerPort: 443
      - name: sidecar
        image: proxy:1
`

func TestCompareFields(t *testing.T) {
	tests := []struct {
		name       string
		base, head string
		opts       diff.Options
		want       string
	}{
		{
			name: "reordered containers and ports are no change",
			base: deployment,
			head: strings.NewReplacer(
				"      - name: web\n        image: web:1\n        ports:\n        - containerPort: 80\n        - containerPort: 443\n      - name: sidecar\n        image: proxy:1\n",
				"      - name: sidecar\n        image: proxy:1\n      - name: web\n        image: web:1\n        ports:\n        - containerPort: 443\n        - containerPort: 80\n",
			).Replace(deployment),
			opts: diff.DefaultOptions(),
			want: "diff: no changes\n",
		},
		{
			name: "one image in one container is one line",
			base: deployment,
			head: strings.Replace(deployment, "image: web:1", "image: web:2", 1),
			opts: diff.DefaultOptions(),
			want: `diff: 0 added, 0 removed, 1 changed
~ Deployment.apps/shop/web changed (Kustomization/flux-system/apps from apps/x.yaml)
    spec.template.spec.containers[name=web].image: web:1 → web:2
`,
		},
		{
			name: "noise ignored by default",
			base: deployment,
			head: strings.NewReplacer("web-1.0.0", "web-1.0.1", "checksum/config: aaa", "checksum/config: bbb").Replace(deployment),
			opts: diff.DefaultOptions(),
			want: "diff: no changes\n",
		},
		{
			name: "noise shown on request",
			base: deployment,
			head: strings.NewReplacer("web-1.0.0", "web-1.0.1", "checksum/config: aaa", "checksum/config: bbb").Replace(deployment),
			opts: diff.NoIgnore(),
			want: `diff: 0 added, 0 removed, 1 changed
~ Deployment.apps/shop/web changed (Kustomization/flux-system/apps from apps/x.yaml)
    metadata.labels."helm.sh/chart": web-1.0.0 → web-1.0.1
    spec.template.metadata.annotations.checksum/config: aaa → bbb
`,
		},
		{
			name: "multi-line string as a line diff",
			base: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata:\n  app.yaml: |\n    a: 1\n    b: 2\n    c: 3\n",
			head: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata:\n  app.yaml: |\n    a: 1\n    b: 20\n    c: 3\n",
			opts: diff.DefaultOptions(),
			want: `diff: 0 added, 0 removed, 1 changed
~ ConfigMap/shop/cfg changed (Kustomization/flux-system/apps from apps/x.yaml)
    data."app.yaml":
      a: 1
  -   b: 2
  +   b: 20
      c: 3
`,
		},
		{
			name: "added and removed objects",
			base: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old, namespace: shop}\ndata: {a: b}\n",
			head: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: shop}\n",
			opts: diff.DefaultOptions(),
			want: `diff: 1 added, 1 removed, 0 changed
+ ConfigMap/shop/new added (Kustomization/flux-system/apps from apps/x.yaml)
  + apiVersion: v1
  + kind: ConfigMap
  + metadata:
  +   name: new
  +   namespace: shop
- ConfigMap/shop/old removed (Kustomization/flux-system/apps from apps/x.yaml)
    ! warning prune: deleted if Kustomization/flux-system/apps has prune: true (it is not in the render)
  - apiVersion: v1
  - data:
  -   a: b
  - kind: ConfigMap
  - metadata:
  -   name: old
  -   namespace: shop
`,
		},
		{
			name: "custom field rule",
			base: deployment,
			head: strings.Replace(deployment, "image: proxy:1", "image: proxy:2", 1),
			opts: func() diff.Options {
				o := diff.DefaultOptions()
				r, err := diff.ParseRule("field:Deployment:spec.template.spec.containers[*].image")
				if err != nil {
					t.Fatal(err)
				}
				o.Ignore = append(o.Ignore, r)
				return o
			}(),
			want: "diff: no changes\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := text(t, diff.Compare(objects(t, tt.base), objects(t, tt.head), tt.opts))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRandomFieldsIgnored(t *testing.T) {
	base := objects(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\nstringData: {a: one}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\nspec:\n  template:\n    metadata:\n      annotations: {rnd: abc}\n")
	head := objects(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\nstringData: {a: one}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\nspec:\n  template:\n    metadata:\n      annotations: {rnd: xyz}\n")
	for _, o := range [][]render.Object{base, head} {
		o[1].Origin.Random = []string{"spec.template.metadata.annotations.rnd"}
	}
	if r := diff.Compare(base, head, diff.DefaultOptions()); r.Changed() {
		t.Errorf("random field reported:\n%s", text(t, r))
	}
	if r := diff.Compare(base, head, diff.NoIgnore()); !r.Changed() {
		t.Error("--no-ignore: random field not reported")
	}
}

func TestSecretsNeverShown(t *testing.T) {
	const values = "hunter2-old-value,hunter2-new-value,ZW5jb2RlZC1vbGQ=,ZW5jb2RlZC1uZXc=,encoded-old,encoded-new,gone-value,fresh-value"
	base := objects(t, `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {password: hunter2-old-value, same: unchanged-value, gone: gone-value}
data: {token: ZW5jb2RlZC1vbGQ=}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: leak, namespace: shop}
data: {url: "postgres://u:hunter2-old-value@db"}
`)
	head := objects(t, `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {password: hunter2-new-value, same: unchanged-value, fresh: fresh-value}
data: {token: ZW5jb2RlZC1uZXc=}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: leak, namespace: shop}
data: {url: "postgres://u:hunter2-new-value@db"}
---
apiVersion: v1
kind: Secret
metadata: {name: added, namespace: shop}
stringData: {k: fresh-value}
`)
	r := diff.Compare(base, head, diff.DefaultOptions())
	want := `diff: 1 added, 0 removed, 2 changed
~ ConfigMap/shop/leak changed (Kustomization/flux-system/apps from apps/x.yaml)
    data.url: postgres://u:***@db → postgres://u:***@db
+ Secret/shop/added added (Kustomization/flux-system/apps from apps/x.yaml)
  + apiVersion: v1
  + kind: Secret
  + metadata:
  +   name: added
  +   namespace: shop
  + stringData:
  +   k: '***'
~ Secret/shop/db changed (Kustomization/flux-system/apps from apps/x.yaml)
  + data.fresh: (secret value added, not shown)
  - data.gone: (secret value removed, not shown)
    data.password: (secret value changed, not shown)
    data.token: (secret value changed, not shown)
`
	if diff := cmp.Diff(want, text(t, r)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, format := range report.ChangeFormats {
		var b bytes.Buffer
		if err := report.Diff(&b, format, []*diff.Report{r}, report.ChangeOptions{Color: true}); err != nil {
			t.Fatal(err)
		}
		for _, p := range report.DiffParts(r, 0, report.ChangeOptions{}) {
			b.WriteString(p)
		}
		for _, v := range strings.Split(values, ",") {
			if strings.Contains(b.String(), v) {
				t.Errorf("%s output shows secret value %q:\n%s", format, v, b.String())
			}
		}
	}
}

func TestRandomNamesIgnored(t *testing.T) {
	base := objects(t, "apiVersion: batch/v1\nkind: Job\nmetadata: {name: setup-abc12, namespace: x}\n")
	head := objects(t, "apiVersion: batch/v1\nkind: Job\nmetadata: {name: setup-zz981, namespace: x}\n")
	for _, o := range [][]render.Object{base, head} {
		o[0].Origin.Template = "chart/templates/job.yaml"
		o[0].Origin.Random = []string{"*"}
	}
	if r := diff.Compare(base, head, diff.DefaultOptions()); r.Changed() {
		t.Errorf("an object renamed by chart randomness is reported:\n%s", text(t, r))
	}
	if r := diff.Compare(base, head, diff.NoIgnore()); len(r.Changes) != 2 {
		t.Errorf("--no-ignore: %d changes, want the removal and the addition", len(r.Changes))
	}
	// Without a counterpart it is a real addition.
	if r := diff.Compare(nil, head, diff.DefaultOptions()); len(r.Changes) != 1 || r.Changes[0].Action != diff.Added {
		t.Errorf("no counterpart: %s", text(t, r))
	}
}

func TestChartRefMajor(t *testing.T) {
	const release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: shop}\nspec:\n  chartRef: {kind: OCIRepository, name: web-chart}\n---\n"
	repo := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: web-chart, namespace: shop}\nspec:\n  url: oci://example.com/charts/web\n  ref: {tag: %s}\n"
	for _, tt := range []struct {
		old, new string
		note     bool
	}{
		{"1.4.0", "2.0.0", true},
		{"1.4.0", "1.5.0", false},
		{"v3.0.1", "v4.0.0", true},
	} {
		r := diff.Compare(objects(t, release+fmt.Sprintf(repo, tt.old)), objects(t, release+fmt.Sprintf(repo, tt.new)), diff.DefaultOptions())
		if len(r.Changes) != 1 {
			t.Fatalf("%s → %s: %d changes", tt.old, tt.new, len(r.Changes))
		}
		got := len(r.Changes[0].Notes) == 1 && r.Changes[0].Notes[0].Rule == diff.NoteChartMajor &&
			strings.Contains(r.Changes[0].Notes[0].Message, "HelmRelease shop/web")
		if got != tt.note {
			t.Errorf("%s → %s: notes %+v, want a chart-major note: %v", tt.old, tt.new, r.Changes[0].Notes, tt.note)
		}
	}
	// An OCIRepository no HelmRelease uses is no chart.
	r := diff.Compare(objects(t, fmt.Sprintf(repo, "1.0.0")), objects(t, fmt.Sprintf(repo, "2.0.0")), diff.DefaultOptions())
	if len(r.Changes[0].Notes) != 0 {
		t.Errorf("unused OCIRepository: notes %+v", r.Changes[0].Notes)
	}
}
