package kustomize

import (
	"os"
	"path/filepath"
	"testing"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestPlainFS holds plainFS to the secure file system it shortens: every
// operation on every kind of path — plain files and directories, symlinks
// inside the root, escaping it, absolute, dangling, paths through a file,
// missing, outside the root, the root reached through a symlink — returns
// what fluxcd/pkg's secure file system returns, and the shortcut is taken
// exactly where no symlink is on the way.
func TestPlainFS(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "dir", "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range map[string]string{
		filepath.Join(root, "file.yaml"):               "kind: A\n",
		filepath.Join(root, "dir", "b.yaml"):           "kind: B\n",
		filepath.Join(root, "dir", "sub", "c.yaml"):    "kind: C\n",
		filepath.Join(outside, "secret.yaml"):          "kind: Secret\n",
		filepath.Join(outside, "nested", "other.yaml"): "kind: Other\n",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		filepath.Join(root, "inlink.yaml"):    "file.yaml",
		filepath.Join(root, "dirlink"):        "dir",
		filepath.Join(root, "escape.yaml"):    "../outside/secret.yaml",
		filepath.Join(root, "escapedir"):      "../outside",
		filepath.Join(root, "absolute.yaml"):  filepath.Join(root, "file.yaml"),
		filepath.Join(root, "dangling.yaml"):  "missing.yaml",
		filepath.Join(root, "dir", "up.yaml"): "../file.yaml",
		filepath.Join(base, "rootlink"):       "root",
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	secure, err := securefs.MakeFsOnDiskSecure(root)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := newPlainFS(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	paths := map[string]bool{ // path: the shortcut applies
		root:                                         true,
		in("file.yaml"):                              true,
		in("dir"):                                    true,
		in("dir", "b.yaml"):                          true,
		in("dir", "sub"):                             true,
		in("dir", "sub", "c.yaml"):                   true,
		in("missing.yaml"):                           true,
		in("missing", "x.yaml"):                      true,
		in("file.yaml", "x.yaml"):                    true, // through a file: cannot be looked at
		in("dir", "..", "file.yaml"):                 true,
		in("inlink.yaml"):                            false,
		in("dirlink"):                                false,
		in("dirlink", "b.yaml"):                      false,
		in("escape.yaml"):                            false,
		in("escapedir"):                              false,
		in("escapedir", "secret.yaml"):               false,
		in("escapedir", "nested", "other.yaml"):      false,
		in("absolute.yaml"):                          false,
		in("dangling.yaml"):                          false,
		in("dir", "up.yaml"):                         false,
		in("..", "outside", "secret.yaml"):           false,
		outside:                                      false,
		filepath.Join(outside, "secret.yaml"):        false,
		filepath.Join(base, "rootlink", "file.yaml"): false,
		filepath.Join(base, "rootlink"):              false,
		"/":                                          false,
	}
	type outcome struct {
		Exists, IsDir   bool
		Data            string
		ReadErr         string
		Names           []string
		ReadDirErr      string
		Opened, OpenErr string
	}
	observe := func(fs filesys.FileSystem, p string) outcome {
		var o outcome
		o.Exists, o.IsDir = fs.Exists(p), fs.IsDir(p)
		data, err := fs.ReadFile(p)
		o.Data, o.ReadErr = string(data), errText(err)
		o.Names, err = fs.ReadDir(p)
		o.ReadDirErr = errText(err)
		f, err := fs.Open(p)
		o.OpenErr = errText(err)
		if err == nil {
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			o.Opened = st.Name()
			_ = f.Close() // opened for reading only
		}
		return o
	}
	for p, shortcut := range paths {
		if got := fs.(plainFS).plain(p); got != shortcut {
			t.Errorf("plain(%s) = %t, want %t", p, got, shortcut)
		}
		if diff := cmp.Diff(observe(secure, p), observe(fs, p)); diff != "" {
			t.Errorf("%s: plainFS differs from the secure file system (-secure +plain):\n%s", p, diff)
		}
	}
	for _, pattern := range []string{in("*.yaml"), in("dir", "*.yaml"), in("*"), in("escapedir", "*"), in("dir", "sub", "*"), in("[")} {
		want, wantErr := secure.Glob(pattern)
		got, err := fs.Glob(pattern)
		if diff := cmp.Diff(want, got); diff != "" || errText(err) != errText(wantErr) {
			t.Errorf("Glob(%s) = %v, %v; the secure file system: %v, %v", pattern, got, err, want, wantErr)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
