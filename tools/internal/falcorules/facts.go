package falcorules

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen -falco 0.44.1 -engine 0.62.0 -libs ${FALCO_LIBS_DIR} -libs-ref 0.25.4@80e695f6b123c26574cbc0f9230b33c911c71c49 -plugins ${FALCO_PLUGINS_DIR} -plugins-ref plugins/container/v0.7.1@21d3ee6df859604a93f3ff41e9b9f0b56495740e -rules ${FALCO_RULES_FILE} -rules-ref falco-rules-5.1.0@6cbb113dd3fbcaf157c077414a57d2180f3e0eec -out facts

// FalcoVersion is the Falco release the embedded facts describe: the appVersion
// of the falco chart 9.1.0 our HelmRelease pins.
const FalcoVersion = "0.44.1"

//go:embed facts/falco-0.44.1-fields.txt
var fieldsFacts string

//go:embed facts/falco-0.44.1-stock.txt
var stockFacts string

// fieldInfo is the argument syntax one field accepts.
type fieldInfo struct {
	arg        string // "", "optional", "required"
	form       string // "", "index", "key", "any"
	dot        string // "", "param", "evttype", "word", "abspath"
	noBracket  bool
	filterOnly bool
	printOnly  bool
}

// facts are the names a rule file is checked against.
type facts struct {
	fields   map[string]fieldInfo
	evttypes map[string]bool
	params   map[string]bool
	engine   [3]int
	// Names the stock falco_rules.yaml defines.
	stockLists, stockMacros, stockRules map[string]bool
}

var loadFacts = sync.OnceValues(func() (*facts, error) {
	return parseFacts(fieldsFacts, stockFacts)
})

func parseFacts(fieldsText, stockText string) (*facts, error) {
	f := &facts{
		fields: map[string]fieldInfo{}, evttypes: map[string]bool{}, params: map[string]bool{},
		stockLists: map[string]bool{}, stockMacros: map[string]bool{}, stockRules: map[string]bool{},
	}
	for i, line := range strings.Split(fieldsText, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Fields(line)
		if len(parts) < 2 {
			return nil, fmt.Errorf("fields facts line %d: %q", i+1, line)
		}
		switch parts[0] {
		case "field":
			var fi fieldInfo
			for _, a := range parts[2:] {
				k, v, _ := strings.Cut(a, "=")
				switch k {
				case "arg":
					fi.arg = v
				case "form":
					fi.form = v
				case "dot":
					fi.dot = v
				case "nobracket":
					fi.noBracket = true
				case "filteronly":
					fi.filterOnly = true
				case "printonly":
					fi.printOnly = true
				default:
					return nil, fmt.Errorf("fields facts line %d: unknown attribute %q", i+1, a)
				}
			}
			f.fields[parts[1]] = fi
		case "evttype":
			f.evttypes[parts[1]] = true
		case "param":
			f.params[parts[1]] = true
		default:
			return nil, fmt.Errorf("fields facts line %d: unknown record %q", i+1, parts[0])
		}
	}
	for i, line := range strings.Split(stockText, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, name, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("stock facts line %d: %q", i+1, line)
		}
		switch kind {
		case "list":
			f.stockLists[name] = true
		case "macro":
			f.stockMacros[name] = true
		case "rule":
			f.stockRules[name] = true
		case "engine":
			v, ok := parseSemver(name)
			if !ok {
				return nil, fmt.Errorf("stock facts line %d: engine version %q", i+1, name)
			}
			f.engine = v
		default:
			return nil, fmt.Errorf("stock facts line %d: unknown record %q", i+1, kind)
		}
	}
	if len(f.fields) == 0 || len(f.stockMacros) == 0 || f.engine == [3]int{} {
		return nil, fmt.Errorf("embedded Falco %s facts are incomplete", FalcoVersion)
	}
	return f, nil
}

func parseSemver(s string) ([3]int, bool) {
	var v [3]int
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

// lookupField resolves a field reference (name plus optional [arg]) the way
// libsinsp's filterchecks parse it; it returns the field's canonical name and
// "" or a reason the reference is not valid.
func (f *facts) lookupField(name string, arg *string) (string, string) {
	if fi, ok := f.fields[name]; ok {
		return name, fi.checkArg(name, arg)
	}
	// name.<something>: fields that take their argument after a dot.
	for i := len(name) - 1; i > 0; i-- {
		if name[i] != '.' {
			continue
		}
		base, rest := name[:i], name[i+1:]
		fi, ok := f.fields[base]
		if !ok || fi.dot == "" {
			continue
		}
		if arg != nil {
			return base, fmt.Sprintf("field %s takes no argument in brackets after %s", name, base)
		}
		switch fi.dot {
		case "param":
			if !f.params[rest] {
				return base, fmt.Sprintf("unknown event argument %q in %s", rest, name)
			}
		case "evttype":
			if _, err := strconv.ParseUint(rest, 10, 32); err != nil && !f.evttypes[rest] {
				return base, fmt.Sprintf("unknown event type %q in %s", rest, name)
			}
		case "abspath":
			if rest != "src" && rest != "dst" {
				return base, fmt.Sprintf("unknown field %s (evt.abspath takes .src or .dst)", name)
			}
		case "word":
			for j := 0; j < len(rest); j++ {
				if !isAlpha(rest[j]) && rest[j] != '_' {
					return base, fmt.Sprintf("unknown field %s", name)
				}
			}
		}
		return base, ""
	}
	return "", fmt.Sprintf("unknown field %s", name)
}

func (fi fieldInfo) checkArg(name string, arg *string) string {
	if arg == nil {
		if fi.arg == "required" {
			if fi.dot != "" && fi.noBracket {
				return fmt.Sprintf("field %s requires an argument (%s.<argument>)", name, name)
			}
			return fmt.Sprintf("field %s requires an argument (%s[...])", name, name)
		}
		return ""
	}
	if fi.arg == "" {
		return fmt.Sprintf("field %s takes no argument but has [%s]", name, *arg)
	}
	if fi.noBracket {
		return fmt.Sprintf("field %s takes its argument after a dot (%s.<argument>), not [%s]", name, name, *arg)
	}
	if fi.form == "index" {
		if _, err := strconv.ParseInt(strings.TrimSpace(*arg), 10, 64); err != nil {
			return fmt.Sprintf("field %s takes a numeric index, not [%s]", name, *arg)
		}
	}
	return ""
}
