package helm

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/aks-gitops/platform/tools/internal/nettest"
	"github.com/aks-gitops/platform/tools/internal/source"
)

// TestChartsFetchErrors resolves charts from repositories that accept and
// never answer, or refuse: each is a FetchError naming the URL, a silent
// one after the timeout.
func TestChartsFetchErrors(t *testing.T) {
	silent, _ := nettest.Silent(t)
	refused := nettest.Refused(t)
	tests := []struct {
		name    string
		repo    string
		wantURL string
		wantErr string
		timeout bool
	}{
		{name: "silent index", repo: "http://" + silent, wantURL: "http://" + silent + "/index.yaml", wantErr: "no answer within 500ms", timeout: true},
		{name: "silent OCI registry", repo: "oci://" + silent + "/charts", wantURL: "oci://" + silent + "/charts/demo-app", wantErr: "no answer within 500ms", timeout: true},
		{name: "refused", repo: "http://" + refused, wantURL: "http://" + refused + "/index.yaml", wantErr: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCharts(ChartOptions{CacheDir: t.TempDir(), Timeout: 500 * time.Millisecond})
			_, err := c.FromRepository(context.Background(), tt.repo, "demo-app", "1.0.0")
			var fe *FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FetchError", err)
			}
			var te *source.TimeoutError
			if fe.URL != tt.wantURL || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &te) != tt.timeout {
				t.Errorf("err = %v (URL %q), want URL %q, %q, timeout %v", err, fe.URL, tt.wantURL, tt.wantErr, tt.timeout)
			}
		})
	}
}

// TestChartsFetchCancelled cancels the run while a repository keeps
// silent: the error is the cancellation, not the repository's fault.
func TestChartsFetchCancelled(t *testing.T) {
	silent, accepted := nettest.Silent(t)
	c := NewCharts(ChartOptions{CacheDir: t.TempDir(), Timeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-accepted
		cancel()
	}()
	_, err := c.FromRepository(ctx, "http://"+silent, "demo-app", "1.0.0")
	var fe *FetchError
	if !errors.Is(err, context.Canceled) || errors.As(err, &fe) {
		t.Errorf("err = %v, want context.Canceled and no FetchError", err)
	}
}

// blockingPostRenderer holds the render until released, as a big chart's
// templates hold it: Helm's dry run does not look at its context meanwhile.
type blockingPostRenderer struct {
	started chan struct{}
	release chan struct{}
}

func (p *blockingPostRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	close(p.started)
	<-p.release
	return in, nil
}

// TestTemplateCancelled cancels a render in progress: Template returns the
// cancellation without waiting for Helm.
func TestTemplateCancelled(t *testing.T) {
	ch, err := loader.LoadDir(filepath.Join(testCharts, "demo-app-1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	pr := &blockingPostRenderer{started: make(chan struct{}), release: make(chan struct{})}
	defer close(pr.release) // let the abandoned render end
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-pr.started
		cancel()
	}()
	_, err = Template(ctx, ch, Release{Name: "web", Namespace: "apps", PostRenderer: pr})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
