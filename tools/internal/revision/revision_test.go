package revision

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// gitRepo creates a repository with a main branch of two commits and a
// feature branch of one more, checked out, with an uncommitted change.
func gitRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	write("a/file.txt", "one\n")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	write("a/file.txt", "two\n")
	git("commit", "-q", "-am", "two")
	git("checkout", "-q", "-b", "feature")
	write("a/file.txt", "three\n")
	write("b/new.txt", "new\n")
	git("add", ".")
	git("commit", "-q", "-m", "three")
	write("a/file.txt", "dirty\n")
	return dir
}

func TestDefaultBaseAndCheckout(t *testing.T) {
	dir := gitRepo(t)
	ctx := context.Background()
	g := Git{Dir: dir}
	branch, err := g.DefaultBranch(ctx)
	if err != nil || branch != "main" {
		t.Fatalf("default branch %q, %v; want main", branch, err)
	}
	base, err := g.DefaultBase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mainSHA, err := g.Resolve(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	if base != mainSHA {
		t.Errorf("merge base %s, want main %s", base, mainSHA)
	}
	status := func() string {
		out, err := exec.Command("git", "-C", dir, "status", "--porcelain").CombinedOutput()
		if err != nil {
			t.Fatalf("git status: %v\n%s", err, out)
		}
		return string(out)
	}
	before := status()
	co, err := g.Checkout(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	got := readTree(t, co.Dir)
	if diff := cmp.Diff(map[string]string{"a/file.txt": "two\n"}, got); diff != "" {
		t.Errorf("checkout of main (-want +got):\n%s", diff)
	}
	if err := co.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(co.Dir)); !os.IsNotExist(err) {
		t.Errorf("checkout left behind: %v", err)
	}
	// The working tree is untouched, its change still there.
	if b, _ := os.ReadFile(filepath.Join(dir, "a/file.txt")); string(b) != "dirty\n" {
		t.Errorf("working tree changed: %q", b)
	}
	if after := status(); after != before {
		t.Errorf("git status changed:\n%s\nwas:\n%s", after, before)
	}
	if out, _ := exec.Command("git", "-C", dir, "worktree", "list").Output(); strings.Count(string(out), "\n") != 1 {
		t.Errorf("worktrees added:\n%s", out)
	}
}

func TestResolveErrors(t *testing.T) {
	g := Git{Dir: gitRepo(t)}
	for _, rev := range []string{"nope", "--output=/tmp/x", ""} {
		if _, err := g.Resolve(context.Background(), rev); err == nil || !strings.Contains(err.Error(), "revision") {
			t.Errorf("Resolve(%q): %v, want an error naming the revision", rev, err)
		}
	}
	if _, err := (Git{Dir: t.TempDir()}).DefaultBranch(context.Background()); err == nil {
		t.Error("DefaultBranch outside a repository: no error")
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
