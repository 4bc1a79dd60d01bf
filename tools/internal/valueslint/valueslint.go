// Package valueslint finds HelmRelease values keys that the chart does not
// define. Helm ignores such a key silently — a typo in `values` or in a
// valuesFrom document changes nothing and nobody is told — so every key set
// must exist in the chart's default values (or a sub-chart's, under its
// name or alias), except below keys that hold free-form maps.
package valueslint

import (
	"fmt"
	"sort"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// FreeForm are key names whose values are free-form maps or lists by
// convention in charts, whatever their defaults: nothing below them is
// checked.
var FreeForm = map[string]bool{
	"annotations": true, "labels": true, "podAnnotations": true, "podLabels": true,
	"commonAnnotations": true, "commonLabels": true, "nodeSelector": true, "tolerations": true,
	"affinity": true, "topologySpreadConstraints": true, "env": true, "extraEnv": true,
	"extraEnvVars": true, "extraArgs": true, "extraVolumes": true, "extraVolumeMounts": true,
	"extraContainers": true, "extraInitContainers": true, "extraObjects": true,
	"extraManifests": true, "resources": true, "securityContext": true,
	"podSecurityContext": true, "containerSecurityContext": true,
}

// AllowAnnotation on a HelmRelease lists values keys (as findings print
// them, separated by commas or newlines) that the lint must accept: keys a
// chart consumes without defining them in its defaults, such as keys only
// present as comments in its values.yaml.
const AllowAnnotation = "tools.aks-gitops.io/values-lint-allow"

// Allowed parses an AllowAnnotation value.
func Allowed(annotations map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.FieldsFunc(annotations[AllowAnnotation], func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out[f] = true
		}
	}
	return out
}

// Finding is one values key the chart does not define.
type Finding struct {
	// Path is the key, dotted (keys with dots are quoted).
	Path string
	// Chart is the chart (or sub-chart) that lacks it, name-version.
	Chart string
}

func (f Finding) String() string {
	return fmt.Sprintf("values key %s is not defined by chart %s", f.Path, f.Chart)
}

// Lint checks values (what the HelmRelease sets: valuesFrom merged with
// values, before the chart's defaults) against the chart, sorted by path.
func Lint(ch *chart.Chart, values map[string]any) []Finding {
	var out []Finding
	lintChart("", ch, values, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// lintChart checks the values given to one chart: its own keys against its
// defaults, sub-chart keys against the sub-chart.
func lintChart(prefix string, ch *chart.Chart, values map[string]any, out *[]Finding) {
	subcharts := map[string]*chart.Chart{}
	for _, d := range ch.Dependencies() {
		subcharts[d.Name()] = d
	}
	if ch.Metadata != nil {
		for _, dep := range ch.Metadata.Dependencies {
			if dep.Alias != "" && subcharts[dep.Name] != nil {
				subcharts[dep.Alias] = subcharts[dep.Name]
			}
		}
	}
	for k, v := range values {
		path := join(prefix, k)
		if k == "global" {
			continue // shared with every sub-chart, free-form by design
		}
		if sub, ok := subcharts[k]; ok {
			if m, ok := v.(map[string]any); ok {
				// The parent's defaults for the sub-chart count too.
				parent, _ := ch.Values[k].(map[string]any)
				lintSub(path, sub, parent, m, out)
			}
			continue
		}
		def, ok := ch.Values[k]
		if !ok {
			*out = append(*out, Finding{Path: path, Chart: name(ch)})
			continue
		}
		lintMap(path, ch, def, v, out)
	}
}

// lintSub checks sub-chart values, where a key is defined when the
// sub-chart's defaults or the parent's defaults for it define it.
func lintSub(prefix string, sub *chart.Chart, parent, values map[string]any, out *[]Finding) {
	own := map[string]any{}
	for k, v := range values {
		if _, inParent := parent[k]; inParent {
			if _, inSub := sub.Values[k]; !inSub {
				lintMap(join(prefix, k), sub, parent[k], v, out)
				continue
			}
		}
		own[k] = v
	}
	lintChart(prefix, sub, own, out)
}

// lintMap descends into a key whose default is a non-empty map.
func lintMap(path string, ch *chart.Chart, def, v any, out *[]Finding) {
	if FreeForm[last(path)] {
		return
	}
	dm, ok := def.(map[string]any)
	vm, vok := v.(map[string]any)
	if !ok || !vok || len(dm) == 0 {
		return // a scalar, a list, or an empty (free-form) map by default
	}
	for k, sv := range vm {
		d, ok := dm[k]
		if !ok {
			*out = append(*out, Finding{Path: join(path, k), Chart: name(ch)})
			continue
		}
		lintMap(join(path, k), ch, d, sv, out)
	}
}

func join(prefix, k string) string {
	if strings.ContainsAny(k, ".[]") {
		k = fmt.Sprintf("%q", k)
	}
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func last(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func name(ch *chart.Chart) string {
	if ch.Metadata == nil {
		return ch.Name()
	}
	return ch.Name() + "-" + ch.Metadata.Version
}
