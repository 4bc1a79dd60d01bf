// Package promrules checks the PrometheusRule objects of a render with
// Prometheus's own rule-file parser (model/rulefmt, promql/parser): every
// expression parses as PromQL, `for` and `keep_firing_for` are durations,
// label names are valid and label and annotation templates parse — what the
// Prometheus Operator would otherwise only report in a log once deployed.
package promrules

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Check returns one message per problem in a PrometheusRule (nil for any
// other object).
func Check(u *unstructured.Unstructured) []string {
	if u.GetKind() != "PrometheusRule" || u.GroupVersionKind().Group != "monitoring.coreos.com" {
		return nil
	}
	groups, found, err := unstructured.NestedFieldNoCopy(u.Object, "spec", "groups")
	if err != nil || !found {
		return nil // the CRD schema check reports a missing or odd spec
	}
	data, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		return []string{err.Error()}
	}
	// Unknown fields are the CRD schema's to report (the operator's rule
	// groups carry fields rulefmt does not know, such as partial_response_strategy).
	_, errs := rulefmt.Parse(data, true, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, strings.Join(strings.Fields(fmt.Sprint(e)), " "))
	}
	return out
}
