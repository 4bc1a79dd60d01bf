package falcorules

import (
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

func TestFilePos(t *testing.T) {
	for _, tc := range []struct {
		name, src, token string
		line, col        int // 0: not mapped
	}{
		{"plain", "condition: a and proc.nmae = x\n", "proc.nmae", 1, 18},
		{"plain continued", "condition: a and\n  b and proc.nmae = x\n", "proc.nmae", 2, 9},
		{"folded", "condition: >\n  a and\n  b and proc.nmae = x\n", "proc.nmae", 3, 9},
		{"literal", "condition: |\n    a and\n    b and proc.nmae = x\n", "proc.nmae", 3, 11},
		{"folded with a blank line", "condition: >\n  a and\n\n  proc.nmae = x\n", "proc.nmae", 0, 0},
		{"double quoted", "condition: \"a and proc.nmae = x\"\n", "proc.nmae", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &doc); err != nil {
				t.Fatal(err)
			}
			n := doc.Content[0].Content[1]
			c := &checker{lines: map[string][]string{"f": strings.Split(tc.src, "\n")}}
			sc := &scope{it: &item{file: "f"}, node: n, text: n.Value, c: c}
			line, col, ok := sc.filePos(c, strings.Index(n.Value, tc.token))
			if !ok {
				line, col = 0, 0
			}
			if line != tc.line || col != tc.col {
				t.Errorf("got %d:%d, want %d:%d", line, col, tc.line, tc.col)
			}
		})
	}
}
