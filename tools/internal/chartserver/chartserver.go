// Package chartserver serves Helm charts as a real HTTP Helm repository on
// loopback, for tests.
//
// Charts are packaged from source directories with Helm's own packaging code
// and indexed with Helm's repo package, so what a test downloads is what
// `helm package` and `helm repo index` would have produced.
package chartserver

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/provenance"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// IndexPath is the URL path the repository index is served at.
const IndexPath = "/index.yaml"

// Options change how a Server builds its index and serves requests.
// The zero value gives absolute chart URLs and no authentication.
type Options struct {
	// RelativeURLs writes chart URLs in index.yaml relative to the index
	// ("demo-app-1.0.0.tgz"), as some real repositories do, instead of
	// absolute URLs of the server.
	RelativeURLs bool
	// BasicAuth, when set, makes the server reject with 401 every request
	// that does not carry these credentials.
	BasicAuth *BasicAuth
}

// BasicAuth is a username and password for HTTP basic authentication.
type BasicAuth struct {
	Username string
	Password string
}

// Server is a Helm chart repository listening on 127.0.0.1.
type Server struct {
	srv   *httptest.Server
	auth  *BasicAuth
	files map[string][]byte // URL path -> body; written before the server starts, read-only after.

	mu       sync.Mutex // guards requests: handlers run on one goroutine per connection.
	requests map[string]int
}

// Start packages each chart source directory and serves the charts with an
// index.yaml holding absolute chart URLs. The server is closed when the test
// ends.
func Start(t testing.TB, chartDirs ...string) *Server {
	t.Helper()
	return StartWithOptions(t, Options{}, chartDirs...)
}

// StartWithOptions is Start with options for the index and authentication.
func StartWithOptions(t testing.TB, opts Options, chartDirs ...string) *Server {
	t.Helper()

	// Listen before building the index: absolute chart URLs need the address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("chartserver: listen on loopback: %v", err)
	}
	s := &Server{
		auth:     opts.BasicAuth,
		requests: map[string]int{},
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	_ = srv.Listener.Close() // replaced by l, which is already bound
	srv.Listener = l
	s.srv = srv
	t.Cleanup(s.Close)

	baseURL := "http://" + l.Addr().String()
	if opts.RelativeURLs {
		baseURL = ""
	}
	files, err := build(t.TempDir(), baseURL, chartDirs)
	if err != nil {
		t.Fatalf("chartserver: %v", err)
	}
	s.files = files
	srv.Start()
	return s
}

// URL returns the repository URL, without a trailing slash.
func (s *Server) URL() string {
	return s.srv.URL
}

// Requests returns how many requests the server received for the URL path,
// such as "/index.yaml" or "/demo-app-1.0.0.tgz", including requests it
// rejected or could not find.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Close shuts the server down. It is registered with t.Cleanup, and calling it
// again is harmless.
func (s *Server) Close() {
	s.srv.Close()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	s.mu.Unlock()

	if s.auth != nil {
		user, pass, ok := r.BasicAuth()
		if !ok || !equal(user, s.auth.Username) || !equal(pass, s.auth.Password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="chartserver"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if strings.HasSuffix(r.URL.Path, ".tgz") {
		w.Header().Set("Content-Type", "application/gzip")
	} else {
		w.Header().Set("Content-Type", "application/x-yaml")
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// build packages every chart directory into tmp and returns the files to
// serve, keyed by URL path. An empty baseURL gives relative chart URLs.
func build(tmp, baseURL string, chartDirs []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	index := repo.NewIndexFile()
	for _, dir := range chartDirs {
		// LoadDir honors .helmignore and loads vendored charts/ as
		// dependencies, which Save writes back under charts/: the same path
		// as `helm package`.
		c, err := loader.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("load chart %s: %w", dir, err)
		}
		archive, err := chartutil.Save(c, tmp)
		if err != nil {
			return nil, fmt.Errorf("package chart %s: %w", dir, err)
		}
		name := filepath.Base(archive)
		if _, dup := files["/"+name]; dup {
			return nil, fmt.Errorf("package chart %s: %s already packaged from another directory", dir, name)
		}
		body, err := os.ReadFile(archive)
		if err != nil {
			return nil, fmt.Errorf("read chart archive %s: %w", archive, err)
		}
		digest, err := provenance.DigestFile(archive)
		if err != nil {
			return nil, fmt.Errorf("digest chart archive %s: %w", archive, err)
		}
		if err := index.MustAdd(c.Metadata, name, baseURL, digest); err != nil {
			return nil, fmt.Errorf("index chart %s: %w", dir, err)
		}
		files["/"+name] = body
	}
	index.SortEntries()

	// Write with Helm's own serializer, as `helm repo index` does.
	indexFile := filepath.Join(tmp, "index.yaml")
	if err := index.WriteFile(indexFile, 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", indexFile, err)
	}
	body, err := os.ReadFile(indexFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", indexFile, err)
	}
	files[IndexPath] = body
	return files, nil
}

// TestCharts returns the directory of the small charts the tool's tests
// serve, copy and render (demo-app at three versions, demo-db, demo-lib).
func TestCharts() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("chartserver: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "testdata", "charts")
}
