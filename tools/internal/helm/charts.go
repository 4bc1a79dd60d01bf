// Package helm renders HelmReleases as helm-controller does, with the Helm v4
// SDK: charts resolved from local copies, an on-disk cache or HTTP Helm
// repositories, values merged with fluxcd/pkg/chartutil, templates rendered
// by a client-only install, and Flux's post-renderers applied.
package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Masterminds/semver/v3"
	fluxchartutil "github.com/fluxcd/pkg/chartutil"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/memo"
	"github.com/aks-gitops/platform/tools/internal/oci"
	"github.com/aks-gitops/platform/tools/internal/source"
)

// ChartOptions says where charts come from.
type ChartOptions struct {
	// Dir holds local chart copies (directories or .tgz), looked up by the
	// name and version in their Chart.yaml before any network.
	Dir string
	// CacheDir keeps downloaded charts and repository indexes.
	CacheDir string
	// Offline forbids any network access.
	Offline bool
	// Timeout bounds each network fetch (an index, a chart, an OCI pull);
	// zero means DefaultTimeout.
	Timeout time.Duration
	// Client is the HTTP client for chart repositories (default: one whose
	// dial, TLS handshake and response headers are bounded by Timeout).
	Client *http.Client
}

// DefaultTimeout is source-controller's default for fetching a
// HelmRepository's index or chart.
const DefaultTimeout = 60 * time.Second

// FetchError is a chart repository or registry that could not be reached,
// did not answer in time or answered with an error: the chart is not
// available from the network.
type FetchError struct {
	// URL is what was fetched: an index, a chart archive or an OCI
	// repository.
	URL string
	Err error
}

func (e *FetchError) Error() string { return fmt.Sprintf("fetch %s: %v", e.URL, e.Err) }
func (e *FetchError) Unwrap() error { return e.Err }

// ErrOffline is returned when a chart is needed from the network in offline mode.
var ErrOffline = errors.New("not available offline")

// Chart is a resolved chart. Chart must not be modified: use Copy.
type Chart struct {
	Chart   *chart.Chart
	Name    string
	Version string
	// From says where it was found: a local path, "cache" or a URL.
	From string
	// Digest identifies the chart's content, dependencies included.
	Digest string
	// Archive is the .tgz the chart was loaded from, as its repository
	// served it (in the cache, the local charts or a fetched OCI
	// artifact); "" for a chart directory.
	Archive string
}

// Copy returns a chart safe to hand to one Helm install, which mutates the
// chart while processing dependencies.
func (c *Chart) Copy() *chart.Chart { return copyChart(c.Chart) }

// Stats counts chart resolutions in one run.
type Stats struct {
	Local, Cached, Fetched, Reused int64
}

// Charts resolves and loads charts, each at most once per run.
type Charts struct {
	opts ChartOptions

	localOnce sync.Once
	local     []localChart
	localErr  error

	charts  memo.Map[string, *Chart]
	indexes memo.Map[string, *repo.IndexFile]

	localHits, cached, fetched, reused atomic.Int64
}

// NewCharts returns a chart resolver.
func NewCharts(opts ChartOptions) *Charts {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Transport: transport(opts.Timeout)}
	}
	return &Charts{opts: opts}
}

// Stats returns the resolution counters.
func (c *Charts) Stats() Stats {
	return Stats{Local: c.localHits.Load(), Cached: c.cached.Load(), Fetched: c.fetched.Load(), Reused: c.reused.Load()}
}

// FromRepository resolves chart name at version (a semver constraint, "" or
// "*" for the latest) from the HTTP Helm repository at repoURL.
func (c *Charts) FromRepository(ctx context.Context, repoURL, name, version string) (*Chart, error) {
	if version == "" {
		version = "*"
	}
	ch, reused, err := c.charts.Do(repoURL+"\x00"+name+"\x00"+version, func() (*Chart, error) {
		return c.fromRepository(ctx, repoURL, name, version)
	})
	if reused && err == nil {
		c.reused.Add(1)
	}
	return ch, err
}

