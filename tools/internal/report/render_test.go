package report

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/object"
)

// TestMarshalYAMLKept checks the YAML kept by content: what is read back
// is what go-yaml writes, a large object's YAML is kept and then read (not
// written again), and neither small objects nor Secrets are kept.
func TestMarshalYAMLKept(t *testing.T) {
	dir := t.TempDir()
	cache := diskcache.New(dir)
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
		return out
	}
	large := obj("ConfigMap", keptFrom)
	want, err := object.MarshalYAML(large.Object)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []string{"cold", "warm"} {
		got, err := marshalYAML(large, cache)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: got %q (%v), want %q", run, got, err, want)
		}
	}
	kept := files()
	if len(kept) != 1 {
		t.Fatalf("kept files: %v, want one", kept)
	}
	if err := diskcache.WriteFile(kept[0], []byte("kept: true\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := marshalYAML(large, cache); string(got) != "kept: true\n" {
		t.Fatalf("the kept YAML was not used: %q", got)
	}

	for _, u := range []*unstructured.Unstructured{obj("ConfigMap", keptFrom/4), obj("Secret", 2*keptFrom)} {
		got, err := marshalYAML(u, cache)
		if want, _ := object.MarshalYAML(u.Object); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: got %q (%v), want %q", u.GetKind(), got, err, want)
		}
	}
	if n := len(files()); n != 1 {
		t.Errorf("%d files kept, want 1: a small object or a Secret was kept", n)
	}
}
