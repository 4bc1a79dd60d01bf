package md

import "testing"

func TestEscaping(t *testing.T) {
	for _, tc := range []struct{ in, text, cell string }{
		{"a <b> & c", "a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"},
		{"x | y\nz", "x | y\nz", `x \| y<br>z`},
		{`<img src=x onerror="alert(1)">`, `&lt;img src=x onerror="alert(1)"&gt;`, `&lt;img src=x onerror="alert(1)"&gt;`},
	} {
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := Cell(tc.in); got != tc.cell {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.cell)
		}
	}
	if got := Fence([]string{"a ``` b", "````"}); got != "`````" {
		t.Errorf("Fence = %q", got)
	}
	if got := Fence(nil); got != "```" {
		t.Errorf("Fence(nil) = %q", got)
	}
}
