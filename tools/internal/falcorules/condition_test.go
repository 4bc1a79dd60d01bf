package falcorules

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary lists what a parsed condition refers to, in order:
// F:field[arg] for fields, M:name for macro identifiers, L:name for list
// identifiers, V:value for bare list values, Q:value for quoted ones, O:op.
func summary(e *expr) []string {
	var out []string
	var op func(o *operand)
	op = func(o *operand) {
		switch {
		case o == nil:
		case o.field != nil:
			s := "F:" + o.field.name
			if o.field.arg != nil {
				s += "[" + *o.field.arg + "]"
			}
			out = append(out, s)
		default:
			if o.transformer != "" {
				out = append(out, "T:"+o.transformer)
			}
			if o.value != nil {
				out = append(out, "V:"+o.value.text)
			}
			for _, a := range o.args {
				op(a)
			}
		}
	}
	var walk func(e *expr)
	walk = func(e *expr) {
		switch e.kind {
		case exprIdent:
			out = append(out, "M:"+e.ident)
		case exprCheck:
			op(e.check.lhs)
			out = append(out, "O:"+e.check.op)
			op(e.check.rhs)
			for _, v := range e.check.values {
				switch {
				case e.check.ident:
					out = append(out, "L:"+v.text)
				case v.quoted:
					out = append(out, "Q:"+v.text)
				default:
					out = append(out, "V:"+v.text)
				}
			}
		default:
			if e.kind == exprNot {
				out = append(out, "not")
			}
			for _, c := range e.children {
				walk(c)
			}
		}
	}
	walk(e)
	return out
}

func TestParseCondition(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a", []string{"M:a"}},
		{"proc.name = bash", []string{"F:proc.name", "O:=", "V:bash"}},
		{"proc.name==bash", []string{"F:proc.name", "O:==", "V:bash"}},
		{"not not a and not(b)", []string{"M:a", "not", "M:b"}},
		{"a or(b)and c", nil}, // an "or(" operand ends the or-chain: "and" cannot follow
		{"(a or(b)) and c", []string{"M:a", "M:b", "M:c"}},
		{"evt.dir = <", []string{"F:evt.dir", "O:=", "V:<"}},
		{"fd.typechar = 'f'", []string{"F:fd.typechar", "O:=", "Q:f"}},
		{`proc.cmdline contains "a \"b\" c"`, []string{"F:proc.cmdline", "O:contains", `Q:a "b" c`}},
		{"proc.aname[2] in (java, 'x y', z_list)", []string{"F:proc.aname[2]", "O:in", "V:java", "Q:x y", "V:z_list"}},
		{"proc.name in shell_binaries", []string{"F:proc.name", "O:in", "L:shell_binaries"}},
		{"proc.name in ()", []string{"F:proc.name", "O:in"}},
		{"proc.env[HOME] exists", []string{"F:proc.env[HOME]", "O:exists"}},
		{`container.label["a.b/c"] = x`, []string{"F:container.label[a.b/c]", "O:=", "V:x"}},
		{"evt.arg.flags contains O_CREAT", []string{"F:evt.arg.flags", "O:contains", "V:O_CREAT"}},
		{"fd.port >= 0x1F", []string{"F:fd.port", "O:>=", "V:0x1F"}},
		{"evt.rawres < -1.5e+3", []string{"F:evt.rawres", "O:<", "V:-1.5e+3"}},
		{"tolower(proc.name) = bash", []string{"T:tolower", "F:proc.name", "O:=", "V:bash"}},
		{"proc.name = val(proc.pname)", []string{"F:proc.name", "O:=", "T:val", "F:proc.pname"}},
		{"len(proc.args) > len(proc.pname)", []string{"T:len", "F:proc.args", "O:>", "T:len", "F:proc.pname"}},
		{"concat(proc.name, '-', (fd.name, 1)) = x", []string{"T:concat", "F:proc.name", "V:-", "F:fd.name", "V:1", "O:=", "V:x"}},
		{"proc.name startswith oneof (a, b)", []string{"F:proc.name", "O:startswith oneof", "V:a", "V:b"}},
		{"proc.name = oneof", []string{"F:proc.name", "O:=", "V:oneof"}},
		{"proc.name contains anyof and", nil}, // "and" after a modifier is not a list
		{"proc.name intersects (a)", []string{"F:proc.name", "O:intersects", "V:a"}},
		{"fd.name pmatch (/etc)", []string{"F:fd.name", "O:pmatch", "V:/etc"}},
		{"proc.name regex '^a.*$'", []string{"F:proc.name", "O:regex", "Q:^a.*$"}},
		{"a andb", nil},
		{"proc.name =", nil},
		{"proc.name in (a b)", nil},
		{"proc.name in (a,", nil},
		{"proc.name[1", nil},
		{"tolower(proc.name = x", nil},
		{"proc.name containsbash", nil},
		{"val(proc.name) = x", nil},
		{"", nil},
		{"a )", nil},
		{`proc.name = "unterminated`, nil},
	} {
		t.Run(tc.in, func(t *testing.T) {
			e, err := parseCondition(tc.in)
			if tc.want == nil {
				var se *syntaxError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want a syntax error (parsed %v)", err, e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summary(e)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConditionPosition(t *testing.T) {
	for _, tc := range []struct {
		in  string
		pos int
		msg string
	}{
		{"a and (b or c", 13, "expected a ')' token"},
		{"proc.name bash", 10, "expected a valid check operator"},
		{"a andb", 5, "expected blank or '(' after 'and'"},
		{"a b", 2, "unexpected token after 'a', expecting 'or', 'and'"},
		{`x.y = "a\qb"`, 6, `unsupported string escape sequence: \q`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := parseCondition(tc.in)
			var se *syntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v", err)
			}
			if se.pos != tc.pos || !strings.HasPrefix(se.msg, tc.msg) {
				t.Errorf("got %d %q, want %d %q", se.pos, se.msg, tc.pos, tc.msg)
			}
		})
	}
}

func TestParseConditionDepth(t *testing.T) {
	deep := strings.Repeat("(", 2000) + "a" + strings.Repeat(")", 2000)
	if _, err := parseCondition(deep); err == nil || !strings.Contains(err.Error(), "max depth") {
		t.Errorf("err = %v, want the depth limit", err)
	}
}
