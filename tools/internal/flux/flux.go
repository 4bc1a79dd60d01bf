// Package flux decodes Flux custom resources strictly into the Flux API types
// and names the objects the renderer works with.
//
// Supported API versions are the GA ones served by Flux 2.7:
// kustomize.toolkit.fluxcd.io/v1, helm.toolkit.fluxcd.io/v2 and
// source.toolkit.fluxcd.io/v1. Older versions are reported as errors that name
// the version to migrate to, rather than being decoded loosely.
package flux

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"

	"github.com/aks-gitops/platform/tools/internal/object"
)

// Kinds the renderer acts on.
const (
	KustomizationKind  = kustomizev1.KustomizationKind
	HelmReleaseKind    = helmv2.HelmReleaseKind
	GitRepositoryKind  = sourcev1.GitRepositoryKind
	HelmRepositoryKind = sourcev1.HelmRepositoryKind
	OCIRepositoryKind  = sourcev1.OCIRepositoryKind
	HelmChartKind      = sourcev1.HelmChartKind
	BucketKind         = sourcev1.BucketKind
)

// SupportedVersions maps each Flux API group to the only version the renderer
// decodes. It is also what the README documents.
var SupportedVersions = map[string]string{
	kustomizev1.GroupVersion.Group: kustomizev1.GroupVersion.Version,
	helmv2.GroupVersion.Group:      helmv2.GroupVersion.Version,
	sourcev1.GroupVersion.Group:    sourcev1.GroupVersion.Version,
}

// Ref names an object the renderer works with: a Flux object, its source,
// anything the render holds. It is the tool's one identity, object.ID.
type Ref = object.ID

// kindGroups are the API groups of the Flux kinds.
var kindGroups = map[string]string{
	KustomizationKind:  kustomizev1.GroupVersion.Group,
	HelmReleaseKind:    helmv2.GroupVersion.Group,
	GitRepositoryKind:  sourcev1.GroupVersion.Group,
	HelmRepositoryKind: sourcev1.GroupVersion.Group,
	OCIRepositoryKind:  sourcev1.GroupVersion.Group,
	HelmChartKind:      sourcev1.GroupVersion.Group,
	BucketKind:         sourcev1.GroupVersion.Group,
	// Flux 2.7's source kind for artifacts of other controllers.
	"ExternalArtifact": sourcev1.GroupVersion.Group,
}

// RefTo returns the reference to the Flux object of kind (a Flux kind, as
// a sourceRef or dependsOn names it) in namespace: its group is the kind's.
func RefTo(kind, namespace, name string) Ref {
	return Ref{Group: kindGroups[kind], Kind: kind, Namespace: namespace, Name: name}
}

// ParseRef parses KIND/NAMESPACE/NAME (or NAMESPACE/NAME with defaultKind)
// naming a Flux object.
func ParseRef(s, defaultKind string) (Ref, error) {
	parts := strings.Split(s, "/")
	switch {
	case len(parts) == 2 && defaultKind != "" && parts[0] != "" && parts[1] != "":
		return RefTo(defaultKind, parts[0], parts[1]), nil
	case len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "":
		return RefTo(parts[0], parts[1], parts[2]), nil
	}
	if defaultKind != "" {
		return Ref{}, fmt.Errorf("invalid reference %q: want NAMESPACE/NAME or KIND/NAMESPACE/NAME", s)
	}
	return Ref{}, fmt.Errorf("invalid reference %q: want KIND/NAMESPACE/NAME", s)
}

// RefOf returns the reference of an object.
func RefOf(u *unstructured.Unstructured) Ref { return object.IDOf(u) }

// IsFlux reports whether the object belongs to one of the Flux API groups.
func IsFlux(u *unstructured.Unstructured) bool {
	_, ok := SupportedVersions[u.GroupVersionKind().Group]
	return ok
}

// ErrUnsupportedVersion is returned for a Flux object in an API version the
// renderer does not decode.
var ErrUnsupportedVersion = errors.New("unsupported Flux API version")

// checkVersion rejects Flux objects in anything but the supported version.
func checkVersion(u *unstructured.Unstructured, want schema.GroupVersion) error {
	gv := u.GroupVersionKind().GroupVersion()
	if gv != want {
		return fmt.Errorf("%w %s for %s (use %s)", ErrUnsupportedVersion, gv, u.GetKind(), want)
	}
	return nil
}

// decodeStrict converts an unstructured object into a typed one, failing on
// fields the Flux API does not define (a typo Flux itself would reject).
func decodeStrict(u *unstructured.Unstructured, into any) error {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(data, into, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("strict decoding: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// decode checks the version and decodes u strictly into a new T.
func decode[T any](u *unstructured.Unstructured, gv schema.GroupVersion) (*T, error) {
	if err := checkVersion(u, gv); err != nil {
		return nil, err
	}
	out := new(T)
	if err := decodeStrict(u, out); err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeKustomization decodes a kustomize.toolkit.fluxcd.io Kustomization strictly.
func DecodeKustomization(u *unstructured.Unstructured) (*kustomizev1.Kustomization, error) {
	return decode[kustomizev1.Kustomization](u, kustomizev1.GroupVersion)
}

// DecodeHelmRelease decodes a helm.toolkit.fluxcd.io HelmRelease strictly.
func DecodeHelmRelease(u *unstructured.Unstructured) (*helmv2.HelmRelease, error) {
	return decode[helmv2.HelmRelease](u, helmv2.GroupVersion)
}

// DecodeHelmRepository decodes a source.toolkit.fluxcd.io HelmRepository strictly.
func DecodeHelmRepository(u *unstructured.Unstructured) (*sourcev1.HelmRepository, error) {
	return decode[sourcev1.HelmRepository](u, sourcev1.GroupVersion)
}

// DecodeGitRepository decodes a source.toolkit.fluxcd.io GitRepository strictly.
func DecodeGitRepository(u *unstructured.Unstructured) (*sourcev1.GitRepository, error) {
	return decode[sourcev1.GitRepository](u, sourcev1.GroupVersion)
}

// DecodeOCIRepository decodes a source.toolkit.fluxcd.io OCIRepository strictly.
func DecodeOCIRepository(u *unstructured.Unstructured) (*sourcev1.OCIRepository, error) {
	return decode[sourcev1.OCIRepository](u, sourcev1.GroupVersion)
}

// Validate decodes any Flux object strictly and discards the result, so that
// a typo in a source or a kind the renderer does not act on is still caught.
func Validate(u *unstructured.Unstructured) error {
	gvk := u.GroupVersionKind()
	want, ok := SupportedVersions[gvk.Group]
	if !ok {
		return nil
	}
	gv := schema.GroupVersion{Group: gvk.Group, Version: want}
	if err := checkVersion(u, gv); err != nil {
		return err
	}
	var into any
	switch gvk.Kind {
	case KustomizationKind:
		into = &kustomizev1.Kustomization{}
	case HelmReleaseKind:
		into = &helmv2.HelmRelease{}
	case GitRepositoryKind:
		into = &sourcev1.GitRepository{}
	case HelmRepositoryKind:
		into = &sourcev1.HelmRepository{}
	case OCIRepositoryKind:
		into = &sourcev1.OCIRepository{}
	case HelmChartKind:
		into = &sourcev1.HelmChart{}
	case BucketKind:
		into = &sourcev1.Bucket{}
	default:
		return nil
	}
	return decodeStrict(u, into)
}
