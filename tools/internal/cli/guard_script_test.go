package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// guardResults writes benchmark results as go test -bench prints them:
// six samples of the calibration and of one render benchmark, times
// scaled by machine (a slower machine) and render (a slower render),
// allocations by allocs.
func guardResults(t *testing.T, cores int, machine, render, allocs float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: amd64\npkg: github.com/aks-gitops/platform/tools/internal/cli\n")
	for i := range 6 {
		jitter := 1 + float64(i%3-1)*0.01
		fmt.Fprintf(&b, "BenchmarkGuard/calibrate-%d \t 3\t %.0f ns/op\t 3600000 B/op\t 28000 allocs/op\n", cores, 1e8*machine*jitter)
		fmt.Fprintf(&b, "BenchmarkGuard/render/small/warm-%d \t 3\t %.0f ns/op\t 35000000 B/op\t %.0f allocs/op\n", cores, 2e8*machine*render*jitter, 289000*allocs)
	}
	path := filepath.Join(t.TempDir(), "results.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBenchGuard runs scripts/bench-guard.sh on made-up results: the same
// figures pass; a machine twice as slow throughout (and with more cores)
// passes, since times count relative to the calibration; a render 60%
// slower than the calibration says, or with 20% more allocations, fails
// naming the benchmark.
func TestBenchGuard(t *testing.T) {
	benchstat, err := testenv.Tool("benchstat")
	if err != nil {
		t.Fatal(err)
	}
	baseline := guardResults(t, 2, 1, 1, 1)
	for _, tt := range []struct {
		name    string
		results string
		fails   string
	}{
		{"same", guardResults(t, 2, 1, 1, 1), ""},
		{"slower machine", guardResults(t, 4, 2, 1, 1), ""},
		{"slower render", guardResults(t, 2, 1, 1.6, 1), "Guard/render/small/warm: time +"},
		{"render slower within the noise", guardResults(t, 2, 1, 1.3, 1), ""},
		{"more allocations", guardResults(t, 2, 1, 1, 1.2), "Guard/render/small/warm: allocs/op +20.00%"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("bash", filepath.Join(repoRoot, "scripts", "bench-guard.sh"))
			cmd.Env = append(os.Environ(), "BASELINE="+baseline, "RESULTS="+tt.results, "OUT_DIR="+t.TempDir(), "TOOLS_BIN="+filepath.Dir(benchstat))
			out, err := cmd.CombinedOutput()
			switch {
			case tt.fails == "" && err != nil:
				t.Errorf("failed: %v\n%s", err, out)
			case tt.fails != "" && (err == nil || !strings.Contains(string(out), tt.fails)):
				t.Errorf("err %v, want a failure naming %q:\n%s", err, tt.fails, out)
			}
		})
	}
}
