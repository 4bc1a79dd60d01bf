package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

func newChartsCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "charts",
		Short: "Work with the charts the clusters pin",
		Long:  "Charts groups the verbs on the charts the clusters pin: pull.",
	}
	cmd.AddCommand(newChartsPullCmd(stdout, stderr))
	return cmd
}

// pulledChart is one chart archive written by charts pull.
type pulledChart struct {
	file, sum, from string
}

func newChartsPullCmd(stdout, stderr io.Writer) *cobra.Command {
	var flags renderFlags
	var out string
	cmd := &cobra.Command{
		Use:   "pull [PATH...] -o DIR",
		Short: "Fetch every chart the cluster entries pin into a directory --charts accepts",
		Long: `Pull renders the cluster entries (default: every directory under clusters/)
as render does, fetching every HelmRelease's chart from its HTTP or OCI
repository (or the cache), and writes each chart archive, byte for byte as
its repository served it, to DIR/NAME-VERSION.tgz, with DIR/SHA256SUMS
(sha256sum -c checks it). A later render uses DIR without the network:
render --charts DIR --offline. Charts from a Git source are skipped: they
render from the checkout.

Prints one line per chart: the file, its sha256 and where it came from.

Exit codes: 0 every chart written, 2 a Flux object failed to render (the
charts of the releases that did render are written all the same) or bad
usage.`,
		Example: `  tools charts pull -o charts/
  tools charts pull clusters/staging -o /tmp/charts && tools render --charts /tmp/charts --offline`,
		Args: func(*cobra.Command, []string) error {
			if out == "" {
				return fmt.Errorf("-o DIR is required")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// Every chart is loaded, none restored from the render cache.
			flags.noCache = true
			flags.progress = newProgress(stderr)
			run, err := flags.render(cmd.Context(), args)
			if err != nil {
				return err
			}
			pulled, err := pullCharts(run, out)
			if err != nil {
				return err
			}
			for _, p := range pulled {
				fmt.Fprintf(stdout, "%s sha256:%s %s\n", p.file, p.sum, p.from)
			}
			return run.finish(stderr)
		},
	}
	flags.bind(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "directory to write the chart archives to (created if missing)")
	return cmd
}

// pullCharts copies the archive of every chart the render loaded into dir,
// sorted by file name, and writes dir/SHA256SUMS.
func pullCharts(run *rendered, dir string) ([]pulledChart, error) {
	byFile := map[string]pulledChart{}
	read := map[string]bool{} // archives already read: a chart both clusters use
	for _, c := range run.clusters {
		for _, u := range c.Units {
			ch := u.HelmChart
			if ch == nil || ch.Archive == "" || read[ch.Archive] {
				continue
			}
			read[ch.Archive] = true
			data, err := os.ReadFile(ch.Archive)
			if err != nil {
				return nil, fmt.Errorf("chart %s-%s: %w", ch.Name, ch.Version, err)
			}
			sum := sha256.Sum256(data)
			p := pulledChart{file: ch.Name + "-" + ch.Version + ".tgz", sum: hex.EncodeToString(sum[:]), from: ch.From}
			if prev, ok := byFile[p.file]; ok {
				if prev.sum != p.sum {
					return nil, fmt.Errorf("chart %s: two archives of the same version (from %s and %s)", p.file, prev.from, p.from)
				}
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, p.file), data, 0o644); err != nil {
				return nil, err
			}
			byFile[p.file] = p
		}
	}
	pulled := make([]pulledChart, 0, len(byFile))
	for _, p := range byFile {
		pulled = append(pulled, p)
	}
	slices.SortFunc(pulled, func(a, b pulledChart) int { return strings.Compare(a.file, b.file) })
	if len(pulled) == 0 {
		return nil, nil
	}
	var sums strings.Builder
	for _, p := range pulled {
		fmt.Fprintf(&sums, "%s  %s\n", p.sum, p.file)
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		return nil, err
	}
	return pulled, nil
}
