package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestColor: --color is every verb's; colour only when asked for (stdout
// and stderr here are no terminal, so auto is off), in text only, on the
// "error:" of stderr lines too; NO_COLOR does not overrule --color always;
// a bad value is one usage line whatever the verb.
func TestColor(t *testing.T) {
	tree := exampleTree(t)
	breakDeployment(tree, "1.29.1")
	dir := t.TempDir()
	writeTree(t, dir, tree)
	cache := t.TempDir()
	entry := filepath.Join(dir, "testdata/example/clusters/demo")
	common := []string{"--repo", dir, "--cache-dir", cache, "--offline", "--charts", filepath.Join(dir, "testdata/example/charts"), entry}
	const esc = "\x1b["
	for _, tt := range []struct {
		name    string
		args    []string
		noColor bool
		color   bool
	}{
		{name: "check auto", args: []string{"check"}},
		{name: "check always", args: []string{"check", "--color", "always"}, color: true},
		{name: "check always NO_COLOR", args: []string{"check", "--color", "always"}, noColor: true, color: true},
		{name: "check never", args: []string{"check", "--color", "never"}},
		{name: "check json always", args: []string{"check", "--color", "always", "--format", "json"}},
		{name: "validate always", args: []string{"validate", "--color", "always"}, color: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.noColor {
				t.Setenv("NO_COLOR", "1")
			}
			code, stdout, stderr := run(append(tt.args, common...)...)
			if code != ExitFindings {
				t.Fatalf("exit %d, want 1:\n%s", code, stderr)
			}
			if got := strings.Contains(stdout, esc); got != tt.color {
				t.Errorf("colour %v, want %v:\n%q", got, tt.color, stdout)
			}
			if tt.color && !strings.Contains(stdout, "\x1b[31merror\x1b[0m schema") {
				t.Errorf("the error level is not red:\n%q", stdout)
			}
		})
	}

	// stderr: the "error:" of a failure line.
	code, _, stderr := run("render", "--color", "always", "--repo", dir, filepath.Join(dir, "no-such-entry"))
	if code != ExitError || !strings.HasPrefix(stderr, "\x1b[1;31merror:\x1b[0m ") {
		t.Errorf("render --color always of a missing entry: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = run("render", "--repo", dir, filepath.Join(dir, "no-such-entry"))
	if code != ExitError || strings.Contains(stderr, esc) {
		t.Errorf("render of a missing entry: exit %d, stderr %q", code, stderr)
	}

	for _, verb := range [][]string{{"render"}, {"check"}, {"graph"}, {"policy", "verify"}, {"charts", "pull", "-o", t.TempDir()}} {
		code, stdout, stderr := run(append(verb, "--color", "rainbow")...)
		if code != ExitError || stdout != "" || stderr != "error: --color \"rainbow\": want auto, always or never\n" {
			t.Errorf("%s --color rainbow: exit %d, stdout %q, stderr %q", verb, code, stdout, stderr)
		}
	}
}
