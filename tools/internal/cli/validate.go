package cli

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/report"
	"github.com/aks-gitops/platform/tools/internal/valueslint"
)

func newValidateCmd(stdout, stderr io.Writer) *cobra.Command {
	var flags renderFlags
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Render, then check what Helm and the API server would not tell you",
		Long: `Validate renders like render (same flags) and checks the result. So far it
runs the HelmRelease values lint: every key a HelmRelease sets through values
or valuesFrom must exist in the chart's default values (or a sub-chart's),
except below free-form maps such as annotations, labels, env or resources —
Helm ignores a mistyped key silently. A key the chart consumes without
defining it is accepted when the HelmRelease lists it in its
tools.aks-gitops.io/values-lint-allow annotation. Schema validation is still
to come.

Exit codes: 0 clean, 1 findings, 2 the render failed or bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := flags.render(cmd.Context(), args)
			if err != nil {
				return err
			}
			run.summary(stderr)
			if run.failed() {
				return failed{ExitError}
			}
			var findings []report.Finding
			for _, c := range run.clusters {
				for _, u := range c.Units {
					if u.HelmChart == nil {
						continue
					}
					allowed := valueslint.Allowed(u.Annotations)
					for _, f := range valueslint.Lint(u.HelmChart.Chart, u.Values) {
						if allowed[f.Path] {
							continue
						}
						findings = append(findings, report.Finding{Cluster: c.Path, Object: u.Ref.String(), File: u.File, Check: "values-lint", Message: f.String()})
					}
				}
			}
			report.Findings(stdout, findings)
			if len(findings) > 0 {
				return failed{ExitFindings}
			}
			return nil
		},
	}
	flags.bind(cmd)
	return cmd
}
