package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"k8s.io/client-go/rest"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/drift"
	"github.com/aks-gitops/platform/tools/internal/report"
)

// liveOptions are the flags of `diff --live`, bound by the diff command.
type liveOptions struct {
	kubeconfig  string // path; "" means KUBECONFIG or ~/.kube/config
	context     string // kube context; "" means the current one
	format      string // one of report.ChangeFormats
	write       report.ChangeOptions
	markdownDir string // also the Markdown parts, one file each
	concurrency int    // parallel dry-runs; < 1 means drift's default
	// requestTimeout bounds each API request (0: drift's default);
	// timeout bounds the whole comparison (0: none).
	requestTimeout, timeout time.Duration
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
func runLive(ctx context.Context, run *rendered, cfg *rest.Config, lo liveOptions, stdout, stderr io.Writer) error {
	if run.failed() {
		// Objects of a unit that failed to render would show as prune
		// candidates: no live diff of a partial render.
		return errors.New("the render failed: no live diff of a partial render")
	}
	opts := drift.DefaultOptions()
	if lo.concurrency > 0 {
		opts.Concurrency = lo.concurrency
	}
	if lo.requestTimeout > 0 {
		// Every request, the first reachability check included.
		cfg = rest.CopyConfig(cfg)
		cfg.Timeout = lo.requestTimeout
		opts.RequestTimeout = lo.requestTimeout
	}
	if lo.diff != nil {
		opts.Diff = *lo.diff
	}
	if lo.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lo.timeout)
		defer cancel()
	}
	p := newProgress(stderr)
	opts.Progress = p.update
	rep, err := drift.Check(ctx, cfg, run.clusters[0], opts)
	p.done()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return fmt.Errorf("live diff: not done within --live-timeout %s: %w", lo.timeout, err)
	}
	if err != nil {
		return err
	}
	if err := report.Drift(stdout, lo.format, rep, lo.write); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if lo.markdownDir != "" {
		// Named apart from the revision diff of the same entry.
		name := "live/" + rep.Cluster
		c := comment{file: name, name: "diff:" + name, parts: report.DriftParts(rep, 0, lo.write)}
		if err := writeMarkdownDir(lo.markdownDir, []comment{c}); err != nil {
			return err
		}
	}
	if rep.Drifted() {
		return failed{ExitFindings}
	}
	return nil
}
