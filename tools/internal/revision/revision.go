// Package revision turns git revisions of a repository into directories to
// render: a revision is resolved to its commit and its tree is written to a
// temporary directory with `git archive`, so the user's working tree, index
// and worktree list are never touched.
package revision

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Git runs git in a repository.
type Git struct {
	// Dir is the repository's top level (any directory inside it works).
	Dir string
}

// run runs git with args and returns its trimmed standard output; a
// failure carries git's own message.
func (g Git) run(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.Dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A user's git configuration must not page or prompt.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat")
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), firstLine(msg))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Resolve returns the commit a revision names.
func (g Git) Resolve(ctx context.Context, rev string) (string, error) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("revision %q: not a revision", rev)
	}
	sha, err := g.run(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil || sha == "" {
		return "", fmt.Errorf("revision %q: no such commit in %s", rev, g.Dir)
	}
	return sha, nil
}

// DefaultBranch returns the branch pull requests merge into: the one
// origin/HEAD points at, else main, else master (local or on origin).
func (g Git) DefaultBranch(ctx context.Context) (string, error) {
	if ref, err := g.run(ctx, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"); err == nil && ref != "" {
		return strings.TrimPrefix(ref, "refs/remotes/"), nil
	}
	for _, b := range []string{"main", "master", "origin/main", "origin/master"} {
		if _, err := g.Resolve(ctx, b); err == nil {
			return b, nil
		}
	}
	return "", errors.New("no default branch: origin/HEAD, main and master do not exist (pass --base)")
}

// DefaultBase returns the commit a pull request from HEAD would be
// compared with: the merge base of HEAD and the default branch.
func (g Git) DefaultBase(ctx context.Context) (string, error) {
	branch, err := g.DefaultBranch(ctx)
	if err != nil {
		return "", err
	}
	mb, err := g.run(ctx, "merge-base", "HEAD", branch)
	if err != nil {
		return "", fmt.Errorf("merge base of HEAD and %s: %w", branch, err)
	}
	return mb, nil
}

// Checkout is a revision's tree written to a temporary directory.
type Checkout struct {
	// Dir holds the tree.
	Dir string
	// Commit is the commit it was written from.
	Commit string
}

// Close removes the directory.
func (c *Checkout) Close() error { return os.RemoveAll(c.Dir) }

// Checkout writes the tree of commit into a new temporary directory. The
// caller closes it.
func (g Git) Checkout(ctx context.Context, commit string) (*Checkout, error) {
	dir, err := os.MkdirTemp("", "tools-diff-"+short(commit)+"-")
	if err != nil {
		return nil, err
	}
	co := &Checkout{Dir: dir, Commit: commit}
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", commit)
	cmd.Dir = g.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		_ = co.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = co.Close()
		return nil, fmt.Errorf("git archive %s: %w", short(commit), err)
	}
	extractErr := extract(out, dir)
	// Drain what extract left, so git can exit.
	_, _ = io.Copy(io.Discard, out)
	waitErr := cmd.Wait()
	switch {
	case waitErr != nil:
		_ = co.Close()
		return nil, fmt.Errorf("git archive %s: %s", short(commit), firstLine(strings.TrimSpace(stderr.String()+" "+waitErr.Error())))
	case extractErr != nil:
		_ = co.Close()
		return nil, fmt.Errorf("git archive %s: %w", short(commit), extractErr)
	}
	return co, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// extract writes a tar stream below dir, refusing paths that leave it.
func extract(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) {
			if h.Typeflag == tar.TypeXGlobalHeader {
				continue
			}
			return fmt.Errorf("%s: path outside the tree", h.Name)
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if h.FileInfo().Mode()&0o111 != 0 {
				mode = 0o755
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				_ = f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, p); err != nil {
				return err
			}
		case tar.TypeXGlobalHeader:
			// git archive's commit id comment.
		}
	}
}
