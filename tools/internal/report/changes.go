package report

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/report/md"
)

// ChangeOptions tune how changed objects are shown, by the revision diff
// and the live diff alike.
type ChangeOptions struct {
	// Color uses ANSI colours (text only).
	Color bool
	// MaxObjectLines caps the YAML shown for an added or removed object
	// (0: DefaultMaxObjectLines; negative: no YAML at all).
	MaxObjectLines int
	// Context is the number of unchanged lines around a line diff (0: 3).
	Context int
	// Unchanged lists the live diff's unchanged objects too (text and
	// Markdown; JSON always has them).
	Unchanged bool
}

// DefaultMaxObjectLines is the longest added or removed object shown whole.
const DefaultMaxObjectLines = 200

// maxLine caps one shown line: a minified JSON document must not fill a
// comment.
const maxLine = 1000

func (o ChangeOptions) maxObjectLines() int {
	if o.MaxObjectLines == 0 {
		return DefaultMaxObjectLines
	}
	return o.MaxObjectLines
}

func (o ChangeOptions) context() int {
	if o.Context <= 0 {
		return 3
	}
	return o.Context
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
)

// painter colours text when colour is on.
type painter bool

func (p painter) paint(color, s string) string {
	if !p || color == "" {
		return s
	}
	return color + s + ansiReset
}

// line is one line of a shown change: op is '+', '-', '~' (the first line
// of a changed field) or ' '.
type line struct {
	op     byte
	indent int
	text   string
}

// textLine is the line as text and Markdown diff blocks show it: the op
// ('~' as a blank: a diff block colours only + and -), then the indented
// text.
func (l line) textLine() string {
	op := l.op
	if op == '~' || op == 0 {
		op = ' '
	}
	return string(op) + " " + strings.Repeat("  ", l.indent) + l.text
}

func clip(s string) string {
	if len(s) <= maxLine {
		return s
	}
	cut := maxLine
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return fmt.Sprintf("%s… (%d more characters)", s[:cut], len(s)-cut)
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return []string{""}
	}
	return strings.Split(s, "\n")
}

// opSign marks a field difference's first line.
var opSign = map[diff.Op]byte{diff.OpAdded: '+', diff.OpRemoved: '-', diff.OpChanged: '~'}

// fieldLines shows one field difference. Compact puts a scalar change on
// one line (text); otherwise old and new get lines of their own (a
// Markdown diff block colours them), and a changed multi-line value is a
// line diff with context lines around each change.
func fieldLines(f diff.FieldDiff, compact bool, context int) []line {
	switch {
	case f.Masked:
		return []line{{op: opSign[f.Op], text: fmt.Sprintf("%s: (secret value %s, not shown)", f.Path, f.Op)}}
	case !f.Multiline() && compact:
		switch f.Op {
		case diff.OpAdded:
			return []line{{op: '+', text: f.Path + ": " + clip(f.New)}}
		case diff.OpRemoved:
			return []line{{op: '-', text: f.Path + ": " + clip(f.Old)}}
		}
		return []line{{op: '~', text: fmt.Sprintf("%s: %s → %s", f.Path, clip(f.Old), clip(f.New))}}
	}
	out := []line{{op: opSign[f.Op], text: f.Path + ":"}}
	value := func(op byte, ls []string) {
		for _, l := range ls {
			out = append(out, line{op: op, indent: 1, text: clip(l)})
		}
	}
	switch f.Op {
	case diff.OpAdded:
		value('+', splitLines(f.New))
		return out
	case diff.OpRemoved:
		value('-', splitLines(f.Old))
		return out
	}
	a, b := splitLines(f.Old), splitLines(f.New)
	for gi, group := range difflib.NewMatcher(a, b).GetGroupedOpCodes(context) {
		if gi > 0 {
			out = append(out, line{op: ' ', indent: 1, text: "…"})
		}
		for _, c := range group {
			if c.Tag == 'e' {
				value(' ', a[c.I1:c.I2])
				continue
			}
			value('-', a[c.I1:c.I2])
			value('+', b[c.J1:c.J2])
		}
	}
	return out
}

