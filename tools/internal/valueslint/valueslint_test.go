package valueslint

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/synth"
)

func TestLint(t *testing.T) {
	repo := t.TempDir()
	if err := synth.Generate(repo, synth.Size{Kustomizations: 11, Charts: 1}, 0); err != nil {
		t.Fatal(err)
	}
	ch, err := loader.LoadDir(filepath.Join(repo, synth.ChartsDir, "app00"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		values string
		want   []string
	}{
		{name: "known keys", values: "replicaCount: 2\nimage: {tag: v1}\nservice: {ports: {http: 80}}"},
		{name: "typo at the top", values: "replicas: 2", want: []string{"replicas"}},
		{name: "typo below a map", values: "image: {tagg: v1, repository: x}", want: []string{"image.tagg"}},
		{name: "free-form maps", values: "podAnnotations: {a: b}\nresources: {limits: {cpu: 1}}\nserviceAccount: {annotations: {x.y/z: v}}"},
		{name: "empty map default is free-form", values: "env: {A: b}\npodLabels: {team: x}"},
		{name: "sub-chart keys", values: "metrics: {enabled: true, interval: 10s, intervall: 5s}", want: []string{"metrics.intervall"}},
		{name: "global", values: "global: {anything: true}"},
		{name: "dotted key quoted", values: "config: {app.yaml: x}\nimage: {\"a.b\": 1}", want: []string{`image."a.b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var values map[string]any
			if err := yaml.Unmarshal([]byte(tt.values), &values); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range Lint(ch, values) {
				got = append(got, f.Path)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
