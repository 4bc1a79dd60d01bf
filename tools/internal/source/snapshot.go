package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
)

// Snapshot lays out under dst what source-controller would put in the
// artifact of the checkout at root: the files Git would commit (tracked, and
// untracked ones that are not git-ignored, so work in progress renders) —
// every file when root is not a Git work tree — less what .sourceignore and
// ignore (spec.ignore; nil for the defaults) exclude, as Filter would on a
// copy of them all. Files are hard-linked where possible, copied
// otherwise; root is never written to. A snapshot made before in dst is
// brought up to date: what is already there, the same file as root's (or
// a copy of the same size and modification time), stays; anything else
// in dst is removed, empty directories too.
func Snapshot(ctx context.Context, root, dst string, ignore *string) error {
	files, err := gitFiles(ctx, root)
	if err != nil {
		files, err = walkFiles(root)
		if err != nil {
			return err
		}
	}
	want := map[string]os.FileInfo{}
	var regular []string
	for _, rel := range files {
		if fi, err := os.Lstat(filepath.Join(root, rel)); err == nil && fi.Mode().IsRegular() {
			regular = append(regular, rel) // not deleted in the work tree, a symlink or a submodule
			want[rel] = fi
		}
	}
	excluded, err := excluder(root, regular, ignore)
	if err != nil {
		return err
	}
	for rel := range want {
		if excluded(rel) {
			delete(want, rel)
		}
	}
	have, err := prune(dst, want)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", dst, err)
	}
	made := map[string]bool{}
	for _, rel := range regular {
		if _, ok := want[rel]; !ok || have[rel] {
			continue
		}
		p := filepath.Join(dst, rel)
		if dir := filepath.Dir(p); !made[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("snapshot %s: %w", rel, err)
			}
			made[dir] = true
		}
		if err := link(filepath.Join(root, rel), p, want[rel]); err != nil {
			return fmt.Errorf("snapshot %s: %w", rel, err)
		}
	}
	return nil
}

// prune removes from dst what is not the file want has for its path and
// then the directories left empty, and returns the paths that stay.
func prune(dst string, want map[string]os.FileInfo) (map[string]bool, error) {
	have := map[string]bool{}
	var dirs []string
	keptDirs := map[string]bool{} // directories holding a file that stays
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dst {
				return filepath.SkipDir
			}
			return err
		}
		rel, err := filepath.Rel(dst, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		if src, ok := want[rel]; ok && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil && same(src, fi) {
				have[rel] = true
				for dir := filepath.Dir(p); dir != dst && !keptDirs[dir]; dir = filepath.Dir(dir) {
					keptDirs[dir] = true
				}
				return nil
			}
		}
		return os.Remove(p)
	})
	if err != nil {
		return nil, err
	}
	// Deepest first: a directory whose subdirectories were all removed is
	// empty by its turn.
	for _, dir := range slices.Backward(dirs) {
		if dir != dst && !keptDirs[dir] {
			_ = os.Remove(dir)
		}
	}
	return have, nil
}

// same says whether fi, in a snapshot, is src: the same file, or the copy
// link made of it (same size and modification time).
func same(src, fi os.FileInfo) bool {
	return os.SameFile(src, fi) || (src.Size() == fi.Size() && src.ModTime().Equal(fi.ModTime()) && fi.Mode()&0o200 == 0)
}

// excluder says which of files (relative to root) Filter would remove
// from a copy of them all: VCS files, ignore or else the default
// exclusions, and the patterns of the .sourceignore files among them, read
// in the order sourceignore.LoadIgnorePatterns reads them (a directory's
// own, then its subdirectories' by name) — a file is gone when it or a
// directory above it matches.
func excluder(root string, files []string, ignore *string) (func(rel string) bool, error) {
	ps := sourceignore.VCSPatterns(nil)
	if ignore != nil {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(*ignore), nil)...)
	} else {
		ps = append(ps, sourceignore.DefaultPatterns(nil)...)
	}
	var dirs [][]string
	for _, rel := range files {
		if filepath.Base(rel) == sourceignore.IgnoreFile {
			dir := filepath.Dir(rel)
			dirs = append(dirs, []string{})
			if dir != "." {
				dirs[len(dirs)-1] = strings.Split(dir, string(filepath.Separator))
			}
		}
	}
	slices.SortFunc(dirs, slices.Compare)
	for _, dir := range dirs {
		found, err := sourceignore.ReadIgnoreFile(filepath.Join(root, filepath.Join(dir...), sourceignore.IgnoreFile), dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sourceignore.IgnoreFile, err)
		}
		ps = append(ps, found...)
	}
	matcher := gitignore.NewMatcher(ps)
	gone := map[string]bool{}
	var dirGone func(dir string) bool
	dirGone = func(dir string) bool {
		if dir == "." {
			return false
		}
		g, ok := gone[dir]
		if !ok {
			g = dirGone(filepath.Dir(dir)) || matcher.Match(strings.Split(dir, string(filepath.Separator)), true)
			gone[dir] = g
		}
		return g
	}
	return func(rel string) bool {
		return dirGone(filepath.Dir(rel)) || matcher.Match(strings.Split(rel, string(filepath.Separator)), false)
	}, nil
}

// gitFiles lists the files of the work tree Git would commit.
func gitFiles(ctx context.Context, root string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git ls-files: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	var files []string
	for _, f := range strings.Split(out.String(), "\x00") {
		if f != "" {
			files = append(files, filepath.FromSlash(f))
		}
	}
	return files, nil
}

func walkFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	return files, err
}

func link(src, dst string, fi os.FileInfo) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	// Read-only with the source's modification time: what same knows a
	// copy by.
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close() // the copy error is the one to report
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}
