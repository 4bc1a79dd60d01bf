// Package report is the one package that formats what the tool found, for
// people and files: the rendered YAML (as a stream or a directory tree);
// check runs (check, validate, policy) as text, Markdown, GitHub
// annotations, JUnit and SARIF; the revision diff and the live diff through
// one change renderer (fields, line diffs, notes); Markdown split into
// comment-sized parts under one policy; every verb's JSON in one versioned
// envelope (docs/json.md); and the summary lines on stderr.
package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/helm"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// marker is written into every directory tree WriteDir owns, so that a
// later run may replace it and never deletes a directory it did not write.
const marker = ".rendered-by-tools"

// WriteOptions tune how a render is written.
type WriteOptions struct {
	// ShowSecrets writes Secret values (masked otherwise).
	ShowSecrets bool
	// Cache keeps the YAML written by the objects' content (nil: none);
	// leave it nil when the objects hold what decryption produced or
	// ShowSecrets is set.
	Cache *diskcache.Cache
}

// WriteStream writes every cluster's objects as one multi-document YAML
// stream, each document headed by comments naming its cluster and origin.
// Nothing is written unless every object could be: the YAML is made
// first, then streamed out (not gathered into one buffer, whose doubling
// costs more than the writes on a large render).
func WriteStream(w io.Writer, clusters []*render.Cluster, opts WriteOptions) error {
	memo := newYAMLMemo(opts.Cache, clusters)
	objs := make([][]render.Object, len(clusters))
	docs := make([][][]byte, len(clusters))
	for i, c := range clusters {
		objs[i] = c.Objects()
		var err error
		if docs[i], err = marshalObjects(objs[i], opts, memo); err != nil {
			return err
		}
	}
	memo.save()
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, c := range clusters {
		if err := writeDocs(bw, c.Path, objs[i], docs[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// marshalObjects writes each object as YAML. Serialising YAML is most of
// the cost of writing a render: objects are marshalled in parallel, each
// into its slot.
func marshalObjects(objs []render.Object, opts WriteOptions, memo *yamlMemo) ([][]byte, error) {
	docs := make([][]byte, len(objs))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, o := range objs {
		g.Go(func() error {
			u := o.Object
			if !opts.ShowSecrets {
				u = secrets.MaskObject(u)
			}
			data, err := memo.marshal(u)
			if err != nil {
				return fmt.Errorf("%s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
			}
			docs[i] = data
			return nil
		})
	}
	return docs, g.Wait()
}

// writeDocs writes the YAML documents of objs in order, each headed by
// comments naming its cluster and origin.
func writeDocs(w io.Writer, cluster string, objs []render.Object, docs [][]byte) error {
	for i, o := range objs {
		head := "---\n# cluster: " + cluster + "\n# source: " + o.Origin.String() + "\n"
		if len(o.Origin.Random) > 0 {
			head += "# random: " + strings.Join(o.Origin.Random, ", ") + "\n"
		}
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		if _, err := w.Write(docs[i]); err != nil {
			return err
		}
	}
	return nil
}

// keptFrom is the size of its JSON from which an object's YAML is kept in
// a cache file of its own: go-yaml writes YAML about twelve times slower
// than JSON is written (and its emitter queues every event of a document,
// which makes the CustomResourceDefinitions charts ship, up to 600 kB
// each, the costliest of all), while hashing the JSON and reading a kept
// file costs a tenth of writing the YAML. Below a few kilobytes a file
// each would cost about what it saves (measured: 4 KiB beat 1 KiB and
// 16 KiB): those objects share one entry, the pack.
const keptFrom = 4 << 10

// yamlMemo writes objects as YAML, reusing what an earlier run wrote for
// the same content (object.Digest): a large object's YAML from a file of
// its own, a small one's from the pack of the clusters written. Secrets
// are never kept. A nil cache keeps nothing.
type yamlMemo struct {
	cache *diskcache.Cache
	pack  *diskcache.Pack
}

func newYAMLMemo(cache *diskcache.Cache, clusters []*render.Cluster) *yamlMemo {
	if cache == nil {
		return &yamlMemo{}
	}
	paths := make([]string, len(clusters))
	for i, c := range clusters {
		paths[i] = c.Path
	}
	key, err := diskcache.Key("yaml-pack", paths)
	if err != nil {
		return &yamlMemo{}
	}
	return &yamlMemo{cache: cache, pack: cache.Pack(key)}
}

// marshal writes u as YAML.
func (m *yamlMemo) marshal(u *unstructured.Unstructured) ([]byte, error) {
	if m.cache == nil || u.GetKind() == "Secret" {
		return object.MarshalYAML(u.Object)
	}
	digest, err := object.Digest(u.Object)
	if err != nil {
		return object.MarshalYAML(u.Object)
	}
	if object.LargerThan(u.Object, keptFrom) {
		return m.marshalLarge(u, digest)
	}
	if data, ok := m.pack.Get(digest); ok {
		return data, nil
	}
	data, err := object.MarshalYAML(u.Object)
	if err == nil {
		m.pack.Put(digest, data)
	}
	return data, err
}

func (m *yamlMemo) marshalLarge(u *unstructured.Unstructured, digest string) ([]byte, error) {
	key, err := diskcache.Key("yaml", digest)
	if err != nil {
		return object.MarshalYAML(u.Object)
	}
	if data, ok := m.cache.LookupBytes(key); ok {
		return data, nil
	}
	data, err := object.MarshalYAML(u.Object)
	if err == nil {
		_ = m.cache.StoreBytes(key, data) // written afresh next time is the worst outcome
	}
	return data, err
}

// save stores the pack (written afresh next time is the worst outcome).
func (m *yamlMemo) save() {
	if m.pack != nil {
		_ = m.pack.Save()
	}
}

// UnitPath is the stable path, under a cluster's directory, of the file
// holding one Flux object's output.
func UnitPath(u *render.Unit) string {
	ns := u.Ref.Namespace
	if ns == "" {
		ns = "_cluster"
	}
	return filepath.Join(strings.ToLower(u.Ref.Kind), ns, u.Ref.Name+".yaml")
}

// WriteDir writes one file per Flux Kustomization and HelmRelease under
// dir/<cluster path>/, replacing what an earlier run wrote there.
func WriteDir(dir string, clusters []*render.Cluster, opts WriteOptions) error {
	memo := newYAMLMemo(opts.Cache, clusters)
	defer memo.save()
	for _, c := range clusters {
		root := filepath.Join(dir, filepath.FromSlash(c.Path))
		if err := claim(root); err != nil {
			return err
		}
		for _, u := range c.Units {
			if len(u.Objects) == 0 {
				continue
			}
			docs, err := marshalObjects(u.Objects, opts, memo)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := writeDocs(&buf, c.Path, u.Objects, docs); err != nil {
				return err
			}
			p := filepath.Join(root, UnitPath(u))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// claim empties root if an earlier run wrote it, refuses a non-empty
// directory it did not write, and marks it as ours.
func claim(root string) error {
	entries, err := os.ReadDir(root)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case len(entries) == 0:
	default:
		if _, err := os.Stat(filepath.Join(root, marker)); err != nil {
			return fmt.Errorf("output directory %s is not empty and was not written by tools render: refusing to overwrite it", root)
		}
		if err := os.RemoveAll(root); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, marker), nil, 0o644)
}

// RenderSummary writes the one-line summary of a render run.
func RenderSummary(w io.Writer, clusters []*render.Cluster, stats helm.Stats, cacheHits, cacheMisses int64, elapsed time.Duration) {
	objects, kss, hrs, failed, skipped := 0, 0, 0, 0, 0
	for _, c := range clusters {
		for _, u := range c.Units {
			objects += len(u.Objects)
			switch u.Ref.Kind {
			case "Kustomization":
				kss++
			case "HelmRelease":
				hrs++
			}
			if u.Skipped != "" {
				skipped++
			}
		}
		failed += len(c.Errors)
	}
	status := "rendered"
	if failed > 0 {
		status = fmt.Sprintf("FAILED (%d errors):", failed)
	}
	fmt.Fprintf(w, "%s %s, %d objects from %s and %s (%d skipped) in %s; charts: %d local, %d cached, %d fetched, %d reused; render cache: %d hits, %d misses\n",
		status, plural(len(clusters), "cluster"), objects, plural(kss, "Kustomization"), plural(hrs, "HelmRelease"), skipped,
		elapsed.Round(time.Millisecond), stats.Local, stats.Cached, stats.Fetched, stats.Reused, cacheHits, cacheMisses)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Problems writes warnings and errors, one per line, each prefixed with its cluster.
func Problems(w io.Writer, clusters []*render.Cluster) {
	for _, c := range clusters {
		for _, m := range c.Warnings {
			fmt.Fprintf(w, "warning: %s: %s\n", c.Path, m)
		}
		for _, e := range c.Errors {
			fmt.Fprintf(w, "error: %s: %s\n", c.Path, e)
		}
	}
}
