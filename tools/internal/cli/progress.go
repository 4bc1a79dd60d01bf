package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress is a self-overwriting status line on stderr, written only when
// stderr is a terminal, once the run has taken half a second, and at most
// every 100 ms; done clears it so the report starts on a clean line. Safe
// for concurrent use (workers report through it).
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	mu    sync.Mutex
	last  time.Time
	shown bool
	// what is the last set; stop ends the ticker that refreshes it.
	what string
	stop chan struct{}
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd())), start: time.Now()}
}

// set shows what runs now, with the time since the start, refreshed while
// it runs (a cold render can take a while).
func (p *progress) set(what string) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	p.what = what
	if p.stop == nil {
		p.stop = make(chan struct{})
		go p.tick(p.stop)
	}
	p.mu.Unlock()
	p.show(false, p.status)
}

func (p *progress) status() string {
	return fmt.Sprintf("%s… %s", p.what, time.Since(p.start).Round(100*time.Millisecond))
}

func (p *progress) tick(stop chan struct{}) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.show(false, p.status)
		}
	}
}

// update shows how many objects of total are done.
func (p *progress) update(done, total int) {
	p.show(done == total, func() string { return fmt.Sprintf("live diff: %d/%d objects", done, total) })
}

func (p *progress) show(force bool, line func() string) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.start) < 500*time.Millisecond || (!force && now.Sub(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = now
	fmt.Fprint(p.w, "\r\033[K"+line())
	p.shown = true
}

// done clears the line and stops refreshing it; a later set starts again.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
