// Package revision turns git revisions of a repository into directories to
// render: a revision is resolved to its commit and its tree is checked out
// into a temporary directory through a temporary index, so the user's
// working tree, index and worktree list are never touched.
package revision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gofrs/flock"
)

// Git runs git in a repository.
type Git struct {
	// Dir is the repository's top level (any directory inside it works).
	Dir string
	env []string
}

// run runs git with args and returns its trimmed standard output; a
// failure carries git's own message.
func (g Git) run(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.Dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A user's git configuration must not page or prompt.
	cmd.Env = append(append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat"), g.env...)
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
	return "", ErrNoDefaultBranch
}

// ErrNoDefaultBranch says no branch is known to merge into: the base
// revision must be named.
var ErrNoDefaultBranch = errors.New("no default branch: origin/HEAD, main and master do not exist")

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

// Checkout is a revision's tree written to a directory.
type Checkout struct {
	// Dir holds the tree.
	Dir string
	// Commit is the commit it was written from.
	Commit string
	// Snapshots is where a render keeps its snapshots of Dir, beside a
	// kept checkout; "" for a temporary one (nothing to keep).
	Snapshots string
	// root holds Dir and the temporary index of a temporary checkout.
	root string
	// lock holds the slot of a kept checkout.
	lock *flock.Flock
}

// Close removes a temporary checkout, or frees the slot of a kept one.
func (c *Checkout) Close() error {
	if c.lock != nil {
		return c.lock.Unlock()
	}
	return os.RemoveAll(c.root)
}

// Checkout writes the tree of commit into a new temporary directory, the
// way a checkout would (checkout filters and line endings applied), through
// a temporary index: the repository's own index and working tree are not
// touched. The caller closes it.
func (g Git) Checkout(ctx context.Context, commit string) (*Checkout, error) {
	dir, err := os.MkdirTemp("", "tools-diff-"+Short(commit)+"-")
	if err != nil {
		return nil, err
	}
	co := &Checkout{Dir: filepath.Join(dir, "tree"), Commit: commit, root: dir}
	// The temporary index lives beside the tree and goes with it.
	if err := g.writeTree(ctx, commit, filepath.Join(dir, "index"), co.Dir); err != nil {
		_ = co.Close() // the checkout's error is the one to report
		return nil, err
	}
	return co, nil
}

// writeTree writes the tree of commit into dir through the index file
// index.
func (g Git) writeTree(ctx context.Context, commit, index, dir string) error {
	gi := Git{Dir: g.Dir, env: []string{"GIT_INDEX_FILE=" + index}}
	if _, err := gi.run(ctx, "read-tree", commit); err != nil {
		return err
	}
	if _, err := gi.run(ctx, "checkout-index", "--all", "--force", "--prefix="+dir+string(filepath.Separator)); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755) // an empty tree
}

// Short abbreviates a commit hash to twelve characters, as shown to users.
func Short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Changed returns the files that differ between commit and the working
// tree (staged or not, deleted and renamed ones under both names, and
// untracked files git does not ignore), relative to the repository's top
// level, slash-separated, sorted.
func (g Git) Changed(ctx context.Context, commit string) ([]string, error) {
	diff, err := g.run(ctx, "-c", "core.quotePath=false", "diff", "--name-only", "--no-renames", "-z", commit, "--")
	if err != nil {
		return nil, err
	}
	untracked, err := g.run(ctx, "-c", "core.quotePath=false", "ls-files", "--others", "--exclude-standard", "--full-name", "-z")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range []string{diff, untracked} {
		for f := range strings.SplitSeq(s, "\x00") {
			if f != "" {
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
