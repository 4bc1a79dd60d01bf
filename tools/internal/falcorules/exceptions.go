package falcorules

import (
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// exceptionFields are the fields an exception compares, for the field check.
type exceptionField struct {
	name string
	node *yaml.Node
}

// Operators an exception comp may use (libsinsp filter_compare.cpp
// str_to_cmpop), plus string operators with a oneof/anyof/allof modifier.
var (
	cmpOps      = set("=", "==", "!=", "<=", "<", ">=", ">", "contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith", "in", "intersects", "pmatch", "exists", "glob", "iglob", "regex")
	modifiable  = set("=", "==", "!=", "contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith", "glob", "iglob", "regex")
	modifiers   = set("oneof", "anyof", "allof")
	singleComps = set("in", "pmatch", "intersects")
)

func isModifierOp(op string) bool {
	base, mod, ok := strings.Cut(op, " ")
	return ok && modifiable[base] && modifiers[strings.TrimSpace(mod)]
}

// normalizeComp is Falco's normalize_comp: trim and collapse blanks.
func normalizeComp(s string) string { return strings.Join(strings.Fields(s), " ") }

// readExceptions checks a rule's exceptions the way Falco's reader and
// collector do, and records the fields they compare.
func (c *checker) readExceptions(it *item) {
	exs, ok := it.keys["exceptions"]
	if !ok || exs.Tag == "!!null" {
		return
	}
	if exs.Kind != yaml.SequenceNode {
		c.addItem(it, exs, "exceptions must be a list")
		return
	}
	appending := it.append && (it.override["exceptions"] != "replace")
	seen := map[string]bool{}
	for _, ex := range exs.Content {
		if ex.Kind != yaml.MappingNode {
			c.addItem(it, ex, "exception must be a mapping with name, fields, comps and values")
			continue
		}
		keys := map[string]*yaml.Node{}
		for i := 0; i+1 < len(ex.Content); i += 2 {
			k := ex.Content[i].Value
			keys[k] = ex.Content[i+1]
			if k != "name" && k != "fields" && k != "comps" && k != "values" {
				c.addItem(it, ex.Content[i], "unknown key %q in an exception (name, fields, comps, values)", k)
			}
		}
		nameNode, ok := keys["name"]
		if !ok || !isScalar(nameNode) || nameNode.Value == "" {
			c.addItem(it, ex, "exception needs a non-empty name")
			continue
		}
		name := nameNode.Value
		if seen[name] {
			c.warnItem(it, nameNode, "exception %q is defined twice in the same rule", name)
		}
		seen[name] = true
		c.readException(it, name, ex, keys, appending)
	}
}

func (c *checker) readException(it *item, name string, ex *yaml.Node, keys map[string]*yaml.Node, appending bool) {
	fields, hasFields := keys["fields"]
	comps, hasComps := keys["comps"]
	values, hasValues := keys["values"]
	if hasValues && values.Kind != yaml.SequenceNode && values.Tag != "!!null" {
		c.addItem(it, values, "exception %q: values must be a list", name)
		return
	}
	if !hasFields {
		if !appending {
			c.addItem(it, ex, "exception %q has no fields", name)
		} else if hasComps {
			c.addItem(it, comps, "exception %q: comps cannot be appended to an existing exception, only values", name)
		}
		return
	}
	switch fields.Kind {
	case yaml.ScalarNode:
		if fields.Value == "" {
			c.addItem(it, fields, "exception %q: fields is empty", name)
			return
		}
		it.exFields = append(it.exFields, exceptionField{fields.Value, fields})
		comp := "in"
		if hasComps {
			if comps.Kind != yaml.ScalarNode {
				c.addItem(it, comps, "exception %q: fields and comps must both be strings or both be lists", name)
				return
			}
			comp = normalizeComp(comps.Value)
		}
		if !singleComps[comp] && !isModifierOp(comp) {
			c.addItem(it, comps, "exception %q: when fields is a single field, comps must be in, pmatch, intersects or a string operator with oneof/anyof/allof, not %q", name, comp)
		}
		if hasValues {
			for _, v := range values.Content {
				if v.Kind != yaml.ScalarNode {
					c.addItem(it, v, "exception %q: with a single field, values must be a list of strings", name)
				}
			}
		}
	case yaml.SequenceNode:
		n := len(fields.Content)
		for _, f := range fields.Content {
			if f.Kind != yaml.ScalarNode || f.Value == "" {
				c.addItem(it, f, "exception %q: fields must be field names", name)
				continue
			}
			it.exFields = append(it.exFields, exceptionField{f.Value, f})
		}
		if hasComps {
			if comps.Kind != yaml.SequenceNode {
				c.addItem(it, comps, "exception %q: fields and comps must both be strings or both be lists", name)
				return
			}
			if len(comps.Content) != n {
				c.addItem(it, comps, "exception %q: fields and comps lists must have equal length (%d fields, %d comps)", name, n, len(comps.Content))
			}
			for _, cp := range comps.Content {
				op := normalizeComp(cp.Value)
				if cp.Kind != yaml.ScalarNode || (!cmpOps[op] && !isModifierOp(op)) {
					c.addItem(it, cp, "exception %q: %q is not a supported comparison operator", name, cp.Value)
				}
			}
		}
		if hasValues {
			for _, v := range values.Content {
				if v.Kind != yaml.SequenceNode {
					c.addItem(it, v, "exception %q: with a list of fields, each value must be a list of %d values", name, n)
					continue
				}
				if len(v.Content) != n {
					c.addItem(it, v, "exception %q: fields and values lists must have equal length (%d fields, %d values)", name, n, len(v.Content))
				}
				for _, x := range v.Content {
					if x.Kind == yaml.MappingNode {
						c.addItem(it, x, "exception %q: a value must be a string or a list of strings", name)
					}
				}
			}
		}
	default:
		c.addItem(it, fields, "exception %q: fields must be a field name or a list of field names", name)
	}
}
