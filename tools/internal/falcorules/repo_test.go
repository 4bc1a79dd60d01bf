package falcorules

import (
	"os"
	"path/filepath"
	"testing"
)

// repoRulesDir holds our Falco rule files (generated into the falco-rules
// ConfigMap by infrastructure/controllers/base/falco/kustomization.yaml).
const repoRulesDir = "../../../infrastructure/controllers/base/falco/rules"

func repoRules(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRulesDir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no rule files in %s: %v", repoRulesDir, err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

// TestRepositoryRules: our own rule files pass every check.
func TestRepositoryRules(t *testing.T) {
	files := repoRules(t)
	for _, p := range Check(files) {
		t.Errorf("%s", p)
	}
	// The files are really read as rules, not skipped.
	var rules int
	for _, b := range files {
		if !IsRulesFile(string(b)) {
			t.Errorf("a repository rule file is not recognised as one")
		}
		rules += countItems(t, b, "rule")
	}
	if rules == 0 {
		t.Fatal("no rules in the repository rule files")
	}
}

func BenchmarkCheckRepositoryRules(b *testing.B) {
	files := repoRules(b)
	if _, err := loadFacts(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ps := Check(files); len(ps) != 0 {
			b.Fatalf("problems: %v", ps)
		}
	}
}
