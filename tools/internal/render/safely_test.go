package render

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestSafely: a panic in what a unit runs is an error of one line, and an
// error is passed through.
func TestSafely(t *testing.T) {
	err := safely(func() error {
		var objs []Object
		_ = objs[len(objs)] // panics: index out of range
		return nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "internal error (panic): ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v, want one line starting %q", err, "internal error (panic): ")
	}
	want := errors.New("plain")
	if got := safely(func() error { return want }); !errors.Is(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestCheckObjects: a unit holding an object with a Go int (what krusty's
// own decoder leaves) fails, naming the object and field, and hands out
// none of its objects; a JSON-typed unit is untouched.
func TestCheckObjects(t *testing.T) {
	bad := &Unit{File: "apps/ks.yaml", Objects: []Object{{Object: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"},
		"data": map[string]any{"n": 3},
	}}, Origin: Origin{File: "apps/cm.yaml"}}}}
	good := &Unit{Objects: []Object{{Object: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "y"},
		"spec": map[string]any{"n": int64(3), "f": 1.5, "l": []any{true, nil}},
	}}}}}
	run := newRun(New(Options{}), "clusters/test")
	run.cluster.Units = []*Unit{bad, good}
	run.checkObjects()
	if len(run.cluster.Errors) != 1 || !bad.Failed || bad.Objects != nil || good.Failed || len(good.Objects) != 1 {
		t.Fatalf("errors %v, bad failed %v with %d objects, good failed %v", run.cluster.Errors, bad.Failed, len(bad.Objects), good.Failed)
	}
	if got := run.cluster.Errors[0].Error(); !strings.Contains(got, "ConfigMap x (apps/cm.yaml): field .data.n holds a int") {
		t.Errorf("error %q", got)
	}
}
