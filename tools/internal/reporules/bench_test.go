package reporules

import (
	"path/filepath"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/helm"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/synth"
)

// BenchmarkCheck evaluates the repository rules on the render of the
// medium synthetic repository (rules loaded once, as the CLI does).
func BenchmarkCheck(b *testing.B) {
	size, err := synth.SizeNamed("medium")
	if err != nil {
		b.Fatal(err)
	}
	repo := b.TempDir()
	if err := synth.Generate(repo, size, 0); err != nil {
		b.Fatal(err)
	}
	r := render.New(render.Options{
		RepoRoot:    repo,
		Concurrency: 2,
		Charts:      helm.NewCharts(helm.ChartOptions{Dir: filepath.Join(repo, synth.ChartsDir), Offline: true}),
	})
	defer func() { _ = r.Close() }()
	c, err := r.Render(b.Context(), synth.Entry)
	if err != nil {
		b.Fatal(err)
	}
	rules, err := Load(b.Context(), policyDir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(c.Objects())), "objects")
	for b.Loop() {
		if _, err := rules.Check(b.Context(), repo, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad parses and compiles policies/repo.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(b.Context(), policyDir); err != nil {
			b.Fatal(err)
		}
	}
}
