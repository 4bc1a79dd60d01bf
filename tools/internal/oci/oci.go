// Package oci pulls one layer of an OCI artifact — a Flux source artifact or
// a Helm chart — from a registry, at a tag, a semver constraint or a digest,
// as source-controller resolves an OCIRepository reference.
package oci

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of the artifacts Flux and Helm push.
const (
	FluxContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
	HelmChartMediaType   = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// Ref selects an artifact version: Digest, else SemVer (with an optional
// regexp SemverFilter on tags), else Tag (default "latest").
type Ref struct {
	Tag, SemVer, SemverFilter, Digest string
}

// Layer is a pulled layer and the revision it was pulled at.
type Layer struct {
	Data []byte
	// Revision is "<tag>@<digest>" (or the digest alone), as
	// source-controller reports it.
	Revision string
	// Tag is the resolved tag ("" when pulled by digest).
	Tag string
}

// Pull fetches the first layer of the artifact at url (oci://host/repo)
// whose media type is mediaType (any layer's when empty, the first).
func Pull(ctx context.Context, url string, ref Ref, mediaType string, insecure bool) (*Layer, error) {
	repoName, ok := strings.CutPrefix(url, "oci://")
	if !ok {
		return nil, fmt.Errorf("%s: not an oci:// URL", url)
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(repoName, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	ropts := []remote.Option{remote.WithContext(ctx)}
	var target name.Reference
	tag := ""
	switch {
	case ref.Digest != "":
		target = repo.Digest(ref.Digest)
	case ref.SemVer != "":
		if tag, err = latestSemver(repo, ref, ropts); err != nil {
			return nil, fmt.Errorf("%s: %w", url, err)
		}
		target = repo.Tag(tag)
	default:
		tag = ref.Tag
		if tag == "" {
			tag = "latest"
		}
		target = repo.Tag(tag)
	}
	img, err := remote.Image(target, ropts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	layer, err := selectLayer(layers, mediaType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	rev := digest.String()
	if tag != "" {
		rev = tag + "@" + rev
	}
	return &Layer{Data: data, Revision: rev, Tag: tag}, nil
}

func selectLayer(layers []v1.Layer, mediaType string) (v1.Layer, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("the artifact has no layer")
	}
	if mediaType == "" {
		return layers[0], nil
	}
	var seen []string
	for _, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		if mt == types.MediaType(mediaType) {
			return l, nil
		}
		seen = append(seen, string(mt))
	}
	return nil, fmt.Errorf("no layer of media type %s (has %s)", mediaType, strings.Join(seen, ", "))
}

// latestSemver lists the repository's tags and returns the highest that is
// a semantic version satisfying the constraint (and the filter). Helm
// stores a version's "+" as "_" in tags.
func latestSemver(repo name.Repository, ref Ref, ropts []remote.Option) (string, error) {
	constraint, err := semver.NewConstraint(ref.SemVer)
	if err != nil {
		return "", fmt.Errorf("semver %q: %w", ref.SemVer, err)
	}
	var filter *regexp.Regexp
	if ref.SemverFilter != "" {
		if filter, err = regexp.Compile(ref.SemverFilter); err != nil {
			return "", fmt.Errorf("semverFilter %q: %w", ref.SemverFilter, err)
		}
	}
	tags, err := remote.List(repo, ropts...)
	if err != nil {
		return "", err
	}
	type candidate struct {
		tag string
		v   *semver.Version
	}
	var found []candidate
	for _, t := range tags {
		v, err := semver.NewVersion(strings.ReplaceAll(t, "_", "+"))
		if err != nil || !constraint.Check(v) || (filter != nil && !filter.MatchString(t)) {
			continue
		}
		found = append(found, candidate{t, v})
	}
	if len(found) == 0 {
		return "", fmt.Errorf("no tag matches semver %q", ref.SemVer)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].v.GreaterThan(found[j].v) })
	return found[0].tag, nil
}
