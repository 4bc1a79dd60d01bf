package source

import (
	"io/fs"
	"maps"
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

// TestSnapshotUpdate brings a snapshot made before up to date after files
// were added, removed, replaced, edited in place and newly excluded, and
// junk was left in it: it must hold what a fresh snapshot holds, byte for
// byte — with files hard-linked, and with files copied (root on another
// file system, where links fail).
func TestSnapshotUpdate(t *testing.T) {
	bases := map[string]string{"linked": ""}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		bases["copied"] = "/dev/shm"
	}
	for name, base := range bases {
		t.Run(name, func(t *testing.T) {
			root, err := os.MkdirTemp(base, "snapshot-root-*")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(root) })
			write := func(rel, data string) {
				t.Helper()
				p := filepath.Join(root, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for rel, data := range map[string]string{
				"a/keep.yaml": "keep", "a/gone.yaml": "gone", "b/c/gone.yaml": "gone",
				"replaced.yaml": "old", "edited.yaml": "old", "later-ignored.yaml": "x",
			} {
				write(rel, data)
			}
			dst := t.TempDir()
			if err := Snapshot(t.Context(), root, dst, nil); err != nil {
				t.Fatal(err)
			}

			for _, rel := range []string{"a/gone.yaml", "b/c/gone.yaml"} {
				if err := os.Remove(filepath.Join(root, rel)); err != nil {
					t.Fatal(err)
				}
			}
			write("new/file.yaml", "new")
			write("replaced.yaml.tmp", "new content")
			if err := os.Rename(filepath.Join(root, "replaced.yaml.tmp"), filepath.Join(root, "replaced.yaml")); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(filepath.Join(root, "edited.yaml"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(" and more"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			write(".sourceignore", "later-ignored.yaml\n")
			if err := os.MkdirAll(filepath.Join(dst, "junk", "empty"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, "a", "junk.yaml"), nil, 0o644); err != nil {
				t.Fatal(err)
			}

			if err := Snapshot(t.Context(), root, dst, nil); err != nil {
				t.Fatal(err)
			}
			fresh := t.TempDir()
			if err := Snapshot(t.Context(), root, fresh, nil); err != nil {
				t.Fatal(err)
			}
			got, want := tree(t, dst), tree(t, fresh)
			if !maps.Equal(got, want) {
				t.Fatalf("updated snapshot:\n%v\nfresh snapshot:\n%v", got, want)
			}
			expected := map[string]string{
				"a": "/", "a/keep.yaml": "keep", "new": "/", "new/file.yaml": "new",
				"replaced.yaml": "new content", "edited.yaml": "old and more", ".sourceignore": "later-ignored.yaml\n",
			}
			if !maps.Equal(want, expected) {
				t.Fatalf("the fresh snapshot is not what the test expects: %v", want)
			}
		})
	}
}

// tree maps every path under dir, files and directories, to a file's
// content ("/" for a directory).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[filepath.ToSlash(rel)] = "/"
			return nil
		}
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
