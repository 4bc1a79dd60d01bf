package falcorules

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// appendBase stands for the condition an appended fragment is added to
// ("and not ...", "or ..."), so the fragment parses as Falco will parse it.
const appendBase = "falcorulesappendbase"

// scope is where a reference is checked from.
type scope struct {
	it *item
	// fields are checked only for the syscall source (the facts describe it)
	fields bool
	// unknown fields are expected (skip-if-unknown-filter: true)
	skipUnknown bool
	where       string // "condition", "output", "exception"
	node        *yaml.Node
	text        string
	offset      int // bytes of text that are not the item's own (appendBase)
	c           *checker
	segs        []segment
	segsDone    bool
	// newlines are the offsets of the newlines in the item's own text,
	// after a -1 for the start of the first line (nil: not yet counted).
	newlines  []int
	multiLine bool
}

func (c *checker) checkReferences() {
	for _, it := range c.items {
		switch it.kind {
		case "list":
			c.checkAppendTarget(it, c.lists, c.facts.stockLists)
			c.checkListItems(it)
		case "macro":
			c.checkAppendTarget(it, c.macros, c.facts.stockMacros)
			c.checkItemCondition(it, true, false)
		case "rule":
			c.checkAppendTarget(it, c.rules, c.facts.stockRules)
			syscall := it.source == "" || it.source == "syscall"
			skip := false
			if n, ok := it.keys["skip-if-unknown-filter"]; ok {
				_ = n.Decode(&skip)
			}
			c.checkItemCondition(it, syscall, skip)
			if syscall {
				if n, ok := it.keys["output"]; ok && isScalar(n) {
					c.checkOutput(it, n, skip)
				}
				for _, f := range it.exFields {
					sc := &scope{it: it, fields: true, skipUnknown: skip, where: "exception", node: f.node, c: c}
					c.checkField(sc, &fieldRef{name: f.name}, false)
				}
			}
		}
	}
	for _, m := range []struct {
		what  string
		defs  map[string]*def
		stock map[string]bool
	}{{"macro", c.macros, c.facts.stockMacros}, {"list", c.lists, c.facts.stockLists}} {
		for _, name := range sortedKeys(m.defs) {
			d := m.defs[name]
			if !d.used && !m.stock[name] {
				c.warnItem(d.it, nil, "%s is not used by any rule, macro or list", m.what)
			}
		}
	}
}

// checkAppendTarget: an append or override changes an existing item, which
// must be a stock one or one of ours loaded before it.
func (c *checker) checkAppendTarget(it *item, defs map[string]*def, stock map[string]bool) {
	if !it.append || stock[it.name] {
		return
	}
	if d, ok := defs[it.name]; ok && d.it.index < it.index {
		d.used = d.used || it.kind == "rule"
		return
	}
	how := "append or override"
	if it.kind == "rule" && len(it.override) == 0 && !it.appendFlag {
		how = "enabled"
	}
	c.addItem(it, nil, "%s of a %s that is not defined before it (neither in the Falco %s default rules nor earlier in these files)", how, it.kind, FalcoVersion)
}

func (c *checker) checkItemCondition(it *item, fields, skip bool) {
	n, ok := it.keys["condition"]
	if !ok || !isScalar(n) || strings.TrimSpace(n.Value) == "" {
		return
	}
	sc := &scope{it: it, fields: fields, skipUnknown: skip, where: "condition", node: n, text: n.Value, c: c}
	if it.append && (it.override["condition"] == "append" || (len(it.override) == 0 && it.appendFlag)) {
		sc.text = appendBase + " " + n.Value
		sc.offset = len(appendBase) + 1
	}
	e, err := parseCondition(sc.text)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			c.addAt(sc, se.pos, "condition: syntax error at %s: %s%s", sc.position(se.pos), se.msg, sc.near(se.pos))
		}
		return
	}
	c.walk(sc, e)
	if sc.fields {
		c.checkDupDescriptor(sc, e)
	}
}

// dupEvents are the system calls that duplicate a file descriptor.
var dupEvents = map[string]bool{"dup": true, "dup2": true, "dup3": true}

