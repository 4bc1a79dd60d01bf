package memo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestDo: concurrent callers of one key run fn once and all get its
// result (error included); other keys run their own.
func TestDo(t *testing.T) {
	var m Map[string, int]
	var runs atomic.Int32
	boom := errors.New("boom")
	fn := func(v int, err error) func() (int, error) {
		return func() (int, error) {
			runs.Add(1)
			return v, err
		}
	}
	var wg sync.WaitGroup
	var sharedCount atomic.Int32
	for range 50 {
		wg.Go(func() {
			v, shared, err := m.Do("a", fn(1, nil))
			if v != 1 || err != nil {
				t.Errorf("Do(a) = %d, %v", v, err)
			}
			if shared {
				sharedCount.Add(1)
			}
		})
	}
	wg.Wait()
	if runs.Load() != 1 || sharedCount.Load() != 49 {
		t.Errorf("runs %d, shared %d; want 1 and 49", runs.Load(), sharedCount.Load())
	}
	for range 2 {
		if _, _, err := m.Do("b", fn(0, boom)); !errors.Is(err, boom) {
			t.Errorf("Do(b) err = %v, want boom", err)
		}
	}
	if runs.Load() != 2 {
		t.Errorf("runs %d, want 2 (an error is remembered too)", runs.Load())
	}
}
