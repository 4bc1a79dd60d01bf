package diskcache

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestVariants: one key keeps the variants of its four latest dependency
// sets, each found by the freshness check that accepts it; a fifth
// forgets the oldest (its file removed too), and storing a known set again
// makes it the newest.
func TestVariants(t *testing.T) {
	dir := t.TempDir()
	c := New(dir)
	key, err := Key("unit")
	if err != nil {
		t.Fatal(err)
	}
	load := func(deps string) (string, bool) {
		var got string
		ok := LoadVariant(c, key, &got, func(d string) bool { return d == deps })
		return got, ok
	}
	for i := range 4 {
		if err := StoreVariant(c, key, fmt.Sprint("deps", i), fmt.Sprint("result", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if got, ok := load(fmt.Sprint("deps", i)); !ok || got != fmt.Sprint("result", i) {
			t.Errorf("deps%d: %q, %v", i, got, ok)
		}
	}
	if _, ok := load("other"); ok {
		t.Error("a dependency set never stored was served")
	}
	// deps0 again: the newest, so deps1 is the oldest when a fifth comes.
	if err := StoreVariant(c, key, "deps0", "result0"); err != nil {
		t.Fatal(err)
	}
	if err := StoreVariant(c, key, "deps4", "result4"); err != nil {
		t.Fatal(err)
	}
	for deps, want := range map[string]bool{"deps0": true, "deps1": false, "deps2": true, "deps3": true, "deps4": true} {
		if _, ok := load(deps); ok != want {
			t.Errorf("%s kept: %v, want %v", deps, ok, want)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, key[:2], key+"*.json"))
	if err != nil || len(files) != 5 {
		t.Errorf("%d files for the key (the list and four variants), want 5: %v", len(files), files)
	}
	if hits, misses := c.Stats(); hits != 8 || misses != 2 {
		t.Errorf("stats %d hits, %d misses; want 8, 2", hits, misses)
	}
	// A nil cache keeps nothing.
	if err := StoreVariant[string](nil, key, "d", "v"); err != nil || LoadVariant(nil, key, new(string), func(string) bool { return true }) {
		t.Error("a nil cache stored or served a variant")
	}
}