// FromPath loads the chart at p: a directory (a chart in a Git source) or
// an archive (a chart pulled through an OCIRepository).
func (c *Charts) FromPath(ctx context.Context, dir string) (*Chart, error) {
	ch, reused, err := c.charts.Do("dir\x00"+dir, func() (*Chart, error) {
		c.localHits.Add(1)
		return c.load(ctx, dir, filepath.Base(dir), "", dir)
	})
	if reused && err == nil {
		c.reused.Add(1)
	}
	return ch, err
}

func (c *Charts) fromRepository(ctx context.Context, repoURL, name, version string) (*Chart, error) {
	constraint, err := semver.NewConstraint(version)
	if err != nil {
		return nil, fmt.Errorf("chart %s: invalid version %q: %w", name, version, err)
	}
	if lc, err := c.findLocal(name, constraint); err != nil {
		return nil, err
	} else if lc != nil {
		c.localHits.Add(1)
		return c.load(ctx, lc.path, name, lc.version.Original(), lc.path)
	}
	cacheDir := c.repoCacheDir(repoURL)
	exact, exactErr := semver.StrictNewVersion(version)
	if exactErr == nil {
		p := filepath.Join(cacheDir, fmt.Sprintf("%s-%s.tgz", name, exact.Original()))
		if _, err := os.Stat(p); err == nil {
			c.cached.Add(1)
			return c.load(ctx, p, name, exact.Original(), "cache")
		}
	}
	if strings.HasPrefix(repoURL, "oci://") {
		ref := oci.Ref{SemVer: version}
		if exactErr == nil {
			// Helm stores a version's "+" as "_" in OCI tags.
			ref = oci.Ref{Tag: strings.ReplaceAll(exact.Original(), "+", "_")}
		}
		return c.fromOCI(ctx, repoURL, name, ref)
	}
	idx, err := c.index(ctx, repoURL)
	if err != nil {
		return nil, err
	}
	cv, err := idx.Get(name, version)
	if err != nil {
		return nil, fmt.Errorf("chart %s version %q not found in %s: %w", name, version, repoURL, err)
	}
	p := filepath.Join(cacheDir, fmt.Sprintf("%s-%s.tgz", name, cv.Version))
	if _, err := os.Stat(p); err == nil {
		c.cached.Add(1)
		return c.load(ctx, p, name, cv.Version, "cache")
	}
	if c.opts.Offline {
		return nil, fmt.Errorf("chart %s-%s from %s: %w (not in the local charts or the cache)", name, cv.Version, repoURL, ErrOffline)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart %s-%s in %s has no download URL", name, cv.Version, repoURL)
	}
	u, err := repo.ResolveReferenceURL(repoURL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart %s-%s: %w", name, cv.Version, err)
	}
	data, err := c.get(ctx, u)
	if err != nil {
		return nil, err
	}
	if cv.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != cv.Digest {
			return nil, fmt.Errorf("chart %s: digest %s does not match the index (%s)", u, got, cv.Digest)
		}
	}
	if err := diskcache.WriteFile(p, data); err != nil {
		return nil, fmt.Errorf("cache chart: %w", err)
	}
	c.fetched.Add(1)
	return c.load(ctx, p, name, cv.Version, u)
}

