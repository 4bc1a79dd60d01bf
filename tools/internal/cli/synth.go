package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/synth"
)

func newSynthCmd(stdout io.Writer) *cobra.Command {
	var size string
	var seed uint64
	cmd := &cobra.Command{
		Use: "synth DIR",
		// For the benchmarks (scripts/bench.sh), not for users.
		Hidden: true,
		Short:  "Write a synthetic Flux repository for benchmarks (" + synth.Entry + ", charts in " + synth.ChartsDir + "/)",
		Args:   cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			s, err := synth.SizeNamed(size)
			if err != nil {
				return err
			}
			if err := synth.Generate(args[0], s, seed); err != nil {
				return fmt.Errorf("synth %s: %w", args[0], err)
			}
			fmt.Fprintf(stdout, "%s: %d Kustomizations, %d HelmReleases, %d charts\n", args[0], s.Kustomizations, s.HelmReleases, s.Charts)
			return nil
		},
	}
	cmd.Flags().StringVar(&size, "size", "small", "small, medium or large")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "shuffle documents and lists with this seed (0: no shuffle)")
	return cmd
}
