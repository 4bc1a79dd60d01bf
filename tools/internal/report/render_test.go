package report

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// TestMarshalYAMLKept checks the YAML kept by content: what is read back
// is what go-yaml writes; a large object's YAML is kept in a file of its
// own and small objects' in the pack, and both are then read, not written
// again; a Secret is never kept; a damaged pack is written afresh.
func TestMarshalYAMLKept(t *testing.T) {
	dir := t.TempDir()
	cache := diskcache.New(dir)
	clusters := []*render.Cluster{{Path: "clusters/a"}}
	obj := func(kind string, size int) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": "x"},
			"data": map[string]any{"big": strings.Repeat("long line of text ", size/18), "n": int64(3)},
		}}
	}
	files := func() []string {
		var out []string
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
		slices.Sort(out)
		return out
	}
	// marshal writes every object with a memo of its own (one run) and
	// wants go-yaml's YAML, or the YAML planted for it.
	marshal := func(run string, planted map[*unstructured.Unstructured]string, us ...*unstructured.Unstructured) {
		t.Helper()
		memo := newYAMLMemo(cache, clusters)
		for _, u := range us {
			got, err := memo.marshal(u)
			want, _ := object.MarshalYAML(u.Object)
			if p, ok := planted[u]; ok {
				want = []byte(p)
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: %s: got %q (%v), want %q", run, u.GetKind(), got, err, want)
			}
		}
		memo.save()
	}
	large, small, secret := obj("ConfigMap", keptFrom), obj("ConfigMap", keptFrom/4), obj("Secret", keptFrom/4)
	marshal("cold", nil, large, small, secret)
	marshal("warm", nil, large, small, secret)
	kept := files()
	if len(kept) != 2 {
		t.Fatalf("kept files: %v, want two: the large object's and the pack", kept)
	}
	digest := func(u *unstructured.Unstructured) string {
		d, err := object.Digest(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	packKey, err := diskcache.Key("yaml-pack", []string{"clusters/a"})
	if err != nil {
		t.Fatal(err)
	}
	pk := kept[0]
	if data, _ := os.ReadFile(pk); !bytes.HasPrefix(data, []byte(digest(small)+" ")) {
		pk = kept[1]
	}
	p := cache.Pack(packKey)
	if _, ok := p.Get(digest(small)); !ok {
		t.Fatal("the small object's YAML is not in the pack")
	}
	if _, ok := p.Get(digest(secret)); ok {
		t.Fatal("a Secret's YAML is in the pack")
	}

	// Plant other YAML: it is what is written.
	for _, f := range kept {
		if f != pk {
			if err := diskcache.WriteFile(f, []byte("kept: true\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	p = cache.Pack(packKey)
	p.Put(digest(small), []byte("packed: true\n"))
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	marshal("planted", map[*unstructured.Unstructured]string{large: "kept: true\n", small: "packed: true\n"}, large, small, secret)

	if err := diskcache.WriteFile(pk, []byte(digest(small)+" 99999\ntruncated")); err != nil {
		t.Fatal(err)
	}
	marshal("damaged pack", map[*unstructured.Unstructured]string{large: "kept: true\n"}, large, small)
	if _, ok := cache.Pack(packKey).Get(digest(small)); !ok {
		t.Fatal("the damaged pack was not written afresh")
	}
}
