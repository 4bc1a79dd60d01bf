package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/apilifecycle"
	"github.com/aks-gitops/platform/tools/internal/check"
	"github.com/aks-gitops/platform/tools/internal/crdvalidate"
	"github.com/aks-gitops/platform/tools/internal/report"
	"github.com/aks-gitops/platform/tools/internal/schemas"
	"github.com/aks-gitops/platform/tools/internal/validate"
)

func newValidateCmd(stdout, stderr io.Writer) *cobra.Command {
	var flags renderFlags
	var vflags validateFlags
	var format string
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Render, then validate every object strictly, offline, and check what Helm and the API server would not tell you",
		Long: `Validate renders like render (its render flags: tools render --help) and
validates every object, offline:

- built-in kinds strictly against the schemas of --kube-version, generated
  from a real kube-apiserver of that version and shipped with the tool
  (Kubernetes ` + shippedSchemas() + `), or against a bundle from any cluster (--schemas,
  written by tools schemas); custom resources against the
  CustomResourceDefinitions in the render; Flux kinds against CRDs generated
  from the Flux API Go types; Gatekeeper constraints against the CRD their
  ConstraintTemplate defines. All with the API server's own validation code:
  unknown fields, types, required fields, enums, ranges, patterns,
  int-or-string, list types, defaulting and CRD CEL rules. A kind with no
  schema is an error (--skip-kind for CRDs the cluster provides);
- built-in API versions --kube-version no longer serves (errors) or
  deprecates (warnings), from the Kubernetes API types' own lifecycle;
- HelmRelease values lint: every key set through values or valuesFrom must
  exist in the chart's default values (or a sub-chart's), except below
  free-form maps (annotations, labels, env, resources, …) and keys listed in
  the HelmRelease's tools.aks-gitops.io/values-lint-allow annotation;
- PrometheusRules with Prometheus's own parser (PromQL, durations, label
  and annotation templates); Grafana dashboard ConfigMaps (valid JSON, a
  title, unique uids); Falco rule files (structure, priorities, macros and
  lists, condition syntax, fields of the pinned Falco version).

Exit codes: 0 clean (warnings allowed), 1 errors found, 2 the render failed
or bad usage.`,
		Example: `  tools validate
  tools validate --kube-version 1.36 clusters/production
  tools schemas -o cluster.json.gz && tools validate --schemas cluster.json.gz`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneOf("format", format, report.FindingFormats); err != nil {
				return err
			}
			opts, err := vflags.options(cmd, &flags)
			if err != nil {
				return err
			}
			run, err := flags.renderOK(cmd.Context(), args, stderr)
			if err != nil {
				return err
			}
			opts.RepoRoot, opts.Cache = run.opts.RepoRoot, run.opts.Cache
			rep, err := check.Run(cmd.Context(), run.clusters, check.Options{Checks: []string{check.Validate}, Validate: opts})
			if err != nil {
				return err
			}
			if err := report.Check(stdout, format, report.CheckOptions{Verb: "validate", Color: colorOn(cmd, stdout)}, rep); err != nil {
				return err
			}
			if rep.Failed() {
				return failed{ExitFindings}
			}
			return nil
		},
	}
	flags.bind(cmd)
	vflags.bind(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(report.FindingFormats, ", "))
	return cmd
}

// validateFlags are the flags of validate that check shares.
type validateFlags struct {
	skipKinds  []string
	schemaFile string
}

func (v *validateFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&v.schemaFile, "schemas", "", "schema bundle written by tools schemas (a cluster's built-in kinds and CRDs) instead of the built-in kinds of --kube-version")
	cmd.Flags().StringArrayVar(&v.skipKinds, "skip-kind", nil, "GROUP/KIND of a custom resource whose CRD the cluster provides outside the render (repeatable)")
}

// options reads the flags into validate's options (all but RepoRoot).
func (v *validateFlags) options(cmd *cobra.Command, rf *renderFlags) (validate.Options, error) {
	target, err := apilifecycle.Parse(rf.kubeVersion)
	if err != nil {
		return validate.Options{}, err
	}
	skip := map[string]bool{}
	for _, k := range v.skipKinds {
		if !strings.Contains(k, "/") {
			return validate.Options{}, fmt.Errorf("--skip-kind %q: want GROUP/KIND", k)
		}
		skip[k] = true
	}
	bundle, err := loadSchemas(v.schemaFile, target, cmd.Flags().Changed("kube-version"))
	if err != nil {
		return validate.Options{}, err
	}
	if v.schemaFile != "" {
		target, _ = apilifecycle.Parse(bundle.Minor())
	}
	return validate.Options{Target: target, SkipKinds: skip, Schemas: bundle, SkipHint: skipHint, Compiled: crdvalidate.NewCache()}, nil
}

// loadSchemas returns the schema bundle validation uses: the file given, or
// the built-in kinds of the target version. A file from a cluster of
// another version than an explicit --kube-version is a usage error.
func loadSchemas(file string, target apilifecycle.Version, explicitTarget bool) (*schemas.Bundle, error) {
	if file == "" {
		b, err := schemas.Builtin(target.String())
		var ns *schemas.NotShippedError
		if errors.As(err, &ns) {
			err = fmt.Errorf("%w; generate a bundle from a cluster of that version with `tools schemas -o FILE` and pass --schemas FILE", err)
		}
		return b, err
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

// skipHint tells how to skip a custom kind whose CRD the render lacks.
func skipHint(group, kind string) string {
	return "if the cluster provides it, pass --skip-kind " + group + "/" + kind
}
