package dashboards

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func cm(name string, labelled bool, data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": data}}
	u.SetNamespace("monitoring")
	u.SetName(name)
	if labelled {
		u.SetLabels(map[string]string{Label: "1"})
	}
	return u
}

func TestCheck(t *testing.T) {
	objs := []*unstructured.Unstructured{
		cm("a", true, map[string]any{"falco.json": `{"uid": "falco", "title": "Falco"}`, "README.md": "not a dashboard"}),
		cm("b", true, map[string]any{"broken.json": `{"uid": "x", "title": `, "dup.json": `{"uid": "falco", "title": "Copy"}`, "untitled.json": `{"uid": "u"}`}),
		cm("c", false, map[string]any{"ignored.json": `not json, not a dashboard ConfigMap`}),
	}
	var got []string
	for _, f := range Check(objs) {
		got = append(got, f.Object.GetName()+": "+f.Message)
	}
	want := []string{
		"b: dashboard broken.json is not valid JSON: unexpected end of JSON input",
		`b: dashboard dup.json has uid "falco", already used by monitoring/a[falco.json]`,
		"b: dashboard untitled.json has no title",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