// fromOCI pulls a chart from an OCI HelmRepository (charts at <url>/<name>,
// versions as tags) into the cache.
func (c *Charts) fromOCI(ctx context.Context, repoURL, name string, ref oci.Ref) (*Chart, error) {
	what := fmt.Sprintf("chart %s %s%s from %s", name, ref.Tag, ref.SemVer, repoURL)
	if c.opts.Offline {
		// No index to ask: the highest cached version that satisfies the
		// constraint stands in for the registry's tag list.
		if p, version := c.cachedVersion(repoURL, name, ref.SemVer); p != "" {
			c.cached.Add(1)
			return c.load(ctx, p, name, version, "cache")
		}
		return nil, fmt.Errorf("%s: %w (not in the local charts or the cache)", what, ErrOffline)
	}
	u := strings.TrimSuffix(repoURL, "/") + "/" + name
	var layer *oci.Layer
	err := c.fetch(ctx, u, func(ctx context.Context) (err error) {
		layer, err = oci.Pull(ctx, u, ref, oci.HelmChartMediaType, false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	version := strings.ReplaceAll(layer.Tag, "_", "+")
	p := filepath.Join(c.repoCacheDir(repoURL), fmt.Sprintf("%s-%s.tgz", name, version))
	if err := diskcache.WriteFile(p, layer.Data); err != nil {
		return nil, fmt.Errorf("cache chart: %w", err)
	}
	c.fetched.Add(1)
	return c.load(ctx, p, name, version, repoURL+"/"+name+":"+layer.Tag)
}

// cachedVersion returns the cached archive of name with the highest version
// satisfying constraint ("" when there is none).
func (c *Charts) cachedVersion(repoURL, name, constraint string) (string, string) {
	cons, err := semver.NewConstraint(constraint)
	if constraint == "" || err != nil {
		return "", ""
	}
	paths, _ := filepath.Glob(filepath.Join(c.repoCacheDir(repoURL), name+"-*.tgz"))
	var best *semver.Version
	bestPath := ""
	for _, p := range paths {
		v, err := semver.NewVersion(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), name+"-"), ".tgz"))
		if err == nil && cons.Check(v) && (best == nil || v.GreaterThan(best)) {
			best, bestPath = v, p
		}
	}
	if best == nil {
		return "", ""
	}
	return bestPath, best.Original()
}

// index returns the repository index, fetched once per run (or read from
// the cache when offline).
func (c *Charts) index(ctx context.Context, repoURL string) (*repo.IndexFile, error) {
	idx, _, err := c.indexes.Do(repoURL, func() (*repo.IndexFile, error) {
		p := filepath.Join(c.repoCacheDir(repoURL), "index.yaml")
		if c.opts.Offline {
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("index of %s: %w (not in the cache)", repoURL, ErrOffline)
			}
			return loadIndex(p, repoURL)
		}
		u, err := url.JoinPath(repoURL, "index.yaml")
		if err != nil {
			return nil, fmt.Errorf("repository URL %q: %w", repoURL, err)
		}
		data, err := c.get(ctx, u)
		if err != nil {
			return nil, err
		}
		if err := diskcache.WriteFile(p, data); err != nil {
			return nil, fmt.Errorf("cache index: %w", err)
		}
		return loadIndex(p, repoURL)
	})
	return idx, err
}

func loadIndex(p, repoURL string) (*repo.IndexFile, error) {
	idx, err := repo.LoadIndexFile(p)
	if err != nil {
		return nil, fmt.Errorf("index of %s: %w", repoURL, err)
	}
	idx.SortEntries()
	return idx, nil
}

// get downloads u, within the timeout.
func (c *Charts) get(ctx context.Context, u string) (data []byte, _ error) {
	return data, c.fetch(ctx, u, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := c.opts.Client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		data, err = io.ReadAll(resp.Body)
		return err
	})
}

// fetch runs one network fetch of u bounded by the timeout. Its failure is
// a FetchError, unless ctx itself ended (an interrupted run is not a
// repository's fault): then it is ctx's cause.
func (c *Charts) fetch(ctx context.Context, u string, do func(context.Context) error) error {
	timeout := &source.TimeoutError{After: c.opts.Timeout}
	fctx, cancel := context.WithTimeoutCause(ctx, c.opts.Timeout, timeout)
	defer cancel()
	err := do(fctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case errors.Is(context.Cause(fctx), timeout), isTimeout(err):
		// The transport's own bounds equal the timeout and may fire first.
		err = timeout
	default:
		// The URL is the FetchError's to name.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
	}
	return &FetchError{URL: u, Err: err}
}

// isTimeout says err is a network wait that ran out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// transport is http.DefaultTransport with every wait of a request bounded:
// a server that accepts and never answers fails in timeout, not never.
func transport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	t.DialContext = dialer.DialContext
	t.TLSHandshakeTimeout = timeout
	t.ResponseHeaderTimeout = timeout
	return t
}

func (c *Charts) repoCacheDir(repoURL string) string {
	sum := sha256.Sum256([]byte(strings.TrimSuffix(repoURL, "/")))
	return filepath.Join(c.opts.CacheDir, "charts", hex.EncodeToString(sum[:8]))
}

