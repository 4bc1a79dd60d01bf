package kustomize

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// plainFS is kustomize-controller's secure file system of a source root
// (fluxcd/pkg's, which confirms that every path it is given resolves
// inside the root by evaluating its symlinks: a dozen system calls a
// read), with a shortcut for the common case. A path lexically inside the
// root with no symlink among its components below the root resolves to
// itself, so the secure file system's confirmation is the lexical one,
// already made: such a call goes to the disk directly. Anything else — a
// symlink on the way, a path outside the root — takes the secure file
// system's own path, errors included. Source artifacts hold no symlinks
// (source-controller leaves them out, and so does Snapshot), so on them
// the shortcut is the rule.
type plainFS struct {
	filesys.FileSystem // the secure file system
	disk               filesys.FileSystem
	root               string // evaluated, as the secure file system holds it
	prefix             string // root with a trailing separator
	known              *sync.Map
}

// newPlainFS returns the file system of root. known remembers which paths
// are no symlinks: shared by the builds of a render (the files do not
// change while it runs); nil for a map of this file system's own.
func newPlainFS(root string, known *sync.Map) (filesys.FileSystem, error) {
	secure, err := securefs.MakeFsOnDiskSecure(root)
	if err != nil {
		return nil, err
	}
	disk := filesys.MakeFsOnDisk()
	evaluated, _, err := disk.CleanedAbs(root)
	if err != nil {
		return nil, err
	}
	if known == nil {
		known = new(sync.Map)
	}
	prefix := string(evaluated)
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	return plainFS{FileSystem: secure, disk: disk, root: string(evaluated), prefix: prefix, known: known}, nil
}

// plain says whether path resolves to itself inside the root.
func (fs plainFS) plain(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	return abs == fs.root || strings.HasPrefix(abs, fs.prefix) && fs.noLink(abs)
}

// noLink says whether none of the components of p (below the root) is a
// symlink. A path that cannot be looked at (Lstat fails) cannot be
// followed either: the secure file system, finding it does not exist,
// confirms it lexically.
func (fs plainFS) noLink(p string) bool {
	if p == fs.root {
		return true
	}
	if v, ok := fs.known.Load(p); ok {
		return v.(bool)
	}
	ok := fs.noLink(filepath.Dir(p))
	if ok {
		fi, err := os.Lstat(p)
		ok = err != nil || fi.Mode()&os.ModeSymlink == 0
	}
	fs.known.Store(p, ok)
	return ok
}

func (fs plainFS) Exists(path string) bool {
	if fs.plain(path) {
		return fs.disk.Exists(path)
	}
	return fs.FileSystem.Exists(path)
}

func (fs plainFS) IsDir(path string) bool {
	if fs.plain(path) {
		return fs.disk.IsDir(path)
	}
	return fs.FileSystem.IsDir(path)
}

func (fs plainFS) ReadFile(path string) ([]byte, error) {
	if fs.plain(path) {
		return fs.disk.ReadFile(path)
	}
	return fs.FileSystem.ReadFile(path)
}

func (fs plainFS) ReadDir(path string) ([]string, error) {
	if fs.plain(path) {
		return fs.disk.ReadDir(path)
	}
	return fs.FileSystem.ReadDir(path)
}

func (fs plainFS) Open(path string) (filesys.File, error) {
	if fs.plain(path) {
		return fs.disk.Open(path)
	}
	return fs.FileSystem.Open(path)
}

// Glob is the disk's when every match is plain; the secure file system
// filters them otherwise.
func (fs plainFS) Glob(pattern string) ([]string, error) {
	matches, err := fs.disk.Glob(pattern)
	if err != nil {
		return fs.FileSystem.Glob(pattern)
	}
	for _, m := range matches {
		if !fs.plain(m) {
			return fs.FileSystem.Glob(pattern)
		}
	}
	return matches, nil
}
