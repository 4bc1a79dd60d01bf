package falcorules

import (
	"fmt"
	"strings"
)

// The condition grammar of libsinsp's filter parser (userspace/libsinsp/filter/parser.h
// in falcosecurity/libs 0.25.4), written again in Go: boolean operators, checks
// with unary, numeric, string (with oneof/anyof/allof modifiers) and list
// operators, field arguments, field transformers, val(), lists and macro
// identifiers. Positions are byte offsets into the condition.

// expr is a node of a parsed condition.
type expr struct {
	kind     exprKind
	children []*expr // and, or, not
	ident    string  // identifier: a macro reference
	check    *check
	pos      int
}

type exprKind int

const (
	exprAnd exprKind = iota
	exprOr
	exprNot
	exprIdent
	exprCheck
)

// operand is a field, a transformer over operands, a literal value or a
// transformer list, as found on either side of a check.
type operand struct {
	field       *fieldRef
	transformer string     // tolower, val, join, ...
	args        []*operand // transformer arguments or list elements
	list        bool       // a transformer list "( a, b )"
	value       *value     // a literal inside a transformer
	arg         *string    // a field argument after a transformer: len(x)[0]
	pos         int
}

type fieldRef struct {
	name string
	arg  *string
	pos  int
}

type value struct {
	text   string
	quoted bool
	pos    int
}

type check struct {
	lhs    *operand
	op     string  // "exists", "=", "in", "startswith oneof", ...
	values []value // literal right-hand side: one value, or the items of a list
	list   bool    // right-hand side is a parenthesised list
	ident  bool    // right-hand side is a bare identifier (a list name)
	rhs    *operand
	pos    int
}

// syntaxError is a condition that does not parse.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

type parser struct {
	in    string
	i     int
	last  string
	depth int
}

const maxDepth = 1000 // Falco's rule loader raises libsinsp's 100 to 1000

func parseCondition(s string) (e *expr, err error) {
	if s == "" {
		return nil, &syntaxError{0, "filter input string is empty"}
	}
	p := &parser{in: s}
	defer catchSyntaxError(&err)
	root := p.parseOr()
	if p.i != len(p.in) {
		p.fail("unexpected token after '%s', expecting 'or', 'and'", p.last)
	}
	return root, nil
}

// catchSyntaxError, deferred, turns the *syntaxError that fail panics with
// into *err; the other results keep their zero values because the panic
// comes before any return assigns them.
func catchSyntaxError(err *error) {
	if r := recover(); r != nil {
		se, ok := r.(*syntaxError)
		if !ok {
			panic(r)
		}
		*err = se
	}
}

func (p *parser) fail(format string, args ...any) {
	panic(&syntaxError{pos: p.i, msg: fmt.Sprintf(format, args...)})
}

