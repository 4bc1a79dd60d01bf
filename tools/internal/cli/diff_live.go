package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/drift"
)

// liveOptions are the flags of `diff --live`, bound by the diff command.
type liveOptions struct {
	kubeconfig  string // path; "" means KUBECONFIG or ~/.kube/config
	context     string // kube context; "" means the current one
	format      string // text, json or markdown
	color       bool
	concurrency int // parallel dry-runs; < 1 means drift's default
	// diff holds the noise rules (--ignore, --no-ignore); nil means
	// diff.DefaultOptions().
	diff *diff.Options
}

// runLive compares one rendered cluster entry with the cluster the kube
// context points at: a server-side apply dry-run of every object with the
// field manager of the Flux controller that applies it, the live object,
// and the prune candidates. The caller has rendered and reported the render
// summary. Exit: 0 in sync, 1 drift, 2 error (an unreachable API server is
// an error, never "in sync").
func runLive(ctx context.Context, run *rendered, lo liveOptions, stdout, stderr io.Writer) error {
	if err := drift.CheckFormat(lo.format); err != nil {
		return &exitError{ExitError, err}
	}
	if run.failed() {
		// Objects of a unit that failed to render would show as prune
		// candidates: no live diff of a partial render.
		return &exitError{ExitError, errors.New("the render failed: no live diff of a partial render")}
	}
	if len(run.clusters) != 1 {
		return &exitError{ExitError, fmt.Errorf("--live compares one cluster entry with one cluster: give one PATH (got %d entries)", len(run.clusters))}
	}
	cfg, err := drift.LoadConfig(lo.kubeconfig, lo.context)
	if err != nil {
		return &exitError{ExitError, err}
	}
	opts := drift.DefaultOptions()
	if lo.concurrency > 0 {
		opts.Concurrency = lo.concurrency
	}
	if lo.diff != nil {
		opts.Diff = *lo.diff
	}
	// The run decodes thousands of objects in a burst: a higher GC target
	// trades memory (the heap may grow to five times the live data) for
	// CPU, which a local API server shares with us.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	p := newProgress(stderr)
	opts.Progress = p.update
	rep, err := drift.Check(ctx, cfg, run.clusters[0], opts)
	p.done()
	if err != nil {
		return &exitError{ExitError, err}
	}
	if err := rep.Write(stdout, lo.format, drift.WriteOptions{Color: lo.color}); err != nil {
		return &exitError{ExitError, fmt.Errorf("write output: %w", err)}
	}
	if rep.Drifted() {
		return failed{ExitFindings}
	}
	return nil
}

// progress writes a self-overwriting "checked n/total" line on stderr when
// stderr is a terminal, at most every 100 ms; otherwise nothing.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex // update is called from the drift workers
	last  time.Time
	shown bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) update(done, total int) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if done < total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\rlive diff: %d/%d objects", done, total)
	p.shown = true
}

func (p *progress) done() {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		// Clear the line so the report starts on a clean one.
		fmt.Fprint(p.w, "\r\033[K")
	}
}
