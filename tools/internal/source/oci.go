package source

import (
	"context"
	"fmt"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
)

// OCIRepository pulls repo's selected layer at its spec.ref.
func (f *Fetcher) OCIRepository(ctx context.Context, repo *sourcev1.OCIRepository) (*Fetched, error) {
	return nil, fmt.Errorf("OCIRepository %s/%s: not supported yet", repo.Namespace, repo.Name)
}
