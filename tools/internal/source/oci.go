package source

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fluxcd/pkg/tar"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"

	"github.com/aks-gitops/platform/tools/internal/oci"
)

// ChartFile is the file an OCIRepository's Helm chart is stored as.
const ChartFile = "chart.tgz"

// OCIRepository pulls repo at its spec.ref and extracts its selected layer
// (layerSelector, default the first), filtered like any artifact. With
// operation copy the layer is kept as the file ChartFile instead.
func (f *Fetcher) OCIRepository(ctx context.Context, repo *sourcev1.OCIRepository) (*Fetched, error) {
	mediaType, copyLayer := "", false
	if sel := repo.Spec.LayerSelector; sel != nil {
		mediaType, copyLayer = sel.MediaType, sel.Operation == sourcev1.OCILayerCopy
	}
	return f.oci(ctx, repo, mediaType, copyLayer)
}

// OCIChart pulls the Helm chart an OCIRepository points at (a chartRef),
// stored as ChartFile in the returned directory.
func (f *Fetcher) OCIChart(ctx context.Context, repo *sourcev1.OCIRepository) (*Fetched, error) {
	mediaType := oci.HelmChartMediaType
	if sel := repo.Spec.LayerSelector; sel != nil && sel.MediaType != "" {
		mediaType = sel.MediaType
	}
	return f.oci(ctx, repo, mediaType, true)
}

func (f *Fetcher) oci(ctx context.Context, repo *sourcev1.OCIRepository, mediaType string, copyLayer bool) (*Fetched, error) {
	what := fmt.Sprintf("OCIRepository %s/%s (%s)", repo.Namespace, repo.Name, repo.Spec.URL)
	var ref oci.Ref
	if r := repo.Spec.Reference; r != nil {
		ref = oci.Ref{Tag: r.Tag, SemVer: r.SemVer, SemverFilter: r.SemverFilter, Digest: r.Digest}
	}
	ignore := "<default>"
	if repo.Spec.Ignore != nil {
		ignore = *repo.Spec.Ignore
	}
	key := fmt.Sprintf("%s|%+v|%s|%t|%s|%t", repo.Spec.URL, ref, mediaType, copyLayer, ignore, repo.Spec.Insecure)
	return f.once(key, func() (*Fetched, error) {
		if repo.Spec.SecretRef != nil || (repo.Spec.Provider != "" && repo.Spec.Provider != "generic") {
			return nil, &UnsupportedError{Source: sourcev1.OCIRepositoryKind + "/" + repo.Namespace + "/" + repo.Name, What: what, Reason: "authenticated sources (secretRef, provider) are not supported"}
		}
		return f.fetchInto(f.slot("oci", key), what, func(dir string) (string, error) {
			var layer *oci.Layer
			err := f.fetch(ctx, fmt.Sprintf("OCIRepository/%s/%s", repo.Namespace, repo.Name), repo.Spec.URL, func(ctx context.Context) (err error) {
				layer, err = oci.Pull(ctx, repo.Spec.URL, ref, mediaType, repo.Spec.Insecure)
				return err
			})
			if err != nil {
				return "", err
			}
			if copyLayer {
				return layer.Revision, os.WriteFile(filepath.Join(dir, ChartFile), layer.Data, 0o644)
			}
			if err := tar.Untar(bytes.NewReader(layer.Data), dir, tar.WithMaxUntarSize(-1)); err != nil {
				return "", fmt.Errorf("extract: %w", err)
			}
			return layer.Revision, Filter(dir, repo.Spec.Ignore)
		})
	})
}
