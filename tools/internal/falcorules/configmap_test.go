package falcorules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func configMap(name string, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "falco"},
		"data":     data,
	}}
}

func TestFromConfigMap(t *testing.T) {
	rules := "# crAPI\n- required_engine_version: 0.31.0\n\n- macro: m\n  condition: proc.name = sh\n"
	broken := "- rule: x\n  desc: [unclosed\n"
	for _, tc := range []struct {
		name string
		obj  *unstructured.Unstructured
		want map[string][]byte
	}{
		{
			name: "rules ConfigMap",
			obj:  configMap("falco-rules", map[string]any{"crapi-rules.yaml": rules, "README.md": "- rule: not yaml key"}),
			want: map[string][]byte{"crapi-rules.yaml": []byte(rules)},
		},
		{
			name: "broken rule file still recognised",
			obj:  configMap("falco-rules", map[string]any{"b.yml": broken}),
			want: map[string][]byte{"b.yml": []byte(broken)},
		},
		{
			name: "falco.yaml is a mapping, not rules",
			obj:  configMap("falco", map[string]any{"falco.yaml": "rules_files:\n  - /etc/falco/falco_rules.yaml\n  - /etc/falco/rules.d\n"}),
		},
		{
			name: "a dashboard",
			obj:  configMap("dash", map[string]any{"d.json": "{}"}),
		},
		{
			name: "not a ConfigMap",
			obj: &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"},
				"stringData": map[string]any{"r.yaml": rules},
			}},
		},
		{name: "no data", obj: configMap("empty", nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := FromConfigMap(tc.obj)
			if ok != (tc.want != nil) {
				t.Fatalf("ok = %v", ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}