func (p *parser) enter() {
	p.depth++
	if p.depth >= maxDepth {
		p.fail("exceeded max depth limit of %d", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) rest() string { return p.in[p.i:] }

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\b' || c == '\r' || c == '\n'
}

func isSpace(c byte) bool { // POSIX [[:space:]]
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isWord(c byte) bool  { return isAlpha(c) || isDigit(c) || c == '_' }

func (p *parser) blank() bool {
	found := false
	for p.i < len(p.in) && isBlank(p.in[p.i]) {
		p.i++
		found = true
	}
	return found
}

func (p *parser) str(s string) bool {
	if strings.HasPrefix(p.rest(), s) {
		p.i += len(s)
		p.last = s
		return true
	}
	return false
}

// take consumes the n bytes that a lexer matched.
func (p *parser) take(n int) bool {
	if n <= 0 {
		return false
	}
	p.last = p.in[p.i : p.i+n]
	p.i += n
	return true
}

func identLen(s string) int {
	if s == "" || !isAlpha(s[0]) {
		return 0
	}
	return skip(s, 1, isWord)
}

func (p *parser) identifier() bool { return p.take(identLen(p.rest())) }

func fieldNameLen(s string) int {
	n := identLen(s)
	if n == 0 {
		return 0
	}
	dots := 0
	for n+1 < len(s) && s[n] == '.' && isAlpha(s[n+1]) {
		n += 1 + identLen(s[n+1:])
		dots++
	}
	if dots == 0 {
		return 0
	}
	return n
}

func (p *parser) fieldName() bool { return p.take(fieldNameLen(p.rest())) }

func (p *parser) fieldArgBare() bool {
	s := p.rest()
	n := 0
	for n < len(s) && s[n] != '[' && s[n] != ']' && s[n] != '"' && s[n] != '\'' && !isSpace(s[n]) {
		n++
	}
	return p.take(n)
}

func isHex(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }

func (p *parser) hexNum() bool {
	s := p.rest()
	if len(s) < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !isHex(s[2]) {
		return false
	}
	return p.take(skip(s, 3, isHex))
}

func (p *parser) num() bool {
	s := p.rest()
	n := 0
	if n < len(s) && (s[n] == '+' || s[n] == '-') {
		n++
	}
	d := n
	n = skip(s, n, isDigit)
	if n == d {
		return false
	}
	if n < len(s) && s[n] == '.' {
		n++
	}
	n = skip(s, n, isDigit)
	if n+2 < len(s) && (s[n] == 'e' || s[n] == 'E') && (s[n+1] == '+' || s[n+1] == '-') && isDigit(s[n+2]) {
		n = skip(s, n+2, isDigit)
	}
	return p.take(n)
}

// skip returns the offset of the first byte of s at or after n that is not ok.
func skip(s string, n int, ok func(byte) bool) int {
	for n < len(s) && ok(s[n]) {
		n++
	}
	return n
}

func (p *parser) bareStr() bool { return p.take(bareStrLen(p.rest())) }

// quoted lexes a single- or double-quoted string; p.last holds its value.
func (p *parser) quoted() bool {
	s := p.rest()
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return false
	}
	delim := s[0]
	prev := byte('\\')
	for n := 0; n < len(s); n++ {
		if n > 0 && s[n] == delim && prev != '\\' {
			raw := s[:n+1]
			start := p.i
			p.i += n + 1
			v, err := unescape(raw)
			if err != nil {
				panic(&syntaxError{pos: start, msg: err.Error()})
			}
			p.last = v
			return true
		}
		prev = s[n]
	}
	return false
}

func unescape(raw string) (string, error) {
	var b strings.Builder
	escaped := false
	for i := 1; i < len(raw)-1; i++ {
		c := raw[i]
		if !escaped {
			if c == '\\' {
				escaped = true
			} else {
				b.WriteByte(c)
			}
			continue
		}
		escaped = false
		switch c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case ' ', '\\':
			b.WriteByte('\\')
		case '/':
			b.WriteByte('/')
		case '"', '\'':
			if c != raw[0] {
				return "", fmt.Errorf("invalid \\%c escape in %c-quoted string", c, raw[0])
			}
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("unsupported string escape sequence: \\%c", c)
		}
	}
	return b.String(), nil
}

var (
	unaryOps = []string{"exists"}
	numOps   = []string{"<=", "<", ">=", ">"}
	// A trailing space marks word operators that need a blank after them.
	strOps      = []string{"==", "=", "!=", "glob ", "iglob ", "contains ", "icontains ", "bcontains ", "startswith ", "bstartswith ", "endswith ", "regex "}
	modifierOps = []string{"oneof ", "anyof ", "allof "}
	listOps     = []string{"intersects", "in", "pmatch"}
	// Transformers of libs 0.25.4 (parser.cpp s_field_transformers).
	transformers = []string{"tolower(", "toupper(", "b64(", "basename(", "len(", "join(", "concat(", "getopt("}
)

func (p *parser) operator(list []string) bool {
	for _, op := range list {
		if !strings.HasSuffix(op, " ") {
			if p.str(op) {
				return true
			}
			continue
		}
		save, saveLast := p.i, p.last
		if p.str(strings.TrimSpace(op)) {
			if p.blank() {
				return true
			}
			p.i, p.last = save, saveLast
		}
	}
	return false
}

func (p *parser) transformerType() bool {
	for _, t := range transformers {
		if p.str(t) {
			return true
		}
	}
	return false
}

func (p *parser) parseOr() *expr { return p.parseList("or", exprOr, p.parseAnd) }

func (p *parser) parseAnd() *expr { return p.parseList("and", exprAnd, p.parseNot) }

// parseList parses operands joined by the keyword op ("or", "and"): one
// operand alone is itself; an operand after the keyword needs a blank or
// a parenthesis between them.
func (p *parser) parseList(op string, kind exprKind, operand func() *expr) *expr {
	p.enter()
	defer p.leave()
	pos := p.i
	p.blank()
	children := []*expr{operand()}
	p.blank()
	for p.str(op) {
		var child *expr
		if !p.blank() {
			if !p.str("(") {
				p.fail("expected blank or '(' after '%s'", op)
			}
			child = p.parseEmbedded()
		} else {
			child = operand()
		}
		children = append(children, child)
		p.blank()
	}
	if len(children) > 1 {
		return &expr{kind: kind, children: children, pos: pos}
	}
	return children[0]
}

