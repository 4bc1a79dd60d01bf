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

// TestCheckoutKept: a kept checkout holds what a temporary checkout of the
// same commit holds, every time — reused for the same commit and the same
// checkout configuration, written again when the configuration of line
// endings changes, in another slot while its slot is held, in a temporary
// directory when all are, the least recently used slot written over when
// all hold other commits, and never reused from a slot a run left
// half-written.
func TestCheckoutKept(t *testing.T) {
	repo := gitRepo(t)
	ctx := context.Background()
	g := Git{Dir: repo}
	commits := map[string]string{}
	for _, rev := range []string{"main~1", "main", "feature"} {
		sha, err := g.Resolve(ctx, rev)
		if err != nil {
			t.Fatal(err)
		}
		commits[rev] = sha
	}
	// A fourth commit, off the branches: the slots are four.
	tree, err := g.run(ctx, "rev-parse", "main^{tree}")
	if err != nil {
		t.Fatal(err)
	}
	g4 := Git{Dir: repo, env: []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}}
	if commits["extra"], err = g4.run(ctx, "commit-tree", tree, "-p", commits["feature"], "-m", "extra"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// want is a temporary checkout's tree, made with the configuration
	// of the moment.
	want := func(commit string) map[string]string {
		t.Helper()
		co, err := g.Checkout(ctx, commit)
		if err != nil {
			t.Fatal(err)
		}
		defer co.Close()
		return readTree(t, co.Dir)
	}
	kept := func(commit string) *Checkout {
		t.Helper()
		co, err := g.CheckoutKept(ctx, commit, dir)
		if err != nil {
			t.Fatal(err)
		}
		got := readTree(t, co.Dir)
		delete(got, probe)
		if diff := cmp.Diff(want(commit), got); diff != "" {
			t.Fatalf("kept checkout of %s differs from a temporary one (-temporary +kept):\n%s", commit, diff)
		}
		return co
	}
	// A probe file left in a kept tree says whether a later checkout is
	// that tree, reused, or one written again.
	mark := func(co *Checkout) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(co.Dir, probe), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	marked := func(co *Checkout) bool {
		_, err := os.Stat(filepath.Join(co.Dir, probe))
		return err == nil
	}
	inSlot := func(co *Checkout) bool { return strings.HasPrefix(co.Dir, dir+string(filepath.Separator)) }
	closeIt := func(co *Checkout) {
		t.Helper()
		if err := co.Close(); err != nil {
			t.Fatal(err)
		}
	}

	first := kept(commits["main~1"])
	if !inSlot(first) || !strings.HasPrefix(first.Snapshots, dir) {
		t.Fatalf("checkout %s, snapshots %s: not kept under %s", first.Dir, first.Snapshots, dir)
	}
	mark(first)
	closeIt(first)

	again := kept(commits["main~1"])
	if again.Dir != first.Dir || !marked(again) {
		t.Errorf("the same commit was written again (%s, %s)", again.Dir, first.Dir)
	}
	// While held, the same commit goes to another slot.
	other := kept(commits["main~1"])
	if !inSlot(other) || other.Dir == again.Dir {
		t.Errorf("a held slot was used again: %s", other.Dir)
	}
	mark(other)
	// Every slot held: a temporary checkout, removed when closed.
	third, fourth := kept(commits["main"]), kept(commits["feature"])
	temp := kept(commits["extra"])
	if inSlot(temp) || temp.Snapshots != "" {
		t.Errorf("all slots held, yet %s (snapshots %q) is kept", temp.Dir, temp.Snapshots)
	}
	closeIt(temp)
	if _, err := os.Stat(temp.Dir); !os.IsNotExist(err) {
		t.Errorf("temporary checkout left behind: %v", err)
	}
	for _, co := range []*Checkout{again, other, third, fourth} {
		closeIt(co)
	}

	// All slots hold a commit: a fifth is written over the least recently
	// used (the first copy of main~1, last taken before the second was
	// written), and the second copy is still found.
	extra := kept(commits["extra"])
	if extra.Dir != first.Dir || marked(extra) {
		t.Errorf("the fifth commit went to %s, not over the least recently used slot %s", extra.Dir, first.Dir)
	}
	closeIt(extra)
	reused := kept(commits["main~1"])
	if reused.Dir != other.Dir || !marked(reused) {
		t.Errorf("main~1 was written again (%s) though %s holds it", reused.Dir, other.Dir)
	}
	closeIt(reused)

	// Line endings configured: the kept tree would be stale; it is written
	// again (and want, made now, has CRLF).
	if err := os.WriteFile(filepath.Join(repo, ".git", "info", "attributes"), []byte("*.txt eol=crlf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	crlf := kept(commits["main~1"])
	if got := readTree(t, crlf.Dir)["a/file.txt"]; got != "one\r\n" {
		t.Errorf("with eol=crlf the checkout holds %q", got)
	}
	mark(crlf)
	closeIt(crlf)
	if out, err := exec.Command("git", "-C", repo, "config", "core.autocrlf", "true").CombinedOutput(); err != nil {
		t.Fatalf("git config: %v\n%s", err, out)
	}
	autocrlf := kept(commits["main~1"])
	if marked(autocrlf) {
		t.Error("core.autocrlf changed, yet the kept checkout was used as it was")
	}
	closeIt(autocrlf)

	// A slot whose key was not written (a run stopped half-way) is not
	// used as it is.
	half := kept(commits["main"])
	mark(half)
	closeIt(half)
	if err := os.Remove(filepath.Join(filepath.Dir(half.Dir), "key")); err != nil {
		t.Fatal(err)
	}
	rewritten := kept(commits["main"])
	if marked(rewritten) {
		t.Error("a slot without its key was used as it was")
	}
	closeIt(rewritten)
}

// probe is the file TestCheckoutKept leaves in kept trees.
const probe = ".probe"
