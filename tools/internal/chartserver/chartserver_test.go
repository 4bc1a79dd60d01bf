package chartserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/getter"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// chartsDir holds the charts written for the renderer's tests; they double as
// this package's fixtures.
var chartsDir = TestCharts()

func chartDir(name string) string { return filepath.Join(chartsDir, name) }

// get fetches url and returns the status code and body.
func get(t *testing.T, url string, auth *BasicAuth) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		req.SetBasicAuth(auth.Username, auth.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, body
}

// loadIndex parses an index.yaml body with Helm's repo package.
func loadIndex(t *testing.T, body []byte) *repo.IndexFile {
	t.Helper()
	f := filepath.Join(t.TempDir(), "index.yaml")
	if err := os.WriteFile(f, body, 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := repo.LoadIndexFile(f)
	if err != nil {
		t.Fatalf("load index: %v", err)
	}
	return idx
}

type indexEntry struct {
	Version string
	URLs    []string
}

func entries(idx *repo.IndexFile) map[string][]indexEntry {
	got := map[string][]indexEntry{}
	for name, versions := range idx.Entries {
		for _, v := range versions {
			got[name] = append(got[name], indexEntry{Version: v.Version, URLs: v.URLs})
		}
	}
	return got
}

func dependencyNames(c *chart.Chart) []string {
	var names []string
	for _, d := range c.Dependencies() {
		names = append(names, d.Name()+"-"+d.Metadata.Version)
	}
	sort.Strings(names)
	return names
}

func TestServeIndexAndCharts(t *testing.T) {
	srv := Start(t,
		chartDir("demo-app-1.0.0"),
		chartDir("demo-app-1.2.0"),
		chartDir("demo-app-2.0.0"),
		chartDir("demo-db-0.3.0"),
	)
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want a loopback http URL", srv.URL())
	}

	code, body := get(t, srv.URL()+"/index.yaml", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /index.yaml: status %d", code)
	}
	idx := loadIndex(t, body)

	want := map[string][]indexEntry{
		"demo-app": {
			{Version: "2.0.0", URLs: []string{srv.URL() + "/demo-app-2.0.0.tgz"}},
			{Version: "1.2.0", URLs: []string{srv.URL() + "/demo-app-1.2.0.tgz"}},
			{Version: "1.0.0", URLs: []string{srv.URL() + "/demo-app-1.0.0.tgz"}},
		},
		"demo-db": {
			{Version: "0.3.0", URLs: []string{srv.URL() + "/demo-db-0.3.0.tgz"}},
		},
	}
	if diff := cmp.Diff(want, entries(idx)); diff != "" {
		t.Errorf("index entries (-want +got):\n%s", diff)
	}

	tests := []struct {
		name     string
		version  string
		wantDeps []string
	}{
		{name: "demo-app", version: "1.0.0"},
		// The vendored library chart must survive packaging.
		{name: "demo-app", version: "1.2.0", wantDeps: []string{"demo-lib-0.1.0"}},
		// Declared but not vendored: the archive carries no dependency.
		{name: "demo-app", version: "2.0.0"},
		{name: "demo-db", version: "0.3.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"-"+tt.version, func(t *testing.T) {
			cv, err := idx.Get(tt.name, tt.version)
			if err != nil {
				t.Fatalf("index: %v", err)
			}
			code, archive := get(t, cv.URLs[0], nil)
			if code != http.StatusOK {
				t.Fatalf("GET %s: status %d", cv.URLs[0], code)
			}
			sum := sha256.Sum256(archive)
			if got := hex.EncodeToString(sum[:]); got != cv.Digest {
				t.Errorf("digest of %s = %s, index says %s", cv.URLs[0], got, cv.Digest)
			}
			c, err := loader.LoadArchive(bytes.NewReader(archive))
			if err != nil {
				t.Fatalf("load %s: %v", cv.URLs[0], err)
			}
			if c.Name() != tt.name || c.Metadata.Version != tt.version {
				t.Errorf("archive holds %s %s, want %s %s", c.Name(), c.Metadata.Version, tt.name, tt.version)
			}
			if diff := cmp.Diff(tt.wantDeps, dependencyNames(c)); diff != "" {
				t.Errorf("dependencies (-want +got):\n%s", diff)
			}
		})
	}

	for path, want := range map[string]int{
		"/index.yaml":         1,
		"/demo-app-1.0.0.tgz": 1,
		"/demo-app-1.2.0.tgz": 1,
		"/demo-db-0.3.0.tgz":  1,
		"/missing.tgz":        0,
	} {
		if got := srv.Requests(path); got != want {
			t.Errorf("Requests(%q) = %d, want %d", path, got, want)
		}
	}
	if code, _ := get(t, srv.URL()+"/missing.tgz", nil); code != http.StatusNotFound {
		t.Errorf("GET /missing.tgz: status %d, want 404", code)
	}
	if got := srv.Requests("/missing.tgz"); got != 1 {
		t.Errorf("Requests(/missing.tgz) after a 404 = %d, want 1", got)
	}
}