// load loads a chart (directory or archive) and resolves dependencies that
// it does not vendor from the local chart directory.
func (c *Charts) load(ctx context.Context, p, name, version, from string) (*Chart, error) {
	ch, err := loader.Load(p)
	if err != nil {
		return nil, fmt.Errorf("load chart %s-%s from %s: %w", name, version, from, err)
	}
	dir, archive := "", p
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		dir, archive = p, ""
	}
	if err := c.resolveDependencies(ctx, ch, dir); err != nil {
		return nil, fmt.Errorf("chart %s-%s: %w", ch.Name(), ch.Metadata.Version, err)
	}
	return &Chart{Chart: ch, Name: ch.Name(), Version: ch.Metadata.Version, From: from, Digest: digest(ch), Archive: archive}, nil
}

// digest hashes every file of a chart and the digests of its dependencies.
func digest(ch *chart.Chart) string {
	h := sha256.New()
	files := append([]*common.File(nil), ch.Raw...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	deps := ch.Dependencies()
	names := make([]string, 0, len(deps))
	for _, d := range deps {
		names = append(names, d.Name()+"\x00"+digest(d))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "dep\x00%s\x00", n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// resolveDependencies builds the dependencies named in Chart.yaml that the
// chart's charts/ folder lacks, as source-controller's dependency build
// does: a file:// repository relative to the chart directory (dir, when the
// chart is a directory), else the local chart directory, else the chart
// repository named in Chart.yaml.
func (c *Charts) resolveDependencies(ctx context.Context, ch *chart.Chart, dir string) error {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
		if err := c.resolveDependencies(ctx, d, ""); err != nil {
			return err
		}
	}
	for _, dep := range ch.Metadata.Dependencies {
		if have[dep.Name] {
			continue
		}
		sub, err := c.dependency(ctx, dep, dir)
		if err != nil {
			return err
		}
		ch.AddDependency(sub)
		have[dep.Name] = true
	}
	return nil
}

func (c *Charts) dependency(ctx context.Context, dep *chart.Dependency, dir string) (*chart.Chart, error) {
	version := orStar(dep.Version)
	constraint, err := semver.NewConstraint(version)
	if err != nil {
		return nil, fmt.Errorf("dependency %s: invalid version %q: %w", dep.Name, dep.Version, err)
	}
	if rel, ok := strings.CutPrefix(dep.Repository, "file://"); ok && dir != "" && exists(filepath.Join(dir, filepath.FromSlash(rel))) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		sub, err := loader.Load(p)
		if err != nil {
			return nil, fmt.Errorf("dependency %s from %s: %w", dep.Name, dep.Repository, err)
		}
		return sub, c.resolveDependencies(ctx, sub, p)
	}
	lc, err := c.findLocal(dep.Name, constraint)
	if err != nil {
		return nil, err
	}
	if lc != nil {
		sub, err := loader.Load(lc.path)
		if err != nil {
			return nil, fmt.Errorf("load dependency %s: %w", lc.path, err)
		}
		return sub, c.resolveDependencies(ctx, sub, lc.dir())
	}
	if strings.HasPrefix(dep.Repository, "https://") || strings.HasPrefix(dep.Repository, "http://") || strings.HasPrefix(dep.Repository, "oci://") {
		repoChart, err := c.FromRepository(ctx, dep.Repository, dep.Name, version)
		if err != nil {
			return nil, fmt.Errorf("dependency %s: %w", dep.Name, err)
		}
		return copyChart(repoChart.Chart), nil
	}
	where := "its charts/ folder"
	if c.opts.Dir != "" {
		where += " or " + c.opts.Dir
	}
	return nil, fmt.Errorf("dependency %s %s not found in %s (repository %q)", dep.Name, version, where, dep.Repository)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func orStar(v string) string {
	if v == "" {
		return "*"
	}
	return v
}

type localChart struct {
	name    string
	version *semver.Version
	path    string
}

// dir is the chart's directory, or "" for an archive.
func (lc *localChart) dir() string {
	if strings.HasSuffix(lc.path, ".tgz") {
		return ""
	}
	return lc.path
}

// findLocal returns the highest version of name in the local chart directory
// that satisfies constraint.
func (c *Charts) findLocal(name string, constraint *semver.Constraints) (*localChart, error) {
	if c.opts.Dir == "" {
		return nil, nil
	}
	c.localOnce.Do(func() { c.local, c.localErr = scanLocal(c.opts.Dir) })
	if c.localErr != nil {
		return nil, c.localErr
	}
	for i := range c.local {
		lc := &c.local[i]
		if lc.name == name && constraint.Check(lc.version) {
			return lc, nil
		}
	}
	return nil, nil
}

// scanLocal lists the charts in dir: every directory holding a Chart.yaml (at
// any depth) and every .tgz, sorted by name then version descending.
func scanLocal(dir string) ([]localChart, error) {
	var out []localChart
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			data, err := os.ReadFile(filepath.Join(p, "Chart.yaml"))
			if errors.Is(err, os.ErrNotExist) {
				return nil
			} else if err != nil {
				return err
			}
			var md chart.Metadata
			if err := yaml.Unmarshal(data, &md); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(p, "Chart.yaml"), err)
			}
			if err := addLocal(&out, md.Name, md.Version, p); err != nil {
				return err
			}
			return filepath.SkipDir
		case strings.HasSuffix(p, ".tgz"):
			ch, err := loader.LoadFile(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			return addLocal(&out, ch.Metadata.Name, ch.Metadata.Version, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan chart directory %s: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		if !out[i].version.Equal(out[j].version) {
			return out[i].version.GreaterThan(out[j].version)
		}
		return out[i].path < out[j].path
	})
	return out, nil
}

