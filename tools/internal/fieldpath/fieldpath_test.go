package fieldpath

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeyAndSplit(t *testing.T) {
	keys := []string{"spec", "helm.sh/chart", "", "a b", `say "hi"`, "x[0]", "plain"}
	path := ""
	for i, k := range keys {
		if i > 0 {
			path += "."
		}
		path += Key(k)
	}
	path += "[2].data[name=web]"
	want := append(append([]string{}, keys...), "[2]", "data", "[name=web]")
	if diff := cmp.Diff(want, Split(path)); diff != "" {
		t.Errorf("Split(%q) (-want +got):\n%s", path, diff)
	}
	if got := Key("plain"); got != "plain" {
		t.Errorf("Key(plain) = %q", got)
	}
}
