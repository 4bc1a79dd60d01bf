package diskcache

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Pack keeps many small values in one entry, read whole once and written
// whole when it changed: for values too small to be worth a file each
// (reading one costs about what computing it again does). What a run did
// not use is dropped when it saves, so the pack follows the input. Its
// methods are safe for concurrent use; a Pack of a nil Cache keeps
// nothing.
type Pack struct {
	c   *Cache
	key string
	old map[string][]byte

	mu      sync.Mutex
	used    map[string][]byte
	changed bool
}

// Pack reads the pack stored under key; a missing or damaged one is empty.
func (c *Cache) Pack(key string) *Pack {
	p := &Pack{c: c, key: key, used: map[string][]byte{}}
	if data, ok := c.LookupBytes(key); ok {
		p.old = unpack(data)
	}
	return p
}

// Get returns the value of k.
func (p *Pack) Get(k string) ([]byte, bool) {
	v, ok := p.old[k]
	if ok {
		p.mu.Lock()
		p.used[k] = v
		p.mu.Unlock()
	}
	return v, ok
}

// Put sets the value of k, a key of Key's alphabet.
func (p *Pack) Put(k string, v []byte) {
	if p.c == nil || strings.ContainsAny(k, " \n") {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.used[k] = v
	p.changed = true
}

// Save stores what this run got and put, when it differs from what was
// read. Failing to is not worth failing a run for: the values are made
// again next time.
func (p *Pack) Save() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.c == nil || (!p.changed && len(p.used) == len(p.old)) {
		return nil
	}
	var b bytes.Buffer
	for _, k := range slices.Sorted(maps.Keys(p.used)) {
		fmt.Fprintf(&b, "%s %d\n", k, len(p.used[k]))
		b.Write(p.used[k])
	}
	return p.c.StoreBytes(p.key, b.Bytes())
}

// unpack reads what Save wrote: for each value, its key, a space, its
// length and a newline, then the value. A damaged pack reads as empty. The
// values share data's memory.
func unpack(data []byte) map[string][]byte {
	out := map[string][]byte{}
	for len(data) > 0 {
		line, rest, ok := bytes.Cut(data, []byte("\n"))
		k, size, ok2 := strings.Cut(string(line), " ")
		n, err := strconv.Atoi(size)
		if !ok || !ok2 || err != nil || n < 0 || n > len(rest) {
			return map[string][]byte{}
		}
		out[k] = rest[:n:n]
		data = rest[n:]
	}
	return out
}
