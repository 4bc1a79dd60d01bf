package helm

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/aks-gitops/platform/tools/internal/chartserver"
)

var testCharts = chartserver.TestCharts()

// TestChartsLocalArchives finds charts packaged as .tgz in the local
// directory, picks the highest version a constraint allows, and resolves a
// dependency the chart does not vendor from the same directory.
func TestChartsLocalArchives(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"demo-app-1.0.0", "demo-app-1.2.0", "demo-app-2.0.0", "demo-lib-0.1.0"} {
		ch, err := loader.LoadDir(filepath.Join(testCharts, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chartutil.Save(ch, dir); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCharts(ChartOptions{Dir: dir, CacheDir: t.TempDir(), Offline: true})
	tests := []struct {
		constraint, want string
	}{
		{constraint: "1.x", want: "1.2.0"},
		{constraint: "~1.0.0", want: "1.0.0"},
		{constraint: "*", want: "2.0.0"},
	}
	for _, tt := range tests {
		ch, err := c.FromRepository(context.Background(), "https://charts.invalid", "demo-app", tt.constraint)
		if err != nil {
			t.Fatalf("%s: %v", tt.constraint, err)
		}
		if ch.Version != tt.want || !strings.HasSuffix(ch.From, ".tgz") {
			t.Errorf("%s: got %s from %s, want %s from a .tgz", tt.constraint, ch.Version, ch.From, tt.want)
		}
		if tt.want == "2.0.0" && len(ch.Chart.Dependencies()) != 1 {
			t.Errorf("2.0.0: dependency demo-lib not resolved from the local directory")
		}
	}
	if s := c.Stats(); s.Local != 3 || s.Fetched != 0 {
		t.Errorf("stats = %+v, want 3 local, 0 fetched", s)
	}
}

// TestChartsRepository resolves constraints against a real HTTP repository,
// downloads once, and serves the same version from the cache afterwards.
func TestChartsRepository(t *testing.T) {
	srv := chartserver.StartWithOptions(t, chartserver.Options{RelativeURLs: true},
		filepath.Join(testCharts, "demo-app-1.0.0"), filepath.Join(testCharts, "demo-app-1.2.0"))
	cache := t.TempDir()
	ctx := context.Background()
	c := NewCharts(ChartOptions{CacheDir: cache})
	ch, err := c.FromRepository(ctx, srv.URL(), "demo-app", "<1.1")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Version != "1.0.0" || ch.From != srv.URL()+"/demo-app-1.0.0.tgz" {
		t.Errorf("got %s from %s", ch.Version, ch.From)
	}
	// A new run, offline: the index and the chart come from the cache.
	c = NewCharts(ChartOptions{CacheDir: cache, Offline: true})
	if ch, err = c.FromRepository(ctx, srv.URL(), "demo-app", "<1.1"); err != nil || ch.From != "cache" {
		t.Fatalf("offline from cache: %v, %+v", err, ch)
	}
	if n := srv.Requests("/demo-app-1.0.0.tgz"); n != 1 {
		t.Errorf("chart downloaded %d times, want 1", n)
	}
	// A version never downloaded is not available offline.
	_, err = c.FromRepository(ctx, srv.URL(), "demo-app", "1.2.0")
	if !errors.Is(err, ErrOffline) {
		t.Errorf("offline miss: err = %v, want ErrOffline", err)
	}
}

// TestCopyChartIsolated checks that a copy handed to an install can be
// mutated (as dependency processing does) without touching the original.
func TestCopyChartIsolated(t *testing.T) {
	c := NewCharts(ChartOptions{Dir: testCharts, Offline: true, CacheDir: t.TempDir()})
	ch, err := c.FromRepository(context.Background(), "https://charts.invalid", "demo-app", "1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	enabled := ch.Chart.Metadata.Dependencies[0].Enabled
	cp := ch.Copy()
	cp.Values["replicas"] = 99
	cp.Metadata.Dependencies[0].Enabled = !enabled
	cp.SetDependencies()
	if got := ch.Chart.Values["replicas"]; got == 99 {
		t.Errorf("values of the original changed: replicas = %v", got)
	}
	if ch.Chart.Metadata.Dependencies[0].Enabled != enabled {
		t.Errorf("dependency metadata of the original changed")
	}
	if len(ch.Chart.Dependencies()) != 1 {
		t.Errorf("dependencies of the original changed: %d", len(ch.Chart.Dependencies()))
	}
}
