package fieldpath

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzKeySplit checks the notation's promise: keys written with Key and
// joined by dots (with list selectors between them) split back into the
// same keys, whatever bytes they hold.
func FuzzKeySplit(f *testing.F) {
	for _, s := range [][3]string{
		{"spec", "template", "metadata"},
		{"annotations", "helm.sh/chart", ""},
		{"a b", `say "hi"`, "x[0]"},
		{`\`, `"`, `\"`},
		{"[name=web]", "]", "["},
		{"\xff", "é", "\x00"},
		{`"quoted"`, `a"b.c`, "tab\there"},
	} {
		f.Add(s[0], s[1], s[2], uint8(0))
		f.Add(s[0], s[1], s[2], uint8(7))
	}
	f.Fuzz(func(t *testing.T, a, b, c string, sel uint8) {
		keys := []string{a, b, c}
		var path strings.Builder
		var want []string
		for i, k := range keys {
			if i > 0 {
				path.WriteByte('.')
			}
			path.WriteString(Key(k))
			want = append(want, k)
			// A list selector after some keys, as the diff writes them.
			if sel&(1<<i) != 0 {
				s := "[" + strconv.Itoa(i) + "]"
				path.WriteString(s)
				want = append(want, s)
			}
		}
		if diff := cmp.Diff(want, Split(path.String())); diff != "" {
			t.Errorf("Split(%q) (-want +got):\n%s", path.String(), diff)
		}
	})
}

// FuzzSplit feeds Split any string: it must not panic, and it must not
// lose or invent path text (every byte but separators and quoting shows
// up in a segment, so a path never splits into nothing but empty keys).
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		`spec.template.metadata.annotations."helm.sh/chart"`,
		"spec.containers[name=web].image",
		"a[0][1].b",
		`"unterminated`,
		`"a\"b".c`,
		`"\x"`,
		"[unclosed",
		"..",
		"",
		`""."".""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs := Split(p)
		for _, s := range segs {
			if s == "" && !strings.Contains(p, `""`) {
				t.Errorf("Split(%q) = %q: an empty segment without an empty quoted key", p, segs)
			}
		}
		// Joining what Split returned, keys quoted again, splits the same.
		var b strings.Builder
		for i, s := range segs {
			if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") && strings.Count(s, "]") == 1 {
				b.WriteString(s)
				continue
			}
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(Key(s))
		}
		if diff := cmp.Diff(segs, Split(b.String())); diff != "" {
			t.Errorf("Split(%q) does not survive re-joining as %q (-first +second):\n%s", p, b.String(), diff)
		}
	})
}
