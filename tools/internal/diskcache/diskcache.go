// Package diskcache holds the tool's on-disk caches: files written
// atomically (downloaded charts, indexes) and a store of JSON entries keyed
// by a hash of every input that produced them (what each Flux Kustomization
// and HelmRelease rendered to), so unchanged work is not done again. A
// corrupt or unreadable entry is a miss, never an error.
package diskcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	kjson "sigs.k8s.io/json"
)

// format changes whenever the meaning of an entry changes.
const format = "render-cache-v3"

// Cache is a directory of entries. A nil *Cache caches nothing.
type Cache struct {
	dir          string
	hits, misses atomic.Int64
}

// New returns a cache in dir.
func New(dir string) *Cache {
	return &Cache{dir: dir}
}

// Key hashes the tool's own identity and parts (JSON-encoded) into a key.
func Key(parts ...any) (string, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range append([]any{format, toolIdentity()}, parts...) {
		if err := enc.Encode(p); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// toolIdentity changes with every build of the tool, so that a new build
// never trusts what an older one rendered.
var toolIdentity = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return exe
	}
	return fmt.Sprintf("%s|%d|%s", exe, fi.Size(), fi.ModTime().UTC().Format(time.RFC3339Nano))
})

func (c *Cache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

// bytesPath is where the raw entry for key lives (see StoreBytes).
func (c *Cache) bytesPath(key string) string {
	return filepath.Join(c.dir, key[:2], key+".bin")
}

// Load decodes the entry for key into v and reports whether there was one
// that every valid check (run after decoding) accepts.
func (c *Cache) Load(key string, v any, valid ...func() bool) bool {
	if c == nil {
		return false
	}
	data, err := os.ReadFile(c.path(key))
	ok := err == nil && decode(data, v) == nil
	for _, check := range valid {
		ok = ok && check()
	}
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return ok
}

// Lookup is Load for auxiliary entries: it does not count as a hit or a
// miss of the render.
func (c *Cache) Lookup(key string, v any) bool {
	if c == nil {
		return false
	}
	data, err := os.ReadFile(c.path(key))
	return err == nil && decode(data, v) == nil
}

// LookupBytes returns the raw auxiliary entry StoreBytes wrote for key.
func (c *Cache) LookupBytes(key string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	data, err := os.ReadFile(c.bytesPath(key))
	return data, err == nil
}

// StoreBytes writes data as the raw auxiliary entry for key: what is kept
// is used as is, with no decoding (rendered YAML).
func (c *Cache) StoreBytes(key string, data []byte) error {
	if c == nil {
		return nil
	}
	return WriteFile(c.bytesPath(key), data)
}

// decode decodes an entry as the API server decodes JSON: a whole number
// in an untyped field is an int64 (not a float64, which would lose digits
// past 2^53), anything else a float64 — the types a fresh render holds,
// so a cached render is the same render.
func decode(data []byte, v any) error {
	return kjson.UnmarshalCaseSensitivePreserveInts(data, v)
}

// Store writes v as the entry for key. Failing to cache is not an error
// worth failing a render for; it is returned for the caller to ignore or log.
func (c *Cache) Store(key string, v any) error {
	if c == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WriteFile(c.path(key), data)
}

// WriteFile writes data to p through a temporary file and a rename, so a
// reader never sees a partial file, creating the directory as needed.
func WriteFile(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // the write error is the one to report
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// variants is how many entries LoadVariant keeps under one key: a diff's
// base and head, and the revisions a developer switches between.
const variants = 4

// variant is one entry under a key: the dependencies it was made from
// and the identity (a hash of them) of the file that holds it.
type variant[D any] struct {
	ID   string `json:"id"`
	Deps D      `json:"deps"`
}

// variantLocks serialises the updates of one key's variant list in this
// process (a diff stores both sides of a unit at once); another process
// racing on the same key can only lose a variant, a later miss.
var variantLocks sync.Map

// LoadVariant is Load for entries whose validity is decided by
// dependencies outside the key (files a build read, recorded as it ran):
// key holds up to four variants, newest first, each with its deps, and the
// first that fresh accepts is decoded into v, then checked as Load checks
// it. Two checkouts that differ in such a file (a diff's base and head)
// each keep their own entry instead of replacing each other's.
func LoadVariant[D any](c *Cache, key string, v any, fresh func(D) bool, valid ...func() bool) bool {
	if c == nil {
		return false
	}
	var list []variant[D]
	if c.Lookup(key, &list) {
		for _, e := range list {
			if fresh(e.Deps) {
				return c.Load(key+"-"+e.ID, v, valid...)
			}
		}
	}
	c.misses.Add(1)
	return false
}

// StoreVariant writes v as the variant of key made from deps, first in
// the key's list; the oldest beyond four is forgotten.
func StoreVariant[D any](c *Cache, key string, deps D, v any) error {
	if c == nil {
		return nil
	}
	id, err := Key(deps)
	if err != nil {
		return err
	}
	if err := c.Store(key+"-"+id, v); err != nil {
		return err
	}
	mu, _ := variantLocks.LoadOrStore(key, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	var list []variant[D]
	c.Lookup(key, &list)
	list = slices.DeleteFunc(list, func(e variant[D]) bool { return e.ID == id })
	list = append([]variant[D]{{ID: id, Deps: deps}}, list...)
	if len(list) > variants {
		os.Remove(c.path(key + "-" + list[variants].ID))
		list = list[:variants]
	}
	return c.Store(key, list)
}

// Stats returns hits and misses so far.
func (c *Cache) Stats() (hits, misses int64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}
