package revision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gofrs/flock"
)

// slots is how many checkouts a directory of kept checkouts holds: a
// diff's base and head, and the bases of the branches a developer moves
// between.
const slots = 4

// CheckoutKept is Checkout into one of a few slots under dir that outlive
// the run: a later call for the same commit finds the tree written (the
// usual case while a branch is worked on: every diff has the same base),
// and so does the render's snapshot of it, kept beside it (Checkout.
// Snapshots). A commit's tree is the same every time it is written, but for
// git's checkout filters and line endings: what configures them (the
// repository's configuration and info/attributes) is part of what a slot
// is matched by. A slot is held by its run (a lock); the least recently
// used free slot is written when none holds the commit, and a temporary
// checkout serves when every slot is held. The caller closes it, which
// frees the slot.
func (g Git) CheckoutKept(ctx context.Context, commit, dir string) (*Checkout, error) {
	key, err := g.checkoutKey(ctx, commit)
	if err != nil || os.MkdirAll(dir, 0o755) != nil {
		return g.Checkout(ctx, commit)
	}
	for _, s := range candidates(dir, key) {
		lock := flock.New(s.dir + ".lock")
		if ok, err := lock.TryLock(); err != nil || !ok {
			continue
		}
		co, err := g.fillSlot(ctx, s, key, commit)
		if err != nil {
			_ = lock.Unlock() // the slot is written again next time
			return nil, err
		}
		co.lock = lock
		return co, nil
	}
	return g.Checkout(ctx, commit)
}

// slot is one kept checkout: its directory, what it holds (the key of
// the checkout written in it, "" for none) and when it was last used.
type slot struct {
	dir  string
	key  string
	used time.Time
}

// candidates returns the slots in the order to try them: the one that
// holds key, then the others, least recently used first.
func candidates(dir, key string) []slot {
	var out []slot
	for i := range slots {
		s := slot{dir: filepath.Join(dir, fmt.Sprintf("slot-%d", i))}
		if data, err := os.ReadFile(filepath.Join(s.dir, "key")); err == nil {
			s.key = string(data)
			if fi, err := os.Stat(filepath.Join(s.dir, "key")); err == nil {
				s.used = fi.ModTime()
			}
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b slot) int {
		switch {
		case a.key == key && b.key != key:
			return -1
		case b.key == key && a.key != key:
			return 1
		}
		return a.used.Compare(b.used)
	})
	return out
}

// fillSlot returns the checkout s holds when it is key's, or writes
// commit's tree into it; the caller holds the slot's lock. Its key is
// read again under the lock (another run may have written the slot since
// candidates read it), written last and removed first: a run interrupted
// half-way leaves a slot that matches nothing.
func (g Git) fillSlot(ctx context.Context, s slot, key, commit string) (*Checkout, error) {
	co := &Checkout{Dir: filepath.Join(s.dir, "tree"), Commit: commit, Snapshots: filepath.Join(s.dir, "snapshots")}
	keyFile := filepath.Join(s.dir, "key")
	if held, err := os.ReadFile(keyFile); err == nil && string(held) == key {
		if fi, err := os.Stat(co.Dir); err == nil && fi.IsDir() {
			now := time.Now()
			_ = os.Chtimes(keyFile, now, now) // least recently used is a hint
			return co, nil
		}
	}
	if err := os.Remove(keyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.RemoveAll(co.Dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	if err := g.writeTree(ctx, commit, filepath.Join(s.dir, "index"), co.Dir); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, []byte(key), 0o644); err != nil {
		return nil, err
	}
	return co, nil
}

// checkoutKey is what a kept checkout of commit is matched by: the commit
// and what configures the checkout filters and line endings.
func (g Git) checkoutKey(ctx context.Context, commit string) (string, error) {
	gitDir, err := g.run(ctx, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return "", err
	}
	// Exit status 1 (no such variable set) is an empty answer.
	config, _ := g.run(ctx, "config", "--get-regexp", `^(core\.(autocrlf|eol|safecrlf|symlinks|checkroundtripencoding)|filter\.)`)
	attributes, err := os.ReadFile(filepath.Join(gitDir, "info", "attributes"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	h := sha256.New()
	for _, part := range []string{commit, config, string(attributes)} {
		fmt.Fprintf(h, "%d\x00%s", len(part), part)
	}
	return commit + " " + hex.EncodeToString(h.Sum(nil)), nil
}