// checkDupDescriptor flags a condition that asks for dup events only and
// compares fd.num: on a dup event the fd.* fields describe the descriptor
// being duplicated (the socket of a reverse shell, numbered 3 or above),
// and the new one, 0, 1 or 2 for a redirected standard stream, is the
// event's return value, evt.rawres, which Falco's own rule ("Redirect
// STDOUT/STDIN to Network Connection in Container") compares.
func (c *checker) checkDupDescriptor(sc *scope, e *expr) {
	var conj []*expr
	var flatten func(*expr)
	flatten = func(e *expr) {
		if e.kind == exprAnd {
			for _, ch := range e.children {
				flatten(ch)
			}
			return
		}
		conj = append(conj, e)
	}
	flatten(e)
	onlyDup := false
	var fdNum *check
	for _, x := range conj {
		if x.kind != exprCheck || x.check.lhs.field == nil || x.check.lhs.field.arg != nil {
			continue
		}
		ch := x.check
		switch ch.lhs.field.name {
		case "evt.type":
			if (ch.op == "in" || ch.op == "=" || ch.op == "==") && !ch.ident && len(ch.values) > 0 {
				onlyDup = true
				for _, v := range ch.values {
					onlyDup = onlyDup && dupEvents[v.text]
				}
			}
		case "fd.num":
			fdNum = ch
		}
	}
	if onlyDup && fdNum != nil {
		c.addAt(sc, fdNum.lhs.field.pos, "%s: fd.num at %s is the descriptor a dup event duplicates, not the new one: compare evt.rawres (the new descriptor, 0, 1 or 2 for a standard stream)",
			sc.where, sc.position(fdNum.lhs.field.pos))
	}
}

// addAt records a problem at pos of the scope's text: on the file line that
// holds it when the scalar maps back to the file.
func (c *checker) addAt(sc *scope, pos int, format string, args ...any) {
	c.addItem(sc.it, sc.node, format, args...)
	if line, _, ok := sc.filePos(c, pos); ok {
		c.problems[len(c.problems)-1].Line = line
	}
}

// position is "column C" of pos on its file line when the scalar maps back
// to the file, else "line L column C" (or "column C") in the item's own text.
func (sc *scope) position(pos int) string {
	if sc.c != nil {
		if _, col, ok := sc.filePos(sc.c, pos); ok {
			return fmt.Sprintf("column %d", col)
		}
	}
	pos -= sc.offset
	if pos < 0 {
		pos = 0
	}
	own := sc.text[sc.offset:]
	if pos > len(own) {
		pos = len(own)
	}
	if sc.newlines == nil {
		// Once per scope: a rule with thousands of findings asks for
		// thousands of positions in the same text.
		sc.newlines = []int{-1}
		for i := 0; i < len(own); i++ {
			if own[i] == '\n' {
				sc.newlines = append(sc.newlines, i)
			}
		}
		sc.multiLine = strings.Contains(strings.TrimRight(own, "\n"), "\n")
	}
	// The last newline before pos starts its line.
	line := sort.SearchInts(sc.newlines, pos)
	col := pos - sc.newlines[line-1]
	if sc.multiLine {
		return fmt.Sprintf("line %d column %d", line, col)
	}
	return fmt.Sprintf("column %d", col)
}

func (sc *scope) near(pos int) string {
	if pos >= len(sc.text) {
		return " (at the end)"
	}
	rest := strings.Join(strings.Fields(sc.text[pos:]), " ")
	if len(rest) > 24 {
		rest = rest[:24] + "..."
	}
	return fmt.Sprintf(" (near %q)", rest)
}

func (c *checker) walk(sc *scope, e *expr) {
	switch e.kind {
	case exprAnd, exprOr, exprNot:
		for _, ch := range e.children {
			c.walk(sc, ch)
		}
	case exprIdent:
		if e.ident == appendBase && e.pos == 0 && sc.offset > 0 {
			return
		}
		c.macroRef(sc, e)
	case exprCheck:
		c.checkCheck(sc, e.check)
	}
}

func (c *checker) macroRef(sc *scope, e *expr) {
	name := e.ident
	if d, ok := c.macros[name]; ok {
		if sc.it.kind == "macro" && d.it.index > sc.it.index && !c.facts.stockMacros[name] {
			c.addItem(sc.it, sc.node, "%s: macro %q is used before it is defined (macros can only use macros loaded before them)", sc.where, name)
			return
		}
		if d.it != sc.it {
			d.used = true
		}
		return
	}
	if c.facts.stockMacros[name] {
		return
	}
	hint := ""
	if _, ok := c.lists[name]; ok || c.facts.stockLists[name] {
		hint = " (a list of that name exists: lists go on the right of in, intersects or pmatch)"
	}
	c.addAt(sc, e.pos, "%s: undefined macro %q at %s%s", sc.where, name, sc.position(e.pos), hint)
}

