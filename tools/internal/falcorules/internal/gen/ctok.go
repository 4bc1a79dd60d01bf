package main

import (
	"errors"
	"strings"
)

// A just-enough C/C++ tokenizer for static initializer tables: comments are
// dropped, adjacent string literals are concatenated, everything else is an
// identifier, a number or one punctuation character.

type tokKind int

const (
	tPunct tokKind = iota
	tIdent
	tString
	tOther
)

type token struct {
	kind  tokKind
	text  string // source text (identifiers, punctuation)
	value string // decoded value (strings)
}

func tokenize(src []byte) []token {
	var out []token
	s := string(src)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '"':
			j := i + 1
			var v strings.Builder
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					v.WriteByte(s[j+1])
					j += 2
					continue
				}
				v.WriteByte(s[j])
				j++
			}
			if n := len(out); n > 0 && out[n-1].kind == tString {
				out[n-1].value += v.String()
			} else {
				out = append(out, token{kind: tString, text: s[i:min(j+1, len(s))], value: v.String()})
			}
			i = j + 1
		case c == '\'':
			j := i + 1
			for j < len(s) && s[j] != '\'' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			out = append(out, token{kind: tOther, text: s[i:min(j+1, len(s))]})
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(s) && (isIdentStart(s[j]) || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			// Qualified names (ft::FTYPE_STRING) stay one identifier.
			for strings.HasPrefix(s[j:], "::") {
				j += 2
				for j < len(s) && (isIdentStart(s[j]) || (s[j] >= '0' && s[j] <= '9')) {
					j++
				}
			}
			out = append(out, token{kind: tIdent, text: s[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isIdentStart(s[j]) || (s[j] >= '0' && s[j] <= '9') || s[j] == '.') {
				j++
			}
			out = append(out, token{kind: tOther, text: s[i:j]})
			i = j
		default:
			out = append(out, token{kind: tPunct, text: string(c)})
			i++
		}
	}
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// braceList returns the top-level brace groups (their inner tokens) of the
// initializer that opens at toks[start] == "{".
func braceList(toks []token, start int) ([][]token, error) {
	depth := 0
	var out [][]token
	begin := -1
	for i := start; i < len(toks); i++ {
		switch toks[i].text {
		case "{":
			depth++
			if depth == 2 {
				begin = i + 1
			}
		case "}":
			if depth == 2 && toks[i].kind == tPunct {
				out = append(out, toks[begin:i])
			}
			depth--
			if depth == 0 {
				return out, nil
			}
		}
	}
	return nil, errors.New("unterminated initializer")
}

// splitTop splits an entry's tokens at commas outside braces and parentheses.
func splitTop(toks []token) [][]token {
	var out [][]token
	depth := 0
	begin := 0
	for i, t := range toks {
		if t.kind != tPunct {
			continue
		}
		switch t.text {
		case "{", "(":
			depth++
		case "}", ")":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, toks[begin:i])
				begin = i + 1
			}
		}
	}
	if begin < len(toks) {
		out = append(out, toks[begin:])
	}
	return out
}

func joinToks(toks []token) string {
	var parts []string
	for i, t := range toks {
		if i > 8 {
			break
		}
		parts = append(parts, t.text)
	}
	return strings.Join(parts, " ")
}
