package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/synth"
)

// BenchmarkRenderSynthetic renders the synthetic repositories of every size,
// cold (empty cache directory) and warm (the cache of the previous run).
func BenchmarkRenderSynthetic(b *testing.B) {
	for _, size := range synth.Sizes {
		repo := b.TempDir()
		if err := synth.Generate(repo, size, 0); err != nil {
			b.Fatal(err)
		}
		args := func(cache string) []string {
			return []string{
				"render", "--repo", repo, "--offline", "--cache-dir", cache,
				"--charts", filepath.Join(repo, synth.ChartsDir), filepath.Join(repo, synth.Entry),
			}
		}
		b.Run(fmt.Sprintf("%s/cold", size.Name), func(b *testing.B) {
			for b.Loop() {
				if code := Run(b.Context(), "bench", args(b.TempDir()), io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
		warm := b.TempDir()
		if code := Run(b.Context(), "bench", args(warm), io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
		b.Run(fmt.Sprintf("%s/warm", size.Name), func(b *testing.B) {
			for b.Loop() {
				if code := Run(b.Context(), "bench", args(warm), io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
