package helm

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestMarkRandom(t *testing.T) {
	doc := func(m map[string]any) Doc { return Doc{Object: &unstructured.Unstructured{Object: m}} }
	a := []Doc{
		doc(map[string]any{"kind": "Secret", "data": map[string]any{"password": "abc", "tls.key": "k1", "user": "u"}}),
		doc(map[string]any{"kind": "Job", "spec": map[string]any{"args": []any{"--id", "1"}}}),
		doc(map[string]any{"kind": "ConfigMap", "data": map[string]any{"a": "same"}}),
	}
	// Helm does not keep the order of documents between renders.
	b := []Doc{
		doc(map[string]any{"kind": "ConfigMap", "data": map[string]any{"a": "same"}}),
		doc(map[string]any{"kind": "Job", "spec": map[string]any{"args": []any{"--id", "2"}}}),
		doc(map[string]any{"kind": "Secret", "data": map[string]any{"password": "xyz", "tls.key": "k2", "user": "u"}}),
	}
	if err := markRandom(a, b); err != nil {
		t.Fatal(err)
	}
	got := [][]string{a[0].Random, a[1].Random, a[2].Random}
	want := [][]string{{`data."tls.key"`, "data.password"}, {"spec.args[1]"}, nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("random paths (-want +got):\n%s", diff)
	}
	if err := markRandom(a, b[:1]); err == nil {
		t.Error("renders of different lengths were accepted")
	}
}