// changeLines shows what changed in one object, notes excluded: the YAML
// of an added or removed object (when the change carries it), else the
// field differences.
func changeLines(c diff.Change, compact bool, o ChangeOptions) []line {
	if c.Action == diff.Added || c.Action == diff.Removed {
		if c.YAML == "" {
			return nil
		}
		op := byte('+')
		if c.Action == diff.Removed {
			op = '-'
		}
		ls := splitLines(c.YAML)
		if limit := o.maxObjectLines(); limit < 0 || len(ls) > limit {
			return []line{{op: ' ', text: fmt.Sprintf("(%d lines of YAML not shown)", len(ls))}}
		}
		out := make([]line, 0, len(ls))
		for _, l := range ls {
			out = append(out, line{op: op, text: clip(l)})
		}
		return out
	}
	var out []line
	for _, f := range c.Fields {
		out = append(out, fieldLines(f, compact, o.context())...)
	}
	return out
}

// writeChangeText writes one change's notes and lines under its heading,
// as text.
func writeChangeText(b *strings.Builder, c diff.Change, o ChangeOptions) {
	p := painter(o.Color)
	for _, n := range c.Notes {
		nc := ansiYellow
		if n.Level == diff.Danger {
			nc = ansiBold + ansiRed
		}
		b.WriteString("    " + p.paint(nc, fmt.Sprintf("! %s %s: %s", n.Level, n.Rule, n.Message)) + "\n")
	}
	for _, l := range changeLines(c, true, o) {
		lc := map[byte]string{'+': ansiGreen, '-': ansiRed}[l.op]
		b.WriteString("  " + p.paint(lc, l.textLine()) + "\n")
	}
}

// detailsBlocks shows one change in Markdown as collapsible <details>
// blocks of at most limit bytes each (0: one block): the summary, the notes
// as a list (when notes is set), then the lines in a diff block; a change
// too long for one block goes on in "(continued)" blocks.
func detailsBlocks(summary string, c diff.Change, notes bool, o ChangeOptions, limit int) []string {
	var ls []string
	for _, l := range changeLines(c, false, o) {
		ls = append(ls, l.textLine())
	}
	var head strings.Builder
	if notes {
		for _, n := range c.Notes {
			fmt.Fprintf(&head, "- **%s** %s: %s\n", n.Level, n.Rule, md.Text(n.Message))
		}
	}
	if len(ls) == 0 {
		return []string{fmt.Sprintf("<details><summary>%s</summary>\n\n%s\n</details>\n\n", summary, head.String())}
	}
	if head.Len() > 0 {
		head.WriteString("\n")
	}
	f := md.Fence(ls)
	open := func(cont bool) string {
		s := summary
		if cont {
			s += " (continued)"
			return fmt.Sprintf("<details><summary>%s</summary>\n\n%sdiff\n", s, f)
		}
		return fmt.Sprintf("<details><summary>%s</summary>\n\n%s%sdiff\n", s, head.String(), f)
	}
	closing := f + "\n</details>\n\n"
	var blocks []string
	var b strings.Builder
	b.WriteString(open(false))
	body := 0
	for _, l := range ls {
		l += "\n"
		if limit > 0 && body > 0 && b.Len()+len(l)+len(closing) > limit {
			b.WriteString(closing)
			blocks = append(blocks, b.String())
			b.Reset()
			b.WriteString(open(true))
			body = 0
		}
		b.WriteString(l)
		body++
	}
	b.WriteString(closing)
	return append(blocks, b.String())
}

// parts packs a report's Markdown blocks into comments of at most limit
// bytes each (0: md.CommentLimit), leaving room in each for its header
// (PartHeader); blocks makes the blocks no longer than it is given. Parts
// break only between blocks, so each part is valid Markdown on its own and
// the parts concatenate to the whole report. The headers are not part of
// what concatenates.
func parts(limit int, blocks func(blockLimit int) []string) []string {
	if limit <= 0 {
		limit = md.CommentLimit
	}
	room := limit - md.HeaderReserve
	var out []string
	var b strings.Builder
	for _, bl := range blocks(room) {
		if b.Len() > 0 && b.Len()+len(bl) > room {
			out = append(out, b.String())
			b.Reset()
		}
		b.WriteString(bl)
	}
	return append(out, b.String())
}

// PartMarker is the hidden HTML comment that names part i of one report,
// so a pull-request comment can be found and updated in place. name is
// "check" for the check run and "diff:ENTRY" for the diff of a cluster
// entry (ENTRY "live/PATH" for the live diff).
func PartMarker(name string, i int) string {
	return fmt.Sprintf("<!-- tools-%s:part-%d -->", name, i)
}

// PartHeader heads part i of n (from 1): the marker and, for a report in
// more than one part, "part i/n".
func PartHeader(name string, i, n int) string {
	h := PartMarker(name, i) + "\n"
	if n > 1 {
		h += fmt.Sprintf("**part %d/%d**\n\n", i, n)
	}
	return h
}
