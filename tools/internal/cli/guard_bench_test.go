package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/synth"
)

// BenchmarkGuard is the set scripts/bench-guard.sh compares with the
// committed baseline (testdata/bench/guard.txt): render of the small
// synthetic repository cold and warm and of the medium one warm, check of
// the medium one warm, and a calibration workload. The guard divides each time by the
// calibration's, measured in the same run, so a baseline recorded on one
// machine still judges a run on another.
func BenchmarkGuard(b *testing.B) {
	b.Run("calibrate", func(b *testing.B) {
		// YAML in and out, as a render spends its time, on every core as
		// a render does: a machine that lends a core elsewhere slows both.
		doc := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b, c: d}\ndata:\n  key: value with some text\n  list: |\n" + strings.Repeat("    line of text\n", 40))
		procs := runtime.GOMAXPROCS(0)
		for b.Loop() {
			var g errgroup.Group
			for range procs {
				g.Go(func() error {
					for range 1000 / procs {
						var v map[string]any
						if err := yaml.Unmarshal(doc, &v); err != nil {
							return err
						}
						if _, err := yaml.Marshal(v); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, size := range synth.Sizes {
		if size.Name == "large" {
			continue
		}
		repo := b.TempDir()
		if err := synth.Generate(repo, size, 0); err != nil {
			b.Fatal(err)
		}
		args := func(verb, cache string) []string {
			return []string{
				verb, "--repo", repo, "--offline", "--cache-dir", cache,
				"--charts", filepath.Join(repo, synth.ChartsDir), filepath.Join(repo, synth.Entry),
			}
		}
		run := func(b *testing.B, args []string) {
			b.Helper()
			if code := Run(b.Context(), "bench", args, io.Discard, io.Discard); code != 0 {
				b.Fatalf("%v: exit %d", args, code)
			}
		}
		if size.Name == "small" {
			// The medium one cold takes seconds an iteration.
			b.Run(fmt.Sprintf("render/%s/cold", size.Name), func(b *testing.B) {
				for b.Loop() {
					run(b, args("render", b.TempDir()))
				}
			})
		}
		warm := b.TempDir()
		run(b, args("render", warm))
		b.Run(fmt.Sprintf("render/%s/warm", size.Name), func(b *testing.B) {
			for b.Loop() {
				run(b, args("render", warm))
			}
		})
		if size.Name == "medium" {
			check := append(args("check", warm), "--rules", "none")
			run(b, check) // validation results kept too
			b.Run("check/medium/warm", func(b *testing.B) {
				for b.Loop() {
					run(b, check)
				}
			})
		}
	}
}
