package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// FalcoRule is what the rules dashboard shows of one Falco rule.
type FalcoRule struct {
	Name, Desc, Condition, Output, Priority string
	Tags                                    []string
	Exceptions                              []string
}

// ReadFalcoRules returns the rules of a Falco rule file in file order
// (lists, macros and the like are not shown; an append-only item is not a
// rule definition).
func ReadFalcoRules(data []byte) ([]FalcoRule, error) {
	var items []map[string]any
	if err := yaml.Unmarshal(data, &items); err != nil {
		return nil, err
	}
	var out []FalcoRule
	for _, it := range items {
		name, ok := it["rule"].(string)
		if !ok || it["append"] == true || it["override"] != nil {
			continue
		}
		str := func(k string) string { s, _ := it[k].(string); return strings.TrimSpace(s) }
		r := FalcoRule{Name: name, Desc: str("desc"), Condition: str("condition"), Output: str("output"), Priority: str("priority")}
		tags, _ := it["tags"].([]any)
		for _, t := range tags {
			r.Tags = append(r.Tags, fmt.Sprint(t))
		}
		excs, _ := it["exceptions"].([]any)
		for _, e := range excs {
			if m, ok := e.(map[string]any); ok {
				r.Exceptions = append(r.Exceptions, fmt.Sprint(m["name"]))
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// FalcoRulesUID is the uid of the generated rules dashboard.
const FalcoRulesUID = "aks-gitops-falco-rules"

// FalcoRulesDashboard returns the "Falco rules" dashboard: a heading that
// names where our rules and the stock rules come from, then one markdown
// panel per rule of ours (description, priority, tags, condition, output,
// exceptions), panel ids 2, 3, ... in file order.
func FalcoRulesDashboard(rules []FalcoRule, ourFile, stockURL string) ([]byte, error) {
	head := fmt.Sprintf("The rules Falco loads: the stock rules ([falco_rules.yaml](%s), the version Falco's chart loads) "+
		"and ours, below, from `%s` (the falco-rules ConfigMap, mounted in /etc/falco/rules.d). "+
		"The Falco events dashboard links each event's rule here, or to the stock file.", stockURL, ourFile)
	panels := []map[string]any{textPanel(1, "Where the rules come from", head, 0, 4)}
	y := 4
	for i, r := range rules {
		var b strings.Builder
		if r.Desc != "" {
			fmt.Fprintf(&b, "%s\n\n", r.Desc)
		}
		fmt.Fprintf(&b, "**Priority** %s", r.Priority)
		if len(r.Tags) > 0 {
			fmt.Fprintf(&b, " · **tags** %s", strings.Join(r.Tags, ", "))
		}
		if len(r.Exceptions) > 0 {
			fmt.Fprintf(&b, " · **exceptions** %s", strings.Join(r.Exceptions, ", "))
		}
		fmt.Fprintf(&b, "\n\n**Condition**\n\n```\n%s\n```\n\n**Output**\n\n```\n%s\n```\n", r.Condition, r.Output)
		h := 6 + strings.Count(r.Condition, "\n") + strings.Count(r.Output, "\n")
		panels = append(panels, textPanel(i+2, r.Name, b.String(), y, h))
		y += h
	}
	return marshal(map[string]any{
		"uid":           FalcoRulesUID,
		"title":         "Falco rules",
		"tags":          []string{"falco", "security"},
		"schemaVersion": 39,
		"editable":      false,
		"time":          map[string]any{"from": "now-6h", "to": "now"},
		"panels":        panels,
	})
}

func textPanel(id int, title, content string, y, h int) map[string]any {
	return map[string]any{
		"id": id, "type": "text", "title": title,
		"gridPos": map[string]any{"x": 0, "y": y, "w": 24, "h": h},
		"options": map[string]any{"mode": "markdown", "content": content},
	}
}

// LinkFalcoEvents returns the events dashboard with a data link on every
// panel whose series are named after the rule (its legend starts with
// {{rule}}): each rule of ours links to its panel in the rules dashboard,
// any other rule to the stock rules file.
func LinkFalcoEvents(events []byte, rules []FalcoRule, stockURL string) ([]byte, error) {
	var d map[string]any
	if err := json.Unmarshal(events, &d); err != nil {
		return nil, err
	}
	panels, _ := d["panels"].([]any)
	linked := 0
	for _, p := range panels {
		panel, _ := p.(map[string]any)
		if !byRule(panel) {
			continue
		}
		linked++
		fc, _ := panel["fieldConfig"].(map[string]any)
		if fc == nil {
			fc = map[string]any{}
			panel["fieldConfig"] = fc
		}
		defaults, _ := fc["defaults"].(map[string]any)
		if defaults == nil {
			defaults = map[string]any{}
			fc["defaults"] = defaults
		}
		defaults["links"] = []any{map[string]any{"title": "Rule ${__field.labels.rule} in the stock rules", "url": stockURL, "targetBlank": true}}
		var overrides []any
		for i, r := range rules {
			overrides = append(overrides, map[string]any{
				// The series' display name: the rule, then " (namespace)"
				// where the legend adds it.
				"matcher": map[string]any{"id": "byRegexp", "options": "^" + regexp.QuoteMeta(r.Name) + `( \(.*\))?$`},
				"properties": []any{map[string]any{"id": "links", "value": []any{map[string]any{
					"title": "Rule " + r.Name,
					"url":   fmt.Sprintf("/d/%s/falco-rules?viewPanel=panel-%d", FalcoRulesUID, i+2),
				}}}},
			})
		}
		fc["overrides"] = overrides
	}
	if linked == 0 {
		return nil, fmt.Errorf("no panel of the events dashboard has series named after the rule (legend {{rule}})")
	}
	return marshal(d)
}

// byRule reports whether a panel's series are named after the Falco rule.
func byRule(panel map[string]any) bool {
	targets, _ := panel["targets"].([]any)
	for _, t := range targets {
		m, _ := t.(map[string]any)
		if lf, _ := m["legendFormat"].(string); strings.HasPrefix(lf, "{{rule}}") {
			return true
		}
	}
	return false
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