func TestRequestsConcurrent(t *testing.T) {
	srv := Start(t, chartDir("demo-db-0.3.0"))
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := http.Get(srv.URL() + "/index.yaml")
			if err != nil {
				t.Errorf("get index: %v", err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if got := srv.Requests("/index.yaml"); got != n {
		t.Errorf("Requests(/index.yaml) = %d, want %d", got, n)
	}
}

// TestHelmClient drives the server with Helm's own repository client, the way
// `helm pull --repo` finds and downloads a chart.
func TestHelmClient(t *testing.T) {
	auth := &BasicAuth{Username: "user", Password: "pass"}
	tests := []struct {
		name        string
		opts        Options
		wantIndexed func(srvURL string) string
	}{
		{
			name:        "absolute URLs",
			opts:        Options{BasicAuth: auth},
			wantIndexed: func(srvURL string) string { return srvURL + "/demo-app-1.2.0.tgz" },
		},
		{
			name:        "relative URLs",
			opts:        Options{RelativeURLs: true, BasicAuth: auth},
			wantIndexed: func(string) string { return "demo-app-1.2.0.tgz" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// FindChartInRepoURL caches the index under HELM_CACHE_HOME.
			t.Setenv("HELM_CACHE_HOME", t.TempDir())
			srv := StartWithOptions(t, tt.opts, chartDir("demo-app-1.0.0"), chartDir("demo-app-1.2.0"))

			_, body := get(t, srv.URL()+"/index.yaml", auth)
			cv, err := loadIndex(t, body).Get("demo-app", "1.2.0")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.wantIndexed(srv.URL())}, cv.URLs); diff != "" {
				t.Errorf("indexed URLs (-want +got):\n%s", diff)
			}

			getters := getter.Getters()
			chartURL, err := repo.FindChartInRepoURL(srv.URL(), "demo-app", getters,
				repo.WithChartVersion("1.2.0"),
				repo.WithUsernamePassword(auth.Username, auth.Password))
			if err != nil {
				t.Fatalf("find chart: %v", err)
			}
			if want := srv.URL() + "/demo-app-1.2.0.tgz"; chartURL != want {
				t.Errorf("chart URL = %q, want %q", chartURL, want)
			}
			g, err := getters.ByScheme("http")
			if err != nil {
				t.Fatal(err)
			}
			buf, err := g.Get(chartURL, getter.WithURL(srv.URL()), getter.WithBasicAuth(auth.Username, auth.Password))
			if err != nil {
				t.Fatalf("download %s: %v", chartURL, err)
			}
			c, err := loader.LoadArchive(buf)
			if err != nil {
				t.Fatalf("load %s: %v", chartURL, err)
			}
			if diff := cmp.Diff([]string{"demo-lib-0.1.0"}, dependencyNames(c)); diff != "" {
				t.Errorf("dependencies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	srv := StartWithOptions(t, Options{BasicAuth: &BasicAuth{Username: "user", Password: "pass"}}, chartDir("demo-db-0.3.0"))
	tests := []struct {
		name     string
		auth     *BasicAuth
		wantCode int
	}{
		{name: "no credentials", wantCode: http.StatusUnauthorized},
		{name: "wrong password", auth: &BasicAuth{Username: "user", Password: "nope"}, wantCode: http.StatusUnauthorized},
		{name: "wrong username", auth: &BasicAuth{Username: "admin", Password: "pass"}, wantCode: http.StatusUnauthorized},
		{name: "right credentials", auth: &BasicAuth{Username: "user", Password: "pass"}, wantCode: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/index.yaml", "/demo-db-0.3.0.tgz"} {
				if code, _ := get(t, srv.URL()+path, tt.auth); code != tt.wantCode {
					t.Errorf("GET %s: status %d, want %d", path, code, tt.wantCode)
				}
			}
		})
	}
	// Rejected requests count too: a client that retries without credentials shows up.
	if got := srv.Requests("/index.yaml"); got != len(tests) {
		t.Errorf("Requests(/index.yaml) = %d, want %d", got, len(tests))
	}

	// Helm's client surfaces the 401 as an error.
	t.Setenv("HELM_CACHE_HOME", t.TempDir())
	if _, err := repo.FindChartInRepoURL(srv.URL(), "demo-db", getter.Getters()); err == nil {
		t.Error("FindChartInRepoURL without credentials: got no error")
	}
}

func TestCloseStopsServing(t *testing.T) {
	srv := Start(t, chartDir("demo-db-0.3.0"))
	srv.Close()
	srv.Close() // again, as t.Cleanup will
	if resp, err := http.Get(srv.URL() + "/index.yaml"); err == nil {
		resp.Body.Close()
		t.Error("GET after Close: got no error")
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name      string
		dirs      []string
		wantInErr string
	}{
		{
			name:      "missing directory",
			dirs:      []string{chartDir("no-such-chart")},
			wantInErr: "load chart " + chartDir("no-such-chart"),
		},
		{
			name:      "same chart twice",
			dirs:      []string{chartDir("demo-db-0.3.0"), chartDir("demo-db-0.3.0")},
			wantInErr: "demo-db-0.3.0.tgz already packaged",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(t.TempDir(), "", tt.dirs)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("build() error = %v, want one containing %q", err, tt.wantInErr)
			}
		})
	}
}
