package cli

import (
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkRenderExample renders the example cluster offline with a warm
// chart cache, end to end through the CLI.
func BenchmarkRenderExample(b *testing.B) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	args := []string{
		"render", "--repo", root, "--offline", "--cache-dir", b.TempDir(),
		"--charts", filepath.Join(root, "testdata", "example", "charts"),
		filepath.Join(root, "testdata", "example", "clusters", "demo"),
	}
	for b.Loop() {
		if code := Run(b.Context(), "bench", args, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
