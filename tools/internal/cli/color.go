package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// colorModes are the values of --color.
var colorModes = []string{"auto", "always", "never"}

// bindColor adds --color to the root: every verb's text output and its
// error lines are coloured on a terminal unless NO_COLOR is set
// (https://no-color.org), always with --color always, never with never.
func bindColor(root *cobra.Command) {
	root.PersistentFlags().String("color", "auto", "colour text output and error lines: auto (on a terminal, unless NO_COLOR is set), always, never")
}

// checkColor is the usage check of --color, before a verb runs.
func checkColor(cmd *cobra.Command) error {
	mode, _ := cmd.Flags().GetString("color")
	if err := oneOf("color", mode, colorModes); err != nil {
		return fmt.Errorf("--color %q: want auto, always or never", mode)
	}
	return nil
}

// colorOn reports whether what cmd writes to w is coloured: --color
// always, or auto with w a terminal and NO_COLOR unset or empty.
func colorOn(cmd *cobra.Command, w io.Writer) bool {
	mode, _ := cmd.Flags().GetString("color")
	switch mode {
	case "always":
		return true
	case "auto":
		f, ok := fileOf(w)
		return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
	}
	return false
}

// levelWriter colours the "error:" and "warning:" that start a line
// written to stderr, once the verb has said colour is on.
type levelWriter struct {
	w  io.Writer
	on bool
}

var levelColors = []struct{ prefix, color string }{
	{"error:", "\x1b[1;31m"},
	{"warning:", "\x1b[33m"},
}

func (l *levelWriter) Write(p []byte) (int, error) {
	if l.on {
		for _, c := range levelColors {
			if bytes.HasPrefix(p, []byte(c.prefix)) {
				colored := make([]byte, 0, len(p)+len(c.color)+4)
				colored = append(colored, c.color...)
				colored = append(colored, c.prefix...)
				colored = append(colored, "\x1b[0m"...)
				colored = append(colored, p[len(c.prefix):]...)
				if _, err := l.w.Write(colored); err != nil {
					return 0, err
				}
				return len(p), nil
			}
		}
	}
	return l.w.Write(p)
}
