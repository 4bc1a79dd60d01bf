// Command gen writes the facts falcorules checks rule files against: the
// field names (with their argument syntax), event type and event parameter
// names of one Falco release, and the list, macro and rule names of the
// default rules that release loads. It reads them from source checkouts of
// falcosecurity/libs, falcosecurity/plugins and falcosecurity/rules at the
// tags the Falco release pins; it never copies rule text.
//
//	go run ./tools/internal/falcorules/internal/gen \
//	  -falco 0.44.1 -engine 0.62.0 \
//	  -libs /tmp/libs -libs-ref 0.25.4@80e695f6... \
//	  -plugins /tmp/plugins -plugins-ref plugins/container/v0.7.1@21d3ee6d... \
//	  -rules /tmp/falco_rules.yaml -rules-ref falco-rules-5.1.0@6cbb113d... \
//	  -out tools/internal/falcorules/facts
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(2)
	}
}

type options struct {
	falco               string
	engine              string
	libs, libsRef       string
	plugins, pluginsRef string
	rules, rulesRef     string
	out                 string
}

func run(args []string, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.falco, "falco", "", "Falco version the facts describe (names the output files)")
	fs.StringVar(&o.engine, "engine", "", "rules engine version of that Falco (FALCO_ENGINE_VERSION_* in userspace/engine/falco_engine_version.h)")
	fs.StringVar(&o.libs, "libs", "", "falcosecurity/libs source tree at the tag Falco pins")
	fs.StringVar(&o.libsRef, "libs-ref", "", "tag@commit of that libs tree (recorded as provenance)")
	fs.StringVar(&o.plugins, "plugins", "", "falcosecurity/plugins source tree at the container plugin tag")
	fs.StringVar(&o.pluginsRef, "plugins-ref", "", "tag@commit of that plugins tree")
	fs.StringVar(&o.rules, "rules", "", "falco_rules.yaml of the falcosecurity/rules release Falco loads")
	fs.StringVar(&o.rulesRef, "rules-ref", "", "tag@commit of that rules file")
	fs.StringVar(&o.out, "out", "", "directory the fact files are written to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, req := range []struct{ name, v string }{
		{"falco", o.falco},
		{"engine", o.engine},
		{"libs", o.libs},
		{"libs-ref", o.libsRef},
		{"plugins", o.plugins},
		{"plugins-ref", o.pluginsRef},
		{"rules", o.rules},
		{"rules-ref", o.rulesRef},
		{"out", o.out},
	} {
		if req.v == "" {
			return fmt.Errorf("-%s is required", req.name)
		}
	}
	fields, err := fieldsFile(o)
	if err != nil {
		return err
	}
	stock, err := stockFile(o)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "falco-"+o.falco+"-fields.txt"), fields, 0o644); err != nil {
		return fmt.Errorf("write fields: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.out, "falco-"+o.falco+"-stock.txt"), stock, 0o644); err != nil {
		return fmt.Errorf("write stock names: %w", err)
	}
	return nil
}

// libsinspChecks are the filtercheck sources sinsp_filter_check_list
// registers for the syscall source (userspace/libsinsp/filter_check_list.cpp).
var libsinspChecks = []string{"gen_event", "event", "thread", "user", "group", "fd", "fspath", "utils", "fdlist"}

// field is one filter field and the argument syntax its filtercheck accepts.
type field struct {
	name     string
	arg      string // "", "optional" or "required"
	argForm  string // "", "index", "key" or "any": what goes between brackets
	dot      string // "", "param", "evttype", "word", "abspath": what may follow "name."
	noBrack  bool   // the argument is only accepted after a dot
	filterOK bool   // usable in conditions
	printOK  bool   // usable in outputs
}