func addLocal(out *[]localChart, name, version, p string) error {
	v, err := semver.NewVersion(version)
	if err != nil {
		return fmt.Errorf("%s: chart version %q: %w", p, version, err)
	}
	*out = append(*out, localChart{name: name, version: v, path: p})
	return nil
}

// copyChart copies the parts of a chart that an install mutates (metadata,
// dependency list, values) and shares the immutable files.
func copyChart(in *chart.Chart) *chart.Chart {
	out := *in
	if in.Metadata != nil {
		md := *in.Metadata
		md.Dependencies = make([]*chart.Dependency, len(in.Metadata.Dependencies))
		for i, d := range in.Metadata.Dependencies {
			dc := *d
			md.Dependencies[i] = &dc
		}
		out.Metadata = &md
	}
	if in.Values != nil {
		out.Values = copyValue(in.Values).(map[string]any)
	}
	deps := make([]*chart.Chart, 0, len(in.Dependencies()))
	for _, d := range in.Dependencies() {
		deps = append(deps, copyChart(d))
	}
	out.SetDependencies(deps...)
	return &out
}

func copyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = copyValue(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = copyValue(e)
		}
		return s
	default:
		return v
	}
}

// WithValuesFiles returns the chart with its default values replaced by the
// merge of files, in order, as source-controller packages a HelmChart with
// spec.valuesFiles (values.yaml counts only when listed). Paths are relative
// to root when the chart comes from a Git source, else to the chart itself.
func (c *Chart) WithValuesFiles(files []string, ignoreMissing bool, root string) (*Chart, error) {
	merged := map[string]any{}
	for _, f := range files {
		data, err := c.valuesFile(f, root)
		if errors.Is(err, os.ErrNotExist) && ignoreMissing {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("valuesFiles %s: %w", f, err)
		}
		vals, err := common.ReadValues(data)
		if err != nil {
			return nil, fmt.Errorf("valuesFiles %s: %w", f, err)
		}
		merged = fluxchartutil.MergeMaps(merged, vals)
	}
	out := *c
	out.Chart = copyChart(c.Chart)
	out.Chart.Values = merged
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\x00%q\x00", c.Digest, files)
	if err := json.NewEncoder(sum).Encode(merged); err != nil {
		return nil, err
	}
	out.Digest = hex.EncodeToString(sum.Sum(nil))
	return &out, nil
}

func (c *Chart) valuesFile(name, root string) ([]byte, error) {
	if root != "" {
		return os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	}
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	for _, f := range c.Chart.Raw {
		if f.Name == clean {
			return f.Data, nil
		}
	}
	return nil, fmt.Errorf("not in chart %s-%s: %w", c.Name, c.Version, os.ErrNotExist)
}
