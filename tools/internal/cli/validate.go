package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/apilifecycle"
	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/report"
	"github.com/aks-gitops/platform/tools/internal/schemas"
	"github.com/aks-gitops/platform/tools/internal/validate"
)

func newValidateCmd(stdout, stderr io.Writer) *cobra.Command {
	var flags renderFlags
	var format string
	var skipKinds []string
	var schemaFile string
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Render, then check what Helm and the API server would not tell you",
		Long: `Validate renders like render (same flags) and checks the result. So far it
runs the HelmRelease values lint: every key a HelmRelease sets through values
or valuesFrom must exist in the chart's default values (or a sub-chart's),
except below free-form maps such as annotations, labels, env or resources —
Helm ignores a mistyped key silently. A key the chart consumes without
defining it is accepted when the HelmRelease lists it in its
tools.aks-gitops.io/values-lint-allow annotation. It validates every custom
resource against the CustomResourceDefinitions in the render with the API
server's own code (defaulting, unknown fields, schema, list types, CEL
rules), checks PrometheusRules with Prometheus's own rule parser (PromQL,
durations, label and annotation templates), checks Grafana dashboard ConfigMaps (valid JSON, a title, unique
uids), and reports built-in API versions that --kube-version no longer
serves (errors) or deprecates (warnings), from the Kubernetes API types' own
lifecycle. Schema validation of built-in kinds is still to come.

Exit codes: 0 clean (warnings allowed), 1 errors found, 2 the render failed
or bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := apilifecycle.Parse(flags.kubeVersion)
			if err != nil {
				return &exitError{ExitError, err}
			}
			if err := report.CheckFormat(format, report.Formats); err != nil {
				return &exitError{ExitError, err}
			}
			run, err := flags.render(cmd.Context(), args)
			if err != nil {
				return err
			}
			run.summary(stderr)
			if run.failed() {
				return failed{ExitError}
			}
			skip := map[string]bool{}
			for _, k := range skipKinds {
				if !strings.Contains(k, "/") {
					return &exitError{ExitError, fmt.Errorf("--skip-kind %q: want GROUP/KIND", k)}
				}
				skip[k] = true
			}
			bundle, err := loadSchemas(schemaFile, target, cmd.Flags().Changed("kube-version"))
			if err != nil {
				return &exitError{ExitError, err}
			}
			if schemaFile != "" {
				target, _ = apilifecycle.Parse(bundle.Minor())
			}
			findings := validate.Run(cmd.Context(), run.clusters, validate.Options{Target: target, SkipKinds: skip, Schemas: bundle, RepoRoot: run.opts.RepoRoot})
			if err := report.Findings(stdout, format, "validate", findings); err != nil {
				return &exitError{ExitError, err}
			}
			if finding.Failed(findings) {
				return failed{ExitFindings}
			}
			return nil
		},
	}
	flags.bind(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(report.Formats, ", "))
	cmd.Flags().StringVar(&schemaFile, "schemas", "", "schema bundle written by `tools schemas` (a cluster's built-in kinds and CRDs) instead of the built-in kinds of --kube-version")
	cmd.Flags().StringArrayVar(&skipKinds, "skip-kind", nil, "GROUP/KIND of a custom resource whose CRD the cluster provides outside the render (repeatable)")
	return cmd
}

// loadSchemas returns the schema bundle validation uses: the file given, or
// the built-in kinds of the target version. A file from a cluster of
// another version than an explicit --kube-version is a usage error.
func loadSchemas(file string, target apilifecycle.Version, explicitTarget bool) (*schemas.Bundle, error) {
	if file == "" {
		return schemas.Builtin(target.String())
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--schemas: %w", err)
	}
	defer f.Close()
	b, err := schemas.Read(f)
	if err != nil {
		return nil, fmt.Errorf("--schemas %s: %w", file, err)
	}
	if explicitTarget && b.Minor() != target.String() {
		return nil, fmt.Errorf("--schemas %s holds Kubernetes %s, but --kube-version is %s", file, b.Kubernetes, target)
	}
	return b, nil
}