// overrides describe fields whose libsinsp filtercheck parses its argument in
// a custom parse_field_name (sinsp_filtercheck_event.cpp, _thread.cpp, _fd.cpp)
// instead of through the EPF_ARG_* flags of its table entry.
var overrides = map[string]func(*field){
	// evt.arg[N] or evt.arg.<event parameter>.
	"evt.arg": func(f *field) { f.arg, f.argForm, f.dot = "required", "index", "param" },
	// evt.rawarg.<event parameter> only ("evt.arg fields must be expressed explicitly").
	"evt.rawarg": func(f *field) { f.arg, f.argForm, f.dot, f.noBrack = "required", "", "param", true },
	// evt.type.is.<event name or number>.
	"evt.type.is": func(f *field) { f.arg, f.argForm, f.dot, f.noBrack = "required", "", "evttype", true },
	// evt.around[T].
	"evt.around": func(f *field) { f.arg, f.argForm = "required", "index" },
	// evt.abspath, evt.abspath.src, evt.abspath.dst.
	"evt.abspath": func(f *field) { f.arg, f.argForm, f.dot, f.noBrack = "optional", "", "abspath", true },
	// thread.cgroup.<subsystem>.
	"thread.cgroup": func(f *field) { f.arg, f.argForm, f.dot, f.noBrack = "required", "", "word", true },
	// Ancestor and argument fields take an optional numeric index.
	"proc.apid":     func(f *field) { f.arg, f.argForm = "optional", "index" },
	"proc.aname":    func(f *field) { f.arg, f.argForm = "optional", "index" },
	"proc.aexepath": func(f *field) { f.arg, f.argForm = "optional", "index" },
	"proc.aexe":     func(f *field) { f.arg, f.argForm = "optional", "index" },
	"proc.acmdline": func(f *field) { f.arg, f.argForm = "optional", "index" },
	"proc.aargs":    func(f *field) { f.arg, f.argForm = "optional", "index" },
	"proc.args":     func(f *field) { f.arg, f.argForm = "optional", "index" },
	// proc.env[NAME] or proc.env[N].
	"proc.env":  func(f *field) { f.arg, f.argForm = "optional", "any" },
	"proc.aenv": func(f *field) { f.arg, f.argForm = "optional", "any" },
	// fd.types[N].
	"fd.types": func(f *field) { f.arg, f.argForm = "optional", "index" },
}

func fieldsFile(o options) ([]byte, error) {
	var fields []field
	for _, c := range libsinspChecks {
		rel := "userspace/libsinsp/sinsp_filtercheck_" + c + ".cpp"
		src, err := os.ReadFile(filepath.Join(o.libs, rel))
		if err != nil {
			return nil, fmt.Errorf("libs: %w", err)
		}
		fs, err := libsinspFields(src)
		if err != nil {
			return nil, fmt.Errorf("libs %s: %w", rel, err)
		}
		fields = append(fields, fs...)
	}
	extract := "plugins/container/src/caps/extract/extract.cpp"
	src, err := os.ReadFile(filepath.Join(o.plugins, extract))
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	pfs, err := pluginFields(src)
	if err != nil {
		return nil, fmt.Errorf("plugins %s: %w", extract, err)
	}
	fields = append(fields, pfs...)
	for i := range fields {
		if ov, ok := overrides[fields[i].name]; ok {
			ov(&fields[i])
		}
	}

	events, params, err := eventTable(filepath.Join(o.libs, "driver/event_table.c"))
	if err != nil {
		return nil, err
	}
	syscalls, err := syscallNames(filepath.Join(o.libs, "driver/ppm_events_public.h"))
	if err != nil {
		return nil, err
	}
	async, err := asyncEventNames(filepath.Join(o.plugins, "plugins/container/src/macros.h.in"))
	if err != nil {
		return nil, err
	}
	evttypes := uniq(append(append(events, syscalls...), async...))

	var b bytes.Buffer
	fmt.Fprintf(&b, "# Falco %s syscall-source fields, event types and event parameters.\n", o.falco)
	fmt.Fprintf(&b, "# Code generated by tools/internal/falcorules/internal/gen; DO NOT EDIT.\n")
	fmt.Fprintf(&b, "# libs %s: userspace/libsinsp/sinsp_filtercheck_{%s}.cpp, driver/event_table.c, driver/ppm_events_public.h\n", o.libsRef, strings.Join(libsinspChecks, ","))
	fmt.Fprintf(&b, "# plugins %s: plugins/container/src/caps/extract/extract.cpp, plugins/container/src/macros.h.in\n", o.pluginsRef)
	fmt.Fprintf(&b, "# field NAME [arg=optional|required] [form=index|key|any] [dot=param|evttype|word|abspath] [nobracket] [filteronly] [printonly]\n")
	sort.Slice(fields, func(i, j int) bool { return fields[i].name < fields[j].name })
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.name] {
			continue // a plugin redefining a libsinsp field
		}
		seen[f.name] = true
		line := "field " + f.name
		if f.arg != "" {
			line += " arg=" + f.arg
		}
		if f.argForm != "" {
			line += " form=" + f.argForm
		}
		if f.dot != "" {
			line += " dot=" + f.dot
		}
		if f.noBrack {
			line += " nobracket"
		}
		if !f.printOK {
			line += " filteronly"
		}
		if !f.filterOK {
			line += " printonly"
		}
		b.WriteString(line + "\n")
	}
	for _, e := range evttypes {
		b.WriteString("evttype " + e + "\n")
	}
	for _, p := range uniq(params) {
		b.WriteString("param " + p + "\n")
	}
	return b.Bytes(), nil
}

