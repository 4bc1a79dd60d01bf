package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGraphDocsCurrent draws each cluster with tools graph (offline: the
// graph needs no chart) and compares it with the Mermaid block of
// docs/stack.md that names it; -update redraws them.
func TestGraphDocsCurrent(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	docPath := filepath.Join(root, "docs", "stack.md")
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	block := regexp.MustCompile("(?s)(<!-- tools graph (\\S+) -->\n)(.*?)(<!-- end tools graph -->)")
	found := block.FindAllStringSubmatch(doc, -1)
	if len(found) == 0 {
		t.Fatal("docs/stack.md has no <!-- tools graph PATH --> block")
	}
	noCharts := t.TempDir()
	for _, m := range found {
		entry := m[2]
		code, stdout, stderr := run("graph", "--repo", root, "--offline", "--charts", noCharts, "--cache-dir", t.TempDir(), filepath.Join(root, entry))
		if code != ExitOK || !strings.HasPrefix(stdout, "%% "+entry+"\n") {
			t.Fatalf("graph %s: exit %d\n%s%s", entry, code, stdout, stderr)
		}
		want := "```mermaid\n" + stdout + "```\n"
		if *update {
			doc = strings.Replace(doc, m[0], m[1]+want+m[4], 1)
			continue
		}
		if m[3] != want {
			t.Errorf("docs/stack.md: the graph of %s is stale; redraw it with -update:\nhave\n%s\nwant\n%s", entry, m[3], want)
		}
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