func (c *checker) isList(name string) bool {
	_, ok := c.lists[name]
	return ok || c.facts.stockLists[name]
}

func (c *checker) useList(name string) {
	if d, ok := c.lists[name]; ok {
		d.used = true
	}
}

func (c *checker) checkCheck(sc *scope, ch *check) {
	c.checkOperand(sc, ch.lhs, false)
	if ch.rhs != nil {
		c.checkOperand(sc, ch.rhs, false)
	}
	listOp := ch.op == "in" || ch.op == "intersects" || ch.op == "pmatch" || isModifierOp(ch.op)
	evtType := ch.lhs.field != nil && ch.lhs.field.name == "evt.type" && ch.lhs.field.arg == nil && sc.fields &&
		(ch.op == "=" || ch.op == "==" || ch.op == "!=" || ch.op == "in" || ch.op == "intersects")
	if ch.ident {
		v := ch.values[0]
		if c.isList(v.text) {
			c.useList(v.text)
			if evtType {
				c.checkEventTypes(sc, v.text, v.pos, map[string]bool{})
			}
			return
		}
		c.addAt(sc, v.pos, "%s: undefined list %q at %s", sc.where, v.text, sc.position(v.pos))
		return
	}
	for _, v := range ch.values {
		if !v.quoted && c.isList(v.text) {
			c.useList(v.text)
			if evtType {
				c.checkEventTypes(sc, v.text, v.pos, map[string]bool{})
			}
			continue
		}
		if evtType {
			if !c.facts.evttypes[v.text] {
				c.addAt(sc, v.pos, "%s: unknown event type %q at %s", sc.where, v.text, sc.position(v.pos))
			}
			continue
		}
		if listOp && ch.list && !v.quoted && looksLikeListName(v.text) &&
			(len(ch.values) == 1 || hasListSuffix(v.text) || c.nearListName(v.text) != "") {
			hint := ""
			if _, ok := c.macros[v.text]; ok || c.facts.stockMacros[v.text] {
				hint = "; a macro of that name exists, but macros are conditions, not lists"
			}
			c.addAt(sc, v.pos, "%s: undefined list %q at %s (quote the value if it is meant literally%s)", sc.where, v.text, sc.position(v.pos), hint)
		}
	}
}

// looksLikeListName: Falco substitutes a bare word that names a list and
// keeps any other word as a literal, so a mistyped or missing list silently
// becomes a value that never matches. A bare word with an underscore is taken
// for a list reference when it is alone in its parentheses, ends like a list
// name (_binaries, _images, ...) or is within two edits of a defined list;
// quoting a literal keeps it a literal for Falco too.
func looksLikeListName(s string) bool {
	return identLen(s) == len(s) && strings.Contains(s, "_")
}

// checkEventTypes checks the items of one of our lists used as evt.type values.
func (c *checker) checkEventTypes(sc *scope, list string, pos int, seen map[string]bool) {
	d, ok := c.lists[list]
	if !ok || seen[list] {
		return // a stock list: its items are not in the facts
	}
	seen[list] = true
	for _, v := range listItems(d.it) {
		if c.isList(v.Value) {
			c.checkEventTypes(sc, v.Value, pos, seen)
			continue
		}
		if !c.facts.evttypes[v.Value] {
			c.addAt(sc, pos, "%s: unknown event type %q (from list %q) at %s", sc.where, v.Value, list, sc.position(pos))
		}
	}
}