// table returns the entries of the brace initializer of the first
// declaration whose n leading tokens decl matches (what names it in the
// error when there is none).
func table(toks []token, n int, what string, decl func(i int) bool) ([][]token, error) {
	start := initializer(toks, n, decl)
	if start < 0 {
		return nil, errors.New("no " + what)
	}
	return braceList(toks, start)
}

// initializer returns the index of the '{' opening the initializer of the
// first declaration whose n leading tokens decl matches at i, or -1.
func initializer(toks []token, n int, decl func(i int) bool) int {
	for i := 0; i+n < len(toks); i++ {
		if !decl(i) {
			continue
		}
		for j := i + n; j < len(toks); j++ {
			if toks[j].text == "=" {
				if j+1 < len(toks) && toks[j+1].text == "{" {
					return j + 1
				}
				return -1
			}
		}
		return -1
	}
	return -1
}

// libsinspFields reads the one `filtercheck_field_info X[] = {...}` table of
// a libsinsp filtercheck source: per entry {type, flags, print format, name, ...}.
func libsinspFields(src []byte) ([]field, error) {
	toks := tokenize(src)
	entries, err := table(toks, 2, "filtercheck_field_info table", func(i int) bool {
		return toks[i].text == "filtercheck_field_info" && toks[i+1].kind == tIdent
	})
	if err != nil {
		return nil, err
	}
	var out []field
	for _, e := range entries {
		elems := splitTop(e)
		if len(elems) < 4 || len(elems[3]) == 0 || elems[3][0].kind != tString {
			return nil, fmt.Errorf("unexpected field entry near %q", joinToks(e))
		}
		f := field{name: elems[3][0].value, filterOK: true, printOK: true}
		for _, t := range elems[1] {
			switch t.text {
			case "EPF_ARG_REQUIRED":
				f.arg = "required"
			case "EPF_ARG_ALLOWED":
				if f.arg == "" {
					f.arg = "optional"
				}
			case "EPF_ARG_INDEX":
				f.argForm = mergeForm(f.argForm, "index")
			case "EPF_ARG_KEY":
				f.argForm = mergeForm(f.argForm, "key")
			case "EPF_FILTER_ONLY":
				f.printOK = false
			case "EPF_PRINT_ONLY":
				f.filterOK = false
			}
		}
		out = append(out, f)
	}
	return out, nil
}

func mergeForm(have, add string) string {
	if have == "" || have == add {
		return add
	}
	return "any"
}

var (
	argDeclRe = regexp.MustCompile(`falcosecurity::field_arg\s+(\w+)\s*;`)
	argSetRe  = regexp.MustCompile(`(\w+)\.(key|index|required)\s*=\s*true\s*;`)
)

