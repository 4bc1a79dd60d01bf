package cli

import (
	"io"

	"github.com/spf13/cobra"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/apilifecycle"
	"github.com/aks-gitops/platform/tools/internal/crdvalidate"
	"github.com/aks-gitops/platform/tools/internal/dashboards"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/promrules"
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
						findings = append(findings, report.Finding{Cluster: c.Path, Object: u.Ref.String(), Where: u.File, Check: "values-lint", Message: f.String()})
					}
				}
				objects := c.Objects()
				all := make([]*unstructured.Unstructured, len(objects))
				for i, o := range objects {
					all[i] = o.Object
				}
				origins := map[*unstructured.Unstructured]string{}
				for _, o := range objects {
					origins[o.Object] = o.Origin.String()
				}
				for _, f := range dashboards.Check(all) {
					findings = append(findings, report.Finding{Cluster: c.Path, Object: flux.RefOf(f.Object).String(), Where: origins[f.Object], Check: "dashboard", Message: f.Message})
				}
				crds, errs := crdvalidate.New(all)
				for _, err := range errs {
					findings = append(findings, report.Finding{Cluster: c.Path, Object: "CustomResourceDefinition", Where: "render", Check: "crd", Message: err.Error()})
				}
				for _, o := range objects {
					for _, msg := range crds.Validate(cmd.Context(), o.Object) {
						findings = append(findings, report.Finding{Cluster: c.Path, Object: flux.RefOf(o.Object).String(), Where: o.Origin.String(), Check: "schema", Message: msg})
					}
					for _, msg := range promrules.Check(o.Object) {
						findings = append(findings, report.Finding{Cluster: c.Path, Object: flux.RefOf(o.Object).String(), Where: o.Origin.String(), Check: "prometheus-rule", Message: msg})
					}
					if f := apilifecycle.Check(o.Object.GroupVersionKind(), target); f != nil {
						findings = append(findings, report.Finding{
							Cluster: c.Path, Object: flux.RefOf(o.Object).String(), Where: o.Origin.String(),
							Check: "api-lifecycle", Warning: f.Severity == apilifecycle.Warning, Message: f.Message,
						})
					}
				}
			}
			report.Findings(stdout, findings)
			for _, f := range findings {
				if !f.Warning {
					return failed{ExitFindings}
				}
			}
			return nil
		},
	}
	flags.bind(cmd)
	return cmd
}
