package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/graph"
	"github.com/aks-gitops/platform/tools/internal/render"
)

func newGraphCmd(stdout, stderr io.Writer) *cobra.Command {
	var flags renderFlags
	var format string
	var releases bool
	cmd := &cobra.Command{
		Use:   "graph [PATH...]",
		Short: "Draw each cluster's Flux Kustomizations and their dependencies (Mermaid or DOT)",
		Long: `Graph renders the cluster entries (with the render flags, see tools render
--help) and draws, for each, its Flux Kustomizations (with --helmreleases
its HelmReleases too): an arrow from each dependency to what depends on it
(spec.dependsOn, the order Flux reconciles in), and a dashed one from each
Kustomization to the Flux objects it applies. --format mermaid (for
Markdown: GitHub renders it) or dot (Graphviz: dot -Tsvg).

The graph needs only the Flux objects: a HelmRelease whose chart cannot be
fetched or templated is reported as a warning and drawn all the same; a
Kustomization that fails to render fails the run.

Exit codes: 0 drawn, 2 a Kustomization failed to render or bad usage.`,
		Example: `  tools graph                                   # every cluster, Mermaid
  tools graph clusters/production --format dot | dot -Tsvg > production.svg
  tools graph --helmreleases --offline clusters/staging`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneOf("format", format, []string{"mermaid", "dot"}); err != nil {
				return err
			}
			flags.progress = newProgress(stderr)
			run, err := flags.render(cmd.Context(), args)
			if err != nil {
				return err
			}
			broken := false
			for _, c := range run.clusters {
				for _, err := range c.Errors {
					var ue *render.UnitError
					if errors.As(err, &ue) && ue.Ref.Kind == flux.HelmReleaseKind {
						fmt.Fprintf(stderr, "warning: %s: %v (drawn from its object alone)\n", c.Path, withHint(err))
						continue
					}
					fmt.Fprintf(stderr, "error: %s: %v\n", c.Path, withHint(err))
					broken = true
				}
			}
			if broken {
				fmt.Fprintln(stderr, "graph: nothing drawn: a Kustomization failed to render")
				return failed{ExitError}
			}
			for i, c := range run.clusters {
				if i > 0 {
					fmt.Fprintln(stdout)
				}
				g := graph.Build(c, releases)
				if format == "dot" {
					err = g.DOT(stdout)
				} else {
					err = g.Mermaid(stdout)
				}
				if err != nil {
					return fmt.Errorf("write output: %w", err)
				}
			}
			return nil
		},
	}
	flags.bind(cmd)
	cmd.Flags().StringVar(&format, "format", "mermaid", "output format: mermaid, dot")
	cmd.Flags().BoolVar(&releases, "helmreleases", false, "draw the HelmReleases too")
	return cmd
}
