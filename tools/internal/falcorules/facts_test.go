package falcorules

import (
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

func countItems(tb testing.TB, data []byte, kind string) int {
	tb.Helper()
	var items []map[string]any
	if err := yaml.Unmarshal(data, &items); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if _, ok := it[kind]; ok {
			n++
		}
	}
	return n
}

// TestFacts: the embedded facts hold what our rules and the stock rules rely
// on, and their provenance.
func TestFacts(t *testing.T) {
	f, err := loadFacts()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"evt.type", "evt.dir", "evt.arg", "proc.name", "proc.pname", "proc.cmdline", "proc.aname", "fd.name",
		"fd.num", "fd.typechar", "user.name", "container.id", "container.image.repository", "container.label",
		"k8s.ns.name", "k8s.pod.name", "k8s.pod.label",
	} {
		if _, ok := f.fields[name]; !ok {
			t.Errorf("field %s missing", name)
		}
	}
	for _, name := range []string{"proc.nmae", "container.info", "ka.verb", "k8smeta.pod.name"} {
		if _, ok := f.fields[name]; ok {
			t.Errorf("field %s should not be a syscall-source field of Falco %s", name, FalcoVersion)
		}
	}
	for _, e := range []string{"execve", "openat2", "dup3", "container", "init_module"} {
		if !f.evttypes[e] {
			t.Errorf("event type %s missing", e)
		}
	}
	if !f.stockMacros["spawned_process"] || !f.stockLists["shell_binaries"] || !f.stockRules["Terminal shell in container"] {
		t.Error("stock names missing")
	}
	if f.engine != [3]int{0, 62, 0} {
		t.Errorf("engine = %v", f.engine)
	}
	for _, want := range []string{"libs 0.25.4@", "plugins/container/v0.7.1@"} {
		if !strings.Contains(fieldsFacts, want) {
			t.Errorf("fields facts do not record %q", want)
		}
	}
	if !strings.Contains(stockFacts, "falco-rules-5.1.0@") {
		t.Error("stock facts do not record their rules release")
	}
}

func TestParseFactsErrors(t *testing.T) {
	for _, tc := range []struct{ name, fields, stock string }{
		{name: "unknown record", fields: "fild x\n", stock: "engine 0.1.0\nmacro m\n"},
		{name: "unknown attribute", fields: "field x color=red\n", stock: "engine 0.1.0\nmacro m\n"},
		{name: "no engine", fields: "field x\n", stock: "macro m\n"},
		{name: "bad engine", fields: "field x\n", stock: "engine 1\nmacro m\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseFacts(tc.fields, tc.stock); err == nil {
				t.Error("no error")
			}
		})
	}
}
