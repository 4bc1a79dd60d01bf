// Package fieldpath writes and reads the field paths the tool reports:
// map keys joined by dots, list items as [i] or [key=value], a key holding
// path syntax quoted — spec.template.metadata.annotations."helm.sh/chart".
// The renderer records chart randomness with them, the diff and the live
// drift print and match them: one notation, written in one place.
package fieldpath

import (
	"strconv"
	"strings"
)

// Key quotes a map key that is empty or holds path syntax (. [ ] ", space).
func Key(k string) string {
	if k == "" || strings.ContainsAny(k, ".[]\" ") {
		return strconv.Quote(k)
	}
	return k
}

// Split splits a path into its segments: map keys (unquoted) and list
// selectors ("[0]", "[name=web]").
func Split(p string) []string {
	var out []string
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			i++
		case '"':
			j := i + 1
			for j < len(p) && p[j] != '"' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(p) {
				return append(out, p[i:])
			}
			s, err := strconv.Unquote(p[i : j+1])
			if err != nil {
				s = p[i+1 : j]
			}
			out = append(out, s)
			i = j + 1
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return append(out, p[i:])
			}
			out = append(out, p[i:i+j+1])
			i += j + 1
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			out = append(out, p[i:j])
			i = j
		}
	}
	return out
}
