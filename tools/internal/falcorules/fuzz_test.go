package falcorules

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// conditionSeeds cover the grammar's branches and its limits.
var conditionSeeds = []string{
	"spawned_process and container and proc.name in (bash, sh)",
	"evt.type = execve and not proc.pname startswith oneof (java, node)",
	"fd.name[0] = '/etc/shadow' or fd.directory in (/etc)",
	"tolower(proc.name) = val(proc.pname) and len(proc.args)[0] > 0x10",
	"join(',', (proc.name, 'x', -1.5e+3)) contains foo",
	"proc.aname[2] exists and not(fd.num >= 3)",
	"concat(tolower(proc.name), basename(fd.name)) in my_list",
	"evt.arg.flags contains 'O_WRONLY\\'",
	"proc.name = \"a\\\"b\" and proc.cmdline icontains x",
	"a and (b or c)",
	"proc.name in (a, 'b')",
	"tolower(proc.name[1]) = val(x.y)",
	"concat((a.b, 'c'), 1)",
	`x.y = "\"`,
	"((((a))))",
	"not not not a",
	"a and",
	"a or (",
	"proc.name[",
	"proc.name pmatch (",
	"",
	strings.Repeat("(", 300) + "a" + strings.Repeat(")", 300),
	strings.Repeat("not(", 300) + "a",
	strings.Repeat("tolower(", 600) + "proc.name" + strings.Repeat(")", 600) + " = x",
}

// FuzzParseCondition: the parser returns a tree or a *syntaxError at a
// position inside the input, never another panic and never a stack
// overflow (its depth limit bounds the recursion).
func FuzzParseCondition(f *testing.F) {
	for _, s := range conditionSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseCondition(s)
		if err != nil {
			var se *syntaxError
			if !errors.As(err, &se) {
				t.Fatalf("parseCondition(%q): error %T, want *syntaxError", s, err)
			}
			if se.pos < 0 || se.pos > len(s) {
				t.Errorf("parseCondition(%q): error position %d outside the input", s, se.pos)
			}
			if e != nil {
				t.Errorf("parseCondition(%q): a tree and an error", s)
			}
			return
		}
		if e == nil {
			t.Fatalf("parseCondition(%q): no tree and no error", s)
		}
		walkFuzz(t, s, e)

		// The output formatter's partial parse of the same text.
		op, n, err := parseFieldOrTransformer(s)
		if err == nil && (op == nil || n <= 0 || n > len(s)) {
			t.Errorf("parseFieldOrTransformer(%q) = %v, %d: bad length", s, op, n)
		}
	})
}

// walkFuzz checks every position in the tree lies inside the input.
func walkFuzz(t *testing.T, s string, e *expr) {
	t.Helper()
	if e.pos < 0 || e.pos > len(s) {
		t.Errorf("parseCondition(%q): node position %d outside the input", s, e.pos)
	}
	for _, c := range e.children {
		walkFuzz(t, s, c)
	}
}

// FuzzCheck runs the whole rule-file check on one fuzzed rules file next
// to a fixed one: YAML decoding, item structure, conditions, exceptions,
// outputs and the references between files. Check reports problems as
// data; it must never panic, and every problem names its file.
func FuzzCheck(f *testing.F) {
	paths, _ := filepath.Glob("testdata/check/*.txtar")
	for _, path := range paths {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if file.Name != "want" {
				f.Add(file.Data)
			}
		}
	}
	f.Add([]byte("- macro: m\n  condition: m\n- rule: r\n  desc: d\n  condition: m\n  output: '%proc.name %'\n  priority: ERROR\n"))
	f.Add([]byte("- list: l\n  items: [l]\n- macro: m\n  condition: proc.name in (l)\n- macro: m\n  condition: and m\n  append: true\n"))
	f.Add([]byte("- rule: r\n  condition: " + strings.Repeat("(", 1200) + "\n"))
	f.Add([]byte("- rule: r\n  override: {condition: append}\n  condition: 'or x'\n- rule: r\n  enabled: false\n"))
	f.Add([]byte("- &a {macro: x, condition: a}\n- *a\n- [*a, *a]\n"))
	f.Add([]byte("not: [a list\n"))
	const other = "- macro: shared\n  condition: proc.name = bash\n- list: shared_list\n  items: [a, b]\n"
	f.Fuzz(func(t *testing.T, data []byte) {
		files := map[string][]byte{"a.yaml": data, "b.yaml": []byte(other)}
		for _, p := range Check(files) {
			if _, ok := files[p.File]; !ok {
				t.Errorf("problem %q names no rules file", p)
			}
			if p.Line < 0 {
				t.Errorf("problem %q: negative line", p)
			}
			if p.Message == "" {
				t.Errorf("problem %q: no message", p)
			}
		}
	})
}
