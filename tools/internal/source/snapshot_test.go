package source

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSnapshotAsFilter wants Snapshot, which leaves out what the ignore
// patterns exclude before linking anything, to lay out the files Filter
// leaves of a copy of the whole tree: nested .sourceignore files with
// negations, anchored and directory patterns, the default exclusions and a
// spec.ignore.
func TestSnapshotAsFilter(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		".sourceignore":            "*.txt\n!keep.txt\nbuild/\n/rootonly.yaml\n",
		"a/.sourceignore":          "secret.yaml\n!b/\n!notes.txt\n",
		"a/secret.yaml":            "",
		"a/x.yaml":                 "",
		"a/notes.txt":              "",
		"a/b/secret.yaml":          "",
		"a/b/keep.txt":             "",
		"build/y.yaml":             "",
		"sub/build/z.yaml":         "",
		"rootonly.yaml":            "",
		"sub/rootonly.yaml":        "",
		"image.png":                "",
		".github/workflows/ci.yml": "",
		".sops.yaml":               "",
		"deep/er/.flux.yaml":       "",
		"keep.txt":                 "",
		"notes.txt":                "",
		"c/.sourceignore":          "*\n!*.yaml\n",
		"c/d.yaml":                 "",
		"c/e.json":                 "",
		"c/f/g.yaml":               "",
		"ab/.sourceignore":         "x.yaml\n",
		"ab/x.yaml":                "",
		"a-b/x.yaml":               "",
		"app/kustomization.yaml":   "",
	}
	for rel, data := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list := func(dir string) []string {
		var out []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				out = append(out, filepath.ToSlash(rel))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	custom := "*.yaml\n!a/**\n/keep.txt\n"
	for name, ignore := range map[string]*string{"default": nil, "spec.ignore": &custom} {
		t.Run(name, func(t *testing.T) {
			whole := t.TempDir()
			if err := os.CopyFS(whole, os.DirFS(root)); err != nil {
				t.Fatal(err)
			}
			if err := Filter(whole, ignore); err != nil {
				t.Fatal(err)
			}
			snap := t.TempDir()
			if err := Snapshot(t.Context(), root, snap, ignore); err != nil {
				t.Fatal(err)
			}
			want, got := list(whole), list(snap)
			if !slices.Equal(got, want) {
				t.Fatalf("snapshot:\n%v\nFilter of a copy:\n%v", got, want)
			}
			if len(got) < 5 || len(got) > len(files)-5 {
				t.Fatalf("the fixture does not exercise the patterns: %d of %d files kept", len(got), len(files))
			}
		})
	}
}