func listItems(it *item) []*yaml.Node {
	n, ok := it.keys["items"]
	if !ok || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

var singleTransformers = set("tolower", "toupper", "b64", "basename", "len")

func (c *checker) checkOperand(sc *scope, op *operand, output bool) {
	switch {
	case op == nil:
	case op.field != nil:
		c.checkField(sc, op.field, output)
	case op.transformer != "":
		if singleTransformers[op.transformer] && len(op.args) != 1 {
			c.addAt(sc, op.pos, "%s: transformer %s takes one argument, not %d, at %s", sc.where, op.transformer, len(op.args), sc.position(op.pos))
		}
		if op.arg != nil && (op.transformer == "val" || singleTransformers[op.transformer]) {
			c.addAt(sc, op.pos, "%s: transformer %s does not support field arguments ([%s]) at %s", sc.where, op.transformer, *op.arg, sc.position(op.pos))
		}
		for _, a := range op.args {
			c.checkOperand(sc, a, output)
		}
	case op.list:
		for _, a := range op.args {
			c.checkOperand(sc, a, output)
		}
	}
}

func (c *checker) checkField(sc *scope, f *fieldRef, output bool) {
	if !sc.fields {
		return
	}
	name, msg := c.facts.lookupField(f.name, f.arg)
	report := func(format string, args ...any) {
		if sc.text == "" { // an exception's field: no position inside
			c.addItem(sc.it, sc.node, format, args...)
			return
		}
		c.addAt(sc, f.pos, format+" at %s", append(args, sc.position(f.pos))...)
	}
	if msg != "" {
		if name == "" && sc.skipUnknown {
			return
		}
		report("%s: %s", sc.where, msg)
		return
	}
	fi := c.facts.fields[name]
	if output && fi.filterOnly {
		report("%s: field %s is filter only and cannot be printed", sc.where, f.name)
	}
	if !output && fi.printOnly {
		report("%s: field %s can only be printed, not compared", sc.where, f.name)
	}
}

// checkListItems: items naming a list are expanded by Falco only when that
// list is loaded before this one; items that look like list names but name
// none are reported.
func (c *checker) checkListItems(it *item) {
	for _, v := range listItems(it) {
		if v.Kind != yaml.ScalarNode {
			continue
		}
		name := v.Value
		if d, ok := c.lists[name]; ok && d.it != it {
			if d.it.index > it.index && !c.facts.stockLists[name] {
				c.addItem(it, v, "item %q names a list loaded after this one: Falco keeps it as a literal value", name)
				continue
			}
			d.used = true
			continue
		}
		if c.facts.stockLists[name] || v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			continue
		}
		if !looksLikeListName(name) {
			continue
		}
		if near := c.nearListName(name); hasListSuffix(name) || near != "" {
			hint := ""
			if near != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", near)
			}
			c.addItem(it, v, "item %q looks like a list reference but no such list is defined%s; quote it if it is a literal value", name, hint)
		}
	}
}

var listSuffixes = []string{"_binaries", "_images", "_containers", "_procs", "_processes", "_names", "_directories", "_dirs", "_files", "_ports", "_addresses", "_commands", "_cmdlines", "_list", "_lists", "_repositories"}

func hasListSuffix(s string) bool {
	for _, suf := range listSuffixes {
		if strings.HasSuffix(s, suf) {
			return true
		}
	}
	return false
}

// nearListName returns a defined list name within two edits of s.
func (c *checker) nearListName(s string) string {
	best, bestD := "", 3
	consider := func(name string) {
		if name == s || abs(len(name)-len(s)) >= bestD {
			return
		}
		if d := editDistance(s, name, bestD); d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	for _, name := range sortedKeys(c.lists) {
		consider(name)
	}
	for _, name := range sortedKeys(c.facts.stockLists) {
		consider(name)
	}
	if bestD > 2 {
		return ""
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance of a and b, capped at limit.
func editDistance(a, b string, limit int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkOutput checks the %field tokens of a rule's output the way
// libsinsp's event formatter reads them; a field name must be a whole known
// field (the formatter would fall back to a shorter prefix and print the
// rest as text, which hides typos such as %proc.cmdlin).
func (c *checker) checkOutput(it *item, n *yaml.Node, skip bool) {
	sc := &scope{it: it, fields: true, skipUnknown: skip, where: "output", node: n, text: n.Value, c: c}
	trimmed := strings.TrimSpace(n.Value) // Falco trims the output
	s := strings.TrimPrefix(trimmed, "*")
	base := strings.Index(n.Value, trimmed) + len(trimmed) - len(s) // offset of s in the value
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		j := i + 1
		if j == len(s) {
			c.addItem(it, n, "output: formatting cannot end with a %%")
			return
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if strings.HasPrefix(s[j:], "container.info") && fieldNameLen(s[j:]) == len("container.info") {
			i = j + len("container.info") - 1 // Falco drops this deprecated token
			continue
		}
		op, m, err := parseFieldOrTransformer(s[j:])
		if err != nil {
			c.addAt(sc, base+i, "output: %% at %s is not followed by a field or a transformer%s", sc.position(base+i), sc.near(base+i))
			return
		}
		shift(op, base+j)
		c.checkOperand(sc, op, true)
		i = j + m - 1
	}
}

// shift moves operand positions from token-relative to output-relative.
func shift(op *operand, by int) {
	if op == nil {
		return
	}
	op.pos += by
	if op.field != nil {
		op.field.pos += by
	}
	for _, a := range op.args {
		shift(a, by)
	}
}
