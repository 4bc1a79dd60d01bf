package helm

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	ri "helm.sh/helm/v4/pkg/release"
)

// runInstall runs a client-only install and returns when it is done or ctx
// is. Helm's RunWithContext uses ctx only to wait for a cluster: a dry run
// renders every template without looking at it, and a big chart takes
// seconds. On cancellation the render goes on in the background until its
// end, as Helm's own RunWithContext lets an install proceed; nothing reads
// its result, and the process is on its way out.
func runInstall(ctx context.Context, install *action.Install, ch *chart.Chart, vals map[string]any) (ri.Releaser, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	type result struct {
		rel ri.Releaser
		err error
	}
	// Buffered: the goroutine never blocks on a caller that left.
	done := make(chan result, 1)
	go func() {
		var r result
		// A panic here is out of the caller's recover: it would end the
		// process, where it is this release's failure.
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("panic while rendering: %v", p)}
			}
			done <- r
		}()
		r.rel, r.err = install.RunWithContext(ctx, ch, vals)
	}()
	select {
	case r := <-done:
		return r.rel, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
