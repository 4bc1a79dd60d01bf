package reporules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// policyDir is the repository's rule directory, relative to this package.
const policyDir = "../../../policies/repo"

func loadRepoRules(t *testing.T) *Rules {
	t.Helper()
	r, err := Load(context.Background(), policyDir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRegoUnitTests runs the Rego unit tests of policies/repo, so go test
// fails when one of them does.
func TestRegoUnitTests(t *testing.T) {
	results, err := loadRepoRules(t).Test(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no Rego unit tests found")
	}
	tested := map[string]bool{}
	for _, res := range results {
		t.Run(strings.TrimPrefix(res.Name, "data.main."), func(t *testing.T) {
			if !res.Pass {
				t.Errorf("%s:%d: %s", res.File, res.Line, res.Failure)
			}
		})
		tested[strings.TrimSuffix(filepath.Base(res.File), "_test.rego")] = true
	}
	// Every rule file has a test file with at least one test.
	entries, err := os.ReadDir(policyDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".rego") || strings.HasSuffix(name, "_test.rego") || name == "kubernetes.rego" {
			continue
		}
		if !tested[strings.TrimSuffix(name, ".rego")] {
			t.Errorf("%s has no tests (%s_test.rego)", name, strings.TrimSuffix(name, ".rego"))
		}
	}
}

// TestRules pins the rule names findings carry and which view each judges.
func TestRules(t *testing.T) {
	type row struct{ Name, Action, Input string }
	var got []row
	for _, r := range loadRepoRules(t).Rules() {
		got = append(got, row{r.Name, r.Action, r.Input})
		if r.Title == "" && r.Action == "deny" {
			t.Errorf("%s:%d: %s has no METADATA title", r.File, r.Line, r.Rego)
		}
	}
	want := []row{
		{"chart_version_pinned", "deny", InputRendered},
		{"cross_namespace_ref", "deny", InputRendered},
		{"image_pinned", "deny", InputRendered},
		{"kustomization_prune_timeout", "deny", InputRendered},
		{"namespace_pod_security", "deny", InputRendered},
		{"namespace_pod_security", "warn", InputRendered},
		{"secret_encrypted", "deny", InputGit},
		{"source_scheme", "deny", InputRendered},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}

// TestLoadErrors: a broken rule file is one error naming the file and line.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name:  "parse error",
			files: map[string]string{"bad.rego": "package main\n\ndeny_x contains msg if {\n\tinput.kind ==\n}\n"},
			want:  []string{"bad.rego:", "rego_parse_error"},
		},
		{
			name:  "unsafe variable",
			files: map[string]string{"unsafe.rego": "package main\n\ndeny_x contains msg if {\n\tinput.kind == \"Pod\"\n}\n"},
			want:  []string{"unsafe.rego:3", "msg"},
		},
		{
			name:  "undefined function",
			files: map[string]string{"undefined.rego": "package main\n\ndeny_x contains msg if {\n\tmsg := nosuch(input)\n}\n"},
			want:  []string{"undefined.rego:4", "nosuch"},
		},
		{
			name:  "not a set",
			files: map[string]string{"single.rego": "package main\n\ndeny_x := \"always\"\n"},
			want:  []string{"single.rego:3", "deny_x must be a multi-value rule"},
		},
		{
			name:  "bad input view",
			files: map[string]string{"view.rego": "package main\n\n# METADATA\n# custom:\n#   input: cluster\ndeny_x contains msg if {\n\tmsg := input.kind\n}\n"},
			want:  []string{"view.rego:6", "custom.input cluster"},
		},
		{
			name:  "no rules",
			files: map[string]string{"helpers.rego": "package main\n\nx := 1\n"},
			want:  []string{"no deny_* or warn_* rule"},
		},
		{
			name:  "no files",
			files: map[string]string{"README.md": "nothing"},
			want:  []string{"no .rego rule files"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(context.Background(), dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestFailingRegoTest: a failing Rego unit test is a failed result naming
// where it stopped, not an error.
func TestFailingRegoTest(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"rule.rego":      "package main\n\ndeny_kind contains msg if {\n\tinput.kind == \"Pod\"\n\tmsg := \"pod\"\n}\n",
		"rule_test.rego": "package main\n\ntest_pod_denied if {\n\tcount(deny_kind) == 1 with input as {\"kind\": \"Pod\"}\n}\n\ntest_wrong if {\n\tcount(deny_kind) == 1 with input as {\"kind\": \"Service\"}\n}\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	results, err := r.Test(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name string
		Line int
		Pass bool
	}
	var got []row
	for _, res := range results {
		got = append(got, row{res.Name, res.Line, res.Pass})
		if !res.Pass && (res.Failure == "" || !strings.HasSuffix(res.File, "rule_test.rego")) {
			t.Errorf("failed test %s: file %q, failure %q", res.Name, res.File, res.Failure)
		}
	}
	want := []row{{"data.main.test_pod_denied", 3, true}, {"data.main.test_wrong", 7, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