// notBlank lexes "not" followed by at least one space.
func (p *parser) notBlank() bool {
	s := p.rest()
	if !strings.HasPrefix(s, "not") || len(s) < 4 || !isSpace(s[3]) {
		return false
	}
	return p.take(skip(s, 3, isSpace))
}

func (p *parser) parseNot() *expr {
	p.enter()
	defer p.leave()
	pos := p.i
	p.blank()
	negate := false
	for p.notBlank() {
		negate = !negate
	}
	var child *expr
	if p.str("not(") {
		negate = !negate
		child = p.parseEmbedded()
	} else {
		child = p.parseCheck()
	}
	if negate {
		return &expr{kind: exprNot, children: []*expr{child}, pos: pos}
	}
	return child
}

func (p *parser) parseEmbedded() *expr {
	p.enter()
	defer p.leave()
	p.blank()
	child := p.parseOr()
	p.blank()
	if !p.str(")") {
		p.fail("expected a ')' token")
	}
	return child
}

func (p *parser) parseCheck() *expr {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.i
	if p.str("(") {
		return p.parseEmbedded()
	}
	if p.fieldName() {
		lhs := p.fieldRemainder(p.last, pos)
		return p.parseCondition(lhs, pos)
	}
	if p.transformerType() {
		p.blank()
		lhs := p.transformerRemainder(pos)
		return p.parseCondition(lhs, pos)
	}
	if p.identifier() {
		return &expr{kind: exprIdent, ident: p.last, pos: pos}
	}
	p.fail("expected a '(' token, a field check, or an identifier")
	return nil
}

func (p *parser) fieldRemainder(name string, pos int) *operand {
	return &operand{field: &fieldRef{name: name, arg: p.optionalFieldArg(), pos: pos}, pos: pos}
}

func (p *parser) optionalFieldArg() *string {
	if !p.str("[") {
		return nil
	}
	if !p.quoted() && !p.fieldArgBare() {
		p.fail("expected a valid field argument: a quoted string or a bare string")
	}
	arg := p.last
	if !p.str("]") {
		p.fail("expected a ']' token")
	}
	return &arg
}

// transformerRemainder parses a transformer's arguments after
// transformerType matched its "name(" (still in p.last).
func (p *parser) transformerRemainder(pos int) *operand {
	name := strings.TrimSuffix(p.last, "(")
	p.enter()
	defer p.leave()
	p.blank()
	t := &operand{transformer: name, pos: pos}
	for {
		t.args = append(t.args, p.transformerArg())
		p.blank()
		if !p.str(",") {
			break
		}
	}
	p.blank()
	if !p.str(")") {
		p.fail("expected a ')' token closing the transformer")
	}
	t.arg = p.optionalFieldArg()
	return t
}

func (p *parser) transformerArg() *operand {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.i
	switch {
	case p.hexNum() || p.num():
		return &operand{value: &value{text: p.last, pos: pos}, pos: pos}
	case p.quoted():
		return &operand{value: &value{text: p.last, quoted: true, pos: pos}, pos: pos}
	case p.str("("):
		return p.transformerList(pos)
	case p.transformerType():
		return p.transformerRemainder(pos)
	case p.fieldName():
		return p.fieldRemainder(p.last, pos)
	}
	p.fail("expected field transformer argument: field, transformer, quoted string, number, or transformer list")
	return nil
}

func (p *parser) transformerList(pos int) *operand {
	l := &operand{list: true, pos: pos}
	p.blank()
	if p.str(")") {
		return l
	}
	l.args = append(l.args, p.transformerListArg())
	p.blank()
	for p.str(",") {
		p.blank()
		l.args = append(l.args, p.transformerListArg())
		p.blank()
	}
	if !p.str(")") {
		p.fail("expected ')'")
	}
	return l
}

func (p *parser) transformerListArg() *operand {
	pos := p.i
	switch {
	case p.fieldName():
		return p.fieldRemainder(p.last, pos)
	case p.transformerType():
		p.blank()
		return p.transformerRemainder(pos)
	case p.quoted():
		return &operand{value: &value{text: p.last, quoted: true, pos: pos}, pos: pos}
	case p.hexNum() || p.num():
		return &operand{value: &value{text: p.last, pos: pos}, pos: pos}
	}
	p.fail("expected transformer list argument: field, transformer, quoted string, or number")
	return nil
}

