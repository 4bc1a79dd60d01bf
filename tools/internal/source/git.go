package source

import (
	"context"
	"fmt"
	"net/url"

	"github.com/fluxcd/pkg/git"
	"github.com/fluxcd/pkg/git/gogit"
	"github.com/fluxcd/pkg/git/repository"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
)

// GitRepository clones repo at its spec.ref (default: the master branch, as
// source-controller) and filters it.
func (f *Fetcher) GitRepository(ctx context.Context, repo *sourcev1.GitRepository) (*Fetched, error) {
	strategy := checkoutStrategy(repo.Spec.Reference)
	what := fmt.Sprintf("GitRepository %s/%s (%s)", repo.Namespace, repo.Name, repo.Spec.URL)
	ignore := "<default>"
	if repo.Spec.Ignore != nil {
		ignore = *repo.Spec.Ignore
	}
	key := fmt.Sprintf("%s|%+v|%s", repo.Spec.URL, strategy, ignore)
	return f.once(key, func() (*Fetched, error) {
		if repo.Spec.SecretRef != nil {
			return nil, &UnsupportedError{Source: sourcev1.GitRepositoryKind + "/" + repo.Namespace + "/" + repo.Name, What: what, Reason: "authenticated sources (spec.secretRef) are not supported"}
		}
		u, err := url.Parse(repo.Spec.URL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		slot := f.slot("git", key)
		return f.fetchInto(slot, what, func(dir string) (string, error) {
			auth, err := git.NewAuthOptions(*u, nil)
			if err != nil {
				return "", err
			}
			client, err := gogit.NewClient(dir, auth, gogit.WithDiskStorage())
			if err != nil {
				return "", err
			}
			defer client.Close()
			var commit *git.Commit
			err = f.fetch(ctx, fmt.Sprintf("GitRepository/%s/%s", repo.Namespace, repo.Name), repo.Spec.URL, func(ctx context.Context) (err error) {
				commit, err = client.Clone(ctx, repo.Spec.URL, repository.CloneConfig{CheckoutStrategy: strategy, ShallowClone: true})
				return err
			})
			if err != nil {
				return "", err
			}
			if err := Filter(dir, repo.Spec.Ignore); err != nil {
				return "", err
			}
			return commit.String(), nil
		})
	})
}

func checkoutStrategy(ref *sourcev1.GitRepositoryRef) repository.CheckoutStrategy {
	if ref == nil {
		return repository.CheckoutStrategy{Branch: "master"}
	}
	s := repository.CheckoutStrategy{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, RefName: ref.Name, Commit: ref.Commit}
	if s == (repository.CheckoutStrategy{}) {
		s.Branch = "master"
	}
	return s
}
