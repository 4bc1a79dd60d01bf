// Package memo runs a function once per key and shares its result: the one
// memoiser behind the tool's per-run caches (charts, indexes, sources,
// compiled schemas).
package memo

import "sync"

// Map runs a function once per key; concurrent callers of one key wait for
// the first and get its result. The zero Map is ready to use. A Map belongs
// to the run that made it: results live as long as the Map does.
type Map[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]func() (V, error)
}

// Do returns fn's result for key, running fn only for the first caller of
// key. shared says the result came from an earlier call.
func (m *Map[K, V]) Do(key K, fn func() (V, error)) (v V, shared bool, err error) {
	m.mu.Lock()
	run, shared := m.m[key]
	if !shared {
		if m.m == nil {
			m.m = map[K]func() (V, error){}
		}
		run = sync.OnceValues(fn)
		m.m[key] = run
	}
	m.mu.Unlock()
	v, err = run()
	return v, shared, err
}
