// Package cli binds the tool's commands and flags to the libraries that do
// the work. It is the only package that knows about flags or exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitError    = 2
)

// failed is returned by a command that already reported its problems.
type failed struct{ code int }

func (f failed) Error() string { return fmt.Sprintf("exit %d", f.code) }

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, version string, args []string, stdout, stderr io.Writer) (code int) {
	// The libraries recover their own panics per Flux object; one that
	// escapes anyway is still one line and exit 2, never a stack dump.
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "error: internal error (panic): %v\n", p)
			code = ExitError
		}
	}()
	// Error and warning lines are coloured once the verb's --color is known.
	errs := &levelWriter{w: stderr}
	stderr = errs
	// Once interrupted, a verb's results are partial whatever it goes on
	// doing: nothing more reaches stdout.
	root := newRootCmd(version, &untilDone{ctx: ctx, w: stdout}, stderr)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkColor(cmd); err != nil {
			return err
		}
		errs.on = colorOn(cmd, errs.w)
		return nil
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if ctx.Err() != nil {
		// One line for an interrupted run, whatever its verb made of the
		// cancellation; never exit 0.
		fmt.Fprintf(stderr, "error: interrupted (%v)\n", context.Cause(ctx))
		return ExitError
	}
	var f failed
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &f):
		return f.code
	default:
		// A usage error, cobra's own (unknown flag, bad arguments) or a
		// verb's, or a failure the verb did not report itself.
		fmt.Fprintf(stderr, "error: %v\n", err)
		return ExitError
	}
}

func newRootCmd(version string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "tools",
		Short:         "Render, check and diff a Flux GitOps repository offline",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("tools {{.Version}}\n")
	bindColor(root)
	root.AddCommand(newRenderCmd(stdout, stderr), newValidateCmd(stdout, stderr), newPolicyCmd(stdout, stderr), newSynthCmd(stdout))
	root.AddCommand(newDiffCmd(stdout, stderr))
	root.AddCommand(newSchemasCmd(stdout, stderr), newCheckCmd(stdout, stderr), newChartsCmd(stdout, stderr), newGraphCmd(stdout, stderr))
	return root
}

// untilDone writes to w until ctx is done, then refuses.
type untilDone struct {
	ctx context.Context
	w   io.Writer
}

func (u *untilDone) Write(p []byte) (int, error) {
	if err := u.ctx.Err(); err != nil {
		return 0, err
	}
	return u.w.Write(p)
}

// fileOf returns the file w writes to, if it is one, for terminal checks.
func fileOf(w io.Writer) (*os.File, bool) {
	switch u := w.(type) {
	case *untilDone:
		w = u.w
	case *levelWriter:
		w = u.w
	}
	f, ok := w.(*os.File)
	return f, ok
}

// oneOf returns a usage error when the value of --flag is not one of
// allowed.
func oneOf(flag, value string, allowed []string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return fmt.Errorf("--%s %q: want one of %s", flag, value, strings.Join(allowed, ", "))
}
