package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpExamplesAndExitCodes checks that every verb a user can run says
// in --help how to run it (an Example section) and what its exit codes mean;
// synth, for the benchmarks, is hidden.
func TestHelpExamplesAndExitCodes(t *testing.T) {
	root := newRootCmd("test", io.Discard, io.Discard)
	var verbs []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Name() == "synth" {
				if !sub.Hidden {
					t.Error("synth is listed in --help")
				}
				continue
			}
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub)
			if !sub.Runnable() {
				continue
			}
			verbs = append(verbs, sub.CommandPath())
			code, stdout, _ := run(append(strings.Fields(strings.TrimPrefix(sub.CommandPath(), "tools ")), "--help")...)
			if code != ExitOK || !strings.Contains(stdout, "Examples:\n  tools ") || !strings.Contains(stdout, "Exit codes: 0 ") {
				t.Errorf("%s --help: exit %d, want an Examples section and the exit codes:\n%s", sub.CommandPath(), code, stdout)
			}
		}
	}
	walk(root)
	if len(verbs) < 8 {
		t.Errorf("verbs found: %v", verbs)
	}
}
