package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/aks-gitops/platform/tools/internal/report/md"
)

// Formats Write accepts.
var Formats = []string{"text", "json", "markdown"}

// WriteOptions configures Write.
type WriteOptions struct {
	// Color uses ANSI colours (text only).
	Color bool
	// MaxObjectLines caps the YAML shown for an added or removed object
	// (0: DefaultMaxObjectLines; negative: no YAML at all).
	MaxObjectLines int
	// Context is the number of unchanged lines around a line diff
	// (0: 3).
	Context int
}

// DefaultMaxObjectLines is the longest added or removed object shown whole.
const DefaultMaxObjectLines = 200

// maxLine caps one shown line: a minified JSON document must not fill a
// comment.
const maxLine = 1000

func (wo WriteOptions) maxObjectLines() int {
	if wo.MaxObjectLines == 0 {
		return DefaultMaxObjectLines
	}
	return wo.MaxObjectLines
}

func (wo WriteOptions) context() int {
	if wo.Context <= 0 {
		return 3
	}
	return wo.Context
}

// Write writes the report as text, json or markdown.
func (r *Report) Write(w io.Writer, format string, wo WriteOptions) error {
	switch format {
	case "text":
		_, err := io.WriteString(w, r.text(wo))
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "markdown":
		// The same blocks MarkdownParts packs, so its parts concatenate
		// to exactly this.
		for _, b := range r.markdownBlocks(wo, md.Room) {
			if _, err := io.WriteString(w, b); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// MarshalJSON adds the summary and each change's origin.
func (r *Report) MarshalJSON() ([]byte, error) {
	a, rm, ch, d := r.Counts()
	changes := r.Changes
	if changes == nil {
		changes = []Change{}
	}
	return json.Marshal(struct {
		Title   string         `json:"title,omitempty"`
		Failure string         `json:"failure,omitempty"`
		Summary map[string]int `json:"summary"`
		Changes []Change       `json:"changes"`
	}{r.Title, r.Failure, map[string]int{"added": a, "removed": rm, "changed": ch, "danger": d}, changes})
}

// MarshalJSON adds the origin on one line.
func (c Change) MarshalJSON() ([]byte, error) {
	type plain Change
	out := struct {
		plain
		Origin     string `json:"origin,omitempty"`
		BaseOrigin string `json:"baseOrigin,omitempty"`
	}{plain: plain(c), Origin: c.Origin.String()}
	if c.BaseOrigin != nil {
		out.BaseOrigin = c.BaseOrigin.String()
	}
	return json.Marshal(out)
}

// summaryLine is "1 added, 2 changed, 1 danger note" or "no changes".
func (r *Report) summaryLine() string {
	if r.Failure != "" {
		return "failed: " + r.Failure
	}
	a, rm, ch, d := r.Counts()
	if a+rm+ch == 0 {
		return "no changes"
	}
	s := fmt.Sprintf("%d added, %d removed, %d changed", a, rm, ch)
	switch d {
	case 0:
	case 1:
		s += ", 1 danger note"
	default:
		s += fmt.Sprintf(", %d danger notes", d)
	}
	return s
}

// line is one line of a rendered diff: op is '+', '-', ' ' or 0 for a
// header (a path).
type line struct {
	op     byte
	indent int
	text   string
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
var opSign = map[Op]byte{OpAdded: '+', OpRemoved: '-', OpChanged: '~'}

// fieldLines renders one field difference. Compact puts a scalar change
// on one line (text); otherwise old and new get lines of their own (a
// Markdown diff block colours them).
func fieldLines(f FieldDiff, compact bool, context int) []line {
	switch {
	case f.Masked:
		return []line{{op: opSign[f.Op], text: fmt.Sprintf("%s: (secret value %s, not shown)", f.Path, f.Op)}}
	case !f.Multiline() && compact:
		switch f.Op {
		case OpAdded:
			return []line{{op: '+', text: f.Path + ": " + clip(f.New)}}
		case OpRemoved:
			return []line{{op: '-', text: f.Path + ": " + clip(f.Old)}}
		}
		return []line{{op: '~', text: fmt.Sprintf("%s: %s → %s", f.Path, clip(f.Old), clip(f.New))}}
	}
	out := []line{{op: opSign[f.Op], text: f.Path + ":"}}
	switch f.Op {
	case OpAdded:
		for _, l := range splitLines(f.New) {
			out = append(out, line{op: '+', indent: 1, text: clip(l)})
		}
		return out
	case OpRemoved:
		for _, l := range splitLines(f.Old) {
			out = append(out, line{op: '-', indent: 1, text: clip(l)})
		}
		return out
	}
	a, b := splitLines(f.Old), splitLines(f.New)
	m := difflib.NewMatcher(a, b)
	for gi, group := range m.GetGroupedOpCodes(context) {
		if gi > 0 {
			out = append(out, line{op: ' ', indent: 1, text: "…"})
		}
		for _, c := range group {
			switch c.Tag {
			case 'e':
				for _, l := range a[c.I1:c.I2] {
					out = append(out, line{op: ' ', indent: 1, text: clip(l)})
				}
			case 'd', 'r', 'i':
				for _, l := range a[c.I1:c.I2] {
					out = append(out, line{op: '-', indent: 1, text: clip(l)})
				}
				for _, l := range b[c.J1:c.J2] {
					out = append(out, line{op: '+', indent: 1, text: clip(l)})
				}
			}
		}
	}
	return out
}

// objectLines renders what changed in one object, notes excluded.
func objectLines(c Change, compact bool, wo WriteOptions) []line {
	var out []line
	switch c.Action {
	case Added, Removed:
		op := byte('+')
		if c.Action == Removed {
			op = '-'
		}
		limit := wo.maxObjectLines()
		ls := splitLines(c.YAML)
		if limit < 0 || len(ls) > limit {
			return []line{{op: ' ', text: fmt.Sprintf("(%d lines of YAML not shown)", len(ls))}}
		}
		for _, l := range ls {
			out = append(out, line{op: op, text: clip(l)})
		}
		return out
	}
	for _, f := range c.Fields {
		out = append(out, fieldLines(f, compact, wo.context())...)
	}
	return out
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
)

var actionSign = map[Action]string{Added: "+", Removed: "-", Changed: "~"}

func (c Change) heading() string {
	s := fmt.Sprintf("%s %s %s", actionSign[c.Action], c.ID.Qualified(), c.Action)
	if c.BaseOrigin != nil {
		return s + fmt.Sprintf(" (%s, was %s)", c.Origin, c.BaseOrigin)
	}
	if o := c.Origin.String(); o != "" {
		s += " (" + o + ")"
	}
	return s
}

func (r *Report) text(wo WriteOptions) string {
	var b strings.Builder
	paint := func(color, s string) string {
		if !wo.Color || color == "" {
			return s
		}
		return color + s + ansiReset
	}
	title := r.Title
	if title == "" {
		title = "diff"
	}
	fmt.Fprintf(&b, "%s: %s\n", paint(ansiBold, title), r.summaryLine())
	for _, c := range r.Changes {
		color := map[Action]string{Added: ansiGreen, Removed: ansiRed, Changed: ansiYellow}[c.Action]
		b.WriteString(paint(color, c.heading()) + "\n")
		for _, n := range c.Notes {
			nc := ansiYellow
			if n.Level == Danger {
				nc = ansiBold + ansiRed
			}
			b.WriteString("    " + paint(nc, fmt.Sprintf("! %s %s: %s", n.Level, n.Rule, n.Message)) + "\n")
		}
		for _, l := range objectLines(c, true, wo) {
			lc := map[byte]string{'+': ansiGreen, '-': ansiRed}[l.op]
			op := string(l.op)
			if l.op == '~' {
				op = " "
			}
			b.WriteString("  " + paint(lc, op+" "+strings.Repeat("  ", l.indent)+l.text) + "\n")
		}
	}
	return b.String()
}
