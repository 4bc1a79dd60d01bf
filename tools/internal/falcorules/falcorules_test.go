package falcorules

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/check/*.txtar")

// TestCheck runs every testdata/check/*.txtar: its .yaml files are the rule
// files of one deployment, its want section the problems, one per line.
func TestCheck(t *testing.T) {
	paths, err := filepath.Glob("testdata/check/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			wantIdx := -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					wantIdx = i
					continue
				}
				files[f.Name] = f.Data
			}
			if wantIdx < 0 {
				t.Fatal("no want section")
			}
			var got []string
			for _, p := range Check(files) {
				got = append(got, p.String())
			}
			if *update {
				ar.Files[wantIdx].Data = []byte(strings.Join(got, "\n") + "\n")
				if len(got) == 0 {
					ar.Files[wantIdx].Data = nil
				}
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := nonEmptyLines(string(ar.Files[wantIdx].Data))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// BenchmarkCheckManyFindings: a rule with one finding per line or per
// output token. Positions are looked up per finding, so the time per
// finding must not grow with the scalar (it did: quadratic, found while
// fuzzing; 40000 unknown output fields took 9s).
func BenchmarkCheckManyFindings(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		files := map[string][]byte{
			"folded.yaml": []byte("- rule: r\n  desc: d\n  priority: ERROR\n  output: x\n  condition: >\n    " + strings.Repeat("proc.nam = 1 or\n    ", n) + "m\n"),
			"plain.yaml":  []byte("- rule: p\n  desc: d\n  priority: ERROR\n  output: x\n  condition: m or\n    " + strings.Repeat("proc.nam = 1 or\n    ", n) + "m\n"),
			"output.yaml": []byte("- rule: o\n  desc: d\n  priority: ERROR\n  condition: evt.num > 0\n  output: '" + strings.Repeat("%proc.nam ", n) + "'\n"),
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if len(Check(files)) < 3*n {
					b.Fatal("findings missing")
				}
			}
		})
	}
}
