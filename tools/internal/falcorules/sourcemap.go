package falcorules

import (
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// segment is a run of a scalar's value that sits on one line of the file.
type segment struct {
	start, end int // offsets in the value
	line, col  int // 1-based file position of value[start]
}

// filePos maps an offset in the scope's text to a file line and column. It
// works for plain, literal (|) and folded (>) scalars whose lines join back
// into the value (no blank or more-indented lines inside a folded one).
func (sc *scope) filePos(c *checker, pos int) (line, col int, ok bool) {
	if !sc.segsDone {
		sc.segsDone = true
		sc.segs = scalarSegments(c.lines[sc.it.file], sc.node)
	}
	pos -= sc.offset
	// The segments lie in order and apart in the value: search, not scan,
	// as a rule with thousands of findings asks once for each.
	if i := sort.Search(len(sc.segs), func(i int) bool { return sc.segs[i].end >= pos }); i < len(sc.segs) {
		if s := sc.segs[i]; pos >= s.start {
			return s.line, s.col + pos - s.start, true
		}
	}
	if n := len(sc.segs); n > 0 && pos > sc.segs[n-1].end && pos <= len(sc.text)-sc.offset {
		last := sc.segs[n-1] // trailing blanks and newlines: the end of the last line
		return last.line, last.col + last.end - last.start, true
	}
	return 0, 0, false
}

func scalarSegments(lines []string, n *yaml.Node) []segment {
	if n == nil || n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(lines) {
		return nil
	}
	var segs []segment
	var sep string
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		sep = " "
		if n.Style&yaml.LiteralStyle != 0 {
			sep = "\n"
		}
		indent := -1
		for i := n.Line; i < len(lines); i++ { // lines[n.Line] is the line after the indicator
			l := lines[i]
			if strings.TrimSpace(l) == "" {
				if sep == " " {
					break // a blank line folds to a newline: give up
				}
				segs = append(segs, segment{line: i + 1, col: 1})
				continue
			}
			ind := len(l) - len(strings.TrimLeft(l, " "))
			if indent < 0 {
				indent = ind
			}
			if ind < indent {
				break
			}
			if ind > indent && sep == " " {
				return nil // more-indented lines keep their newlines
			}
			segs = append(segs, segment{line: i + 1, col: indent + 1, end: len(l) - indent})
		}
		for len(segs) > 0 && segs[len(segs)-1].end == 0 {
			segs = segs[:len(segs)-1]
		}
	case n.Style == 0 || n.Style&yaml.TaggedStyle != 0:
		sep = " "
		first := lines[n.Line-1]
		if n.Column < 1 || n.Column > len(first)+1 {
			return nil
		}
		rest := strings.TrimRight(first[n.Column-1:], " \t")
		segs = append(segs, segment{line: n.Line, col: n.Column, end: len(rest)})
		covered := len(rest) // of the value, by the segments so far
		for i := n.Line; i < len(lines) && len(segs) > 0; i++ {
			l := lines[i]
			t := strings.TrimSpace(l)
			if t == "" || !strings.HasPrefix(n.Value[min(covered, len(n.Value)):], " "+t) {
				break
			}
			segs = append(segs, segment{line: i + 1, col: len(l) - len(strings.TrimLeft(l, " \t")) + 1, end: len(t)})
			covered += len(sep) + len(t)
		}
	default:
		return nil
	}
	// Lay the segments out in the value and check they rebuild it.
	var b strings.Builder
	for i := range segs {
		if i > 0 {
			b.WriteString(sep)
		}
		l := lines[segs[i].line-1]
		text := ""
		if segs[i].end > 0 {
			text = l[segs[i].col-1 : segs[i].col-1+segs[i].end]
		}
		segs[i].start = b.Len()
		b.WriteString(text)
		segs[i].end = b.Len()
	}
	if strings.TrimRight(b.String(), " \t\n") != strings.TrimRight(n.Value, " \t\n") {
		return nil
	}
	return segs
}