func (p *parser) parseCondition(lhs *operand, pos int) *expr {
	p.enter()
	defer p.leave()
	c := &check{lhs: lhs, pos: pos}
	e := &expr{kind: exprCheck, check: c, pos: pos}
	p.blank()
	if p.operator(unaryOps) {
		c.op = strings.TrimSpace(p.last)
		return e
	}
	p.blank()
	switch {
	case p.operator(numOps):
		c.op = p.last
		p.numValueOrTransformer(c)
	case p.operator(strOps):
		c.op = strings.TrimSpace(p.last)
		hadBlank := isAlpha(c.op[0]) || p.blank()
		save, saveLast := p.i, p.last
		if hadBlank && p.operator(modifierOps) && p.listValueFollows() && !p.boolKeywordFollows() {
			c.op += " " + strings.TrimSpace(p.last)
			p.listValue(c)
		} else {
			p.i, p.last = save, saveLast
			p.strValueOrTransformer(c)
		}
	case p.operator(listOps):
		c.op = p.last
		p.listValueOrTransformer(c)
	default:
		p.fail("expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'")
	}
	return e
}

func (p *parser) listValueFollows() bool {
	if strings.HasPrefix(p.rest(), "(") {
		return true
	}
	return identLen(p.rest()) > 0
}

func (p *parser) boolKeywordFollows() bool {
	s := p.rest()
	for _, kw := range []string{"and", "or", "not"} {
		if strings.HasPrefix(s, kw) && (len(s) == len(kw) || !isAlpha(s[len(kw)]) && !isDigit(s[len(kw)])) {
			return true
		}
	}
	return false
}

func (p *parser) numValueOrTransformer(c *check) {
	p.blank()
	pos := p.i
	if t := p.transformerOrVal(); t != nil {
		c.rhs = t
		return
	}
	if p.hexNum() || p.num() {
		c.values = []value{{text: p.last, pos: pos}}
		return
	}
	p.fail("expected a number value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'")
}

func (p *parser) strValueOrTransformer(c *check) {
	p.blank()
	if t := p.transformerOrVal(); t != nil {
		c.rhs = t
		return
	}
	if v, ok := p.strValue(); ok {
		c.values = []value{v}
		return
	}
	p.fail("expected a string value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'")
}

func (p *parser) strValue() (value, bool) {
	p.blank()
	pos := p.i
	if p.quoted() {
		return value{text: p.last, quoted: true, pos: pos}, true
	}
	if p.bareStr() {
		return value{text: p.last, pos: pos}, true
	}
	return value{}, false
}

// tryList parses "( v, v, ... )" into c.values.
func (p *parser) tryList(c *check) bool {
	if !p.str("(") {
		return false
	}
	c.list = true
	c.values = []value{}
	p.blank()
	if v, ok := p.strValue(); ok {
		c.values = append(c.values, v)
		p.blank()
		for p.str(",") {
			v, ok := p.strValue()
			if !ok {
				p.fail("expected a string value")
			}
			c.values = append(c.values, v)
			p.blank()
		}
	}
	if !p.str(")") {
		p.fail("expected a ')' token")
	}
	return true
}

func (p *parser) listValue(c *check) {
	p.blank()
	pos := p.i
	if p.tryList(c) {
		return
	}
	if p.identifier() {
		c.ident = true
		c.values = []value{{text: p.last, pos: pos}}
		return
	}
	p.fail("expected a list or an identifier")
}

func (p *parser) listValueOrTransformer(c *check) {
	p.blank()
	pos := p.i
	if p.tryList(c) {
		return
	}
	if t := p.transformerOrVal(); t != nil {
		c.rhs = t
		return
	}
	if p.identifier() {
		c.ident = true
		c.values = []value{{text: p.last, pos: pos}}
		return
	}
	p.fail("expected a list, an identifier, or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'")
}

func (p *parser) transformerOrVal() *operand {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.i
	if p.str("val(") {
		p.blank()
		fpos := p.i
		if !p.fieldName() {
			p.fail("expected a field within 'val' transformer")
		}
		f := p.fieldRemainder(p.last, fpos)
		p.blank()
		if !p.str(")") {
			p.fail("expected a ')' token closing the transformer")
		}
		return &operand{transformer: "val", args: []*operand{f}, arg: p.optionalFieldArg(), pos: pos}
	}
	if p.transformerType() {
		p.blank()
		return p.transformerRemainder(pos)
	}
	return nil
}

// parseFieldOrTransformer parses one output token: a field or a transformer,
// stopping where it ends (the formatter's partial parse).
func parseFieldOrTransformer(s string) (op *operand, n int, err error) {
	p := &parser{in: s}
	defer catchSyntaxError(&err)
	pos := p.i
	if p.fieldName() {
		return p.fieldRemainder(p.last, pos), p.i, nil
	}
	if p.transformerType() {
		p.blank()
		t := p.transformerRemainder(pos)
		return t, p.i, nil
	}
	return nil, 0, &syntaxError{0, "expected a field or a field transformer"}
}
