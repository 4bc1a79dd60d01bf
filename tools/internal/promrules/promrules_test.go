package promrules

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func rule(t *testing.T, groups string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\nspec:\n  groups:\n"+groups), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, groups, want string
	}{
		{name: "valid", groups: `  - name: g
    rules:
      - alert: High
        expr: sum by (rule) (rate(falcosecurity_falcosidekick_falco_events_total[5m])) > 0
        for: 5m
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.rule }} fired {{ $value }} times"}
      - record: job:up:sum
        expr: sum by (job) (up)
`},
		{name: "bad PromQL", groups: "  - name: g\n    rules:\n      - alert: A\n        expr: sum(rate(x[5m]) > 0\n", want: "parse error"},
		{name: "bad for", groups: "  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: five minutes\n", want: "five minutes"},
		{name: "bad annotation template", groups: "  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations: {summary: '{{ $labels.job '}\n", want: "annotation \"summary\""},
		{name: "alert and record", groups: "  - name: g\n    rules:\n      - alert: A\n        record: b\n        expr: up\n", want: "only one of 'record' and 'alert' must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(Check(rule(t, tt.groups)), "\n")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Check = %q, want a finding containing %q", got, tt.want)
			}
		})
	}
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
	if got := Check(other); got != nil {
		t.Errorf("a ConfigMap was checked: %v", got)
	}
}
