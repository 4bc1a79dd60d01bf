package falcorules

import (
	"flag"
	"os"
	"path/filepath"
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

// FuzzCheck: any file content gives problems, never a panic.
func FuzzCheck(f *testing.F) {
	paths, _ := filepath.Glob("testdata/check/*.txtar")
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if file.Name != "want" {
				f.Add(file.Data)
			}
		}
	}
	f.Fuzz(func(_ *testing.T, data []byte) {
		_ = Check(map[string][]byte{"f.yaml": data})
	})
}