// pluginFields reads the container plugin's get_fields(): entries
// {type, name, display, desc[, arg[, is_list, properties, add_output]]}, the
// arg being a field_arg variable whose key/index/required members are set
// just before the table.
func pluginFields(src []byte) ([]field, error) {
	args := map[string]*field{}
	for _, m := range argDeclRe.FindAllSubmatch(src, -1) {
		args[string(m[1])] = &field{}
	}
	for _, m := range argSetRe.FindAllSubmatch(src, -1) {
		a, ok := args[string(m[1])]
		if !ok {
			continue
		}
		switch string(m[2]) {
		case "required":
			a.arg = "required"
		case "key":
			a.argForm = mergeForm(a.argForm, "key")
		case "index":
			a.argForm = mergeForm(a.argForm, "index")
		}
	}
	toks := tokenize(src)
	entries, err := table(toks, 3, "field_info table in get_fields", func(i int) bool {
		return strings.HasSuffix(toks[i].text, "field_info") && toks[i+1].kind == tIdent && toks[i+2].text == "["
	})
	if err != nil {
		return nil, err
	}
	var out []field
	for _, e := range entries {
		elems := splitTop(e)
		if len(elems) < 2 || len(elems[1]) == 0 || elems[1][0].kind != tString {
			return nil, fmt.Errorf("unexpected plugin field entry near %q", joinToks(e))
		}
		f := field{name: elems[1][0].value, filterOK: true, printOK: true}
		if len(elems) > 4 && len(elems[4]) == 1 && elems[4][0].kind == tIdent {
			a, ok := args[elems[4][0].text]
			if !ok {
				return nil, fmt.Errorf("field %s: unknown argument spec %s", f.name, elems[4][0].text)
			}
			f.arg, f.argForm = a.arg, a.argForm
			if f.arg == "" && f.argForm != "" {
				f.arg = "optional"
			}
		}
		out = append(out, f)
	}
	return out, nil
}

var (
	eventNameRe  = regexp.MustCompile(`\[\s*PPME_\w+\s*\]\s*=\s*\{\s*"([^"]+)"`)
	eventParamRe = regexp.MustCompile(`\{\s*"([^"]+)"\s*,\s*PT_`)
	syscallRe    = regexp.MustCompile(`PPM_SC_X\(\s*(\w+)\s*,\s*\d+\s*\)`)
	asyncRe      = regexp.MustCompile(`#define\s+ASYNC_EVENT_NAME_\w+\s*(?:\\\s*)?"([^"]+)"`)
)

func eventTable(path string) (events, params []string, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("libs: %w", err)
	}
	for _, m := range eventNameRe.FindAllSubmatch(src, -1) {
		if n := string(m[1]); n != "NA" {
			events = append(events, n)
		}
	}
	for _, m := range eventParamRe.FindAllSubmatch(src, -1) {
		params = append(params, string(m[1]))
	}
	if len(events) == 0 || len(params) == 0 {
		return nil, nil, fmt.Errorf("%s: no events or parameters found", path)
	}
	return events, params, nil
}

func syscallNames(path string) ([]string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("libs: %w", err)
	}
	var out []string
	for _, m := range syscallRe.FindAllSubmatch(src, -1) {
		if n := strings.ToLower(string(m[1])); n != "unknown" {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PPM_SC_X entries", path)
	}
	return out, nil
}

func asyncEventNames(path string) ([]string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	var out []string
	for _, m := range asyncRe.FindAllSubmatch(src, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no ASYNC_EVENT_NAME_* defines", path)
	}
	return out, nil
}

func stockFile(o options) ([]byte, error) {
	src, err := os.ReadFile(o.rules)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	var items []map[string]any
	if err := yaml.Unmarshal(src, &items); err != nil {
		return nil, fmt.Errorf("rules %s: %w", o.rules, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Names defined by the default rules Falco %s loads (falco_rules.yaml).\n", o.falco)
	fmt.Fprintf(&b, "# Code generated by tools/internal/falcorules/internal/gen; DO NOT EDIT.\n")
	fmt.Fprintf(&b, "# rules %s: rules/falco_rules.yaml (names only, in load order)\n", o.rulesRef)
	fmt.Fprintf(&b, "# engine: FALCO_ENGINE_VERSION of falcosecurity/falco %s (userspace/engine/falco_engine_version.h)\n", o.falco)
	fmt.Fprintf(&b, "engine %s\n", o.engine)
	n := 0
	for _, it := range items {
		for _, kind := range []string{"list", "macro", "rule"} {
			if v, ok := it[kind].(string); ok {
				fmt.Fprintf(&b, "%s %s\n", kind, v)
				n++
			}
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("rules %s: no lists, macros or rules", o.rules)
	}
	return b.Bytes(), nil
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
