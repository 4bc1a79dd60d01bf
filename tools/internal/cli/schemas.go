package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/drift"
	"github.com/aks-gitops/platform/tools/internal/schemas"
)

func newSchemasCmd(stdout, stderr io.Writer) *cobra.Command {
	var kubeconfig, kubeContext, out string
	cmd := &cobra.Command{
		Use:   "schemas -o FILE",
		Short: "Write the schemas a cluster serves (built-in kinds and its CRDs) for validate --schemas",
		Long: `Schemas reads the OpenAPI v3 schemas of every kind the cluster's API server
serves — its built-in kinds for its Kubernetes version and the CRDs installed
there — and writes them as a compact bundle (gzipped JSON, descriptions
dropped). Pass it to validate with --schemas FILE: objects are then checked
against exactly what that cluster serves, and custom resources whose CRD the
cluster provides outside the render are validated too.

The tool ships the built-in schemas of Kubernetes ` + shippedSchemas() + `, generated the
same way from a real kube-apiserver.

Exit codes: 0 written, 2 the cluster could not be read or the file written.`,
		Example: `  tools schemas -o cluster.json.gz
  tools schemas --kubeconfig prod.kubeconfig -o prod.json.gz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("-o FILE is required")
			}
			cfg, err := drift.LoadConfig(kubeconfig, kubeContext)
			if err != nil {
				return err
			}
			b, err := schemas.Fetch(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := b.Write(&buf); err != nil {
				return err
			}
			if out == "-" {
				_, err = stdout.Write(buf.Bytes())
			} else {
				err = diskcache.WriteFile(out, buf.Bytes())
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(stderr, "wrote %s: Kubernetes %s, %d kinds, %d bytes\n", out, b.Kubernetes, len(b.Kinds), buf.Len())
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	cmd.Flags().StringVar(&kubeContext, "context", "", "kubeconfig context (default the current one)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "bundle file to write (- for stdout)")
	return cmd
}

// shippedSchemas lists the Kubernetes minors whose built-in schemas the
// tool carries, for help texts.
func shippedSchemas() string {
	return strings.Join(schemas.Shipped(), ", ")
}
