package diskcache

import "testing"

// TestPack stores values, reads them back in another run, drops what a run
// did not use, reads a damaged pack as empty and keeps nothing without a
// cache.
func TestPack(t *testing.T) {
	c := New(t.TempDir())
	p := c.Pack("k0")
	p.Put("a", []byte("one\n"))
	p.Put("b", []byte(""))
	p.Put("bad key", []byte("x"))
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	p = c.Pack("k0")
	if v, ok := p.Get("a"); !ok || string(v) != "one\n" {
		t.Fatalf("a: %q %v", v, ok)
	}
	if _, ok := p.Get("bad key"); ok {
		t.Fatal("a key with a space was kept")
	}
	if err := p.Save(); err != nil { // b unused: dropped
		t.Fatal(err)
	}
	p = c.Pack("k0")
	if _, ok := p.Get("b"); ok {
		t.Fatal("an unused value survived a save")
	}
	if _, ok := p.Get("a"); !ok {
		t.Fatal("a used value was dropped")
	}

	if err := WriteFile(c.bytesPath("k0"), []byte("a 99\nshort")); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Pack("k0").Get("a"); ok {
		t.Fatal("a damaged pack was read")
	}

	var none *Cache
	p = none.Pack("k0")
	p.Put("a", []byte("x"))
	if _, ok := p.Get("a"); ok {
		t.Fatal("a pack without a cache kept a value")
	}
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
}
